"""The alerts websocket: signed-in users who may see alerts (alerts.view_alert) get new alerts
and the open count pushed as JSON (services.push.AlertEvent).

- connect: anonymous users are refused (close code 4401) and users without the permission too
  (4403), before the handshake completes; the others join the alerts group and get the count.
- every event: the permission is checked again against the database (not the user cached in
  the scope), so a user whose permission is taken away, or who is deactivated, stops
  receiving at the next event and is disconnected with 4403.
- the relay: the in-memory channel layer of the embedded default (no REDIS_URL) carries events
  only inside the process that raised them, and syncs run in the task worker. So on that layer
  each socket also looks in the database every ALERT_RELAY_SECONDS for alerts it has not been
  sent (new ones, or ones it knows whose severity rose) and for a changed open count. What
  arrives both ways is sent once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer

from .conf import setting
from .services.push import GROUP, AlertEvent

log = logging.getLogger(__name__)
# How many open alerts a socket remembers the severity of at connect (to notice a rise).
KNOWN_LIMIT = 1000

VIEW_PERMISSION = "alerts.view_alert"
UNAUTHENTICATED, FORBIDDEN = 4401, 4403


@database_sync_to_async
def may_see_alerts(user_id: int) -> bool:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()  # fresh: no cached permissions
    return user is not None and user.has_perm(VIEW_PERMISSION)


@database_sync_to_async
def current_count() -> int:
    from .services.push import open_alerts

    return open_alerts()


@database_sync_to_async
def known_alerts() -> tuple[int, dict[int, str]]:
    """The newest alert id, and the severity of each open alert (newest first, bounded)."""
    from django.db.models import Max

    from .models import Alert

    newest = Alert.objects.aggregate(newest=Max("pk"))["newest"] or 0
    open_ones = Alert.objects.filter(status=Alert.Status.OPEN).order_by("-pk")[:KNOWN_LIMIT]
    return newest, dict(open_ones.values_list("pk", "severity"))


@database_sync_to_async
def alerts_to_relay(after_id: int, known: dict[int, str], since) -> tuple[list[dict], int]:
    """Payloads of the alerts newer than `after_id` and of known ones seen since `since` (a
    severity rise moves last_seen), in id order, and the open count; the socket keeps what is
    news to it (`AlertsConsumer._is_news`)."""
    from django.db.models import Q

    from .models import Alert
    from .services.push import open_alerts, payload

    touched = Q(pk__in=list(known), last_seen__gte=since)
    rows = Alert.objects.select_related("client").filter(Q(pk__gt=after_id) | touched).order_by("pk")
    return [payload(a) for a in rows], open_alerts()


class AlertsConsumer(AsyncJsonWebsocketConsumer):
    groups: list[str] = []  # joined in connect, once the user is known to be allowed

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        self.user_id = user.pk
        if not await may_see_alerts(self.user_id):
            await self.close(code=FORBIDDEN)
            return
        await self.channel_layer.group_add(GROUP, self.channel_name)
        self.joined = True
        self.relay = None
        # What the socket has been sent matters only to the relay, which only the in-memory
        # layer needs: over Redis a connect reads no more than the open count.
        seconds = setting("ALERT_RELAY_SECONDS")
        relaying = bool(seconds) and isinstance(self.channel_layer, InMemoryChannelLayer)
        self.last_id, self.known = await known_alerts() if relaying else (0, {})
        await self.accept()
        self.count = await current_count()
        await self.send_json(AlertEvent(type="count", open_count=self.count))
        if relaying:
            self.relay = asyncio.ensure_future(self.relay_from_database(seconds))

    async def disconnect(self, code: int) -> None:
        if getattr(self, "relay", None) is not None:
            self.relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.relay
            self.relay = None
        if getattr(self, "joined", False):
            await self.channel_layer.group_discard(GROUP, self.channel_name)
            self.joined = False

    async def relay_from_database(self, seconds: float) -> None:
        from datetime import timedelta

        from django.utils import timezone

        looked = timezone.now()
        while True:
            await asyncio.sleep(seconds)
            # A margin of one interval: a raise that committed just after the last look with
            # an earlier last_seen is still read.
            since, looked = looked - timedelta(seconds=seconds), timezone.now()
            try:
                payloads, count = await alerts_to_relay(self.last_id, self.known, since)
            except Exception:  # a database restarting: the next look tries again
                log.exception("The alerts relay could not read the database")
                continue
            events = [AlertEvent(type="alert", alert=p, open_count=count) for p in payloads]
            events = [e for e in events if self._is_news(e)]
            if not events and count != self.count:
                events = [AlertEvent(type="count", open_count=count)]
            if events and not await may_see_alerts(self.user_id):
                await self.close(code=FORBIDDEN)
                return
            for event in events:
                self._remember(event)
                await self.send_json(event)

    def _is_news(self, event: dict) -> bool:
        """Not sent to this socket already (by the layer or an earlier look)."""
        if event["type"] == "count":
            return event["open_count"] != self.count
        # A new alert is not known; a known one is news only when its severity rose.
        return self.known.get(event["alert"]["id"]) != event["alert"]["severity"]

    def _remember(self, event: dict) -> None:
        self.count = event["open_count"]
        if event["type"] == "alert":
            alert = event["alert"]
            self.known[alert["id"]] = alert["severity"]
            self.last_id = max(self.last_id, alert["id"])

    async def receive_json(self, content, **kwargs) -> None:
        """Browsers only listen; anything they send is ignored."""

    async def alerts_event(self, message: dict) -> None:
        if not await may_see_alerts(self.user_id):
            await self.disconnect(FORBIDDEN)
            await self.close(code=FORBIDDEN)
            return
        event = message["event"]
        if self.relay is not None:
            if not self._is_news(event):
                return  # the relay sent it already
            self._remember(event)
        await self.send_json(event)
