"""The Models page: versions per kind with status, window and metrics (active beside the
newest other version), training runs with live progress from a JSON endpoint, and the admin's
Retrain / Promote / Roll back buttons, which run ml.registry.actions as the admin site does.
Versions are rows written here (the registry's status moves need no artifact)."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections

from ml import registry
from ml.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db


def month_back(n: int) -> date:
    index = date.today().year * 12 + date.today().month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


HELD_OUT = [month_back(n).strftime("%Y-%m") for n in (3, 2, 1)]


def make_version(number: int, metrics: dict, kind: str = "churn") -> ModelVersion:
    return ModelVersion.objects.create(
        kind=kind, version=number, artifact_path=f"{kind}/v{number}", format="joblib", artifact_class="x",
        sha256="0" * 64, window_first=month_back(24), window_last=month_back(1), held_out_months=HELD_OUT,
        data_hash=f"{kind}{number}", metrics=metrics, trigger="command")


@pytest.fixture
def versions():
    """churn v1 active, v2 a candidate that did not beat it."""
    v1 = make_version(1, {"roc_auc": 0.72, "pr_auc": 0.241, "baseline_pr_auc": 0.2})
    registry.promote(v1)
    v2 = make_version(2, {"pr_auc": 0.238, "baseline_pr_auc": 0.241, "roc_auc": 0.767})
    return v1, v2


def test_models_page_shows_versions_side_by_side_and_runs(login, versions):
    v1, v2 = versions
    TrainingRun.objects.create(kind="churn", trigger="command", status="running", progress=40, message="fitting")
    page = login("viewer").get("/models/").content.decode()
    churn = page[page.index('id="kind-churn"'):]
    assert "v1 active" in churn
    assert "<th>active v1</th><th>v2 (candidate)</th>" in churn
    assert '<tr><td>pr_auc</td><td class="num">0.241</td><td class="num">0.238</td></tr>' in churn
    assert '<tr><td>roc_auc</td><td class="num">0.72</td><td class="num">0.767</td></tr>' in churn
    assert f"{HELD_OUT[0]}..{HELD_OUT[-1]} (3)" in churn
    assert f"{month_back(24):%b %Y} – {month_back(1):%b %Y}" in churn  # training window
    assert ">Candidate</span>" in churn and ">Active</span>" in churn
    assert "pr_auc 0.241 (0.2) · roc_auc 0.72" in churn  # the metric set against a baseline leads
    assert '<progress max="100" value="40"></progress> <span class="run-percent">40%</span>' in page
    assert "fitting" in page
    # profitability has a train function and no version: the page says how to get one.
    assert "No profitability model trained yet" in page and "manage.py train --kind profitability" in page
    assert 'name="action"' not in page  # a viewer is offered no button


@pytest.mark.parametrize("role", ["viewer", "manager"])
def test_non_admins_see_no_buttons_and_their_posts_change_nothing(login, versions, role):
    v1, v2 = versions
    client = login(role)
    assert 'value="retrain"' not in client.get("/models/").content.decode()
    for data in ({"action": "retrain", "kind": "churn"}, {"action": "promote", "version": v2.pk},
                 {"action": "roll_back", "kind": "churn"}):
        assert client.post("/models/action/", data).status_code == 403
    assert registry.active("churn") == v1 and not TrainingRun.objects.exists()


def test_admin_retrains_a_kind_and_the_run_is_queued(login, people, versions, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    import django_q.tasks

    queued = []
    monkeypatch.setattr(django_q.tasks, "async_task", lambda func, *args, **kw: queued.append((func, args)))
    client = login("admin")
    page = client.get("/models/").content.decode()
    assert '<button type="submit" name="action" value="retrain">Retrain churn</button>' in page
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/models/action/", {"action": "retrain", "kind": "churn"}, follow=True)
    run = TrainingRun.objects.get()
    assert (run.kind, run.status, run.trigger, run.requested_by) == ("churn", "queued", "admin", people["admin"])
    assert queued == [("ml.registry.training.training_task", (run.pk,))]  # handed to the worker's queue
    text = answer.content.decode()
    assert "Queued training of churn" in text
    assert f'data-progress-url="/models/runs/{run.pk}/progress/"' in text
    refused = client.post("/models/action/", {"action": "retrain", "kind": "pricing"}, follow=True)
    assert "pricing: no train function is registered for this kind." in refused.content.decode()
    assert TrainingRun.objects.count() == 1


def test_admin_promotes_and_rolls_back(login, versions):
    v1, v2 = versions
    client = login("admin")
    page = client.get("/models/").content.decode()
    assert f'<input type="hidden" name="version" value="{v2.pk}"><button type="submit" name="action" ' \
           f'value="promote"' in page
    promoted = client.post("/models/action/", {"action": "promote", "version": v2.pk}, follow=True).content.decode()
    assert "churn v2 is now active; v1 retired." in promoted and "v2 active" in promoted
    assert registry.active("churn") == v2
    back = client.post("/models/action/", {"action": "roll_back", "kind": "churn"}, follow=True).content.decode()
    assert "churn rolled back to v1 (v2 retired)." in back and "v1 active" in back
    assert registry.active("churn") == v1
    again = client.post("/models/action/", {"action": "roll_back", "kind": "churn"}, follow=True).content.decode()
    assert "churn: no earlier active version to roll back to." in again
    assert registry.active("churn") == v1


def test_progress_endpoint_follows_a_run(client, login, django_user_model, versions):
    run = TrainingRun.objects.create(kind="churn", trigger="admin", status="running", progress=15, message="frame")
    url = f"/models/runs/{run.pk}/progress/"
    assert client.get(url).status_code == 401
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get(url).status_code == 403
    client = login("viewer")
    first = json.loads(client.get(url).content)
    assert first == {"id": run.pk, "kind": "churn", "status": "running", "status_label": "Running", "progress": 15,
                     "message": "frame", "finished": False, "version": None}
    run.status, run.progress, run.message, run.version = "succeeded", 100, "Registered churn v2.", versions[1]
    run.save()
    done = json.loads(client.get(url).content)
    assert (done["progress"], done["finished"], done["version"], done["status_label"]) == (100, True, 2, "Succeeded")
    assert client.get("/models/runs/999999/progress/").status_code == 404
    # Only runs still going are polled by the page.
    assert "data-progress-url" not in client.get("/models/").content.decode()


def test_models_page_needs_a_role_and_a_sign_in(client, django_user_model):
    assert client.get("/models/")["Location"].startswith("/accounts/login/")
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get("/models/").status_code == 403
    assert client.post("/models/action/", {"action": "retrain", "kind": "churn"}).status_code == 403
    assert not TrainingRun.objects.exists()


def test_no_model_yet_offers_retrain_to_the_admin(login):
    page = login("admin").get("/models/").content.decode()
    assert "No churn model trained yet" in page and 'value="retrain">Retrain churn</button>' in page
    assert "No training run yet" in page and "manage.py train --kind all" in page


# --- the progress bar in a real browser ----------------------------------------------------------
def _chromium_missing() -> str | None:
    from .browser import CHROMIUM, _playwright_missing

    if not CHROMIUM.exists():
        return "/usr/bin/chromium is missing: apt-get install -y chromium (.ci/run does it before the tests)"
    if _playwright_missing():
        return "the playwright package is not installed (requirements.txt)"
    return None


@pytest.mark.skipif(_chromium_missing() is not None, reason=str(_chromium_missing()))
@pytest.mark.django_db(transaction=True)
def test_the_progress_bar_moves_without_a_reload(live_server, django_user_model, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    from .browser import launch, sign_in

    # Playwright's sync API runs an event loop in this thread; the test's own ORM writes (the
    # worker's part, played here) are plain blocking calls, which Django then refuses unless told.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    django_user_model.objects.create_user("val-viewer", password="pw-models-123")
    call_command("grant", "val-viewer", "viewer", stdout=StringIO())
    run = TrainingRun.objects.create(kind="churn", trigger="admin", status="running", progress=10, message="frame")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            sign_in(page, live_server.url, "val-viewer", "pw-models-123")
            page.goto(f"{live_server.url}/models/")
            row = page.locator(f"tr[data-run='{run.pk}']")
            expect(row.locator(".run-percent")).to_have_text("10%")
            page.evaluate("window.__same_page = true")  # gone if the page reloads
            TrainingRun.objects.filter(pk=run.pk).update(progress=70, message="fitting the ensemble")
            expect(row.locator(".run-percent")).to_have_text("70%", timeout=10_000)
            expect(row.locator(".run-message")).to_have_text("fitting the ensemble")
            assert row.locator("progress").evaluate("bar => bar.value") == 70
            TrainingRun.objects.filter(pk=run.pk).update(status="succeeded", progress=100, message="done")
            expect(row.locator(".run-status")).to_have_text("Succeeded", timeout=10_000)
            expect(page.locator("#runs-finished")).to_be_visible()
            assert page.evaluate("window.__same_page") is True and not errors, errors
        finally:
            browser.close()
            # Inside Playwright's block the ORM ran in a context of its own, so Django opened a
            # second connection for it that nothing closes: left open, PostgreSQL refuses to
            # drop the test database at the end of the run ("being accessed by other users").
            connections.close_all()
