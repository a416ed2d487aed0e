"""`manage.py train` trains a kind in this process as a TrainingRun, and batch scoring writes
Prediction rows with the version that serves: after a training that promoted a version and
after a feature build that wrote KPIs. A kind whose scorer fails does not fail its training."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from clients.models import Client
from ml import registry
from ml.models import ModelVersion, Prediction, TrainingRun
from ml.predictions import latest, store_predictions
from ml.registry import Trained, Window

pytestmark = pytest.mark.django_db
HELD_OUT = ["2025-10", "2025-11", "2025-12"]


@pytest.fixture
def kinds(settings, tmp_path):
    """A registry with only the test's kind in it (the project's own kinds restored after)."""
    settings.MODEL_DIR = tmp_path / "models"
    registry.discover()  # the project's kinds register now, not inside the test
    saved = dict(registry.TRAINERS), dict(registry.SCORERS)
    registry.TRAINERS.clear()
    registry.SCORERS.clear()
    yield registry
    for table, before in zip((registry.TRAINERS, registry.SCORERS), saved, strict=True):
        table.clear()
        table.update(before)


def _mean_margin_trainer(mae: float, data: str = "frame-1"):
    """A train function whose 'model' is a dict (joblib), measured as given."""

    def train(ctx: registry.TrainingContext) -> Trained:
        ctx.check_data_hash(data)
        ctx.progress(50, "fitting")
        return Trained(artifact={"margin": 1200.0}, fmt="joblib", params={}, data_hash=data,
                       window=Window(date(2024, 1, 1), date(2025, 12, 1), HELD_OUT),
                       metrics={"mae": mae, "baseline_mae": 900.0}, metric="mae", higher_is_better=False)

    return train


def _scorer():
    """Scores every client with the active version's stored margin."""
    version = registry.active("margin")
    model = registry.load(version)
    rows = [{"client_id": pk, "value": model["margin"], "lower": 0, "upper": 2 * model["margin"],
             "explanation": {"text": "flat margin"}} for pk in Client.objects.values_list("pk", flat=True)]
    return store_predictions(version, date(2025, 12, 1), rows)


def _clients(n: int = 3) -> None:
    for i in range(n):
        Client.objects.create(source="superops", external_id=f"c{i}", name=f"Client {i}")


def test_train_command_trains_promotes_and_scores(kinds):
    _clients()
    kinds.TRAINERS["margin"] = _mean_margin_trainer(mae=700.0)
    kinds.SCORERS["margin"] = _scorer
    out = io.StringIO()
    call_command("train", "--kind", "margin", "--no-progress", stdout=out)
    run = TrainingRun.objects.get()
    assert (run.kind, run.trigger, run.status) == ("margin", "command", "succeeded")
    assert "margin: succeeded" in out.getvalue() and "Scored 3 clients" in out.getvalue()
    version = ModelVersion.objects.get()
    assert version.status == "active" and version.metrics == {"mae": 700.0, "baseline_mae": 900.0}
    rows = latest("margin")
    assert rows.count() == 3 and {(p.value, p.lower, p.upper) for p in rows} == {(1200.0, 0.0, 2400.0)}

    # The same data again: skipped, nothing new registered or scored.
    call_command("train", "--no-progress", stdout=io.StringIO())
    assert TrainingRun.objects.order_by("-pk").first().status == "skipped"
    assert ModelVersion.objects.count() == 1 and Prediction.objects.count() == 3


def test_a_worse_candidate_is_kept_but_does_not_serve(kinds):
    _clients()
    kinds.SCORERS["margin"] = _scorer
    kinds.TRAINERS["margin"] = _mean_margin_trainer(mae=700.0)
    call_command("train", "--no-progress", stdout=io.StringIO())
    kinds.TRAINERS["margin"] = _mean_margin_trainer(mae=950.0, data="frame-2")
    call_command("train", "--no-progress", stdout=io.StringIO())
    first, second = ModelVersion.objects.order_by("version")
    assert (first.status, second.status) == ("active", "candidate")
    assert set(latest("margin").values_list("model_version", flat=True)) == {first.pk}


def test_a_failing_scorer_does_not_fail_the_training(kinds):
    def broken() -> int:
        raise RuntimeError("no KPIs yet")

    kinds.TRAINERS["margin"] = _mean_margin_trainer(mae=700.0)
    kinds.SCORERS["margin"] = broken
    call_command("train", "--no-progress", stdout=io.StringIO())
    run = TrainingRun.objects.get()
    assert run.status == "succeeded" and "Scoring failed (RuntimeError: no KPIs yet)" in run.message
    assert ModelVersion.objects.get().status == "active"


def test_unknown_kind_and_failed_training_say_so(kinds):
    with pytest.raises(CommandError, match="No model kind is registered"):
        call_command("train", stdout=io.StringIO())

    def fails(ctx):
        raise ValueError("too few client-months to train on")

    kinds.TRAINERS["margin"] = fails
    with pytest.raises(CommandError, match="Unknown model kind 'churnn'; known: margin"):
        call_command("train", "--kind", "churnn", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Training failed for: margin"):
        call_command("train", "--no-progress", stdout=io.StringIO())
    assert "too few client-months" in TrainingRun.objects.get().message


def test_a_feature_build_that_writes_kpis_scores_the_active_models(kinds, world_dir):
    from integrations.dump import import_dump
    from ml.features.build import build_features

    import_dump(world_dir, progress=False)
    kinds.TRAINERS["margin"] = _mean_margin_trainer(mae=700.0)
    call_command("train", "--no-progress", stdout=io.StringIO())  # no scorer yet: nothing scored
    assert not Prediction.objects.exists()
    kinds.SCORERS["margin"] = _scorer
    report = build_features()
    assert report.kpi_rows_written and report.scored == {"margin": Client.objects.count()}
    assert latest("margin").count() == Client.objects.count()
