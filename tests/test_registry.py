"""The model registry: artifacts written atomically and loaded back only after their sha256
checks, versions promoted, rolled back and compared on the same held-out months, unchanged
data not trained again, `models --json`, and the admin's actions. Real tiny models throughout
(LightGBM and XGBoost boosters, an XGBoost regressor, a scikit-learn logistic regression)."""

from __future__ import annotations

import io
import json
import pickle
import threading
from datetime import date
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss

from ml import registry
from ml.models import ModelVersion, TrainingRun
from ml.registry import ArtifactMissing, ArtifactTampered, Trained, Window

pytestmark = pytest.mark.django_db

HELD_OUT = ("2025-10", "2025-11", "2025-12")
RNG = np.random.default_rng(7)
X = RNG.normal(size=(60, 3))
Y = (X[:, 0] + 0.5 * X[:, 1] + RNG.normal(scale=0.5, size=60) > 0).astype(int)


@pytest.fixture(autouse=True)
def model_dir(settings, tmp_path) -> Path:
    settings.MODEL_DIR = tmp_path / "models"
    return settings.MODEL_DIR


@pytest.fixture
def no_trainers():
    """TRAINERS (and SCORERS) as they are before any kind registers one; restored afterwards,
    so the project's own kinds neither train nor score the test's toy models."""
    registry.discover()  # the project's kinds register now, not inside the test
    saved, saved_scorers = dict(registry.TRAINERS), dict(registry.SCORERS)
    registry.TRAINERS.clear()
    registry.SCORERS.clear()
    yield registry.TRAINERS
    registry.TRAINERS.clear()
    registry.TRAINERS.update(saved)
    registry.SCORERS.clear()
    registry.SCORERS.update(saved_scorers)


def _lightgbm():
    params = {"objective": "binary", "num_leaves": 4, "min_data_in_leaf": 3, "verbose": -1, "seed": 1}
    return lgb.train(params, lgb.Dataset(X, Y), num_boost_round=8), "lightgbm-text", lambda m: m.predict(X)


def _xgboost():
    booster = xgb.train({"max_depth": 2, "objective": "binary:logistic", "seed": 1}, xgb.DMatrix(X, Y), 8)
    return booster, "xgboost-json", lambda m: m.predict(xgb.DMatrix(X))


def _xgb_regressor():
    model = xgb.XGBRegressor(n_estimators=8, max_depth=2, random_state=1).fit(X, X[:, 0] * 3)
    return model, "xgboost-json", lambda m: m.predict(X)


def _xgboost_set():
    # A model and the model of its error's spread, serving together (the profitability kind).
    models = {"model": _xgb_regressor()[0], "spread": _xgboost()[0]}
    return models, "xgboost-json-set", lambda m: np.concatenate(
        [m["model"].predict(X), m["spread"].predict(xgb.DMatrix(X))])


def _logistic():
    return LogisticRegression().fit(X, Y), "joblib", lambda m: m.predict_proba(X)


def _register(artifact=None, fmt="joblib", kind="churn", metrics=None, held_out=HELD_OUT, data_hash="data-1"):
    if artifact is None:
        artifact = LogisticRegression().fit(X, Y)
    return registry.register(
        kind, artifact, fmt, {"C": 1.0}, Window(date(2024, 1, 1), date(2025, 12, 1), held_out), data_hash,
        metrics if metrics is not None else {"roc_auc": 0.8, "baseline_roc_auc": 0.5}, "command",
    )


@pytest.mark.parametrize("make", [_lightgbm, _xgboost, _xgb_regressor, _xgboost_set, _logistic],
                         ids=["lightgbm-booster", "xgboost-booster", "xgboost-regressor", "xgboost-set",
                              "sklearn-logistic"])
def test_a_registered_model_loads_back_with_identical_predictions(make, model_dir):
    model, fmt, predict = make()
    version = _register(model, fmt)
    path = model_dir / version.artifact_path
    assert version.version == 1 and version.status == "candidate" and version.format == fmt
    assert path.is_file() and path.parent == model_dir / "churn"
    assert version.size_bytes == path.stat().st_size and len(version.sha256) == 64
    assert version.library_versions["python"] and version.held_out_months == list(HELD_OUT)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    loaded = registry.load(version)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(predict(loaded), predict(model))
    if fmt == "xgboost-json":
        assert json.loads(path.read_text())["learner"]  # native JSON, not a pickle
    if fmt == "xgboost-json-set":
        saved = json.loads(path.read_text())
        assert set(saved) == {"model", "spread"} and all(part["model"]["learner"] for part in saved.values())
        assert {type(m) for m in loaded.values()} == {xgb.XGBRegressor, xgb.Booster}


def test_a_tampered_artifact_is_refused_with_a_message_naming_the_file(model_dir):
    model, fmt, _ = _lightgbm()
    version = _register(model, fmt)
    path = model_dir / version.artifact_path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte changed
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactTampered) as refused:
        registry.load(version)
    assert str(path.resolve()) in str(refused.value)
    assert "sha256" in str(refused.value) and "refusing to load" in str(refused.value)


class _Touch:
    """A pickle that creates a file when unpickled: proof of whether it was."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def test_a_changed_pickle_is_refused_before_it_is_unpickled(model_dir, tmp_path):
    version = _register()
    marker = tmp_path / "unpickled"
    buffer = io.BytesIO()
    pickle.dump(_Touch(marker), buffer)
    (model_dir / version.artifact_path).write_bytes(buffer.getvalue())
    with pytest.raises(ArtifactTampered, match=version.artifact_path.split("/")[-1]):
        registry.load(version.pk)
    assert not marker.exists()


def test_a_missing_artifact_is_refused_with_a_message_naming_the_file(model_dir):
    version = _register()
    path = model_dir / version.artifact_path
    path.unlink()
    with pytest.raises(ArtifactMissing) as refused:
        registry.load(version)
    assert str(path.resolve()) in str(refused.value) and "missing" in str(refused.value)


def test_an_artifact_path_outside_the_model_dir_is_refused(tmp_path):
    version = _register()
    ModelVersion.objects.filter(pk=version.pk).update(artifact_path="../elsewhere.joblib")
    with pytest.raises(registry.ArtifactError, match="outside MODEL_DIR"):
        registry.load(version.pk)


def test_a_failed_write_leaves_no_partial_file_and_no_version(model_dir):
    unpicklable = {"weights": [1.0, 2.0], "lock": threading.Lock()}
    with pytest.raises(TypeError):
        _register(unpicklable, "joblib")
    assert [p for p in model_dir.rglob("*") if p.is_file()] == []
    assert ModelVersion.objects.count() == 0
    # The next registration is version 1 and the folder holds only its file.
    version = _register()
    assert version.version == 1
    assert [p.name for p in model_dir.rglob("*") if p.is_file()] == [Path(version.artifact_path).name]


def test_a_native_format_takes_only_its_own_models():
    with pytest.raises(TypeError, match="lightgbm.Booster"):
        _register(LogisticRegression().fit(X, Y), "lightgbm-text")
    with pytest.raises(ValueError, match="Unknown artifact format"):
        _register(LogisticRegression().fit(X, Y), "pickle")
    with pytest.raises(ValueError, match="Unknown trigger"):
        registry.register("churn", LogisticRegression().fit(X, Y), "joblib", {}, ("2024-01", "2025-12"), "h", {},
                          "cron")
    assert ModelVersion.objects.count() == 0


def test_an_unchanged_data_hash_is_reported_as_already_trained():
    assert registry.already_trained("churn", "data-1") is None
    first = _register(data_hash="data-1")
    assert registry.already_trained("churn", "data-1") == first
    assert registry.already_trained("churn", "data-2") is None
    assert registry.already_trained("profitability", "data-1") is None


def test_frame_hash_changes_with_any_value_and_only_then():
    frame = pd.DataFrame({"rhem": [0.8, 1.4], "margin": [2100.0, -300.0]}, index=[11, 12])
    assert registry.frame_hash(frame) == registry.frame_hash(frame.copy())
    edited = frame.copy()
    edited.loc[12, "rhem"] = 1.5
    assert registry.frame_hash(edited) != registry.frame_hash(frame)
    assert registry.frame_hash(frame, pd.Series([0, 1])) != registry.frame_hash(frame, pd.Series([1, 1]))


def test_promote_and_roll_back_change_the_active_version():
    v1, v2, v3 = (_register(data_hash=f"data-{n}") for n in (1, 2, 3))
    assert registry.active("churn") is None
    registry.promote(v1)
    assert registry.active("churn") == v1
    registry.promote(v2)
    registry.promote(v3)
    assert registry.active("churn") == v3
    assert dict(ModelVersion.objects.values_list("version", "status")) == {1: "retired", 2: "retired", 3: "active"}

    assert registry.roll_back("churn") == v2
    assert registry.active("churn") == v2
    assert registry.roll_back("churn") == v1  # past v3, which was rolled back
    assert registry.active("churn") == v1
    assert registry.roll_back("churn") is None  # nothing earlier: v1 stays
    assert registry.active("churn") == v1
    assert ModelVersion.objects.get(pk=v3.pk).rolled_back_at is not None

    registry.promote(v3)  # promoting again clears the roll back
    assert registry.active("churn") == v3 and registry.roll_back("churn") == v1


def test_promote_if_better_promotes_only_a_better_candidate_on_the_same_held_out_months():
    weak = _register(metrics={"roc_auc": 0.48, "baseline_roc_auc": 0.5}, data_hash="a")
    decision = registry.promote_if_better(weak, "roc_auc", higher_is_better=True)
    assert not decision and "does not beat its baseline" in decision.reason
    assert registry.active("churn") is None

    first = _register(metrics={"roc_auc": 0.80, "baseline_roc_auc": 0.5}, data_hash="b")
    assert registry.promote_if_better(first, "roc_auc", higher_is_better=True)
    assert registry.active("churn") == first

    worse = _register(metrics={"roc_auc": 0.78}, data_hash="c")
    tie = _register(metrics={"roc_auc": 0.80}, data_hash="d")
    other_months = _register(metrics={"roc_auc": 0.95}, held_out=("2025-11", "2025-12", "2026-01"), data_hash="e")
    for candidate in (worse, tie, other_months):
        assert not registry.promote_if_better(candidate, "roc_auc", higher_is_better=True)
    assert "not comparable" in registry.promote_if_better(other_months, "roc_auc", True).reason
    assert registry.active("churn") == first

    better = _register(metrics={"roc_auc": 0.83}, data_hash="f")
    decision = registry.promote_if_better(better, "roc_auc", higher_is_better=True)
    assert decision and "beats churn v2 (0.8) on the same months" in decision.reason
    assert registry.active("churn") == better

    # Lower is better for an error metric.
    mae_1 = _register(kind="profitability", metrics={"mae": 900.0, "baseline_mae": 1500.0}, data_hash="g")
    mae_2 = _register(kind="profitability", metrics={"mae": 950.0, "baseline_mae": 1500.0}, data_hash="h")
    mae_3 = _register(kind="profitability", metrics={"mae": 850.0, "baseline_mae": 1500.0}, data_hash="i")
    assert registry.promote_if_better(mae_1, "mae", higher_is_better=False)
    assert not registry.promote_if_better(mae_2, "mae", higher_is_better=False)
    assert registry.promote_if_better(mae_3, "mae", higher_is_better=False)
    assert registry.active("profitability") == mae_3 and registry.active("churn") == better


def test_at_most_one_active_version_per_kind_is_a_database_constraint():
    v1, v2 = _register(data_hash="1"), _register(data_hash="2")
    other_kind = _register(kind="profitability")
    ModelVersion.objects.filter(pk__in=[v1.pk, other_kind.pk]).update(status="active")
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=v2.pk).update(status="active")
    assert ModelVersion.objects.filter(status="active").count() == 2


def test_models_command_prints_versions_as_json():
    v1 = _register(metrics={"roc_auc": 0.8, "pr_auc": 0.6, "lr_roc_auc": 0.78}, data_hash="1")
    registry.promote(v1)
    _register(kind="profitability", metrics={"mae": 900.0, "baseline_mae": 1500.0})
    out = io.StringIO()
    call_command("models", "--json", stdout=out)
    rows = json.loads(out.getvalue())
    assert [(r["kind"], r["version"], r["status"]) for r in rows] == [
        ("churn", 1, "active"), ("profitability", 1, "candidate")
    ]
    assert rows[0]["metrics"] == {"roc_auc": 0.8, "pr_auc": 0.6, "lr_roc_auc": 0.78}
    assert rows[0]["sha256"] == v1.sha256 and rows[0]["created_at"].startswith(str(date.today().year))
    assert rows[0]["held_out_months"] == list(HELD_OUT)

    out = io.StringIO()
    call_command("models", "--kind", "profitability", "--json", stdout=out)
    assert [r["kind"] for r in json.loads(out.getvalue())] == ["profitability"]
    out = io.StringIO()
    call_command("models", "--kind", "churn", stdout=out)
    assert "churn" in out.getvalue() and "active" in out.getvalue() and "roc_auc=0.8" in out.getvalue()


# --- training runs and the admin ------------------------------------------------------------
def _logistic_trainer(frame: pd.DataFrame):
    """A real train function over a fixed frame: fits on the first months, measures on the last."""

    def train(ctx: registry.TrainingContext) -> Trained:
        ctx.check_data_hash(registry.frame_hash(frame))
        train_rows, test_rows = frame.iloc[:45], frame.iloc[45:]
        features = ["a", "b", "c"]
        model = LogisticRegression().fit(train_rows[features], train_rows["y"])
        ctx.progress(60, "fitted")
        proba = model.predict_proba(test_rows[features])[:, 1]
        base = np.full(len(test_rows), train_rows["y"].mean())
        return Trained(
            artifact=model, fmt="joblib", params={"C": 1.0},
            window=Window(date(2024, 1, 1), date(2025, 12, 1), HELD_OUT), data_hash=registry.frame_hash(frame),
            metrics={"brier": float(brier_score_loss(test_rows["y"], proba)),
                     "baseline_brier": float(brier_score_loss(test_rows["y"], base))},
            metric="brier", higher_is_better=False,
        )

    return train


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": Y})


def _action(client, action: str, *versions: ModelVersion):
    return client.post(
        reverse("admin:ml_modelversion_changelist"),
        {"action": action, "_selected_action": [v.pk for v in versions], "index": 0},
        follow=True,
    )


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_admin_lists_versions_and_promotes_and_rolls_back(client, admin_user):
    client.force_login(admin_user)
    v1 = _register(metrics={"mae": 900.0, "baseline_mae": 1500.0}, kind="profitability", data_hash="1")
    v2 = _register(metrics={"mae": 850.0, "baseline_mae": 1500.0}, kind="profitability", data_hash="2")
    page = client.get(reverse("admin:ml_modelversion_changelist"))
    assert page.status_code == 200 and b"mae 900 (1500)" in page.content and b"2025-10..2025-12" in page.content

    assert _messages(_action(client, "promote_version", v1, v2)) == ["Select exactly one version to promote."]
    assert registry.active("profitability") is None
    assert _messages(_action(client, "promote_version", v1)) == ["profitability v1 is now active."]
    assert _messages(_action(client, "promote_version", v2)) == ["profitability v2 is now active; v1 retired."]
    assert registry.active("profitability") == v2

    assert _messages(_action(client, "roll_back_kind", v2)) == ["profitability rolled back to v1 (v2 retired)."]
    assert registry.active("profitability") == v1
    assert _messages(_action(client, "roll_back_kind", v1)) == [
        "profitability: no earlier active version to roll back to."
    ]
    assert registry.active("profitability") == v1


def test_admin_change_page_shows_candidate_and_active_metrics_side_by_side(client, admin_user):
    client.force_login(admin_user)
    active = _register(metrics={"roc_auc": 0.81, "f1": 0.6}, data_hash="1")
    registry.promote(active)
    candidate = _register(metrics={"roc_auc": 0.86, "f1": 0.64}, data_hash="2")
    page = client.get(reverse("admin:ml_modelversion_change", args=[candidate.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<th>v2 (candidate)</th><th>active v1</th>" in html
    assert "<tr><td>roc_auc</td><td>0.86</td><td>0.81</td></tr>" in html
    assert "<tr><td>f1</td><td>0.64</td><td>0.6</td></tr>" in html
    assert "2025-10, 2025-11, 2025-12" in html


def test_retrain_now_says_no_kind_is_registered_yet(client, admin_user, no_trainers):
    client.force_login(admin_user)
    version = _register()
    response = _action(client, "retrain_now", version)
    assert _messages(response) == ["No model kind is registered for training yet (ml.registry.TRAINERS is empty)."]
    assert TrainingRun.objects.count() == 0


def test_retrain_now_queues_a_run_that_trains_a_new_version_and_skips_unchanged_data(
    client, admin_user, no_trainers, frame, django_capture_on_commit_callbacks, monkeypatch
):
    # The queue is django-q2's (the ORM or a Redis shared by parallel test workers): what is
    # handed to it is recorded at its edge, whichever broker the run uses.
    import django_q.tasks

    queued = []
    monkeypatch.setattr(django_q.tasks, "async_task", lambda func, *args, **kw: queued.append((func, args)))
    client.force_login(admin_user)
    no_trainers["churn"] = _logistic_trainer(frame)
    old = _register(metrics={"brier": 0.30}, data_hash="older data")
    registry.promote(old)

    with django_capture_on_commit_callbacks(execute=True):
        response = _action(client, "retrain_now", old)
    assert _messages(response) == ["Queued training of churn; see Training runs for progress."]
    run = TrainingRun.objects.get()
    assert (run.kind, run.status, run.trigger, run.requested_by) == ("churn", "queued", "admin", admin_user)
    # Handed to django-q2 once the admin's transaction committed; a worker calls training_task(run.pk).
    assert queued == [("ml.registry.training.training_task", (run.pk,))]

    seen = []
    run = registry.execute_run(run.pk, progress=lambda pct, msg: seen.append((pct, msg)))
    assert seen == [(60, "fitted")]
    assert run.status == "succeeded" and run.progress == 100 and run.finished_at
    new = run.version
    assert (new.version, new.trigger, new.created_by) == (2, "admin", admin_user)
    assert new.metrics["brier"] < new.metrics["baseline_brier"] and new.metrics["brier"] < 0.30
    assert registry.active("churn") == new and "churn v2 promoted" in run.message
    probe = pd.DataFrame(X[:5], columns=["a", "b", "c"])
    assert registry.load(new).predict_proba(probe).shape == (5, 2)
    assert registry.execute_run(run.pk).version == new  # a task delivered twice trains once

    again = TrainingRun.objects.create(kind="churn", trigger="admin")
    again = registry.execute_run(again.pk)
    assert again.status == "skipped" and again.version == new
    assert again.message.startswith("Training data unchanged") and "since churn v2: training skipped" in again.message
    assert ModelVersion.objects.count() == 2

    page = client.get(reverse("admin:ml_trainingrun_changelist"))
    assert page.status_code == 200 and b'<progress max="100" value="100"></progress>' in page.content
