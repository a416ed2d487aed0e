"""The churn model kind end to end on a simulated MSP it was not tuned on.

Nothing in the model (features, label rule, tiers, hyperparameters, ensemble design, held-out
months) was changed after seeing a test world's figures. History of the test world:
- seed 4242 at 150 clients x 24 months (until 2026-12-01): the averaged ensemble's held-out
  PR-AUC 0.110 against logistic regression's 0.218, on 8 churners;
- seed 9002 at 300 x 30: the averaged ensemble 0.238 against 0.241; then the free non-negative
  logistic stack (designed on seeds 1-3, 11, 21-24) 0.223 against 0.241 (it kept LightGBM
  alone), and 0.455 against 0.304 on a second unseen world, seed 9003.
Seeds 4242, 9002 and 9003 have been seen, so none of them is a test world any more.

The current design, the stack with a floor share per member (ml.churn.family, step 4), was
chosen on development worlds only (seeds 1-3, 11, 21-24 and 101-108; bench/churn_design.py's
written rule). Fixed before it was measured on them, the fresh test worlds and the criterion:
seeds 9101 and 9102, 300 clients x 30 months, the simulator's default annual churn rate (12%,
integrations.simulator.priors.DEFAULT_CHURN_RATE, from the plan's section 6), the final 4
labelled months held out (the trainer's split); the bar is met on a world when the ensemble's
held-out PR-AUC is above logistic regression's. Each was measured once, with

    .venv/bin/python bench/churn_design.py --final \
        --frames var/churn-frames/churn-s9101-300x30.pkl var/churn-frames/churn-s9102-300x30.pkl

(frames from bench/churn_frames.py), and seed 9002 once more for the record: ensemble against
logistic regression on held-out PR-AUC, 9101 0.357 vs 0.228 (18 churners), 9102 0.292 vs 0.148
(12), 9002 0.234 vs 0.241 (18, behind). This module runs the first, seed 9101, and the bar is a
plain assertion there.

The world is simulated, imported and its KPIs built once for the module, inside one
transaction rolled back at the end, so other test files see an empty database.
"""

from __future__ import annotations

import builtins
import inspect
import io
import json
import time
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Max
from django.test import override_settings

from clients.models import Client, Contract
from integrations.dump import import_dump
from integrations.sandbox.testing import simulated_world
from integrations.simulator.priors import DEFAULT_CHURN_RATE
from ml.estimators.churn import dataset, explain, retention_report, score_and_store, tier_of
from ml.estimators.churn.predict import KIND
from ml.features import months as mo
from ml.features.build import build_features
from ml.models import ChurnWarning, Intervention, ModelVersion, Prediction, TrainingRun
from ml.predictions import store_predictions
from ml.registry import TRAINERS, active, enqueue_training, execute_run, load, promote

SEED, CLIENTS, MONTHS = 9101, 300, 30
METRIC_KEYS = ("roc_auc", "pr_auc", "f1", "brier", "lr_roc_auc", "lr_pr_auc", "lr_f1", "lr_brier",
               "mlp_pr_auc", "gbm_pr_auc", "f1_target", "train_churners", "test_churners")


@pytest.fixture(scope="module")
def world(tmp_path_factory, django_db_setup, django_db_blocker):
    """The test world loaded and its KPIs built; yields its dump folder and timings."""
    folder = tmp_path_factory.mktemp("churn-world") / "msp"
    models = tmp_path_factory.mktemp("churn-models")
    timings = {}
    with django_db_blocker.unblock(), override_settings(MODEL_DIR=models), transaction.atomic():
        started = time.perf_counter()
        simulated_world(folder, clients=CLIENTS, months=MONTHS, seed=SEED, churn_rate=DEFAULT_CHURN_RATE)
        timings["simulate"] = time.perf_counter() - started
        started = time.perf_counter()
        import_dump(folder, progress=False)
        timings["import"] = time.perf_counter() - started
        started = time.perf_counter()
        build_features(trigger="test", with_genome=False)
        timings["features"] = time.perf_counter() - started
        yield {"folder": folder, "timings": timings}
        transaction.set_rollback(True)
    print(f"\nchurn world seed {SEED}, {CLIENTS} clients x {MONTHS} months: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))


@pytest.fixture(scope="module")
def trained(world, django_db_blocker):
    """One churn training run through the registry (queued as the admin would, then run)."""
    with django_db_blocker.unblock():
        assert "churn" in TRAINERS
        started = time.perf_counter()
        run = enqueue_training("churn", "admin")
        run = execute_run(run.pk)
        seconds = time.perf_counter() - started
        print(f"\nchurn training {seconds:.1f} s: {run.status}: {run.message}")
        if run.version is not None and active(KIND) is None:
            # Not promoted automatically (it did not beat logistic regression alone, its
            # baseline): a person promotes it from the admin, so the scoring tests can run.
            promote(run.version)
    return run


def _truth(folder) -> dict:
    return json.loads((folder / "truth.json").read_text())


def test_label_reads_the_tenant_data_never_truth_json(world, db, monkeypatch):
    # The code names no truth file, and building the frame opens none.
    code = inspect.getsource(dataset).replace(dataset.__doc__, "")
    assert "truth" not in code.lower()
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        assert "truth" not in str(file), f"the churn dataset opened {file}"
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    monkeypatch.setattr(io, "open", guarded)
    frame = dataset.build_frame()
    leaves = dataset.departures()
    monkeypatch.undo()

    # Every departure is visible in the loaded payloads: a churned (Inactive / Former Customer)
    # client whose agreements all ended, on the day the last one ended.
    churned = dict(Client.objects.filter(status=Client.Status.CHURNED).values_list("pk", "churned_on"))
    for client_id, day in leaves.items():
        if client_id in churned:
            last_end = Contract.objects.filter(client_id=client_id).aggregate(d=Max("end_date"))["d"]
            assert day == last_end, (client_id, day, last_end)
    # Labels: 1 exactly when the departure falls in the 3 months after the row's month end.
    rows = frame.rows
    for row in rows[rows["client_id"].isin(leaves)].itertuples():
        gone = leaves[row.client_id]
        assert mo.month_end(row.mi) < gone, "a row after the client left was kept"
        assert row.label == int(gone <= mo.month_end(row.mi + 3))
    assert not rows[~rows["client_id"].isin(leaves)]["label"].any()
    assert not rows[rows["mi"] > mo.to_index(frame.last_month) - 3]["labelled"].any()

    # ...and agrees with the simulator's planted churn events for most churners.
    by_external = dict(Client.objects.values_list("external_id", "pk"))
    events = _truth(world["folder"])["churn"]
    agree = sum(1 for e in events if leaves.get(by_external.get(e["client_id"])) == date.fromisoformat(e["churned_on"]))
    print(f"\nchurn label: {len(leaves)} departures found, {len(events)} planted; {agree} agree on the day; "
          f"{int(frame.training()['label'].sum())} churn rows of {len(frame.training())} labelled")
    assert events and agree >= 0.9 * len(events)
    assert len(leaves) <= len(events) * 1.1


def test_training_registers_a_version_with_held_out_metrics(trained, db):
    assert trained.status == TrainingRun.Status.SUCCEEDED, trained.message
    version = trained.version
    metrics = version.metrics
    # Promoted by the run only when the ensemble beats its baseline, logistic regression alone.
    beats = metrics["pr_auc"] > metrics["baseline_pr_auc"] == metrics["lr_pr_auc"]
    assert ("promoted: no version of churn was active" in trained.message) == beats, trained.message
    assert set(METRIC_KEYS) <= set(metrics)
    out = io.StringIO()
    call_command("models", "--kind", "churn", "--json", stdout=out)
    shown = json.loads(out.getvalue())[0]["metrics"]
    assert all(shown[k] == pytest.approx(metrics[k]) for k in METRIC_KEYS)
    assert metrics["f1_target"] == 0.85
    assert len(version.held_out_months) == 4 and version.params["features"] == list(dataset.FEATURES)
    assert set(version.params["thresholds"]) == {"lr", "mlp", "gbm", "ensemble"}
    weights = version.params["ensemble_weights"]
    assert set(weights) == {"lr", "mlp", "gbm"} and min(weights.values()) >= 0 < max(weights.values())
    print("\nchurn ensemble weights (stack on calibrated log-odds):", weights)
    assert set(version.params["importance"]) == set(dataset.FEATURES)
    print("\nchurn global importance (top 5):", list(version.params["importance"])[:5])
    assert metrics["test_churners"] > 0 and metrics["train_churners"] > 0
    print("\nchurn held-out", ", ".join(version.held_out_months))
    for who, prefix in (("ensemble", ""), ("logistic regression", "lr_"), ("MLP", "mlp_"), ("LightGBM", "gbm_")):
        print(f"  {who:20s} ROC-AUC {metrics[prefix + 'roc_auc']:.3f}  PR-AUC {metrics[prefix + 'pr_auc']:.3f}  "
              f"F1 {metrics[prefix + 'f1']:.3f} (plan 0.85)  Brier {metrics[prefix + 'brier']:.4f}")
    print(f"  churners train {metrics['train_churners']} ({metrics['train_churn_rows']} of {metrics['train_rows']} "
          f"rows), test {metrics['test_churners']} ({metrics['test_churn_rows']} of {metrics['test_rows']} rows)")
    assert 0.0 <= metrics["brier"] < 0.1


def test_unchanged_data_skips_training(trained, db):
    again = execute_run(enqueue_training("churn", "admin").pk)
    assert again.status == TrainingRun.Status.SKIPPED, again.message
    assert again.version_id == trained.version_id and "training skipped" in again.message


def test_the_ensemble_beats_logistic_regression_on_held_out_pr_auc(trained, db):
    """Measured once when the floored stack was fixed (bench/churn_design.py --final): seed 9101
    0.357 against logistic regression's 0.228 (18 held-out churners), seed 9102 0.292 against
    0.148 (12), and the seen seed 9002 0.234 against 0.241 (18; still behind there)."""
    metrics = trained.version.metrics
    assert metrics["pr_auc"] > metrics["lr_pr_auc"]


def test_scores_are_stored_with_risk_tier_reasons_and_actions(trained, db):
    version = active(KIND)
    written = score_and_store()
    assert written > 0
    rows = list(Prediction.objects.filter(model_version=version, kind=KIND))
    assert len(rows) == written
    tiers = {}
    for p in rows:
        assert 0 <= p.value <= 100
        assert p.explanation["tier"] == tier_of(p.value)
        assert p.explanation["text"].startswith("Churn risk")
        tiers[p.explanation["tier"]] = tiers.get(p.explanation["tier"], 0) + 1
    riskiest = max(rows, key=lambda p: p.value)
    assert riskiest.explanation["reasons"], riskiest.explanation
    for reason in riskiest.explanation["reasons"]:
        assert reason["effect"] > 0 and reason["text"] and reason["feature"] in dataset.FEATURES
    assert riskiest.explanation["actions"]
    print(f"\nchurn tiers {tiers}; riskiest: {riskiest.explanation['text']} -> {riskiest.explanation['actions']}")

    # The same explain() on the loaded model gives the same reasons.
    frame = dataset.build_frame()
    row = frame.rows[(frame.rows["month"] == frame.last_month) & (frame.rows["client_id"] == riskiest.client_id)]
    again = explain(load(version), row.loc[:, list(dataset.FEATURES)])[0]
    assert [r["feature"] for r in again["reasons"]] == [r["feature"] for r in riskiest.explanation["reasons"]]


def test_a_rising_tier_records_a_churn_warning(trained, db):
    version = active(KIND)
    frame = dataset.build_frame()
    last = frame.last_month
    previous = mo.to_date(mo.to_index(last) - 1)
    score_and_store(as_of=previous)
    score_and_store(as_of=last)
    natural = ChurnWarning.objects.filter(as_of=last).count()
    # A client scored "low" the month before and above it now must raise a warning.
    now = {p.client_id: p for p in Prediction.objects.filter(model_version=version, as_of=last)}
    risen = next(p for p in sorted(now.values(), key=lambda p: -p.value) if p.explanation["tier"] != "low")
    store_predictions(version, previous, [{"client_id": cid, "value": 1.0, "explanation": {"tier": "low"}}
                                          for cid in now])
    score_and_store(as_of=last)
    warning = ChurnWarning.objects.get(client_id=risen.client_id, as_of=last)
    assert (warning.previous_tier, warning.tier) == ("low", risen.explanation["tier"])
    assert warning.risk == pytest.approx(risen.value) and warning.previous_as_of == previous
    assert not ChurnWarning.objects.filter(tier="low").exists()
    print(f"\nchurn warnings at {last:%Y-%m}: {natural} from the model's own previous month")


def test_an_intervention_is_logged_and_counted_in_retention(trained, db, admin_user):
    version = active(KIND)
    last = dataset.build_frame().last_month
    as_of = mo.to_date(mo.to_index(last) - 4)  # its 90 days of outcome are known
    leaves = dataset.departures()
    stayed = list(Client.objects.filter(monthly_kpis__month=as_of).exclude(pk__in=leaves)
                  .values_list("pk", flat=True)[:3])
    before = retention_report()
    store_predictions(version, as_of, [{"client_id": cid, "value": 40.0, "explanation": {"tier": "critical"}}
                                       for cid in stayed])
    Intervention.objects.create(client_id=stayed[0], action="Service review", date=as_of + timedelta(days=20),
                                outcome=Intervention.Outcome.RETAINED, notes="SLA misses walked through",
                                who=admin_user)
    report = retention_report()
    assert report["with"]["clients"] == before["with"]["clients"] + 1
    assert report["with"]["retained"] == before["with"]["retained"] + 1
    assert report["without"]["clients"] >= before["without"]["clients"] + 2
    print(f"\nchurn retention of at-risk clients: with an intervention {report['with']}, "
          f"without {report['without']}")


def test_the_admin_lists_warnings_and_interventions(trained, db, admin_user, client):
    client.force_login(admin_user)
    someone = Client.objects.first()
    Intervention.objects.create(client=someone, action="Billing conversation", date=date(2026, 9, 3))
    assert client.get("/admin/ml/churnwarning/").status_code == 200
    page = client.get("/admin/ml/intervention/")
    assert page.status_code == 200 and b"Billing conversation" in page.content
    assert client.get("/admin/ml/intervention/add/").status_code == 200
    assert ModelVersion.objects.filter(kind=KIND).exists()


def test_one_explain_function_gives_churn_reasons_by_shap_or_lime(trained, db):
    from ml.explanations import explain, global_importance

    version = active(KIND)
    score_and_store()
    row = Prediction.objects.filter(model_version=version).order_by("-value").first()
    shap = explain("churn", row.client_id, as_of=row.as_of)
    lime = explain("churn", row.client_id, as_of=row.as_of, method="lime")
    assert shap["value"] == pytest.approx(row.value) == pytest.approx(lime["value"])
    assert shap["text"] == row.explanation["text"]
    assert lime["text"].startswith(f"Churn risk {row.value:.0f}/100")
    assert lime["contributions"] and all(c["feature"] in dataset.FEATURES for c in lime["contributions"])
    # LIME's reasons are features raising risk, with the same actions the stored reasons use.
    assert all(r["effect"] > 0 for r in lime["reasons"])
    print(f"\nSHAP: {shap['text']}\nLIME: {lime['text']}")
    importance = global_importance(version)
    assert {i["feature"] for i in importance} <= set(dataset.FEATURES) and importance[0]["words"]


def test_one_clients_question_reuses_the_frame_until_the_store_changes(trained, db, monkeypatch):
    """A page's or the API's single-client churn answer reads the frame built for the store's
    state; a feature build (or a sync) makes the next question build it again."""

    import importlib

    from ml.models import FeatureBuild

    churn_predict = importlib.import_module("ml.estimators.churn.predict")  # the package's predict is a function

    built = []
    real = churn_predict.build_frame
    monkeypatch.setattr(churn_predict, "build_frame", lambda: built.append(1) or real())
    score_and_store()
    churn_predict._frames.clear()
    built.clear()
    row = Prediction.objects.filter(model_version=active(KIND)).first()
    first = churn_predict.explain_client(row.client_id, as_of=row.as_of)
    again = churn_predict.explain_client(row.client_id, as_of=row.as_of)
    assert len(built) == 1 and again == first and first["value"] == pytest.approx(row.value)
    FeatureBuild.objects.create()
    churn_predict.explain_client(row.client_id, as_of=row.as_of)
    assert len(built) == 2
