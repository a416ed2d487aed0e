"""Full and incremental sync from the sandbox over real HTTP: a full sync equals import_dump
of the same world row for row; an incremental one after the world changed brings exactly
those changes; SuperOps' permanent errors stop the run at once with a clear message."""

from __future__ import annotations

import pytest

from clients.models import Client, SatisfactionSurvey, Ticket, Worklog
from integrations.dump import dump_as_of, import_dump
from integrations.models import SyncCursor
from integrations.sandbox import Sandbox, serve
from integrations.sandbox.testing import (
    connect_quickbooks,
    import_snapshot,
    point_settings_at,
    simulated_world,
    wipe_synced_data,
)
from integrations.sync.runs import sync_source
from integrations.sync.snapshot import differences, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory):
    return simulated_world(tmp_path_factory.mktemp("world") / "msp", clients=4, months=3)


@pytest.fixture
def sandbox(world_dir):
    return Sandbox.from_dump(world_dir)


@pytest.fixture
def url(sandbox, settings):
    with serve(sandbox) as base:
        # Small pages, so a tiny world still spans many of them.
        point_settings_at(settings, base, page_size=10, qb_page_size=5)
        yield base


def sync_both(world_dir, full=False):
    return [sync_source(source, full=full, today=dump_as_of(world_dir)) for source in ("superops", "quickbooks")]


def test_full_sync_equals_import_dump_row_for_row(url, world_dir):
    expected = import_snapshot(world_dir)
    connect_quickbooks()
    runs = sync_both(world_dir, full=True)
    assert [r.status for r in runs] == ["succeeded", "succeeded"], [r.error for r in runs]
    got = snapshot()
    assert differences(expected, got) == []
    assert len(got["Ticket"]) > 10 and len(got["Invoice"]) > 5  # the world spans several pages
    assert sum(len(rows) for rows in got.values()) == sum(len(rows) for rows in expected.values())


def test_incremental_sync_brings_exactly_the_changes(url, sandbox, world_dir, tmp_path):
    connect_quickbooks()
    sync_both(world_dir, full=True)
    changes = sandbox.world.mutate(seed=5, edits=3, deletions=2, new_tickets=2)
    so, qb = sync_both(world_dir)
    assert (so.status, qb.status) == ("succeeded", "succeeded"), (so.error, qb.error)

    edited_clients = changes.edited[("superops", "getClientList")]
    edited_tickets = changes.edited[("superops", "getTicketList")]
    new_tickets = changes.created[("superops", "getTicketList")]
    new_worklogs = changes.created[("superops", "getWorklogEntries")]
    new_surveys = [t for t in new_tickets if (sandbox.world.superops["getTicketList"][t].get("customFields") or {})
                   .get("csatScore")]
    assert so.updated == len(edited_clients) + len(edited_tickets)
    assert so.created == len(new_tickets) + len(new_worklogs) + len(new_surveys)
    assert all(c.industry.endswith("(edited)") for c in Client.objects.filter(external_id__in=edited_clients))
    assert Ticket.objects.filter(external_id__in=edited_tickets, subject__endswith="(edited)").count() == 3
    assert Worklog.objects.filter(external_id__in=new_worklogs, ticket__external_id__in=new_tickets).count() == 2

    deleted_invoices = changes.deleted[("quickbooks", "Invoice")]
    deleted_payments = changes.deleted[("quickbooks", "Payment")]
    assert qb.updated == len(changes.edited[("quickbooks", "Invoice")])
    assert qb.deleted == len(deleted_invoices) + len(deleted_payments)
    assert qb.created == 0
    assert sandbox.endpoints["cdc"] >= 7  # QuickBooks read changes only: one CDC call per entity

    # SuperOps shows deletions only to a full read: lists without a modification time are read
    # whole each run (the deleted ticket's worklog is marked now), tickets only by --full.
    gone = changes.deleted[("superops", "getTicketList")]
    gone_worklogs = changes.deleted[("superops", "getWorklogEntries")]
    assert so.deleted == len(gone_worklogs) >= 1
    assert Ticket.objects.get(external_id=gone[0]).deleted_at_source is None
    full = sync_source("superops", full=True, today=dump_as_of(world_dir))
    assert full.deleted == 1 + SatisfactionSurvey.objects.filter(external_id=gone[0]).count()
    assert Ticket.objects.get(external_id=gone[0]).deleted_at_source is not None
    assert (full.created, full.updated) == (0, 0)

    # The database now holds what a clean import of the changed world holds, deleted rows aside.
    after = snapshot()
    expected = import_snapshot(sandbox.world.write_dump(tmp_path / "changed"))
    assert differences(expected, after) == []


def test_a_run_with_nothing_new_writes_nothing_and_reads_one_page_per_filtered_list(url, sandbox, world_dir):
    connect_quickbooks()
    sync_both(world_dir, full=True)
    before = dict(sandbox.endpoints)
    so = sync_source("superops", today=dump_as_of(world_dir))
    assert (so.created, so.updated, so.deleted, so.status) == (0, 0, 0, "succeeded")
    watermarks = dict(SyncCursor.objects.filter(source="superops").values_list("entity", "watermark"))
    assert watermarks["getTicketList"] and watermarks["getClientList"]
    # Clients, contracts and tickets: one filtered page each. The other lists have no
    # modification time in the API and are read whole (a few pages of 10 here).
    assert sandbox.endpoints["graphql"] - before["graphql"] < before["graphql"]


@pytest.mark.parametrize("setting,value,message", [
    ("SUPEROPS_API_TOKEN", "revoked-token", "SuperOps refused the API token (HTTP 401): check SUPEROPS_API_TOKEN"),
    ("SUPEROPS_SUBDOMAIN", "another-msp", "is the subdomain 'another-msp' right? Check SUPEROPS_SUBDOMAIN"),
])
def test_bad_token_or_subdomain_fails_at_once_with_a_clear_message(url, sandbox, settings, setting, value, message):
    setattr(settings, setting, value)
    run = sync_source("superops")
    assert run.status == "failed" and message in run.error
    assert sandbox.api_requests == 1  # permanent: no retries
    assert not Client.objects.exists()


def test_import_dump_and_sync_can_follow_each_other(url, world_dir):
    """A world imported from files and then synced live is unchanged by the sync."""
    import_dump(world_dir, progress=False)
    before = snapshot()
    connect_quickbooks()
    runs = sync_both(world_dir, full=True)
    assert sum(r.created + r.updated + r.deleted for r in runs) == 0
    assert differences(before, snapshot()) == []
    wipe_synced_data()


@pytest.mark.django_db(transaction=True)
def test_admin_sync_now_queues_a_run_that_syncs(url, world_dir, client, monkeypatch):
    from django.contrib.auth.models import User
    from django_q.conf import Conf

    from integrations.models import SyncLease

    monkeypatch.setattr(Conf, "SYNC", True)  # run queued tasks at once
    client.force_login(User.objects.create_superuser("admin", "admin@msp.example", "pw"))
    lease, _ = SyncLease.objects.get_or_create(source="superops")
    response = client.post("/admin/integrations/synclease/", {"action": "sync_now", "_selected_action": [lease.pk]})
    assert response.status_code == 302
    from clients.models import SyncRun

    run = SyncRun.objects.get(trigger="admin")
    assert (run.source, run.status) == ("superops", "succeeded") and run.created > 0
    wipe_synced_data()


def test_schedules_follow_the_settings(settings):
    from django_q.models import Schedule

    from integrations.tasks import ensure_schedules

    settings.SYNC_SUPEROPS_EVERY_MINUTES, settings.SYNC_QUICKBOOKS_EVERY_MINUTES = 10, 0
    ensure_schedules()
    assert list(Schedule.objects.filter(name__startswith="sync ").values_list("name", "minutes", "func")) == [
        ("sync superops", 10, "integrations.tasks.sync_source_task")]


def test_demo_world_loads_through_the_sandbox(world_dir):
    from integrations.sandbox.demo import sync_world_through_sandbox

    expected = import_snapshot(world_dir)
    runs = sync_world_through_sandbox(world_dir)
    assert [r.status for r in runs] == ["succeeded", "succeeded"]
    assert differences(expected, snapshot()) == []
    from integrations.models import QuickBooksConnection

    assert not QuickBooksConnection.objects.exists()  # the sandbox company is gone with the sandbox
