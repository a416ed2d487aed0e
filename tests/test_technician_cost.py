"""A technician's burdened cost comes from the MSP's books: QuickBooks `Employee.CostRate`
(SuperOps has no technician cost), else the CostRate of its QuickBooks time. Employees are
matched to technicians by email, then by name; one nobody matches is kept. A cost a person
typed in the admin survives every later load, through import_dump, the live sync and
webhooks alike, and the KPI store prices labour with these costs."""

from __future__ import annotations

import json
import shutil
import statistics
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from clients.models import Employee, RejectedRecord, Technician, Worklog
from integrations.dump import dump_as_of, format_summary, import_dump
from integrations.quickbooks.mapping import TechnicianIndex, map_employee, match_technician
from integrations.sandbox.testing import connect_quickbooks
from integrations.sync.runs import sync_source

pytestmark = pytest.mark.django_db


def employees_of(folder: Path) -> list[dict]:
    """The Employee records of a dump, as QuickBooks answered them."""
    found: list[dict] = []
    for page in sorted((folder / "quickbooks" / "Employee").glob("page-*.json")):
        found += json.loads(page.read_text())["QueryResponse"].get("Employee", [])
    return found


def write_employees(folder: Path, employees: list[dict]) -> None:
    for page in (folder / "quickbooks" / "Employee").glob("page-*.json"):
        page.unlink()
    body = {"QueryResponse": {"Employee": employees, "startPosition": 1, "maxResults": len(employees),
                              "totalCount": len(employees)}}
    (folder / "quickbooks" / "Employee" / "page-0001.json").write_text(json.dumps(body))


def copy_world(world_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(world_dir, tmp_path / "copy"))


def costs() -> dict[str, Decimal]:
    return dict(Technician.objects.values_list("email", "burdened_hourly_cost"))


def test_import_dump_gives_every_technician_its_employee_cost(world_dir):
    run = import_dump(world_dir, progress=False)
    assert run.status in ("succeeded", "partial"), run.error
    employees = employees_of(world_dir)
    assert employees and all(e.get("CostRate") for e in employees)
    got = costs()
    for e in employees:
        email = e["PrimaryEmailAddr"]["Address"]
        assert got[email] == Decimal(str(e["CostRate"])), e["DisplayName"]
    # The simulator's answers agree: every technician costs what it really costs.
    truth = json.loads((world_dir / "truth.json").read_text())["technicians"]
    by_id = dict(Technician.objects.values_list("external_id", "burdened_hourly_cost"))
    assert {t["userId"]: Decimal(t["burdenedHourlyCost"]) for t in truth} == by_id
    linked = Employee.objects.filter(technician__isnull=False).count()
    assert linked == len(employees) == Employee.objects.count()
    assert not Technician.objects.filter(cost_set_locally=True).exists()
    assert "Technician costs:" in format_summary(run) and f"{len(employees)} newly linked" in format_summary(run)


def test_a_cost_set_in_the_admin_survives_the_next_load(world_dir, admin_client):
    import_dump(world_dir, progress=False)
    tech = Technician.objects.order_by("external_id").first()
    employee_rate = tech.burdened_hourly_cost
    url = reverse("admin:clients_technician_change", args=[tech.pk])
    form = {"name": tech.name, "email": tech.email, "designation": tech.designation, "team": tech.team,
            "tier": tech.tier or "", "burdened_hourly_cost": "99.5000", "cost_currency": "USD", "active": "on",
            "realm": ""}
    answer = admin_client.post(url, form)
    assert answer.status_code == 302, answer.content[:2000]
    tech.refresh_from_db()
    assert (tech.burdened_hourly_cost, tech.cost_set_locally) == (Decimal("99.5"), True)

    second = import_dump(world_dir, progress=False)
    tech.refresh_from_db()
    assert tech.burdened_hourly_cost == Decimal("99.5")
    assert second.report.costs.kept_local == 1 and second.report.costs.costed == 0
    # Unticked, the cost is QuickBooks' again on the next load.
    admin_client.post(url, dict(form, burdened_hourly_cost="99.5000"))  # unchanged cost, box left unticked
    assert Technician.objects.get(pk=tech.pk).cost_set_locally is False
    import_dump(world_dir, progress=False)
    assert Technician.objects.get(pk=tech.pk).burdened_hourly_cost == employee_rate


def test_an_employee_nobody_matches_is_kept_and_names_and_bad_rates_are_handled(world_dir, tmp_path):
    folder = copy_world(world_dir, tmp_path)
    employees = employees_of(folder)
    first, second, third = employees[0], employees[1], employees[2]
    # Payroll knows the first by a personal email and "Family, Given": matched by name.
    first = dict(first, PrimaryEmailAddr={"Address": "someone@home.example"},
                 DisplayName=f"{first['FamilyName']}, {first['GivenName']}")
    # The second's rate is not a number: set aside, named, the others load.
    second = dict(second, CostRate="about fifty")
    office = {"Id": "9901", "DisplayName": "Olive Office-Manager", "GivenName": "Olive", "FamilyName": "Office-Manager",
              "PrimaryEmailAddr": {"Address": "olive@msp.example"}, "Active": True, "CostRate": 31.5,
              "MetaData": {"CreateTime": "2024-08-01T09:00:00-07:00", "LastUpdatedTime": "2024-08-01T09:30:00-07:00"}}
    write_employees(folder, [first, second, third, *employees[3:], office])

    run = import_dump(folder, progress=False)
    assert run.status == "partial", run.error
    reject = RejectedRecord.objects.get(source="quickbooks", entity="Employee")
    assert reject.external_id == second["Id"] and "CostRate 'about fifty'" in reject.reason
    olive = Employee.objects.get(external_id="9901")
    assert (olive.technician, olive.cost_rate) == (None, Decimal("31.5"))
    assert run.report.costs.unmatched == 1
    matched = Employee.objects.get(external_id=first["Id"])
    assert matched.technician.email == employees[0]["PrimaryEmailAddr"]["Address"]
    assert matched.technician.burdened_hourly_cost == Decimal(str(first["CostRate"]))
    assert Employee.objects.get(external_id=third["Id"]).technician.burdened_hourly_cost == Decimal(
        str(third["CostRate"]))
    # The technician whose employee was set aside has no cost but what its QuickBooks time says.
    aside = Technician.objects.get(email=employees[1]["PrimaryEmailAddr"]["Address"])
    timed = Worklog.objects.filter(source="quickbooks", technician=aside).order_by("-work_date", "-pk").first()
    assert aside.burdened_hourly_cost == (timed.cost_rate if timed else 0)


def test_time_entries_cost_a_technician_whose_employee_has_no_rate(world_dir, tmp_path):
    folder = copy_world(world_dir, tmp_path)
    employees = employees_of(folder)
    target = employees[0]
    write_employees(folder, [{k: v for k, v in e.items() if k != "CostRate"} if e is target else e
                             for e in employees])
    # Two time entries of that technician: the later one's CostRate is the cost.
    pages = sorted((folder / "quickbooks" / "TimeActivity").glob("page-*.json"))
    body = json.loads(pages[-1].read_text())
    customer = json.loads(sorted((folder / "quickbooks" / "Customer").glob("page-*.json"))[0].read_text())
    customer = customer["QueryResponse"]["Customer"][0]
    entries = body["QueryResponse"].setdefault("TimeActivity", [])
    for number, (day, rate) in enumerate((("2026-08-03", 50), ("2026-09-07", 57.25))):
        entries.append({
            "Id": f"880{number}", "TxnDate": day, "NameOf": "Employee",
            "EmployeeRef": {"value": target["Id"], "name": target["DisplayName"]},
            "CustomerRef": {"value": customer["Id"], "name": customer["DisplayName"]},
            "BillableStatus": "NotBillable", "HourlyRate": 0, "CostRate": rate, "Hours": 1, "Minutes": 30,
            "Description": "Site visit", "MetaData": {"CreateTime": f"{day}T10:00:00-07:00",
                                                      "LastUpdatedTime": f"{day}T10:00:00-07:00"}})
    pages[-1].write_text(json.dumps(body))

    run = import_dump(folder, progress=False)
    assert run.status in ("succeeded", "partial"), run.error
    tech = Technician.objects.get(email=target["PrimaryEmailAddr"]["Address"])
    assert Worklog.objects.get(source="quickbooks", external_id="8801").cost_rate == Decimal("57.25")
    assert tech.burdened_hourly_cost == Decimal("57.25")
    assert run.report.costs.from_time == 1
    other = employees[1]
    assert Technician.objects.get(email=other["PrimaryEmailAddr"]["Address"]).burdened_hourly_cost == Decimal(
        str(other["CostRate"]))


def test_matching_prefers_email_and_ignores_ambiguous_names():
    index = TechnicianIndex.of([(1, "dana.wu@msp.example", "Dana Wu"), (2, "eli@msp.example", "José Park"),
                                (3, "", "Sam Lee"), (4, "sam.lee@msp.example", "Sam Lee")])
    assert match_technician("DANA.WU@msp.example ", "Someone Else", index) == (1, "email")
    assert match_technician("eli.park@home.example", "Jose  park", index) == (2, "name")
    assert match_technician("", "Wu, Dana", index, "Dana", "Wu") == (1, "name")
    assert match_technician("", "Sam Lee", index) is None  # two technicians are "Sam Lee"
    assert match_technician("sam.lee@msp.example", "Sam Lee", index) == (4, "email")
    row = map_employee({"Id": "7", "GivenName": "Dana", "FamilyName": "Wu", "CostRate": 0, "Active": False})
    assert (row.fields["name"], row.fields["cost_rate"], row.fields["active"]) == ("Dana Wu", None, False)


@pytest.fixture
def sandbox(make_sandbox):
    return make_sandbox(page_size=50, qb_page_size=20)


def test_the_live_sync_costs_technicians_and_keeps_a_persons_cost(sandbox, world_dir):
    employees = employees_of(world_dir)
    # One technician has left: QuickBooks lists an inactive employee only when asked, and
    # the sync asks (the time they logged still costs what it cost).
    left = employees[-1]
    sandbox.world.edit_qb("Employee", left["Id"], Active=False)
    connect_quickbooks()
    today = dump_as_of(world_dir)
    for source in ("superops", "quickbooks"):
        assert sync_source(source, today=today).status == "succeeded"
    assert Employee.objects.get(external_id=left["Id"]).active is False
    got = costs()
    for e in employees:
        assert got[e["PrimaryEmailAddr"]["Address"]] == Decimal(str(e["CostRate"])), e["DisplayName"]

    # A person sets one technician's cost; then QuickBooks raises everyone's rate.
    mine, theirs = (Technician.objects.get(email=e["PrimaryEmailAddr"]["Address"]) for e in employees[:2])
    Technician.objects.filter(pk=mine.pk).update(burdened_hourly_cost=Decimal("88"), cost_set_locally=True)
    for e in employees[:2]:
        sandbox.world.edit_qb("Employee", e["Id"], CostRate=float(Decimal(str(e["CostRate"])) + 5))
    run = sync_source("quickbooks", today=today)
    assert run.status == "succeeded", run.error
    assert Technician.objects.get(pk=mine.pk).burdened_hourly_cost == Decimal("88")
    assert Technician.objects.get(pk=theirs.pk).burdened_hourly_cost == Decimal(str(employees[1]["CostRate"])) + 5
    # A SuperOps run afterwards changes neither.
    assert sync_source("superops", today=today).status == "succeeded"
    assert Technician.objects.get(pk=mine.pk).burdened_hourly_cost == Decimal("88")
    assert Technician.objects.get(pk=theirs.pk).burdened_hourly_cost == Decimal(str(employees[1]["CostRate"])) + 5


@pytest.mark.django_db(transaction=True)
def test_an_employee_webhook_gives_the_technician_its_new_cost(sandbox, world_dir, live_server, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)  # the webhook's task runs as it is queued
    connect_quickbooks()
    for source in ("superops", "quickbooks"):
        assert sync_source(source, today=dump_as_of(world_dir)).status == "succeeded"
    employee = employees_of(world_dir)[0]
    event = sandbox.world.edit_qb("Employee", employee["Id"], CostRate=77.5)
    answer = sandbox.post_webhook(f"{live_server.url}/integrations/quickbooks/webhook", [event], "sandbox-verifier")
    assert answer.status_code == 200
    tech = Technician.objects.get(email=employee["PrimaryEmailAddr"]["Address"])
    assert tech.burdened_hourly_cost == Decimal("77.5")
    assert Employee.objects.get(external_id=employee["Id"]).cost_rate == Decimal("77.5")


def test_feature_build_prices_labour_with_the_loaded_costs(world_dir):
    from ml.features.build import build_features
    from ml.models import ClientMonthKPI

    import_dump(world_dir, progress=False)
    build_features(trigger="test", with_genome=False)
    rows = list(ClientMonthKPI.objects.filter(labour_minutes__gt=0))
    assert rows and all(row.labour_cost > 0 for row in rows)
    # Each minute is priced at its technician's cost (time nobody is named on, at the
    # technicians' median), as loaded from QuickBooks.
    cost = dict(Technician.objects.filter(burdened_hourly_cost__gt=0).values_list("pk", "burdened_hourly_cost"))
    median = statistics.median(cost.values())
    for row in rows:
        logs = Worklog.objects.labour().filter(client=row.client, work_date__year=row.month.year,
                                               work_date__month=row.month.month)
        expected = sum(w.minutes * cost.get(w.technician_id, median) / 60 for w in logs)
        assert abs(row.labour_cost - expected) <= Decimal("0.01") * len(logs), (row.client, row.month)


def test_a_cost_in_a_technician_payload_never_overwrites_a_persons_cost(world_dir, tmp_path):
    """An older export whose technicians carry the cost in a custom field (SuperOps' schema has
    none): the payload's cost loads for a technician no one costed, never over a person's."""
    folder = copy_world(world_dir, tmp_path)
    pages = sorted((folder / "superops" / "getTechnicianList").glob("page-*.json"))
    for page in pages:
        body = json.loads(page.read_text())
        for tech in body["data"]["getTechnicianList"]["userList"]:
            tech["customFields"] = {"burdenedHourlyCost": "77.00"}
        page.write_text(json.dumps(body))
    import_dump(folder, progress=False)
    person, other = Technician.objects.order_by("external_id")[:2]
    Technician.objects.filter(pk=person.pk).update(burdened_hourly_cost=Decimal("99.5"), cost_set_locally=True)
    Technician.objects.filter(pk=other.pk).update(burdened_hourly_cost=Decimal("12"))
    import_dump(folder, progress=False)
    person.refresh_from_db()
    assert (person.burdened_hourly_cost, person.cost_set_locally) == (Decimal("99.5"), True)
    other.refresh_from_db()
    assert other.burdened_hourly_cost != Decimal("12")  # loaded again: the payload's, then the books'
