"""QuickBooks incremental sync over real HTTP: Change Data Capture brings edits and
deletions, a full CDC answer is followed by another from its newest change, a watermark
past CDC's 30 days falls back to a full read that also finds deletions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clients.models import Invoice, Payment
from integrations.dump import dump_as_of
from integrations.models import SyncCursor
from integrations.sandbox import Sandbox, serve
from integrations.sandbox.testing import connect_quickbooks, point_settings_at, simulated_world
from integrations.sandbox.world import qb_time
from integrations.sync.runs import sync_source

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory):
    return simulated_world(tmp_path_factory.mktemp("qb") / "msp", clients=3, months=3, seed=23)


@pytest.fixture
def sandbox(world_dir):
    return Sandbox.from_dump(world_dir)


@pytest.fixture
def synced(sandbox, settings, world_dir):
    with serve(sandbox) as base:
        point_settings_at(settings, base, page_size=50, qb_page_size=20)
        connect_quickbooks()
        for source in ("superops", "quickbooks"):
            assert sync_source(source, today=dump_as_of(world_dir)).status == "succeeded"
        yield sandbox


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
    assert sandbox.endpoints.get("query", 0) == reads  # CDC only, no query reads
    again = sync_quickbooks(world_dir)
    assert (again.created, again.updated, again.deleted) == (0, 0, 0)


def test_a_full_cdc_answer_is_followed_by_the_next_window(synced, world_dir, settings):
    sandbox = synced
    sandbox.cdc_limit = settings.QUICKBOOKS_CDC_LIMIT = 2
    ids = sorted(sandbox.world.quickbooks["Invoice"])[:5]
    for number, invoice_id in enumerate(ids):
        sandbox.world.edit_qb("Invoice", invoice_id, PrivateNote=f"note {number}")
    cdc_before = sandbox.endpoints.get("cdc", 0)
    run = sync_quickbooks(world_dir)
    assert run.updated == 5
    assert sandbox.endpoints["cdc"] - cdc_before >= 3 + 6  # 3 windows for invoices, one each for the rest
    assert sorted(Invoice.objects.filter(memo__startswith="note ").values_list("external_id", flat=True)) == ids


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
