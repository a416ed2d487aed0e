"""raise_alert: one function for every source of alerts (detectors on committed rows, churn
warnings, leak findings), deduplicated within the suppression window.

Deduplication: an alert with the same dedup key seen within ALERT_SUPPRESSION_MINUTES of its
last sighting absorbs the repeat (count + 1, last_seen now, the latest title, message and
evidence, the higher severity), whatever its status: a person who resolved a surge is not
paged again by the next page of the same sync. After the window a repeat is a new alert.
Browsers hear about a new alert (and a repeat that raised the severity) once it commits.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..conf import setting
from ..models import Alert
from .push import push_alert_on_commit

SEVERITY_ORDER = [Alert.Severity.INFO, Alert.Severity.WARNING, Alert.Severity.CRITICAL]


def raise_alert(kind: str, severity: str, client_id: int | None, title: str, message: str,
                evidence: dict | None, dedup_key: str) -> Alert:
    """Record an alert, or count a repeat of one seen within the window; returns the row, with
    `.repeated` True when an existing alert absorbed it. Raises ValueError for an unknown kind
    or severity, or an empty dedup key."""
    if kind not in Alert.Kind.values:
        raise ValueError(f"unknown alert kind {kind!r}; use one of {', '.join(Alert.Kind.values)}")
    if severity not in Alert.Severity.values:
        raise ValueError(f"unknown severity {severity!r}; use one of {', '.join(Alert.Severity.values)}")
    if not dedup_key:
        raise ValueError("an alert needs a dedup key (the same anomaly seen twice must be one alert)")
    now = timezone.now()
    since = now - timedelta(minutes=setting("ALERT_SUPPRESSION_MINUTES"))
    title, evidence = title[:200], evidence or {}
    with transaction.atomic():
        # select_for_update serialises two raisers of one key on PostgreSQL; SQLite takes the
        # write lock for the whole transaction anyway.
        alert = (Alert.objects.select_for_update().filter(dedup_key=dedup_key[:200], last_seen__gte=since)
                 .order_by("-last_seen").first())
        if alert is None:
            alert = Alert.objects.create(kind=kind, severity=severity, client_id=client_id, title=title,
                                         message=message, evidence=evidence, dedup_key=dedup_key[:200],
                                         first_seen=now, last_seen=now)
            alert.repeated = False
            push_alert_on_commit(alert.pk)
            return alert
        rose = SEVERITY_ORDER.index(severity) > SEVERITY_ORDER.index(alert.severity)
        Alert.objects.filter(pk=alert.pk).update(
            count=F("count") + 1, last_seen=now, title=title, message=message, evidence=evidence,
            severity=severity if rose else alert.severity)
        alert.refresh_from_db()
        alert.repeated = True
        if rose:
            push_alert_on_commit(alert.pk)
        return alert
