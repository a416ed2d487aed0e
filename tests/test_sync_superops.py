"""Full and incremental sync from the sandbox over real HTTP: a full sync equals import_dump
of the same world row for row; an incremental one after the world changed brings exactly
those changes; SuperOps' permanent errors stop the run at once with a clear message.
Schema-true reads: sorted pages that survive edits mid-read, a refused incremental condition
falling back to a full read, the nightly full read finding deletions, a record SuperOps cannot
serve set aside."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clients.models import Client, ClientUser, OfferedItem, RejectedRecord, SatisfactionSurvey, Ticket, Worklog
from integrations.dump import dump_as_of, import_dump
from integrations.models import SyncCursor
from integrations.sandbox import superops_api
from integrations.sandbox.testing import connect_quickbooks, import_snapshot, wipe_synced_data
from integrations.superops import queries
from integrations.superops.client import SuperOpsClient
from integrations.sync.runs import sync_source
from integrations.sync.snapshot import differences, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(make_sandbox):
    """The default world (conftest's world_dir) served in small pages, so it spans many."""
    return make_sandbox(page_size=10, qb_page_size=5)


def sync_both(world_dir, full=False):
    return [sync_source(source, full=full, today=dump_as_of(world_dir)) for source in ("superops", "quickbooks")]


def test_full_sync_equals_import_dump_row_for_row(sandbox, world_dir):
    expected = import_snapshot(world_dir)
    connect_quickbooks()
    runs = sync_both(world_dir, full=True)
    assert [r.status for r in runs] == ["succeeded", "succeeded"], [r.error for r in runs]
    got = snapshot()
    assert differences(expected, got) == []
    assert len(got["Ticket"]) > 10 and len(got["Invoice"]) > 5  # the world spans several pages
    assert sum(len(rows) for rows in got.values()) == sum(len(rows) for rows in expected.values())


def test_incremental_sync_brings_exactly_the_changes(sandbox, world_dir, tmp_path):
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


def test_a_run_with_nothing_new_writes_nothing_and_reads_one_page_per_filtered_list(sandbox, world_dir):
    connect_quickbooks()
    sync_both(world_dir, full=True)
    before = dict(sandbox.endpoints)
    so = sync_source("superops", today=dump_as_of(world_dir))
    assert (so.created, so.updated, so.deleted, so.status) == (0, 0, 0, "succeeded")
    watermarks = dict(SyncCursor.objects.filter(source="superops").values_list("entity", "watermark"))
    assert watermarks["getTicketList"] and not watermarks["getClientList"]
    # Tickets (and offered items): one filtered page each. The other lists have no
    # modification time in SuperOps' schema and are read whole (a few pages of 10 here).
    assert sandbox.endpoints["graphql"] - before["graphql"] < before["graphql"]


@pytest.mark.parametrize("setting,value,message", [
    ("SUPEROPS_API_TOKEN", "revoked-token", "SuperOps refused the API token (HTTP 401): check SUPEROPS_API_TOKEN"),
    ("SUPEROPS_SUBDOMAIN", "another-msp", "is the subdomain 'another-msp' right? Check SUPEROPS_SUBDOMAIN"),
])
def test_bad_token_or_subdomain_fails_at_once_with_a_clear_message(sandbox, settings, setting, value, message):
    setattr(settings, setting, value)
    run = sync_source("superops")
    assert run.status == "failed" and message in run.error
    assert sandbox.api_requests == 1  # permanent: no retries
    assert not Client.objects.exists()


def test_import_dump_and_sync_can_follow_each_other(sandbox, world_dir):
    """A world imported from files and then synced live is unchanged by the sync."""
    import_dump(world_dir, progress=False)
    before = snapshot()
    connect_quickbooks()
    runs = sync_both(world_dir, full=True)
    assert sum(r.created + r.updated + r.deleted for r in runs) == 0
    assert differences(before, snapshot()) == []
    wipe_synced_data()


@pytest.mark.django_db(transaction=True)
def test_admin_sync_now_queues_a_run_that_syncs(sandbox, world_dir, client, monkeypatch):
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


# --- issue 10: schema-true reads ------------------------------------------------------------
@pytest.fixture
def requests_seen(monkeypatch):
    """The GraphQL bodies the sandbox received, in order."""
    seen: list[dict] = []
    handle = superops_api.handle

    def recording(sandbox, request):
        seen.append(request.json())
        return handle(sandbox, request)

    monkeypatch.setattr(superops_api, "handle", recording)
    return seen


def test_a_sync_reads_every_list_sorted_both_worklog_modules_and_client_users(sandbox, world_dir,
                                                                            requests_seen):
    worklogs = sandbox.world.superops["getWorklogEntries"]
    template = next(iter(worklogs.values()))
    client_ref = {"accountId": next(iter(sandbox.world.superops["getClientList"])), "name": "x"}
    worklogs["P-1"] = dict(template, itemId="P-1", workItem={"workId": "77", "module": "PROJECT", "client": client_ref})
    sandbox.world.tick()
    run = sync_source("superops", full=True, today=dump_as_of(world_dir))
    assert run.status == "succeeded", run.error
    world = sandbox.world.superops
    assert ClientUser.objects.filter(source="superops").count() == len(world["getClientUserList"]) > 0
    assert OfferedItem.objects.filter(source="superops").count() == len(world["getOfferedItems"]) > 0
    # Worklogs of both modules load (a PROJECT entry has no ticket).
    assert Worklog.objects.filter(source="superops").count() == len(world["getWorklogEntries"])
    project = Worklog.objects.get(source="superops", external_id="P-1")
    assert project.ticket is None and project.client.external_id == client_ref["accountId"]
    roots = {body["query"].split("(")[0].split()[-1] for body in requests_seen}
    from integrations.superops.sync import lists

    assert set(lists()) <= roots and {"getClientList", "getTicketList", "getWorklogEntries"} <= roots
    modules = {body["variables"]["input"]["module"] for body in requests_seen
               if body["query"].startswith("query getWorklogEntries")}
    assert modules == {"TICKET", "PROJECT"}
    for body in [b for b in requests_seen if b["variables"]]:  # every list page asks for an explicit sort
        info = body["variables"]["input"]
        info = info.get("listInfo", info)
        assert info["sort"] and info["sort"][0]["order"] == "ASC", body


def test_a_record_edited_between_two_page_reads_is_neither_skipped_nor_repeated(sandbox):
    tickets = sandbox.world.superops["getTicketList"]
    last_id = max(tickets, key=int)

    def edit_after_first_page(number: int) -> None:
        if number == 2:  # before the second page is answered
            sandbox.world.edit_superops("getTicketList", last_id, subject="Edited mid-read")

    sandbox.on_request = edit_after_first_page
    client = SuperOpsClient()
    got = [t["ticketId"] for page in client.pages("getTicketList", page_size=10) for t in page.records]
    assert len(got) == len(set(got)) and set(got) == set(tickets)
    assert sandbox.api_requests > 2  # the edit came between pages

    # Without the sort, the edited ticket jumps to the top of SuperOps' default order: the
    # same read skips it and serves another twice. This is what the sort prevents.
    sandbox.on_request = None
    unsorted, page, edited = [], 1, False
    while True:
        body = client.execute(queries.document("getTicketList"), {"input": {"page": page, "pageSize": 10}})
        unsorted += [t["ticketId"] for t in body["getTicketList"]["tickets"]]
        if not edited:
            sandbox.world.edit_superops("getTicketList", max(set(tickets) - set(unsorted), key=int), subject="x")
            edited = True
        if not body["getTicketList"]["listInfo"]["hasMore"]:
            break
        page += 1
    assert len(unsorted) != len(set(unsorted)) or set(unsorted) != set(tickets)
    client.close()


def test_a_refused_incremental_condition_falls_back_to_a_full_read_and_the_run_says_so(sandbox, world_dir):
    sync_source("superops", full=True, today=dump_as_of(world_dir))
    ticket_id = min(sandbox.world.superops["getTicketList"], key=int)
    sandbox.world.edit_superops("getTicketList", ticket_id, subject="Changed while filters are refused")
    sandbox.faults.update(refuse_conditions=True)
    run = sync_source("superops", today=dump_as_of(world_dir))
    assert run.status == "succeeded", run.error
    assert sandbox.faults_served.get("refused_condition", 0) >= 1
    assert "getTicketList: updatedTime condition refused, read in full" in run.detail
    assert Ticket.objects.get(external_id=ticket_id).subject == "Changed while filters are refused"
    assert run.updated >= 1


def test_a_refused_sort_falls_back_to_an_unsorted_read_and_the_run_says_so(sandbox, world_dir):
    sandbox.faults.update(refuse_sort=True)
    run = sync_source("superops", full=True, today=dump_as_of(world_dir))
    assert run.status == "succeeded", run.error
    assert "getClientList: sort refused, read unsorted" in run.detail
    assert Ticket.objects.count() == len(sandbox.world.superops["getTicketList"])
    assert Client.objects.count() == len(sandbox.world.superops["getClientList"])


def test_an_unsorted_read_that_missed_a_moved_record_marks_nothing_deleted(sandbox, world_dir, monkeypatch):
    sync_source("superops", full=True, today=dump_as_of(world_dir))
    sandbox.faults.update(refuse_sort=True)
    handle, edited = superops_api.handle, []

    def edit_before_second_ticket_page(box, request):
        body = request.json()
        info = (body.get("variables") or {}).get("input") or {}
        if body["query"].startswith("query getTicketList") and info.get("page") == 2 and not edited:
            # The oldest-updated ticket (last in the default order) is edited: it jumps to the top.
            oldest = min(box.world.superops["getTicketList"].values(), key=lambda t: t["updatedTime"])
            box.world.edit_superops("getTicketList", oldest["ticketId"], subject="Edited mid-read")
            edited.append(oldest["ticketId"])
        return handle(box, request)

    monkeypatch.setattr(superops_api, "handle", edit_before_second_ticket_page)
    run = sync_source("superops", full=True, today=dump_as_of(world_dir))
    assert run.status == "succeeded", run.error
    assert edited and "getTicketList: changed while read, deletions wait" in run.detail
    assert not Ticket.objects.filter(deleted_at_source__isnull=False).exists()


def test_the_nightly_full_read_marks_a_deleted_ticket_deleted(sandbox, world_dir, settings):
    settings.SUPEROPS_FULL_READ_HOURS = 24
    sync_source("superops", full=True, today=dump_as_of(world_dir))
    tickets = sandbox.world.superops["getTicketList"]
    gone = min(tickets, key=int)
    sandbox.world.delete_superops("getTicketList", gone)
    worklogs = sandbox.world.superops["getWorklogEntries"]
    for entry_id in [k for k, w in worklogs.items() if str((w.get("workItem") or {}).get("workId")) == gone]:
        sandbox.world.delete_superops("getWorklogEntries", entry_id)  # they go with their ticket

    # Within the day, tickets are read incrementally: the deletion is not seen yet.
    run = sync_source("superops", today=dump_as_of(world_dir))
    assert run.status == "succeeded", run.error
    assert Ticket.objects.get(external_id=gone).deleted_at_source is None
    # A day after the last full read, the next run reads tickets in full and marks it.
    cursor = SyncCursor.objects.get(source="superops", entity="getTicketList")
    cursor.last_full_at = timezone.now() - timedelta(hours=25)
    cursor.save()
    run = sync_source("superops", today=dump_as_of(world_dir))
    assert run.status == "succeeded", run.error
    assert Ticket.objects.get(external_id=gone).deleted_at_source is not None
    assert run.deleted >= 1
    cursor.refresh_from_db()
    assert timezone.now() - cursor.last_full_at < timedelta(minutes=5)


def test_a_record_superops_cannot_serve_is_set_aside_and_the_rest_loads(sandbox, world_dir):
    sync_source("superops", full=True, today=dump_as_of(world_dir))
    tickets = sandbox.world.superops["getTicketList"]
    broken, gone = sorted(tickets, key=int)[:2]
    # A value outside the schema's enum: SuperOps answers the page with that record nulled
    # and a GraphQL error at its path.
    sandbox.world.edit_superops("getTicketList", broken, source="CARRIER_PIGEON")
    sandbox.world.delete_superops("getTicketList", gone)
    run = sync_source("superops", full=True, today=dump_as_of(world_dir))
    assert run.status == "partial", run.error
    reject = RejectedRecord.objects.get(source="superops", entity="getTicketList", last_run=run)
    assert "Enum 'TicketSource' cannot represent value: 'CARRIER_PIGEON'" in reject.reason
    assert "getTicketList.tickets.0.source" in reject.reason
    assert "getTicketList: 1 record(s) SuperOps could not serve set aside" in run.detail
    # The rest of the list loaded; the listing was incomplete, so no deletion is inferred from it.
    assert Ticket.objects.filter(deleted_at_source__isnull=True).count() == len(tickets) + 1
    assert Ticket.objects.get(external_id=gone).deleted_at_source is None


def test_the_tenant_vocabularies_are_read_as_superops_lists_them(sandbox):
    client = SuperOpsClient()
    stages = client.vocabulary("getClientStageList")
    priorities = client.vocabulary("getPriorityList")
    client.close()
    assert stages == list(sandbox.world.superops["getClientStageList"].values()) and stages
    assert {p["name"] for p in priorities} == {p["name"] for p in sandbox.world.superops["getPriorityList"].values()}
    assert set(priorities[0]) == {"id", "name", "colorCode"}


def test_a_sync_seeds_the_value_maps_from_the_vocabularies_first(sandbox, world_dir, requests_seen):
    from integrations.models import ValueMap

    sandbox.world.superops["getPriorityList"]["99"] = {"id": "99", "name": "P0 - Site Down", "colorCode": None}
    ValueMap.objects.create(kind="ticket_priority", source_value="Urgent", our_value="high")  # a person's choice
    run = sync_source("superops", full=True, today=dump_as_of(world_dir))
    assert run.status == "succeeded", run.error
    assert [b["query"].split()[1] for b in requests_seen[:2]] == ["getClientStageList", "getPriorityList"]
    seeded = dict(ValueMap.objects.filter(kind="ticket_priority").values_list("source_value", "our_value"))
    assert "P0 - Site Down" in seeded and seeded["Urgent"] == "high"
    stages = {s["name"] for s in sandbox.world.superops["getClientStageList"].values()}
    assert stages and stages <= set(ValueMap.objects.filter(kind="client_stage").values_list("source_value",
                                                                                               flat=True))
