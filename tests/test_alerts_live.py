"""The alerts websocket, driven through the project's own ASGI application (superhack.asgi,
AuthMiddlewareStack, origin check) with Channels' WebsocketCommunicator: anonymous users and
users without the permission are refused, a permitted user receives new alerts and the open
count, a rolled-back alert is never pushed, a user who loses the permission stops receiving,
and an anomaly arriving through a QuickBooks webhook from the sandbox (signature, fetch,
load, commit, detector) reaches a connected socket. One test runs over Redis when it is up."""

from __future__ import annotations

import socket
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client as HttpClient
from django.utils import timezone
from django_q.conf import Conf

from clients.models import Invoice
from insights.alerts.models import Alert
from insights.alerts.services import raise_alert
from superhack.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)
IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
WAIT = 5  # seconds a message may take to arrive before the test fails


@pytest.fixture(autouse=True)
def in_memory_layer(settings):
    """The in-memory layer of the embedded default, even when CI sets REDIS_URL: tests in other
    workers share that Redis, and their alerts must not reach these sockets."""
    settings.CHANNEL_LAYERS = IN_MEMORY




def session_of(user) -> str:
    http = HttpClient()
    http.force_login(user)
    return http.cookies[django_settings.SESSION_COOKIE_NAME].value


def socket_for(session: str | None = None, origin: str = "http://testserver") -> WebsocketCommunicator:
    headers = [(b"host", b"testserver"), (b"origin", origin.encode())]
    if session:
        headers.append((b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={session}".encode()))
    return WebsocketCommunicator(application, "/ws/alerts/", headers=headers)



def surge(title: str = "Ticket surge at Harbor Dental", key: str = "ticket_surge:1") -> Alert:
    return raise_alert("ticket_surge", "warning", None, title, "12 tickets in 24 hours", {}, key)


def test_anonymous_users_and_foreign_origins_are_refused(viewer):
    session = session_of(viewer)

    async def scenario():
        anonymous = socket_for()
        assert await anonymous.connect() == (False, 4401)
        foreign = socket_for(session, origin="https://evil.example")
        connected, _ = await foreign.connect()
        assert not connected

    async_to_sync(scenario)()


def test_a_user_without_the_permission_is_refused_and_receives_nothing(outsider, viewer):
    outsider_session, viewer_session = session_of(outsider), session_of(viewer)

    async def scenario():
        refused = socket_for(outsider_session)
        assert await refused.connect() == (False, 4403)
        allowed = socket_for(viewer_session)
        assert (await allowed.connect())[0]
        assert (await allowed.receive_json_from(WAIT))["open_count"] == 0
        await database_sync_to_async(surge)()
        assert (await allowed.receive_json_from(WAIT))["type"] == "alert"
        assert await refused.receive_nothing(0.2)  # the refused socket got nothing, not even the alert
        await allowed.disconnect()

    async_to_sync(scenario)()


def test_a_permitted_user_receives_the_new_alert_and_the_open_count(viewer):
    session = session_of(viewer)
    raise_alert("payment_reversal", "critical", None, "Older alert", "words", {}, "older")

    async def scenario():
        com = socket_for(session)
        assert (await com.connect())[0]
        assert await com.receive_json_from(WAIT) == {"type": "count", "open_count": 1}
        alert = await database_sync_to_async(surge)()
        event = await com.receive_json_from(WAIT)
        assert event["type"] == "alert" and event["open_count"] == 2
        assert event["alert"]["id"] == alert.pk
        assert event["alert"]["title"] == "Ticket surge at Harbor Dental"
        assert event["alert"]["severity"] == "warning" and event["alert"]["url"].endswith(f"#alert-{alert.pk}")
        await database_sync_to_async(surge)()  # a repeat inside the window: counted, not pushed again
        assert await com.receive_nothing(0.3)
        await com.disconnect()

    async_to_sync(scenario)()


def test_a_rolled_back_alert_is_never_pushed(viewer):
    session = session_of(viewer)

    def raise_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            surge("Rolled back", "rolled-back")
            raise RuntimeError("the scoring transaction failed")

    async def scenario():
        com = socket_for(session)
        assert (await com.connect())[0]
        await com.receive_json_from(WAIT)
        await database_sync_to_async(raise_then_fail)()
        assert await com.receive_nothing(0.3)
        await database_sync_to_async(surge)("Committed", "committed")
        event = await com.receive_json_from(WAIT)
        assert (event["alert"]["title"], event["open_count"]) == ("Committed", 1)
        await com.disconnect()

    async_to_sync(scenario)()
    assert list(Alert.objects.values_list("title", flat=True)) == ["Committed"]


def test_a_user_who_loses_the_permission_stops_receiving(viewer):
    session = session_of(viewer)

    async def scenario():
        com = socket_for(session)
        assert (await com.connect())[0]
        await com.receive_json_from(WAIT)
        await database_sync_to_async(viewer.user_permissions.clear)()
        await database_sync_to_async(surge)()
        closing = await com.receive_output(WAIT)
        assert closing == {"type": "websocket.close", "code": 4403}
        assert await com.receive_nothing(0.2)

    async_to_sync(scenario)()


def test_acknowledging_pushes_the_new_open_count(responder):
    session = session_of(responder)
    alert = surge()
    http = HttpClient()
    http.force_login(responder)

    async def scenario():
        com = socket_for(session)
        assert (await com.connect())[0]
        assert (await com.receive_json_from(WAIT))["open_count"] == 1
        answer = await database_sync_to_async(http.post)(f"/api/v1/alerts/{alert.pk}/acknowledge/")
        assert answer.status_code == 200
        assert await com.receive_json_from(WAIT) == {"type": "count", "open_count": 0}
        await com.disconnect()

    async_to_sync(scenario)()


# --- an anomaly synced through a QuickBooks webhook ---------------------------------------
@pytest.fixture
def sandbox(make_sandbox):
    """One QuickBooks customer billed about 1,000 a month for a year (dates relative to today, so
    the history stays inside the detectors' two-year look-back whenever the test runs)."""
    from tests.test_sandbox import tiny_world

    world = tiny_world()
    world.quickbooks["Customer"]["58"] = {"Id": "58", "DisplayName": "Harbor Dental", "Active": True,
                                          "MetaData": {"LastUpdatedTime": "2026-10-01T09:00:00-07:00"}}
    today = timezone.localdate()
    world.quickbooks["Invoice"] = {
        str(1000 + k): {"Id": str(1000 + k), "DocNumber": str(1000 + k), "CustomerRef": {"value": "58"},
                        "TxnDate": (today - timedelta(days=30 * k)).isoformat(), "TotalAmt": 1000 + 10 * (k % 3),
                        "Balance": 0, "MetaData": {"LastUpdatedTime": "2026-10-01T09:00:00-07:00"}}
        for k in range(1, 13)}
    return make_sandbox(world)


def test_an_anomaly_arriving_by_webhook_reaches_a_connected_socket(connected_sandbox, viewer, monkeypatch):
    from integrations.sync.runs import sync_source

    monkeypatch.setattr(Conf, "SYNC", True)  # the webhook's task runs as it is queued
    assert sync_source("quickbooks").status == "succeeded"
    assert Invoice.objects.count() == 12 and not Alert.objects.exists()  # a year of history is not news

    world = connected_sandbox.world
    world.quickbooks["Invoice"]["2001"] = {
        "Id": "2001", "DocNumber": "2001", "CustomerRef": {"value": "58"},
        "TxnDate": timezone.localdate().isoformat(), "TotalAmt": 14500, "Balance": 14500}
    event = world.edit_qb("Invoice", "2001")
    body = connected_sandbox.webhook_body([event], "legacy")
    signature = connected_sandbox.sign(body, "sandbox-verifier")
    session = session_of(viewer)

    def intuit_posts_the_webhook():
        return HttpClient().post("/integrations/quickbooks/webhook",
                                 data=body, content_type="application/json", HTTP_INTUIT_SIGNATURE=signature)

    async def scenario():
        com = socket_for(session)
        assert (await com.connect())[0]
        assert (await com.receive_json_from(WAIT))["open_count"] == 0
        answer = await database_sync_to_async(intuit_posts_the_webhook)()
        assert answer.status_code == 200
        event = await com.receive_json_from(WAIT)
        assert event["type"] == "alert" and event["open_count"] == 1
        assert event["alert"]["kind"] == "invoice_off_pattern" and event["alert"]["severity"] == "critical"
        assert "Invoice 2001 for Harbor Dental: 14,500.00" in event["alert"]["title"]
        await com.disconnect()

    async_to_sync(scenario)()
    alert = Alert.objects.get()
    assert alert.evidence["invoice"] == Invoice.objects.get(external_id="2001").pk


# --- across processes: the Redis layer ---------------------------------------------------
def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


# --- the relay: alerts raised by another process, on the in-memory layer --------------------
@pytest.fixture
def other_process(settings, monkeypatch):
    """Alerts raised and acknowledged as the task worker would: in a process whose in-memory
    layer this web process never hears (its pushes go nowhere), with a fast relay."""
    import insights.alerts.services.push as push

    settings.ALERT_RELAY_SECONDS = 0.2
    monkeypatch.setattr(push, "send_event", lambda event: None)


def test_an_alert_raised_by_another_process_reaches_the_socket_once(other_process, viewer, responder):
    session = session_of(viewer)
    known = raise_alert("ticket_surge", "info", None, "Known surge", "words", {}, "known")

    async def scenario():
        com = socket_for(session)
        assert (await com.connect())[0]
        assert await com.receive_json_from(WAIT) == {"type": "count", "open_count": 1}
        assert await com.receive_nothing(0.5)  # nothing new: the relay stays quiet
        alert = await database_sync_to_async(surge)()
        event = await com.receive_json_from(WAIT)
        assert (event["type"], event["open_count"], event["alert"]["id"]) == ("alert", 2, alert.pk)
        assert event["alert"]["title"] == "Ticket surge at Harbor Dental"
        await database_sync_to_async(surge)()  # a repeat: counted, not news
        assert await com.receive_nothing(0.6)
        await database_sync_to_async(raise_alert)("ticket_surge", "critical", None, "Known surge", "worse", {},
                                                  "known")
        rose = await com.receive_json_from(WAIT)
        assert (rose["alert"]["id"], rose["alert"]["severity"]) == (known.pk, "critical")
        from insights.alerts.services import acknowledge

        await database_sync_to_async(acknowledge)(alert, responder)
        assert await com.receive_json_from(WAIT) == {"type": "count", "open_count": 1}
        assert await com.receive_nothing(0.6)
        await com.disconnect()

    async_to_sync(scenario)()


def test_an_alert_heard_on_the_layer_is_not_relayed_again(settings, viewer):
    settings.ALERT_RELAY_SECONDS = 0.2
    session = session_of(viewer)

    async def scenario():
        com = socket_for(session)
        assert (await com.connect())[0]
        await com.receive_json_from(WAIT)
        alert = await database_sync_to_async(surge)()
        event = await com.receive_json_from(WAIT)
        assert event["alert"]["id"] == alert.pk
        assert await com.receive_nothing(0.8)  # four looks later: still once
        await com.disconnect()

    async_to_sync(scenario)()


def test_with_the_relay_off_another_process_alert_is_not_pushed(other_process, settings, viewer):
    settings.ALERT_RELAY_SECONDS = 0
    session = session_of(viewer)

    async def scenario():
        com = socket_for(session)
        assert (await com.connect())[0]
        await com.receive_json_from(WAIT)
        await database_sync_to_async(surge)()
        assert await com.receive_nothing(0.6)
        await com.disconnect()

    async_to_sync(scenario)()


@pytest.mark.skipif(not _redis_up(), reason="Redis is not answering on 127.0.0.1:6379")
def test_alerts_travel_over_the_redis_layer(settings, viewer):
    # A prefix of its own, so no other test's alerts (CI runs the suite in parallel) arrive here.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {
        "hosts": ["redis://127.0.0.1:6379/0"], "prefix": f"alerts-test-{uuid.uuid4().hex[:8]}"}}}
    session = session_of(viewer)

    async def scenario():
        com = socket_for(session)
        assert (await com.connect())[0]
        await com.receive_json_from(WAIT)
        await database_sync_to_async(surge)("Over Redis", "redis")
        event = await com.receive_json_from(WAIT)
        assert (event["type"], event["alert"]["title"]) == ("alert", "Over Redis")
        await com.disconnect()

    async_to_sync(scenario)()
