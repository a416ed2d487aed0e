"""Live predictions through the API on a small simulated MSP trained once for the module
(30 clients x 24 months, seed 31; profitability and churn trained through the registry, which
also stored each client's predictions): one client's live answer equals what batch scoring
stored for it with the same version and month; batches inline and as a job; rights; queries."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from insights.api import jobs
from insights.models import ApiJob
from integrations.dump import import_dump
from ml import registry
from ml.features.build import build_features
from ml.models import ModelVersion, Prediction
from tests.test_api_world import *  # noqa: F403  (the role fixtures)
from tests.test_api_world import error_of, person

KINDS = ("profitability", "churn")


@pytest.fixture(scope="module")
def trained(make_world, django_db_setup, django_db_blocker, tmp_path_factory):
    folder = make_world(clients=30, months=24, seed=31, churn_rate=0.4)
    with django_db_blocker.unblock(), override_settings(MODEL_DIR=tmp_path_factory.mktemp("models")), \
            transaction.atomic():
        import_dump(folder, progress=False)
        build_features(trigger="test")
        for kind in KINDS:
            run = registry.execute_run(registry.enqueue_training(kind, "command").pk)
            assert run.status == "succeeded", run.message
        yield
        transaction.set_rollback(True)
    import importlib

    profitability_predict = importlib.import_module("ml.estimators.profitability.predict")
    # Its in-memory caches are keyed on row ids, which the rollback frees for the next module.
    for cache in (profitability_predict._frames, profitability_predict._versions, profitability_predict._attributors):
        cache.clear()


def stored(kind: str) -> dict[int, Prediction]:
    """The champion's newest stored prediction per client (batch scoring, same version)."""
    version = ModelVersion.objects.get(kind=kind, status="active")
    rows = Prediction.objects.filter(model_version=version, role="champion")
    newest = max(rows.values_list("as_of", flat=True))
    return {p.client_id: p for p in rows.filter(as_of=newest)}


@pytest.mark.parametrize("kind", KINDS)
def test_one_clients_live_prediction_equals_what_scoring_stored(kind, trained, viewer_api):
    rows = stored(kind)
    assert len(rows) >= 5
    version = ModelVersion.objects.get(kind=kind, status="active").version
    for client_id, p in list(rows.items())[:3]:
        r = viewer_api.get(f"/api/v1/clients/{client_id}/predict/", {"kind": kind})
        assert r.status_code == 200, r.content
        body = r.json()
        assert (body["kind"], body["client_id"], body["model_version"]) == (kind, client_id, version)
        assert body["as_of"] == p.as_of.isoformat()
        assert body["value"] == pytest.approx(p.value, abs=0.01)
        assert body["text"]
        if kind == "profitability":
            assert body["lower"] == pytest.approx(p.lower, abs=0.01)
            assert body["upper"] == pytest.approx(p.upper, abs=0.01)
            assert body["lower"] < body["value"] < body["upper"]
        else:
            assert body["tier"] == p.explanation["tier"]


def test_post_works_too_and_the_default_kind_is_profitability(trained, viewer_api):
    client_id, p = next(iter(stored("profitability").items()))
    r = viewer_api.post(f"/api/v1/clients/{client_id}/predict/", {}, format="json")
    assert r.status_code == 200 and r.json()["kind"] == "profitability"
    r = viewer_api.post(f"/api/v1/clients/{client_id}/predict/", {"kind": "churn"}, format="json")
    assert r.status_code == 200 and r.json()["kind"] == "churn"


def test_unknown_client_is_404_and_a_client_without_a_row_is_409(trained, viewer_api):
    from clients.models import Client

    r = viewer_api.get("/api/v1/clients/999999/predict/")
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    scored = stored("profitability")
    gone = Client.objects.exclude(pk__in=scored).first()
    assert gone is not None
    r = viewer_api.get(f"/api/v1/clients/{gone.pk}/predict/")
    assert r.status_code == 409 and error_of(r)["code"] == "not_eligible"


def test_predict_rights(trained, anon_api, norole_api, manager_api, admin_api):
    client_id = next(iter(stored("profitability")))
    url = f"/api/v1/clients/{client_id}/predict/"
    assert anon_api.get(url).status_code == 401
    r = norole_api.get(url)
    assert r.status_code == 403 and error_of(r)["code"] == "permission_denied"
    assert manager_api.get(url).status_code == 200 and admin_api.get(url).status_code == 200


def test_predict_runs_a_handful_of_queries(trained, viewer_api, django_assert_max_num_queries):
    client_id = next(iter(stored("profitability")))
    url = f"/api/v1/clients/{client_id}/predict/"
    viewer_api.get(url)  # the frame and the model are loaded once, then kept
    # Permissions (user, groups), the active version, the serving month and the store's state.
    with django_assert_max_num_queries(5):
        assert viewer_api.get(url).status_code == 200


def test_batch_inline_reports_each_id(trained, viewer_api):
    from clients.models import Client

    rows = stored("churn")
    ids = list(rows)[:3]
    gone = Client.objects.exclude(pk__in=rows).values_list("pk", flat=True).first()
    r = viewer_api.post("/api/v1/predictions/batch/", {"kind": "churn", "client_ids": [*ids, gone, 999999]},
                        format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 5
    assert body["model_version"] == ModelVersion.objects.get(kind="churn", status="active").version
    results = body["results"]
    assert [x["client_id"] for x in results] == [*ids, gone, 999999]
    for x in results[:3]:
        assert x["value"] == pytest.approx(rows[x["client_id"]].value, abs=0.01)
    assert [x.get("error") for x in results[3:]] == ["not_eligible", "unknown_client"]


def test_batch_above_the_threshold_is_a_job_polled_until_done(trained, settings, viewer_api, django_user_model,
                                                              django_capture_on_commit_callbacks):
    settings.API_BATCH_INLINE_MAX = 2
    rows = stored("profitability")
    ids = [*list(rows)[:3], 999999]
    with django_capture_on_commit_callbacks() as queued:
        r = viewer_api.post("/api/v1/predictions/batch/", {"kind": "profitability", "client_ids": ids}, format="json")
    assert r.status_code == 202, r.content
    job_id = r.json()["id"]
    assert r.json()["status"] == "queued" and r["Location"].endswith(f"/api/v1/jobs/{job_id}/")
    assert len(queued) == 1  # the task is queued once the request's transaction commits
    assert viewer_api.get(f"/api/v1/jobs/{job_id}/").json()["status"] == "queued"

    assert jobs.batch_task(job_id) == "succeeded"  # what the django-q2 worker runs
    assert jobs.batch_task(job_id) == "skipped"  # delivered twice, runs once
    done = viewer_api.get(f"/api/v1/jobs/{job_id}/").json()
    assert done["status"] == "succeeded" and done["finished_at"]
    results = done["result"]["results"]
    assert [x["client_id"] for x in results] == ids
    for x in results[:3]:
        assert x["value"] == pytest.approx(rows[x["client_id"]].value, abs=0.01)
    assert results[3]["error"] == "unknown_client"
    # Someone else's job is not theirs to read.
    other = person(django_user_model, "vic-viewer", "viewer")
    assert other.get(f"/api/v1/jobs/{job_id}/").status_code == 404
    assert ApiJob.objects.get(pk=job_id).requested_by.username == "val-viewer"
