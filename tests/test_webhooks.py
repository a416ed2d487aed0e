"""QuickBooks webhooks over real HTTP: the sandbox signs and posts events to the running
app; a bad or missing intuit-signature gets 401 and changes nothing; both payload shapes
are read; each event fetches its entity; a duplicate delivery is harmless; a Delete for an
entity QuickBooks still has deletes nothing; a Merge moves the merged customer's rows; the
sweep fetches events left unprocessed; a company that cannot be read does not stop another."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf

from clients.models import Customer, Invoice, SyncRun
from integrations import tasks
from integrations.models import QuickBooksConnection, WebhookEvent
from integrations.sync.runs import sync_source
from tests.test_quickbooks_realms import company, connect, revoke
from tests.test_sandbox import tiny_world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox(make_sandbox):
    world = tiny_world()
    for customer_id in ("58", "59"):
        world.quickbooks["Customer"][customer_id] = {
            "Id": customer_id, "DisplayName": f"Client {customer_id}", "Active": True,
            "MetaData": {"LastUpdatedTime": "2026-10-01T09:00:00-07:00"}}
    for invoice_id in list(world.quickbooks["Invoice"])[20:]:
        del world.quickbooks["Invoice"][invoice_id]
    for invoice_id in list(world.quickbooks["Invoice"])[15:]:
        world.quickbooks["Invoice"][invoice_id]["CustomerRef"] = {"value": "59"}
    return make_sandbox(world)


@pytest.fixture
def app(connected_sandbox, live_server, monkeypatch):
    """The app on a real port, synced once, with tasks run as they are queued."""
    monkeypatch.setattr(Conf, "SYNC", True)
    run = sync_source("quickbooks")
    assert run.status == "succeeded", run.error
    assert Invoice.objects.count() == 20
    return f"{live_server.url}/integrations/quickbooks/webhook"


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


def _post(sandbox, app, events, style="legacy"):
    assert sandbox.post_webhook(app, events, "sandbox-verifier", style=style).status_code == 200


@pytest.mark.parametrize("style", ["legacy", "cloudevents"])
def test_a_delete_for_an_entity_quickbooks_still_has_deletes_nothing(app, sandbox, style):
    # A late or replayed Delete: QuickBooks still has invoice 1007 (edited since), so it stays.
    sandbox.world.edit_qb("Invoice", "1007", PrivateNote="Still here")
    event = {"realmId": sandbox.world.realm_id, "name": "Invoice", "id": "1007", "operation": "Delete",
             "lastUpdated": "2026-11-02T10:00:00-08:00"}
    _post(sandbox, app, [event], style)
    invoice = Invoice.objects.get(external_id="1007")
    assert (invoice.deleted_at_source, invoice.memo) == (None, "Still here")
    run = SyncRun.objects.get(trigger="webhook")
    assert (run.status, run.deleted, run.updated) == ("succeeded", 0, 1)
    assert WebhookEvent.objects.get().processed_at is not None


@pytest.mark.parametrize("style", ["legacy", "cloudevents"])
def test_a_merge_moves_the_merged_customers_rows_to_the_survivor(app, sandbox, style):
    merged, survivor = Customer.objects.get(external_id="59"), Customer.objects.get(external_id="58")
    moved = set(Invoice.objects.filter(customer=merged).values_list("external_id", flat=True))
    assert len(moved) == 5
    # QuickBooks keeps the survivor; the merged customer is gone.
    del sandbox.world.quickbooks["Customer"]["59"]
    event = {"realmId": sandbox.world.realm_id, "name": "Customer", "id": "58", "operation": "Merge",
             "deletedId": "59", "lastUpdated": "2026-11-02T10:00:00-08:00"}
    _post(sandbox, app, [event], style)
    assert set(Invoice.objects.filter(customer=survivor).values_list("external_id", flat=True)) >= moved
    assert not Invoice.objects.filter(customer=merged).exists()
    merged.refresh_from_db()
    assert merged.deleted_at_source is not None
    assert SyncRun.objects.get(trigger="webhook").status == "succeeded"


def test_the_sweep_fetches_an_event_left_unprocessed(app, sandbox):
    # Stored but never fetched: the worker died, or the queue was down when it arrived.
    event = sandbox.world.edit_qb("Invoice", "1008", PrivateNote="Fetched by the sweep")
    stored = WebhookEvent.objects.create(realm_id=event["realmId"], entity="Invoice", entity_id="1008",
                                         operation="Update", occurred_at=event["lastUpdated"])
    assert tasks.sweep_webhook_events() is None  # just received: its own task has it
    WebhookEvent.objects.filter(pk=stored.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    run_id = tasks.sweep_webhook_events()
    assert SyncRun.objects.get(pk=run_id).status == "succeeded"
    assert Invoice.objects.get(external_id="1008").memo == "Fetched by the sweep"
    stored.refresh_from_db()
    assert stored.processed_at is not None and stored.run_id == run_id
    assert tasks.sweep_webhook_events() is None  # nothing left


def test_the_sweep_is_scheduled():
    from django_q.models import Schedule

    tasks.ensure_schedules()
    sweep = Schedule.objects.get(name=tasks.WEBHOOK_SWEEP)
    assert (sweep.func, sweep.minutes) == ("integrations.tasks.sweep_webhook_events", tasks.WEBHOOK_SWEEP_MINUTES)


def test_a_company_that_cannot_be_read_does_not_stop_another(app, sandbox):
    other = company("9130000000000002")
    sandbox.add_company(other)
    connect(sandbox, other.realm_id)
    assert sync_source("quickbooks", realm_id=other.realm_id).status == "succeeded"
    broken = sandbox.world.realm_id
    revoke(broken)
    events = [sandbox.world.edit_qb("Invoice", "1009", PrivateNote="Waits for the reconnection"),
              other.edit_qb("Invoice", "101", PrivateNote="Fetched")]
    _post(sandbox, app, events)
    run = SyncRun.objects.get(trigger="webhook")
    assert run.status == "partial" and broken in run.error
    assert Invoice.objects.get(realm=other.realm_id, external_id="101").memo == "Fetched"
    waiting = WebhookEvent.objects.get(realm_id=broken)
    assert waiting.processed_at is None and "connect it again" in waiting.error
    assert "connect it again" in QuickBooksConnection.objects.get(realm_id=broken).last_error
    # Connected again, the sweep fetches what waited.
    connect(sandbox, broken)
    WebhookEvent.objects.filter(pk=waiting.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    assert SyncRun.objects.get(pk=tasks.sweep_webhook_events()).status == "succeeded"
    assert Invoice.objects.get(realm=broken, external_id="1009").memo == "Waits for the reconnection"
    assert QuickBooksConnection.objects.get(realm_id=broken).last_error == ""
