"""What people do with leak findings, and the commands around detection, on a small simulated
MSP (8 clients x 9 months, leak rate 0.3, loaded once for the module inside a transaction
rolled back at the end; each test's own changes roll back with it).

The recovery workflow (open -> confirmed -> recovered, or dismissed with a reason), its audit
trail, detection run again over judged findings, identified vs recovered per month, the
detect_leaks and export_leaks commands against the database, a failing rule, the admin's
actions and the background task.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from clients.models import Customer, Expense
from insights.leaks import base, detect_leaks, workflow
from insights.leaks.reports import identified_vs_recovered
from insights.leaks.tasks import detect_leaks_task
from insights.models import LeakDetectionRun, LeakFinding, LeakFindingEvent
from integrations.dump import import_dump

RULE_TYPES = ("unbilled_worklog", "seat_underbilling", "expired_contract_work", "rate_below_contract",
              "missed_escalator", "missing_recurring_invoice", "unbilled_expense", "license_underbilling",
              "after_hours_underbilling", "out_of_scope_covered")
Status = LeakFinding.Status


@pytest.fixture(scope="module")
def small_world(make_world, django_db_setup, django_db_blocker):
    folder = make_world(clients=8, months=9, seed=21, leak_rate=0.3)
    with django_db_blocker.unblock(), transaction.atomic():
        import_dump(folder, progress=False)
        yield folder
        transaction.set_rollback(True)


@pytest.fixture
def findings(small_world, db):
    detect_leaks(rules=list(RULE_TYPES), trigger="test")
    found = list(LeakFinding.objects.order_by("pk"))
    assert len(found) >= 10
    return found


# --- the workflow --------------------------------------------------------------------------------
def test_confirm_then_recover_records_the_amount_and_who_did_it(findings, admin_user, manager):
    f = findings[0]
    workflow.confirm(f, manager, "client agreed on the call")
    workflow.recover(f.pk, admin_user, "1234.50", "on INV-9001")
    f.refresh_from_db()
    assert (f.status, f.recovered_amount) == (Status.RECOVERED, Decimal("1234.50"))
    events = list(f.events.all())
    assert [(e.from_status, e.to_status, e.username) for e in events] == [
        ("", "open", ""), ("open", "confirmed", "mike-manager"), ("confirmed", "recovered", "alice-admin")]
    assert events[1].user == manager and events[1].note == "client agreed on the call"
    assert events[2].amount == Decimal("1234.50") and events[2].at >= events[1].at
    assert f.status_changed_at == events[2].at


def test_dismiss_needs_a_reason_and_is_final(findings, manager):
    f = findings[1]
    with pytest.raises(workflow.IllegalTransition, match="needs a reason"):
        workflow.dismiss(f, manager, "  ")
    workflow.dismiss(f, manager, "documented 10% discount")
    f.refresh_from_db()
    assert (f.status, f.dismiss_reason) == (Status.DISMISSED, "documented 10% discount")
    with pytest.raises(workflow.IllegalTransition, match=r"is dismissed: it cannot become confirmed; .*final"):
        workflow.confirm(f, manager)


def test_illegal_transitions_are_refused_and_leave_no_trace(findings, manager):
    f = findings[2]
    with pytest.raises(workflow.IllegalTransition, match=r"is open: it cannot become recovered; it can become "
                                                          r"confirmed or dismissed"):
        workflow.recover(f, manager, 100)
    workflow.confirm(f, manager)
    with pytest.raises(workflow.IllegalTransition, match="is confirmed: it cannot become confirmed"):
        workflow.confirm(f, manager)
    with pytest.raises(workflow.IllegalTransition, match="not a number"):
        workflow.recover(f, manager, "lots")
    with pytest.raises(workflow.IllegalTransition, match="negative"):
        workflow.recover(f, manager, -5)
    f.refresh_from_db()
    assert f.status == Status.CONFIRMED and f.recovered_amount is None
    assert list(f.events.values_list("to_status", flat=True)) == ["open", "confirmed"]


def test_detection_again_adds_no_duplicates_and_keeps_every_verdict(findings, manager):
    confirmed, recovered, dismissed = findings[0], findings[1], findings[2]
    workflow.confirm(confirmed, manager)
    workflow.confirm(recovered, manager)
    workflow.recover(recovered, manager, Decimal("10.00"))
    workflow.dismiss(dismissed, manager, "goodwill, agreed by the owner")
    events = LeakFindingEvent.objects.count()
    before = {f.pk: (f.finding_type, f.client_id, f.period) for f in LeakFinding.objects.all()}

    detect_leaks(rules=list(RULE_TYPES), trigger="test")

    after = {f.pk: (f.finding_type, f.client_id, f.period) for f in LeakFinding.objects.all()}
    assert after == before  # same findings, same keys: nothing added or duplicated
    assert LeakFindingEvent.objects.count() == events  # nothing reopened or re-created
    statuses = dict(LeakFinding.objects.values_list("pk", "status"))
    assert statuses[confirmed.pk] == Status.CONFIRMED
    assert statuses[dismissed.pk] == Status.DISMISSED
    recovered.refresh_from_db()
    assert (recovered.status, recovered.recovered_amount) == (Status.RECOVERED, Decimal("10.00"))


def test_a_leak_billed_since_is_no_longer_detected_but_kept(findings):
    f = next(x for x in findings if x.finding_type == "unbilled_expense")
    Expense.objects.filter(external_id__in=f.evidence["expense_ids"]).update(
        billable_status=Expense.BillableStatus.BILLED)
    detect_leaks(rules=["unbilled_expense"], trigger="test")
    f.refresh_from_db()
    assert (f.still_detected, f.status) == (False, Status.OPEN)


def test_identified_vs_recovered_per_month(findings, manager):
    workflow.confirm(findings[0], manager)
    workflow.recover(findings[0], manager, Decimal("99.99"))
    workflow.dismiss(findings[3], manager, "not ours")
    months = identified_vs_recovered()
    expected = defaultdict(lambda: [0, Decimal(0), Decimal(0), Decimal(0)])
    for f in LeakFinding.objects.all():
        row = expected[f.period]
        row[0] += 1
        row[1] += f.estimated_amount if f.status != Status.DISMISSED else 0
        row[2] += f.recovered_amount or 0
        row[3] += f.estimated_amount if f.status == Status.DISMISSED else 0
    assert [(m.period, m.findings, m.identified, m.recovered, m.dismissed) for m in months] == [
        (p, *v) for p, v in sorted(expected.items())]
    assert sum(m.recovered for m in months) == Decimal("99.99")

    out = io.StringIO()
    call_command("export_leaks", "--monthly", stdout=out)
    rows = json.loads(out.getvalue())
    assert [(r["period"], r["identified"], r["recovered"]) for r in rows] == [
        (m.period.strftime("%Y-%m"), str(m.identified), str(m.recovered)) for m in months]


# --- commands ------------------------------------------------------------------------------------
def test_detect_leaks_command_prints_what_each_rule_wrote(small_world, db):
    out = io.StringIO()
    call_command("detect_leaks", stdout=out)
    lines = out.getvalue().splitlines()
    for name in RULE_TYPES:
        line = next(x for x in lines if x.startswith(name + " "))
        n = LeakFinding.objects.filter(finding_type=name).count()
        assert f"{n:>6} findings ({n} new, 0 updated, 0 no longer detected)" in line, line
    total = sum((f.estimated_amount for f in LeakFinding.objects.all()), Decimal(0))
    assert lines[-1].startswith("total") and f"${total:>14,.2f}" in lines[-1]
    run = LeakDetectionRun.objects.get()
    assert (run.status, run.trigger) == ("succeeded", "command") and set(RULE_TYPES) <= set(run.results)

    again = io.StringIO()
    call_command("detect_leaks", "--rule", "unbilled_worklog", stdout=again)
    assert "(0 new, 0 updated, 0 no longer detected)" in again.getvalue()
    with pytest.raises(CommandError, match="unknown leak rule"):
        call_command("detect_leaks", "--rule", "no_such_rule", stdout=io.StringIO())


def test_a_failing_rule_is_reported_by_name_and_the_others_still_write(small_world, db, monkeypatch):
    def broken(books):
        raise RuntimeError("seat table unreadable")

    monkeypatch.setitem(base.RULES, "seat_underbilling", base.Rule("seat_underbilling", "1", broken))
    report = detect_leaks(rules=list(RULE_TYPES), trigger="test")
    assert [(r.name, r.error) for r in report.failed] == [("seat_underbilling", "RuntimeError: seat table unreadable")]
    assert not LeakFinding.objects.filter(finding_type="seat_underbilling").exists()
    assert {"unbilled_worklog", "missing_recurring_invoice", "unbilled_expense"} <= set(
        LeakFinding.objects.values_list("finding_type", flat=True))
    assert LeakDetectionRun.objects.get(pk=report.run_id).status == "partial"

    err = io.StringIO()
    with pytest.raises(CommandError, match=r"1 of \d+ rules failed: seat_underbilling"):
        call_command("detect_leaks", stdout=io.StringIO(), stderr=err)
    assert "seat_underbilling" in err.getvalue() and "FAILED: RuntimeError: seat table unreadable" in err.getvalue()


def _expected_rows() -> list[tuple]:
    qbo = {c: e for c, e in Customer.objects.filter(parent_external_id="").values_list("client_id", "external_id")}
    return sorted((f.finding_type, f.client.external_id, qbo[f.client_id], f.period.strftime("%Y-%m"),
                   f"{f.estimated_amount:.2f}", f.status) for f in LeakFinding.objects.select_related("client"))


def test_export_leaks_json_and_csv_hold_the_database_rows(findings, manager, tmp_path):
    workflow.dismiss(findings[0], manager, "duplicate")
    out = io.StringIO()
    call_command("export_leaks", "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())
    assert sorted((r["type"], r["client_superops_id"], r["client_qbo_id"], r["period"], r["amount"], r["status"])
                  for r in rows) == _expected_rows()
    first = next(r for r in rows if r["id"] == findings[0].pk)
    assert (first["status"], first["dismiss_reason"]) == ("dismissed", "duplicate")
    assert first["evidence"] == findings[0].evidence and first["recommendation"] == findings[0].recommendation

    path = tmp_path / "leaks.csv"
    call_command("export_leaks", "--format", "csv", "--output", str(path), stderr=io.StringIO())
    with path.open(newline="") as f:
        table = list(csv.DictReader(f))
    assert sorted((r["type"], r["client_superops_id"], r["client_qbo_id"], r["period"], r["amount"], r["status"])
                  for r in table) == _expected_rows()
    assert {json.dumps(json.loads(r["evidence"]), sort_keys=True) for r in table} == {
        json.dumps(f.evidence, sort_keys=True) for f in LeakFinding.objects.all()}

    only = io.StringIO()
    call_command("export_leaks", "--status", "dismissed", stdout=only)
    assert [r["id"] for r in json.loads(only.getvalue())] == [findings[0].pk]


# --- the admin and the task -------------------------------------------------------------------------
def test_admin_actions_run_the_workflow(findings, admin_client):
    url = reverse("admin:insights_leakfinding_changelist")
    a, b = findings[0], findings[1]
    answer = admin_client.post(url, {"action": "confirm_findings", "_selected_action": [a.pk, b.pk],
                                     "reason": "checked", "amount": ""})
    assert answer.status_code == 302
    admin_client.post(url, {"action": "recover_findings", "_selected_action": [a.pk], "amount": "", "reason": ""})
    admin_client.post(url, {"action": "dismiss_findings", "_selected_action": [b.pk], "amount": "", "reason": ""})
    b.refresh_from_db()
    assert b.status == Status.CONFIRMED  # no reason: refused
    admin_client.post(url, {"action": "dismiss_findings", "_selected_action": [b.pk], "amount": "",
                            "reason": "client prepaid"})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.recovered_amount) == (Status.RECOVERED, a.estimated_amount)  # blank: the estimate
    assert (b.status, b.dismiss_reason) == (Status.DISMISSED, "client prepaid")
    assert set(b.events.values_list("username", flat=True)) == {"", "alice-admin"}
    page = admin_client.get(reverse("admin:insights_leakfinding_change", args=[a.pk]))
    assert page.status_code == 200 and a.recommendation.encode()[:40] in page.content
    assert b"alice-admin" in page.content


def test_the_task_runs_the_same_detection(small_world, db):
    results = detect_leaks_task()
    assert set(RULE_TYPES) <= set(results) and all(r["ok"] for n, r in results.items() if n in RULE_TYPES)
    run = LeakDetectionRun.objects.get()
    assert run.trigger == "task" and run.results == results
    assert LeakFinding.objects.count() == sum(r["findings"] for r in results.values())


# --- live alerts and the background run ----------------------------------------------------------
def test_new_findings_raise_one_leak_alert_per_rule_and_a_rerun_raises_none(findings):
    from insights.alerts.models import Alert

    alerts = list(Alert.objects.filter(kind="leak_finding"))
    by_rule = defaultdict(list)
    for f in findings:
        by_rule[f.finding_type].append(f)
    assert sorted(a.evidence["rule"] for a in alerts) == sorted(by_rule)
    for alert in alerts:
        mine = by_rule[alert.evidence["rule"]]
        assert sorted(alert.evidence["leak_findings"]) == sorted(f.pk for f in mine)
        total = sum((f.estimated_amount for f in mine), Decimal(0))
        assert f"{len(mine)} new" in alert.title and f"${total:,.2f}" in alert.title
    detect_leaks(rules=list(RULE_TYPES), trigger="test")  # nothing new: no new alert
    assert Alert.objects.filter(kind="leak_finding").count() == len(alerts)


def test_a_feature_build_that_changed_kpis_queues_leak_detection(small_world, db, monkeypatch):
    from insights.leaks import tasks
    from ml.features.build import build_features

    queued = []
    monkeypatch.setattr(tasks, "queue_detect_leaks", lambda trigger="task": queued.append(trigger))
    build_features(trigger="test")
    assert queued == ["task"]
    build_features(trigger="test")  # nothing changed since: nothing to look at again
    assert queued == ["task"]
