"""Escalation: a critical alert still open (nobody acknowledged it) ALERT_ESCALATE_AFTER_MINUTES
after it was first seen is e-mailed once, through Django's e-mail backend. Run by the
`escalate_alerts` command and the django-q2 schedule (tasks.py), which call escalate_due().
The delay counts from first_seen: a warning a later repeat made critical is mailed at the next
check if it has been open that long already, since it has been waiting for someone since then.

Each alert is marked escalated and mailed in one transaction: a mail server that refuses the
message rolls the mark back, so the next run tries again; two runs at once mail it once.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..conf import setting
from ..models import Alert

log = logging.getLogger(__name__)


def recipients() -> list[str]:
    """ALERT_ESCALATE_TO, else the addresses of active users who may change alerts."""
    configured = [a for a in setting("ALERT_ESCALATE_TO") if a]
    if configured:
        return configured
    may_change = Permission.objects.filter(codename="change_alert", content_type__app_label="alerts")
    users = get_user_model().objects.filter(is_active=True).exclude(email="").filter(
        Q(is_superuser=True) | Q(user_permissions__in=may_change) | Q(groups__permissions__in=may_change))
    return sorted(set(users.values_list("email", flat=True)))


def due(now: datetime) -> list[Alert]:
    cutoff = now - timedelta(minutes=setting("ALERT_ESCALATE_AFTER_MINUTES"))
    return list(Alert.objects.select_related("client").filter(
        severity=Alert.Severity.CRITICAL, status=Alert.Status.OPEN, escalated_at__isnull=True,
        first_seen__lte=cutoff).order_by("first_seen"))


def escalate_due(now: datetime | None = None) -> list[int]:
    """E-mail every critical alert left unacknowledged past the delay; returns their ids."""
    now = now or timezone.now()
    alerts = due(now)
    if not alerts:
        return []
    to = recipients()
    if not to:
        log.warning("%d critical alert(s) are due for escalation but nobody has an e-mail address "
                    "(set ALERT_ESCALATE_TO)", len(alerts))
        return []
    done = []
    for alert in alerts:
        try:
            if _escalate(alert, to, now):
                done.append(alert.pk)
        except (OSError, smtplib.SMTPException):  # transient: the mark rolled back, the next run retries
            log.exception("Could not e-mail the escalation of alert %s; the next run tries again", alert.pk)
    return done


def _escalate(alert: Alert, to: list[str], now: datetime) -> bool:
    with transaction.atomic():
        claimed = Alert.objects.filter(pk=alert.pk, status=Alert.Status.OPEN, escalated_at__isnull=True
                                       ).update(escalated_at=now)
        if not claimed:  # acknowledged meanwhile, or another run took it
            return False
        minutes = int((now - alert.first_seen).total_seconds() // 60)
        send_mail(
            subject=f"[SuperHack] Critical alert unacknowledged for {minutes} min: {alert.title}",
            message=(f"{alert.title}\n\n{alert.message}\n\n"
                     f"Client: {alert.client.name if alert.client_id else '-'}\n"
                     f"First seen: {alert.first_seen:%Y-%m-%d %H:%M %Z}; seen {alert.count} time(s).\n"
                     "Acknowledge it on the Alerts page to stop further escalation."),
            from_email=None, recipient_list=to)
    return True
