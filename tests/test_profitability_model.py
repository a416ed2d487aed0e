"""The profitability model on a simulated MSP it was not tuned on.

Developed on seeds 1-3 (120 x 30) and 11 (400 x 30): the features, the search grid, the scaled
target, the calibration layout and the spread model were chosen there. Seed 2026 (120 x 30) was
this file's world until 2026-12-01; it measured 93.7% coverage, above the 87-93% band, with the
intervals of the time (one scaled quantile for every client). The development seeds showed the
same spread of coverage (90-95%), which the spread model (spread.py) then fixed there, on the
development seeds only. This file now runs seed 9001 at 240 clients (twice the clients, so a
held-out coverage figure moves less with which clients happen to be volatile), measured once
after the method was fixed and not changed after. The world (240 clients x 30 months) is
simulated, imported and its features built once for the module, inside one transaction rolled
back at the end, so other test files still start from an empty database; the model is trained
once through the registry (enqueue_training, then execute_run). Run with `-s` to see the figures.
"""

from __future__ import annotations

import os
import time

import pytest
from django.db import transaction
from django.test import override_settings

from integrations.dump import import_dump
from integrations.sandbox.testing import simulated_world
from ml import registry
from ml.estimators import profitability
from ml.estimators.profitability import dataset
from ml.estimators.profitability.explain import DRIVERS, words
from ml.features.build import build_features
from ml.features.queries import latest_complete_month
from ml.models import ModelVersion, Prediction, TrainingRun
from ml.registry.artifacts import resolve

CLIENTS, MONTHS, SEED = 240, 30, 9001


@pytest.fixture(scope="module")
def trained(django_db_setup, django_db_blocker, tmp_path_factory):
    """The test world loaded with features, and the run that trained the model on it."""
    started = time.perf_counter()
    folder = simulated_world(tmp_path_factory.mktemp("profitability") / "msp", clients=CLIENTS, months=MONTHS,
                             seed=SEED)
    models = tmp_path_factory.mktemp("models")
    with django_db_blocker.unblock(), override_settings(MODEL_DIR=models), transaction.atomic():
        import_dump(folder, progress=False)
        build_features(trigger="test")
        loaded = time.perf_counter()
        run = registry.enqueue_training("profitability", "command")
        run = registry.execute_run(run.pk)
        print(f"\nworld {CLIENTS} x {MONTHS} seed {SEED}: simulated, imported and built in "
              f"{loaded - started:.1f} s; trained in {time.perf_counter() - loaded:.1f} s ({run.message})")
        yield run
        transaction.set_rollback(True)


@pytest.fixture
def version(trained, db) -> ModelVersion:
    return ModelVersion.objects.get(pk=trained.version_id)


def test_training_creates_an_active_version_that_beats_last_quarters_margin(trained, version):
    assert trained.status == TrainingRun.Status.SUCCEEDED, trained.message
    assert version.status == ModelVersion.Status.ACTIVE
    m = version.metrics
    print(
        f"\nheld-out {version.held_out_months[0]}..{version.held_out_months[-1]} ({m['held_out_rows']} client-months), "
        f"{version.params['family']} {version.params['hyperparameters']}: MAE {m['mae']:,.0f} vs baseline "
        f"{m['baseline_mae']:,.0f} ({m['mae_vs_baseline']:+.1%}); RMSE {m['rmse']:,.0f} vs {m['baseline_rmse']:,.0f}; "
        f"R² {m['r2']:.3f} vs {m['baseline_r2']:.3f} (plan's target {m['r2_target']}); "
        f"90% interval coverage {m['coverage_90']:.1%}, mean width {m['mean_interval_width']:,.0f}"
    )
    print("global importance (mean |SHAP| on the held-out months): " + "; ".join(
        f"{d['words']} ${d['mean_abs_effect']:,.0f}" for d in version.params["importance"][:6]))
    assert len(version.held_out_months) == 6
    assert version.format in ("xgboost-json-set", "joblib")
    assert m["mae"] <= 0.8 * m["baseline_mae"]
    assert {"rmse", "r2", "baseline_rmse", "baseline_r2"} <= set(m) and m["r2_target"] == 0.90
    assert version.params["importance"] and version.params["features"] == list(dataset.FEATURES)


def test_models_json_shows_the_held_out_metrics(version):
    import io
    import json

    from django.core.management import call_command

    out = io.StringIO()
    call_command("models", "--kind", "profitability", "--json", stdout=out)
    (row,) = json.loads(out.getvalue())
    assert row["status"] == "active" and row["version"] == version.version
    for key in ("mae", "baseline_mae", "r2", "coverage_90"):
        assert row["metrics"][key] == pytest.approx(version.metrics[key])
    assert row["metrics"]["mae"] <= 0.8 * row["metrics"]["baseline_mae"]


def test_the_90_percent_interval_covers_at_least_87_percent_of_held_out_client_months(version):
    assert version.metrics["coverage_90"] >= 0.87


def test_the_90_percent_interval_covers_at_most_93_percent_of_held_out_client_months(version):
    assert version.metrics["coverage_90"] <= 0.93


def test_retraining_on_unchanged_data_is_skipped(version):
    run = registry.execute_run(registry.enqueue_training("profitability", "admin").pk)
    assert run.status == TrainingRun.Status.SKIPPED
    assert f"v{version.version}" in run.message and run.version_id == version.pk
    assert ModelVersion.objects.filter(kind="profitability").count() == 1


def test_batch_scoring_writes_one_prediction_per_eligible_client_with_interval_and_words(version):
    month = latest_complete_month()
    eligible = dataset.build(as_of=month, with_target=False)
    written = profitability.score_and_store()
    rows = list(Prediction.objects.filter(model_version=version, as_of=month))
    assert written == len(rows) == len(eligible) > 0
    assert sorted(r.client_id for r in rows) == sorted(eligible.X.index.get_level_values("client_id"))
    vocabulary = {DRIVERS[d][0] for d in DRIVERS} | {words(c) for c in dataset.GENOME_CODES}
    for row in rows:
        assert row.lower <= row.value <= row.upper
        text = row.explanation["text"]
        assert text.startswith("Margin is expected to") and any(w in text for w in vocabulary), text
    print("\n" + "\n".join(r.explanation["text"] for r in rows[:3]))


def test_a_single_client_what_if_matches_batch_scoring_and_is_fast(version):
    batch = {r["client_id"]: r for r in profitability.predict()}
    client_id = next(iter(batch))
    profitability.predict_client(client_id)  # loads the model once
    started = time.perf_counter()
    one = profitability.predict_client(client_id)
    elapsed = time.perf_counter() - started
    print(f"\none client's prediction with explanation: {elapsed * 1000:.1f} ms")
    assert one["value"] == pytest.approx(batch[client_id]["value"])
    assert one["lower"] == pytest.approx(batch[client_id]["lower"])
    assert elapsed < 0.5


def test_a_tampered_artifact_is_refused_with_a_message_naming_it(version):
    path = resolve(version.artifact_path)
    original = path.read_bytes()
    stat = path.stat()
    try:
        path.write_bytes(original.replace(b"1", b"2", 1))
        with pytest.raises(registry.ArtifactTampered, match="refusing to load") as refused:
            profitability.predict()
        assert path.name in str(refused.value)
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_one_explain_function_answers_with_shap_or_lime_in_the_same_words(version):
    from ml.explanations import NotExplainable, explain, global_importance

    client_id = next(iter(r["client_id"] for r in profitability.predict()))
    shap = explain("profitability", client_id)
    lime = explain("profitability", client_id, method="lime")
    assert shap["text"] == profitability.predict_client(client_id)["explanation"]["text"]
    assert shap["value"] == pytest.approx(lime["value"]) and shap["method"] == "shap" and lime["method"] == "lime"
    for answer in (shap, lime):
        assert answer["text"].startswith("Margin is expected to")
        assert answer["contributions"] and all({"feature", "words", "value", "effect"} <= set(c)
                                               for c in answer["contributions"])
    assert any(c["effect"] for c in lime["contributions"])
    assert explain("profitability", client_id, method="lime") == lime  # seeded: a page shows the same twice
    print(f"\nSHAP: {shap['text']}\nLIME: {lime['text']}")

    importance = global_importance(version)
    assert importance and [i["importance"] for i in importance] == sorted((i["importance"] for i in importance),
                                                                         reverse=True)
    with pytest.raises(ValueError, match="Unknown explanation method"):
        explain("profitability", client_id, method="anchors")
    with pytest.raises(NotExplainable):
        explain("profitability", 10**9)


def test_a_challenger_scores_in_shadow_and_is_compared_once_outcomes_are_known(version, admin_user, client):
    from datetime import date

    from ml.estimators.profitability.train import make_model, scale
    from ml.features import months
    from ml.models import ClientMonthKPI
    from ml.predictions import latest
    from ml.registry import shadow

    frame = dataset.build()
    model = make_model("xgboost", {"max_depth": 2, "n_estimators": 40})
    model.fit(frame.X, frame.change.to_numpy() / scale(frame.X))
    challenger = registry.register(
        "profitability", model, "xgboost-json", dict(version.params), registry.Window.of(
            (version.window_first, version.window_last, version.held_out_months)),
        "a challenger of this test", {**version.metrics, "mae": version.metrics["mae"] * 2}, "command")
    try:
        assert shadow.challenger("profitability") == challenger
        registry.score_all()  # the champion's month, and the challenger beside it in shadow
        month = latest_complete_month()
        champion_rows = Prediction.objects.filter(model_version=version, as_of=month, role="champion")
        shadow_rows = Prediction.objects.filter(model_version=challenger, as_of=month, role="challenger")
        assert shadow_rows.count() == champion_rows.count() > 0
        assert set(latest("profitability").values_list("role", "model_version")) == {("champion", version.pk)}
        challenger.refresh_from_db()
        assert challenger.metrics["shadow"]["with_outcome"] == 0  # next quarter not known yet

        # A held-out month: its next quarter is known, so the two can be measured.
        past = date.fromisoformat(version.held_out_months[0] + "-01")
        profitability.score_and_store(as_of=past)
        profitability.score_and_store(as_of=past, version=challenger, role="challenger")
        result = shadow.compare("profitability")
        assert result["months"] == [version.held_out_months[0]] and result["with_outcome"] > 0

        # The champion's error, measured here from the KPI rows themselves.
        errors = []
        for row in Prediction.objects.filter(model_version=version, as_of=past):
            quarter = ClientMonthKPI.objects.filter(
                client_id=row.client_id, month__gt=past, month__lte=months.to_date(months.to_index(past) + 3))
            if quarter.count() == 3 and not quarter.filter(partial_month=True).exists():
                errors.append(abs(row.value - float(sum(k.gross_margin for k in quarter))))
        assert len(errors) == result["with_outcome"]
        assert result["champion"] == pytest.approx(sum(errors) / len(errors), rel=1e-6)
        assert result["challenger"] > 0 and result["challenger_better"] == (result["challenger"] < result["champion"])
        challenger.refresh_from_db()
        assert challenger.metrics["shadow"] == result
        client.force_login(admin_user)
        page = client.get(f"/admin/ml/modelversion/{challenger.pk}/change/").content.decode()
        assert f"in shadow: mae on {result['with_outcome']} client-months" in page
        print(f"\nshadow on {result['months']}: champion MAE {result['champion']:,.0f}, "
              f"challenger MAE {result['challenger']:,.0f} over {result['with_outcome']} clients")
    finally:
        challenger.delete()
