"""Pushing alerts to connected browsers over the channel layer: the payloads (TypedDicts),
one helper that sends them to the group every alerts socket joins, and sending only after the
transaction commits, so a rolled-back alert is never shown to anyone.

Which layer carries them is settings.CHANNEL_LAYERS: in memory, only sockets served by the
process that raised the alert hear it (the sockets' relay reads the task worker's alerts from
the database, consumers.py); with REDIS_URL, every process's sockets do.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Literal, NotRequired, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.urls import reverse

from ..models import Alert

log = logging.getLogger(__name__)
GROUP = "alerts"  # every socket of a user who may see alerts joins it
MESSAGE_TYPE = "alerts.event"  # the consumer's handler: alerts_event


class AlertPayload(TypedDict):
    id: int
    kind: str
    kind_label: str
    severity: str
    title: str
    message: str
    client_id: int | None
    client_name: str
    first_seen: str
    last_seen: str
    count: int
    status: str
    url: str


class AlertEvent(TypedDict):
    """What a socket sends: a new (or newly more severe) alert, or the open count alone."""

    type: Literal["alert", "count"]
    open_count: int
    alert: NotRequired[AlertPayload]


def payload(alert: Alert) -> AlertPayload:
    return AlertPayload(
        id=alert.pk, kind=alert.kind, kind_label=alert.get_kind_display(), severity=alert.severity,
        title=alert.title, message=alert.message, client_id=alert.client_id,
        client_name=alert.client.name if alert.client_id else "", first_seen=alert.first_seen.isoformat(),
        last_seen=alert.last_seen.isoformat(), count=alert.count, status=alert.status,
        url=reverse("alerts:list") + f"#alert-{alert.pk}",
    )


def open_alerts() -> int:
    return Alert.objects.filter(status=Alert.Status.OPEN).count()


def send_event(event: AlertEvent) -> None:
    """Send one event to every alerts socket. A layer that is down (Redis restarting) loses
    the push, never the alert: the row is committed and the page lists it."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(GROUP, {"type": MESSAGE_TYPE, "event": event})
    except Exception:  # the alert is stored; only its live push is lost
        log.exception("Could not push an alerts event over the channel layer")


def push_alert(alert_id: int) -> None:
    alert = Alert.objects.select_related("client").filter(pk=alert_id).first()
    if alert is not None:
        send_event(AlertEvent(type="alert", alert=payload(alert), open_count=open_alerts()))


def push_count() -> None:
    send_event(AlertEvent(type="count", open_count=open_alerts()))


def push_alert_on_commit(alert_id: int) -> None:
    transaction.on_commit(partial(push_alert, alert_id), robust=True)


def push_count_on_commit() -> None:
    transaction.on_commit(push_count, robust=True)
