"""Acknowledge and resolve: each a conditional update (two people clicking at once change
the row once), with who and when, and the new open count pushed once it commits."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..models import Alert
from .push import open_alerts, push_count_on_commit


def acknowledge(alert: Alert, user) -> bool:
    """Open -> acknowledged (stops escalation). False when it was not open."""
    with transaction.atomic():
        changed = Alert.objects.filter(pk=alert.pk, status=Alert.Status.OPEN).update(
            status=Alert.Status.ACKNOWLEDGED, acknowledged_at=timezone.now(), acknowledged_by=user)
        if changed:
            push_count_on_commit()
    alert.refresh_from_db()
    return bool(changed)


def resolve(alert: Alert, user) -> bool:
    """Open or acknowledged -> resolved. False when it was resolved already."""
    with transaction.atomic():
        changed = Alert.objects.exclude(status=Alert.Status.RESOLVED).filter(pk=alert.pk).update(
            status=Alert.Status.RESOLVED, resolved_at=timezone.now(), resolved_by=user)
        if changed:
            push_count_on_commit()
    alert.refresh_from_db()
    return bool(changed)


def open_count() -> int:
    """Alerts nobody has acknowledged or resolved yet: the figure beside "Alerts" on every page."""
    return open_alerts()
