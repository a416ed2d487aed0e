"""QuickBooks webhooks over real HTTP: the sandbox signs and posts events to the running
app; a bad or missing intuit-signature gets 401 and changes nothing; both payload shapes
are read; each event fetches its entity; a duplicate delivery is harmless."""

from __future__ import annotations

import pytest
from django_q.conf import Conf

from clients.models import Invoice, SyncRun
from integrations.models import WebhookEvent
from integrations.sandbox import Sandbox, serve
from integrations.sandbox.testing import connect_quickbooks, point_settings_at
from integrations.sync.runs import sync_source
from tests.test_sandbox import tiny_world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox():
    world = tiny_world()
    world.quickbooks["Customer"]["58"] = {
        "Id": "58", "DisplayName": "Client 0", "Active": True,
        "MetaData": {"LastUpdatedTime": "2026-10-01T09:00:00-07:00"}}
    for invoice_id in list(world.quickbooks["Invoice"])[20:]:
        del world.quickbooks["Invoice"][invoice_id]
    return Sandbox(world)


@pytest.fixture
def app(sandbox, settings, live_server, monkeypatch):
    """The app on a real port, synced once, with tasks run as they are queued."""
    monkeypatch.setattr(Conf, "SYNC", True)
    with serve(sandbox) as base:
        point_settings_at(settings, base)
        connect_quickbooks()
        run = sync_source("quickbooks")
        assert run.status == "succeeded", run.error
        assert Invoice.objects.count() == 20
        yield f"{live_server.url}/integrations/quickbooks/webhook"


def test_bad_or_missing_signature_gets_401_and_changes_nothing(app, sandbox):
    event = sandbox.world.edit_qb("Invoice", "1003", PrivateNote="changed by a forger")
    runs = SyncRun.objects.count()
    assert sandbox.post_webhook(app, [event], verifier_token="not-the-verifier").status_code == 401
    assert sandbox.post_webhook(app, [event], verifier_token=None).status_code == 401
    assert sandbox.post_webhook(app, [event], None, signature="garbage==").status_code == 401
    assert not WebhookEvent.objects.exists()
    assert SyncRun.objects.count() == runs
    assert Invoice.objects.get(external_id="1003").memo == ""


def test_legacy_payload_fetches_the_changed_invoice(app, sandbox):
    event = sandbox.world.edit_qb("Invoice", "1004", PrivateNote="Price corrected")
    assert sandbox.post_webhook(app, [event], "sandbox-verifier", style="legacy").status_code == 200
    assert Invoice.objects.get(external_id="1004").memo == "Price corrected"
    run = SyncRun.objects.filter(trigger="webhook").get()
    assert (run.status, run.updated, run.created) == ("succeeded", 1, 0)


def test_cloudevents_delete_marks_the_invoice_deleted(app, sandbox):
    del sandbox.world.quickbooks["Invoice"]["1005"]
    event = {"realmId": sandbox.world.realm_id, "name": "Invoice", "id": "1005", "operation": "Delete",
             "lastUpdated": "2026-11-02T10:00:00-08:00"}
    assert sandbox.post_webhook(app, [event], "sandbox-verifier", style="cloudevents").status_code == 200
    invoice = Invoice.objects.get(external_id="1005")
    assert invoice.deleted_at_source is not None
    assert SyncRun.objects.get(trigger="webhook").deleted == 1


def test_duplicate_delivery_is_harmless(app, sandbox):
    event = sandbox.world.edit_qb("Invoice", "1006", PrivateNote="Once")
    for _ in range(3):
        assert sandbox.post_webhook(app, [event], "sandbox-verifier").status_code == 200
    assert WebhookEvent.objects.count() == 1
    assert SyncRun.objects.filter(trigger="webhook").count() == 1
    assert Invoice.objects.filter(memo="Once").count() == 1
