"""The alerts websocket: signed-in users who may see alerts (alerts.view_alert) get new alerts
and the open count pushed as JSON (services.push.AlertEvent).

- connect: anonymous users are refused (close code 4401) and users without the permission too
  (4403), before the handshake completes; the others join the alerts group and get the count.
- every event: the permission is checked again against the database (not the user cached in
  the scope), so a user whose permission is taken away, or who is deactivated, stops
  receiving at the next event and is disconnected with 4403.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .services.push import GROUP, AlertEvent

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
        await self.accept()
        await self.send_json(AlertEvent(type="count", open_count=await current_count()))

    async def disconnect(self, code: int) -> None:
        if getattr(self, "joined", False):
            await self.channel_layer.group_discard(GROUP, self.channel_name)
            self.joined = False

    async def receive_json(self, content, **kwargs) -> None:
        """Browsers only listen; anything they send is ignored."""

    async def alerts_event(self, message: dict) -> None:
        if not await may_see_alerts(self.user_id):
            await self.disconnect(FORBIDDEN)
            await self.close(code=FORBIDDEN)
            return
        await self.send_json(message["event"])
