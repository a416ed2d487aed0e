"""The sales pipeline at a simulated world's end: clients signed but not live yet.

A small world (seed 13, 10 clients x 4 months) whose pipeline holds clients is simulated with
the pipeline and without it (`Simulation(pipeline=False)`, the world as it was before): every
record of the second is in the first, unchanged and in the same place, and what the first adds
is the pipeline's clients and agreements alone, shaped as a SuperOps tenant holds them. Loaded
into the app, they are active clients going live after the data's newest ticket, with nothing
billed, no KPI month, no leak and pages that show them without error.

The world is imported, its leaks detected and its KPIs and genome built once for the module,
inside one transaction rolled back at the end, so other test files see an empty database.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from django.db import transaction
from django.db.models import Max

from clients.models import Asset, Client, Contract, Customer, Invoice, Ticket, Worklog
from insights.leaks import detect_leaks
from insights.models import LeakFinding
from integrations.dump import import_dump
from integrations.simulator import simulate
from integrations.simulator.engine import Simulation
from integrations.simulator.priors import PIPELINE_NOTICE_DAYS
from integrations.simulator.superops import QUERIES
from ml.features.build import build_features
from ml.models import ClientMonthKPI, GenomeVector

SEED, CLIENTS, MONTHS, END_MONTH = 13, 10, 4, date(2026, 10, 1)
OPTIONS = {"leak_rate": 0.1, "churn_rate": 0.2}


def records(root: Path) -> dict[str, list[dict]]:
    """Every list of a dump folder, its records in page order."""
    out: dict[str, list[dict]] = {}
    for page in sorted(root.glob("*/*/page-*.json")):
        source, name = page.parent.parent.name, page.parent.name
        body = json.loads(page.read_text())
        if source == "superops":
            found = body["data"][name][QUERIES[name]] if name in QUERIES else body["data"][name]
        elif source == "quickbooks":
            found = body["QueryResponse"][name]
        else:
            found = body[name]
        out.setdefault(f"{source}/{name}", []).extend(found)
    return out


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("pipeline")
    on = simulate(CLIENTS, MONTHS, SEED, out_dir=root / "on", end_month=END_MONTH, **OPTIONS)
    off = Simulation(CLIENTS, MONTHS, SEED, out_dir=root / "off", end_month=END_MONTH, pipeline=False,
                     **OPTIONS).run()
    truth = json.loads((on / "truth.json").read_text())
    return {"on": on, "off": off, "truth": truth, "pipeline": {p["client_id"]: p for p in truth["pipeline"]},
            "records": records(on), "before": records(off)}


def test_the_world_ends_with_clients_signed_but_not_live(worlds):
    truth, pipeline = worlds["truth"], worlds["pipeline"]
    assert pipeline, "seed 13 was chosen for a world with a pipeline"
    end = date.fromisoformat(truth["end"])
    lo, hi = PIPELINE_NOTICE_DAYS
    for p in pipeline.values():
        signed, live = date.fromisoformat(p["signed_on"]), date.fromisoformat(p["go_live"])
        assert signed <= end < live
        assert lo <= (live - signed).days <= hi
    # Nothing about them among the planted leaks or the departures.
    assert not {leak["client_id"] for leak in truth["leaks"]} & set(pipeline)
    assert not {event["client_id"] for event in truth["churn"]} & set(pipeline)


def test_a_pipeline_client_is_held_as_a_signed_superops_client(worlds):
    recs, pipeline = worlds["records"], worlds["pipeline"]
    clients = {c["accountId"]: c for c in recs["superops/getClientList"]}
    for cid, p in pipeline.items():
        c = clients[cid]
        assert (c["stage"], c["status"]) == ("Customer", "Onboarding")
        assert c["customFields"]["onboardedOn"] == p["go_live"]
        assert c["customFields"]["employeeCount"] == str(p["users"])
    # The tenant's Customer stage has the status it added for them.
    customer_stage = next(s for s in recs["superops/getClientStageList"] if s["name"] == "Customer")
    assert "Onboarding" in [s["name"] for s in customer_stage["statuses"]]
    # Agreements start on the go-live day, are in force (signed) and bill first that day;
    # seat agreements carry the quoted seats as a BASELINE dated that day.
    contracts = [k for k in recs["superops/getClientContractList"] if k["client"]["accountId"] in pipeline]
    assert sorted(k["contractId"] for k in contracts) == sorted(i for p in pipeline.values()
                                                                  for i in p["contract_ids"])
    for k in contracts:
        go_live = pipeline[k["client"]["accountId"]]["go_live"]
        assert k["startDate"] == go_live and k["contractStatus"] == "ACTIVE"
        assert k["endDate"] is None or k["endDate"] > go_live
        billable = k["contract"]["billableContract"]
        if billable["recurringContract"]:
            assert billable["recurringContract"]["nextBillDate"] == go_live
        assert all(ch["effectiveDate"] == go_live and ch["quantityChangeOperation"] == "BASELINE"
                   for ch in billable["changes"])
    # Nothing else yet: no tickets, worklogs, endpoints, users, offered items, QuickBooks
    # customer or invoice names them.
    names = {clients[cid]["name"] for cid in pipeline}
    for key, rows in recs.items():
        if key in ("superops/getClientList", "superops/getClientContractList"):
            continue
        text = json.dumps(rows)
        assert not any(f'"accountId": "{cid}"' in text for cid in pipeline), key
        assert not any(json.dumps(name) in text for name in names), key


def test_every_record_of_the_world_without_a_pipeline_is_unchanged(worlds):
    before, after, pipeline = worlds["before"], worlds["records"], worlds["pipeline"]
    assert set(before) == set(after)
    added = {}
    for key, old in before.items():
        new = after[key]
        if key == "superops/getClientStageList":
            continue  # the tenant's vocabulary, checked below
        assert new[:len(old)] == old, key  # same records, same content, same order
        if len(new) > len(old):
            added[key] = new[len(old):]
    assert set(added) == {"superops/getClientList", "superops/getClientContractList"}
    assert {c["accountId"] for c in added["superops/getClientList"]} == set(pipeline)
    assert {k["client"]["accountId"] for k in added["superops/getClientContractList"]} == set(pipeline)
    # The vocabulary differs only by the status the tenant added to its Customer stage.
    for old, new in zip(before["superops/getClientStageList"], after["superops/getClientStageList"], strict=True):
        if old["name"] == "Customer":
            assert new["statuses"][:len(old["statuses"])] == old["statuses"]
            assert [s["name"] for s in new["statuses"][len(old["statuses"]):]] == ["Onboarding"]
        else:
            assert new == old
    # truth.json keeps every answer it had; the pipeline is listed beside them.
    truth_off = json.loads((worlds["off"] / "truth.json").read_text())
    truth_on = worlds["truth"]
    assert {k: v for k, v in truth_on.items() if k not in ("pipeline", "clients")} == \
        {k: v for k, v in truth_off.items() if k not in ("pipeline", "clients")}
    assert truth_off["pipeline"] == []
    assert {k: v for k, v in truth_on["clients"].items() if k not in pipeline} == truth_off["clients"]


# --- loaded into the app --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def loaded(worlds, django_db_setup, django_db_blocker):
    """The world imported, every leak rule run, KPIs and the genome built, then the anomaly
    ensemble (it needs the KPI store); rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        run = import_dump(worlds["on"], progress=False)
        rules = detect_leaks(trigger="test")
        build_features(trigger="test", with_genome=True)
        anomaly = detect_leaks(rules=["billing_anomaly"], trigger="test")
        yield {"run": run, "failed": [(r.name, r.error) for r in rules.failed + anomaly.failed]}
        transaction.set_rollback(True)


def _pipeline_clients(worlds) -> list[Client]:
    return list(Client.objects.filter(external_id__in=worlds["pipeline"]).order_by("external_id"))


def test_pipeline_clients_import_as_clients_going_live_after_the_newest_ticket(worlds, loaded, db):
    assert loaded["run"].set_aside == 0
    clients = _pipeline_clients(worlds)
    assert [c.external_id for c in clients] == sorted(worlds["pipeline"])
    newest_ticket = Ticket.objects.aggregate(d=Max("created_at"))["d"].date()
    for c in clients:
        p = worlds["pipeline"][c.external_id]
        assert c.onboarded_on == date.fromisoformat(p["go_live"]) > newest_ticket
        assert (c.status, c.stage, c.status_label) == (Client.Status.ACTIVE, "Customer", "Onboarding")
        assert c.employee_count == p["users"]
        assert not Ticket.objects.filter(client=c).exists() and not Worklog.objects.filter(client=c).exists()
        assert not Invoice.objects.filter(client=c).exists() and not Asset.objects.filter(client=c).exists()
        assert not Customer.objects.filter(client=c).exists()
        contracts = Contract.objects.filter(client=c)
        assert sorted(contracts.values_list("external_id", flat=True)) == sorted(p["contract_ids"])
        for k in contracts:
            assert k.start_date == c.onboarded_on and k.status == "active"
            assert k.billed_quantity == 0  # the BASELINE is dated go-live, after the data's today


def test_no_leak_and_no_kpi_month_for_a_client_not_live_yet(worlds, loaded, db):
    assert loaded["failed"] == []
    assert LeakFinding.objects.exists()  # the rules did find this world's planted leaks
    clients = _pipeline_clients(worlds)
    assert list(LeakFinding.objects.filter(client__in=clients).values_list("finding_type", flat=True)) == []
    assert ClientMonthKPI.objects.exists() and GenomeVector.objects.exists()
    assert not ClientMonthKPI.objects.filter(client__in=clients).exists()
    assert not GenomeVector.objects.filter(client__in=clients).exists()


def test_pages_show_pipeline_clients_without_error(worlds, loaded, login):
    browser = login("viewer")
    clients = _pipeline_clients(worlds)
    # The list shows a month's figures; with "all" it names clients that have none yet.
    listing = browser.get("/clients/?all=1")
    assert listing.status_code == 200
    for c in clients:
        page = browser.get(f"/clients/{c.pk}/")
        assert page.status_code == 200 and c.name in page.content.decode()
        assert c.name in listing.content.decode()
        api = browser.get(f"/api/v1/clients/{c.pk}/")
        assert api.status_code == 200
        assert api.json()["onboarded_on"] == c.onboarded_on.isoformat()
    for url in ("/", "/leaks/", "/churn/", "/segments/", "/forecasts/", "/capacity/"):
        assert browser.get(url).status_code == 200, url
