"""QuickBooks incremental sync over real HTTP: Change Data Capture brings edits and
deletions; a full CDC answer (which need not hold the oldest changes) is followed by a full
read; a watermark past CDC's 30 days, by QuickBooks' clock, falls back to a full read that
also finds deletions; inactive customers and items survive full reads; TimeActivity, which
CDC does not serve, arrives by a changed-since query and its deletions by a periodic full
read; time of a customer not linked to a client is kept and gets its client when linked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clients.models import Client, Customer, Invoice, Payment, ServiceItem, Worklog
from integrations.dump import dump_as_of
from integrations.models import SyncCursor
from integrations.quickbooks.sync import ENTITIES, NOT_IN_CDC
from integrations.sandbox.testing import connect_quickbooks
from integrations.sandbox.world import qb_time
from integrations.sync.runs import sync_source
from tests.test_quickbooks_realms import company, time_entry

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world_dir(make_world):
    return make_world(clients=3, months=3, seed=23)


@pytest.fixture
def sandbox(make_sandbox):
    return make_sandbox(page_size=50, qb_page_size=20)


@pytest.fixture
def synced(connected_sandbox, world_dir):
    """The connected sandbox, both sources synced once."""
    for source in ("superops", "quickbooks"):
        assert sync_source(source, today=dump_as_of(world_dir)).status == "succeeded"
    return connected_sandbox


def sync_quickbooks(world_dir):
    run = sync_source("quickbooks", today=dump_as_of(world_dir))
    assert run.status == "succeeded", run.error
    return run


def test_cdc_brings_edits_and_deletions(synced, world_dir):
    sandbox = synced
    reads = sandbox.endpoints.get("query", 0)
    changes = sandbox.world.mutate(seed=2, edits=3, deletions=2, new_tickets=0)
    run = sync_quickbooks(world_dir)
    edited = changes.edited[("quickbooks", "Invoice")]
    invoices, payments = changes.deleted[("quickbooks", "Invoice")], changes.deleted[("quickbooks", "Payment")]
    assert (run.created, run.updated, run.deleted) == (0, len(edited), len(invoices) + len(payments))
    assert Invoice.objects.filter(external_id__in=edited, memo__endswith="edited").count() == len(edited)
    assert Invoice.objects.filter(external_id__in=invoices, deleted_at_source__isnull=False).count() == len(invoices)
    assert Payment.objects.filter(external_id__in=payments, deleted_at_source__isnull=False).count() == len(payments)
    # CDC for what it serves; one query reads QuickBooks' clock (for the watermark's age) and
    # one page of changed TimeActivity, which CDC does not serve.
    assert sandbox.endpoints.get("query", 0) - reads == 2
    again = sync_quickbooks(world_dir)
    assert (again.created, again.updated, again.deleted) == (0, 0, 0)


def test_a_full_cdc_answer_is_followed_by_a_full_read(synced, world_dir, settings):
    sandbox = synced
    sandbox.cdc_limit = settings.QUICKBOOKS_CDC_LIMIT = 2
    ids = sorted(sandbox.world.quickbooks["Invoice"])[:5]
    for number, invoice_id in enumerate(ids):
        sandbox.world.edit_qb("Invoice", invoice_id, PrivateNote=f"note {number}")
    reads = sandbox.endpoints.get("query", 0)
    run = sync_quickbooks(world_dir)
    assert run.updated == 5
    assert sandbox.endpoints["query"] > reads  # invoices read in full after the full CDC answer
    assert sorted(Invoice.objects.filter(memo__startswith="note ").values_list("external_id", flat=True)) == ids
    again = sync_quickbooks(world_dir)
    assert (again.created, again.updated, again.deleted) == (0, 0, 0)


def test_more_changes_in_one_instant_than_cdc_holds_fall_back_to_a_full_read(synced, world_dir, settings):
    sandbox = synced
    sandbox.cdc_limit = settings.QUICKBOOKS_CDC_LIMIT = 2
    changes = sandbox.world.mutate(seed=4, edits=3, deletions=0, new_tickets=0)  # all stamped the same second
    reads = sandbox.endpoints.get("query", 0)
    run = sync_quickbooks(world_dir)
    assert run.updated == 3
    assert sandbox.endpoints["query"] > reads
    edited = changes.edited[("quickbooks", "Invoice")]
    assert Invoice.objects.filter(external_id__in=edited, memo__endswith="edited").count() == 3


def test_a_watermark_older_than_30_days_falls_back_to_a_full_read(synced, world_dir):
    sandbox = synced
    old = qb_time(sandbox.world.clock - timedelta(days=40))
    SyncCursor.objects.filter(source="quickbooks").update(watermark=old)
    paid = {str(t["TxnId"]) for p in sandbox.world.quickbooks["Payment"].values()
            for line in p.get("Line") or [] for t in line.get("LinkedTxn") or []}
    gone = min(set(sandbox.world.quickbooks["Invoice"]) - paid)
    del sandbox.world.quickbooks["Invoice"][gone]  # deleted, and CDC can no longer tell
    reads = sandbox.endpoints.get("query", 0)
    run = sync_quickbooks(world_dir)
    assert sandbox.endpoints["query"] - reads >= 7  # every entity read in full
    assert run.deleted == 1 and Invoice.objects.get(external_id=gone).deleted_at_source is not None
    assert all(c.watermark > old for c in SyncCursor.objects.filter(source="quickbooks"))


# --- a small company (tests/test_quickbooks_realms.company), read over real HTTP
@pytest.fixture
def small(make_sandbox, settings):
    sandbox = make_sandbox(company("9130000000000009"), qb_page_size=2)
    settings.QUICKBOOKS_CDC_LIMIT = 1000  # pages of two, whole CDC answers
    connect_quickbooks()
    assert sync_source("quickbooks").status == "succeeded"
    return sandbox


def succeeded(**options):
    run = sync_source("quickbooks", **options)
    assert run.status == "succeeded", run.error
    return run


def test_inactive_customers_and_items_survive_full_and_incremental_reads(small):
    def churned():
        return Customer.objects.get(external_id="2"), ServiceItem.objects.get(source="quickbooks", external_id="2")

    for _ in range(2):
        customer, item = churned()
        assert (customer.display_name, customer.active, customer.deleted_at_source) == ("Harbor Cafe", False, None)
        assert (item.active, item.deleted_at_source) == (False, None)
        assert Invoice.objects.get(external_id="102").customer == customer
        small.world.edit_qb("Invoice", "101", PrivateNote="a change for the incremental read")
        assert succeeded().deleted == 0
        assert churned()[0].deleted_at_source is None
        assert succeeded(full=True).deleted == 0


def test_time_activity_changes_arrive_without_cdc(small):
    world = small.world
    world.edit_qb("TimeActivity", "301", Hours=3)
    now = world.tick()
    world.quickbooks["TimeActivity"]["302"] = time_entry("302", "1", hours=1, stamp=qb_time(now))
    cdc, queries = small.endpoints.get("cdc", 0), small.endpoints.get("query", 0)
    run = succeeded()
    assert run.created == 1 and run.updated == 1
    assert Worklog.objects.get(source="quickbooks", external_id="301").minutes == 180
    assert Worklog.objects.get(source="quickbooks", external_id="302").customer.external_id == "1"
    assert small.endpoints["query"] > queries
    # CDC was asked only for the entities it serves (the sandbox refuses it for TimeActivity,
    # which would have failed the run): one answer each for the others.
    assert small.endpoints["cdc"] - cdc == len(set(ENTITIES) - NOT_IN_CDC) == len(ENTITIES) - 1
    assert succeeded().created == 0


def test_time_activity_deletions_are_found_by_the_periodic_full_read(small, settings):
    del small.world.quickbooks["TimeActivity"]["301"]
    small.world.tick()
    succeeded()  # a changed-since read cannot see a deletion
    assert Worklog.objects.get(source="quickbooks", external_id="301").deleted_at_source is None
    cursor = SyncCursor.objects.get(source="quickbooks", entity__endswith="/TimeActivity")
    cursor.last_full_at = timezone.now() - timedelta(hours=settings.QUICKBOOKS_FULL_READ_HOURS + 1)
    cursor.save()
    assert succeeded().deleted == 1
    assert Worklog.objects.get(source="quickbooks", external_id="301").deleted_at_source is not None


def test_time_of_an_unlinked_customer_is_kept_and_gets_its_client_when_linked(small):
    entry = Worklog.objects.get(source="quickbooks", external_id="301")
    assert (entry.client, entry.customer.display_name, entry.minutes) == (None, "Beta Law", 120)
    client = Client.objects.create(source="superops", external_id="4100", name="Beta Law")
    succeeded()  # the matcher links customer 3 by name and copies the client onto its rows
    entry.refresh_from_db()
    assert entry.client == client
    assert Invoice.objects.get(external_id="103").client == client


def test_cdc_age_is_measured_on_quickbooks_clock(small):
    invoices = SyncCursor.objects.filter(source="quickbooks", entity__endswith="/Invoice")
    clock = small.world.clock  # QuickBooks' time, weeks behind our own in this world
    small.world.edit_qb("Invoice", "101", PrivateNote="seen by CDC")
    invoices.update(watermark=qb_time(clock - timedelta(days=20)))
    queries = small.endpoints.get("query", 0)
    succeeded(entities=["Invoice"])
    assert small.endpoints.get("query", 0) - queries <= 1  # CDC (and at most one clock reading)
    assert Invoice.objects.get(external_id="101").memo == "seen by CDC"
    # Near the 30 days (within the margin) the entity is read in full, without asking CDC.
    invoices.update(watermark=qb_time(clock - timedelta(days=29, hours=20)))
    cdc = small.endpoints.get("cdc", 0)
    succeeded(entities=["Invoice"])
    assert small.endpoints.get("cdc", 0) == cdc
    assert invoices.get().watermark > qb_time(clock - timedelta(days=1))


def test_quickbooks_environment_selects_intuits_api_host(settings):
    from integrations.quickbooks.client import QuickBooksClient
    from integrations.sync.errors import PermanentError

    settings.QUICKBOOKS_API_BASE = ""
    for environment, host in (("sandbox", "https://sandbox-quickbooks.api.intuit.com"),
                              ("production", "https://quickbooks.api.intuit.com")):
        settings.QUICKBOOKS_ENVIRONMENT = environment
        client = QuickBooksClient("123")
        assert client.base == f"{host}/v3/company/123"
        client.close()
    settings.QUICKBOOKS_API_BASE = "http://127.0.0.1:8765"  # an explicit base wins (our sandbox)
    client = QuickBooksClient("123")
    assert client.base == "http://127.0.0.1:8765/v3/company/123"
    client.close()
    settings.QUICKBOOKS_API_BASE = ""
    settings.QUICKBOOKS_ENVIRONMENT = "http://127.0.0.1:8765/.well-known/openid_configuration"
    with pytest.raises(PermanentError, match="QUICKBOOKS_API_BASE"):
        QuickBooksClient("123")
