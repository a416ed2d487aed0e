"""What a real tenant configures for itself never costs a record: a stage, status or priority
no one has mapped loads with its text kept and a sensible meaning; a person changes that
meaning in the admin (Value maps) or points a concept at a renamed custom field (Custom field
maps), and the next load follows; a custom field the tenant does not have is unknown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import reverse

from clients.models import Client, RejectedRecord, SatisfactionSurvey, Ticket
from integrations.models import CustomerLink, FieldMap, ValueMap
from integrations.superops.client import SuperOpsClient
from integrations.superops.vocabulary import seed_from_superops
from integrations.sync.runs import sync_source

from .test_import_dump import run_import, world, write_dump

pytestmark = pytest.mark.django_db


def tenant_world() -> dict:
    """The small world of test_import_dump with a tenant's own vocabulary and field names:
    client 4002 in an unheard-of stage and status, a ticket with an unheard-of priority, a
    client whose industry sits in a field called "Vertical", and one with no custom fields."""
    data = world()
    clients = data[("superops", "getClientList")]
    clients[1].update(stage="Platinum Partner", status="Hibernating")
    clients[1]["customFields"] = {"Vertical": "Legal", "employeeCount": "12"}
    clients[2]["customFields"] = None
    data[("superops", "getClientList")] = clients[:3]  # the planted bad records are another test's
    tickets = data[("superops", "getTicketList")]
    tickets[1]["priority"] = "Whenever"
    tickets[2]["customFields"] = {}  # no CSAT, no reopen count, no asset: all unknown
    data[("superops", "getTicketList")] = [t for t in tickets if t["ticketId"] != "100006"]
    data[("superops", "getAssetList")] = data[("superops", "getAssetList")][:2]
    data[("superops", "getWorklogEntries")] = [w for w in data[("superops", "getWorklogEntries")]
                                               if w["itemId"] != "200003"]
    return data


@pytest.fixture
def folder(tmp_path) -> Path:
    return write_dump(tmp_path / "dump", tenant_world())


def test_unknown_stage_status_and_priority_load_over_the_sandbox(folder, make_sandbox):
    make_sandbox(folder, page_size=2)
    run = sync_source("superops", full=True)
    assert (run.status, run.set_aside) == ("succeeded", 0), run.error
    assert not RejectedRecord.objects.exists()
    birch = Client.objects.get(external_id="4002")
    assert (birch.stage, birch.status_label, birch.status) == ("Platinum Partner", "Hibernating", "active")
    ticket = Ticket.objects.get(external_id="100002")
    assert (ticket.priority_label, ticket.priority) == ("Whenever", "medium")
    assert Ticket.objects.get(external_id="100001").priority == "medium"  # "Medium" as sent


def test_the_tenants_vocabularies_read_live_seed_the_value_maps(tmp_path, make_sandbox):
    folder = write_dump(tmp_path / "dump", tenant_world())
    stages = [{"stageId": "1", "name": "Customer", "constant": "CUSTOMER",
               "statuses": [{"statusId": "11", "name": "Hibernating", "constant": None}]},
              {"stageId": "2", "name": "Platinum Partner", "constant": None, "statuses": []},
              {"stageId": "3", "name": "Ex-client", "constant": "FORMER_CUSTOMER", "statuses": []}]
    priorities = [{"id": "1", "name": "Whenever", "colorCode": "#ccc"}, {"id": "2", "name": "P1 - Site down",
                                                                         "colorCode": "#f00"}]
    for query, entries in (("getClientStageList", stages), ("getPriorityList", priorities)):
        page = folder / "superops" / query / "page-0001.json"
        page.parent.mkdir(parents=True)
        page.write_text(json.dumps({"data": {query: entries}}))
    ValueMap.objects.create(kind="ticket_priority", source_value="Whenever", our_value="low")  # a person's
    make_sandbox(folder)
    client = SuperOpsClient()
    try:
        added, problems = seed_from_superops(client)
    finally:
        client.close()
    assert (added, problems) == (5, [])
    assert set(ValueMap.objects.values_list("kind", "source_value", "our_value", "seeded")) == {
        ("client_stage", "Customer", "active", True), ("client_stage", "Platinum Partner", "active", True),
        ("client_stage", "Ex-client", "churned", True),  # its constant says so
        ("client_status", "Hibernating", "active", True),
        ("ticket_priority", "P1 - Site down", "critical", True),
        ("ticket_priority", "Whenever", "low", False),  # never overwritten
    }


def test_a_value_map_changed_in_the_admin_applies_on_the_next_load(folder, admin_client):
    run_import(folder)
    assert Ticket.objects.get(external_id="100002").priority == "medium"
    assert Client.objects.get(external_id="4002").status == "active"
    # Every value the load met is listed in the admin with the meaning it was given...
    met = ValueMap.objects.get(kind="ticket_priority", source_value="Whenever")
    assert (met.our_value, met.seeded) == ("medium", True)
    hibernating = ValueMap.objects.get(kind="client_status", source_value="Hibernating")
    assert hibernating.our_value == "active"
    page = admin_client.get(reverse("admin:integrations_valuemap_changelist"))
    assert b"Whenever" in page.content and b"Platinum Partner" in page.content
    # ... and a person says what the tenant's words mean: two rows changed, one added.
    for row, ours in ((met, "low"), (hibernating, "churned")):
        answer = admin_client.post(reverse("admin:integrations_valuemap_change", args=[row.pk]), {
            "kind": row.kind, "source_value": row.source_value, "our_value": ours})
        assert answer.status_code == 302, answer.content[:2000]
    answer = admin_client.post(reverse("admin:integrations_valuemap_add"), {
        "kind": "ticket_category", "source_value": "Passwords", "our_value": "proactive"})
    assert answer.status_code == 200 and b"already exists" in answer.content  # met too: change it instead
    second, _ = run_import(folder)
    ticket = Ticket.objects.get(external_id="100002")
    assert (ticket.priority, ticket.priority_label) == ("low", "Whenever")
    assert Client.objects.get(external_id="4002").status == "churned"
    assert second.updated == 2  # exactly the ticket and the client
    # A meaning the field cannot take is refused in the admin, with the allowed values named.
    answer = admin_client.post(reverse("admin:integrations_valuemap_add"), {
        "kind": "ticket_priority", "source_value": "Eventually", "our_value": "someday"})
    assert answer.status_code == 200 and b"critical, high, medium, low" in answer.content
    assert not ValueMap.objects.filter(source_value="Eventually").exists()


def test_a_renamed_custom_field_is_read_once_the_field_map_names_it(folder, admin_client):
    run_import(folder)
    birch = Client.objects.get(external_id="4002")
    assert (birch.industry, birch.employee_count) == ("", 12)  # "Vertical" means nothing yet
    row = FieldMap.objects.get(concept="client.industry")  # seeded by the migration
    assert row.label == "industry"
    answer = admin_client.post(reverse("admin:integrations_fieldmap_change", args=[row.pk]), {
        "concept": "client.industry", "label": "Vertical", "note": ""})
    assert answer.status_code == 302, answer.content[:2000]
    run_import(folder)
    assert Client.objects.get(external_id="4002").industry == "Legal"
    assert Client.objects.get(external_id="4001").industry == ""  # its field is still called "industry"
    # A concept we do not read is refused, naming the ones we do.
    answer = admin_client.post(reverse("admin:integrations_fieldmap_add"), {
        "concept": "client.favourite_colour", "label": "Colour", "note": ""})
    assert answer.status_code == 200 and b"client.industry" in answer.content


def test_missing_custom_fields_load_as_unknown(folder):
    run, _ = run_import(folder)
    assert (run.status, run.set_aside) == ("succeeded", 0), run.error
    cedar = Client.objects.get(external_id="4003")
    assert (cedar.industry, cedar.employee_count, cedar.onboarded_on, cedar.currency) == ("", None, None, "USD")
    bare = Ticket.objects.get(external_id="100003")
    assert (bare.reopen_count, bare.escalated, bare.asset) == (0, False, None)
    assert not SatisfactionSurvey.objects.filter(ticket=bare).exists()
    # A concept the tenant does not keep at all (blank label) is unknown too, never a rejection.
    FieldMap.objects.filter(concept="client.employee_count").update(label="")
    run_import(folder)
    assert Client.objects.get(external_id="4002").employee_count is None


def test_value_and_field_maps_are_listed_in_the_admin(admin_client):
    ValueMap.objects.create(kind="client_stage", source_value="Former Customer", our_value="churned", seeded=True)
    page = admin_client.get(reverse("admin:integrations_valuemap_changelist"))
    assert page.status_code == 200 and b"Former Customer" in page.content
    page = admin_client.get(reverse("admin:integrations_fieldmap_changelist"))
    assert page.status_code == 200 and b"ticket.csat_score" in page.content and b"csatScore" in page.content



def test_a_sync_reads_the_quickbooks_link_through_the_field_map(tmp_path, make_sandbox):
    """A tenant that keeps each client's QuickBooks customer id in a custom field of its own
    naming: the live sync finds it once the field map names it, as import_dump does."""
    data = tenant_world()
    data[("superops", "getClientList")][0]["customFields"]["QBO Customer"] = "58"
    folder = write_dump(tmp_path / "dump", data)
    make_sandbox(folder, page_size=2)
    assert sync_source("superops", full=True).status == "succeeded"
    assert not CustomerLink.objects.exists()  # the default map names "quickbooksCustomerId"
    FieldMap.objects.filter(concept="client.quickbooks_customer_id").update(label="QBO Customer")
    assert sync_source("superops", full=True).status == "succeeded"
    assert list(CustomerLink.objects.values_list("quickbooks_customer_id", "account_id")) == [("58", "4001")]
