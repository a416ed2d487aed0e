"""What people do through the API: leak findings through the recovery workflow (a manager
acts, a viewer gets 403 and nothing changes, a refused move is 409), alerts acknowledged and
resolved, model versions promoted, rolled back and retrained by an admin only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from clients.models import Client
from insights.alerts.models import Alert
from insights.models import LeakFinding
from ml.models import ModelVersion, TrainingRun
from tests.test_api_world import *  # noqa: F403  (the role fixtures)
from tests.test_api_world import error_of, month_back, version

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC)
LEAKS = "/api/v1/leaks/"


def findings(n: int, client: Client | None = None) -> list[LeakFinding]:
    """n open findings; finding i: month i back, amount 100 (i + 1), unbilled worklogs when i is even."""
    client = client or Client.objects.create(source="superops", external_id="L", name="Leaky LLC")
    return [LeakFinding.objects.create(
        finding_type="unbilled_worklog" if i % 2 == 0 else "missed_escalator", client=client, period=month_back(i),
        estimated_amount=Decimal(100 * (i + 1)), detector="test", rule_version="1", last_detected_at=NOW)
        for i in range(n)]


def test_leak_list_filters_orders_and_pages(viewer_api):
    rows = findings(6)
    rows[1].status = "confirmed"
    rows[1].save()
    r = viewer_api.get(LEAKS)
    assert r.status_code == 200 and r.json()["count"] == 6
    assert [f["estimated_amount"] for f in r.json()["results"]] == [100.0, 200.0, 300.0, 400.0, 500.0, 600.0]
    r = viewer_api.get(LEAKS, {"ordering": "-estimated_amount", "limit": 2})
    assert [f["estimated_amount"] for f in r.json()["results"]] == [600.0, 500.0]
    assert viewer_api.get(LEAKS, {"status": "confirmed"}).json()["count"] == 1
    assert viewer_api.get(LEAKS, {"finding_type": "missed_escalator"}).json()["count"] == 3
    r = viewer_api.get(LEAKS, {"period_after": month_back(3).strftime("%Y-%m"),
                               "period_before": month_back(1).strftime("%Y-%m")})
    assert sorted(f["estimated_amount"] for f in r.json()["results"]) == [200.0, 300.0, 400.0]
    assert viewer_api.get(LEAKS, {"client": rows[0].client_id + 1}).json()["count"] == 0
    assert viewer_api.get(LEAKS, {"status": "lost"}).status_code == 400


def test_leak_list_queries_do_not_grow(viewer_api, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    findings(3)
    viewer_api.get(LEAKS)
    with CaptureQueriesContext(connection) as few:
        viewer_api.get(LEAKS)
    findings(6, Client.objects.create(source="superops", external_id="M", name="More"))
    with django_assert_max_num_queries(len(few)):
        assert viewer_api.get(LEAKS).json()["count"] == 9


def test_manager_confirms_then_recovers_and_the_trail_says_who(manager_api):
    f = findings(1)[0]
    r = manager_api.post(f"{LEAKS}{f.pk}/confirm/", {"note": "client agreed"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    r = manager_api.post(f"{LEAKS}{f.pk}/recover/", {"amount": "80.50", "note": "INV-1"}, format="json")
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["recovered_amount"]) == ("recovered", 80.5)
    assert [(e["from_status"], e["to_status"], e["username"]) for e in body["events"]] == [
        ("open", "confirmed", "max-manager"), ("confirmed", "recovered", "max-manager")]
    f.refresh_from_db()
    assert f.recovered_amount == Decimal("80.50")


def test_dismiss_needs_a_reason_and_a_final_finding_refuses_with_409(manager_api):
    f = findings(1)[0]
    r = manager_api.post(f"{LEAKS}{f.pk}/dismiss/", {}, format="json")
    assert r.status_code == 400 and "reason" in error_of(r)["fields"]
    r = manager_api.post(f"{LEAKS}{f.pk}/dismiss/", {"reason": "documented discount"}, format="json")
    assert r.status_code == 200 and r.json()["dismiss_reason"] == "documented discount"
    r = manager_api.post(f"{LEAKS}{f.pk}/confirm/", {}, format="json")
    err = error_of(r)
    assert r.status_code == 409 and err["code"] == "illegal_transition" and "final" in err["message"]
    r = manager_api.post(f"{LEAKS}{f.pk}/recover/", {"amount": "-3"}, format="json")
    assert r.status_code == 400 and "amount" in error_of(r)["fields"]


def test_viewer_cannot_act_on_leaks_and_nothing_changes(viewer_api, norole_api, anon_api):
    f = findings(1)[0]
    for api, status in ((viewer_api, 403), (norole_api, 403), (anon_api, 401)):
        r = api.post(f"{LEAKS}{f.pk}/confirm/", {}, format="json")
        assert r.status_code == status and error_of(r)
    f.refresh_from_db()
    assert f.status == "open" and not f.events.exists()
    detail = viewer_api.get(f"{LEAKS}{f.pk}/").json()
    assert detail["status"] == "open" and detail["events"] == [] and "evidence" in detail


def alert(title: str, minutes_ago: int = 0) -> Alert:
    at = NOW - timedelta(minutes=minutes_ago)
    return Alert.objects.create(kind="ticket_surge", severity="critical", title=title, message="m", dedup_key=title,
                                first_seen=at, last_seen=at)


def test_alerts_list_filter_and_a_manager_acknowledges_and_resolves(viewer_api, manager_api):
    a, b = alert("Surge A", 5), alert("Surge B", 1)
    r = viewer_api.get("/api/v1/alerts/")
    assert [x["title"] for x in r.json()["results"]] == ["Surge B", "Surge A"]
    r = viewer_api.post(f"/api/v1/alerts/{a.pk}/acknowledge/")
    assert r.status_code == 403
    a.refresh_from_db()
    assert a.status == "open"
    r = manager_api.post(f"/api/v1/alerts/{a.pk}/acknowledge/")
    assert r.status_code == 200 and r.json()["changed"] is True and r.json()["open_count"] == 1
    assert r.json()["alert"]["acknowledged_by"] == "max-manager"
    assert manager_api.post(f"/api/v1/alerts/{a.pk}/acknowledge/").json()["changed"] is False
    assert [x["title"] for x in viewer_api.get("/api/v1/alerts/", {"status": "open"}).json()["results"]] == ["Surge B"]
    r = manager_api.post(f"/api/v1/alerts/{b.pk}/resolve/")
    assert r.json()["alert"]["status"] == "resolved" and r.json()["open_count"] == 0


def test_alert_list_queries_do_not_grow(viewer_api, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(2):
        alert(f"A{i}")
    viewer_api.get("/api/v1/alerts/")
    with CaptureQueriesContext(connection) as few:
        viewer_api.get("/api/v1/alerts/")
    client = Client.objects.create(source="superops", external_id="Q", name="Quiet")
    for i in range(4):
        Alert.objects.filter(pk=alert(f"B{i}").pk).update(client=client)
    with django_assert_max_num_queries(len(few)):
        assert viewer_api.get("/api/v1/alerts/").json()["count"] == 6


def test_model_versions_are_read_by_a_viewer_and_changed_by_an_admin_only(viewer_api, manager_api, admin_api):
    v1 = version("churn", 1, ModelVersion.Status.RETIRED, activated_at=NOW - timedelta(days=9))
    v2 = version("churn", 2, activated_at=NOW - timedelta(days=1))
    v3 = version("churn", 3, ModelVersion.Status.CANDIDATE)
    r = viewer_api.get("/api/v1/model-versions/", {"kind": "churn"})
    assert [(v["version"], v["status"]) for v in r.json()["results"]] == [(3, "candidate"), (2, "active"),
                                                                           (1, "retired")]
    assert viewer_api.get(f"/api/v1/model-versions/{v2.pk}/").json()["metrics"] == {"mae": 102.0}
    for api in (viewer_api, manager_api):
        assert api.post(f"/api/v1/model-versions/{v3.pk}/promote/").status_code == 403
        assert api.post("/api/v1/model-versions/retrain/", {"kind": "churn"}, format="json").status_code == 403
    assert ModelVersion.objects.get(status="active") == v2 and not TrainingRun.objects.exists()

    r = admin_api.post(f"/api/v1/model-versions/{v3.pk}/promote/")
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert dict(ModelVersion.objects.values_list("version", "status")) == {1: "retired", 2: "retired", 3: "active"}
    r = admin_api.post(f"/api/v1/model-versions/{v3.pk}/roll-back/")
    assert r.status_code == 200 and r.json()["version"] == 2
    r = admin_api.post(f"/api/v1/model-versions/{v3.pk}/roll-back/")
    assert r.status_code == 200 and r.json()["version"] == 1
    r = admin_api.post(f"/api/v1/model-versions/{v1.pk}/roll-back/")
    assert r.status_code == 409 and error_of(r)["code"] == "nothing_to_roll_back"


def test_retrain_queues_a_training_run_and_answers_202(admin_api, viewer_api):
    r = admin_api.post("/api/v1/model-versions/retrain/", {"kind": "churn"}, format="json")
    assert r.status_code == 202
    run = TrainingRun.objects.get()
    assert (run.kind, run.trigger, run.status, run.requested_by.username) == ("churn", "api", "queued", "ada-admin")
    assert r.json()["id"] == run.pk and r["Location"].endswith(f"/api/v1/training-runs/{run.pk}/")
    assert viewer_api.get(f"/api/v1/training-runs/{run.pk}/").json()["status"] == "queued"
    r = admin_api.post("/api/v1/model-versions/retrain/", {"kind": "horoscope"}, format="json")
    assert r.status_code == 400 and "horoscope" in error_of(r)["fields"]["kind"][0]
