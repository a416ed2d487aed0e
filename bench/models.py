"""Training, single-client prediction and batch scoring of the model kinds on the demo world.

    .venv/bin/python bench/models.py [--clients 120] [--months 24] [--seed 42] [--calls 200]
                                     [--batch 10000] [--database-url URL] [--keep DIR]

1. World: the demo MSP as `setup_demo` makes it (120 clients x 24 months, seed 42, leak rate
   0.05, churn rate 0.12), simulated into a temporary folder, loaded with `import_dump` into a
   fresh SQLite database there (unless --database-url names a database that may be emptied),
   and its KPIs and genome built with `build_features`. settings.MODEL_DIR is in the same
   folder, so no artifact of this run lands in var/models.
2. Training: for each kind (profitability, churn) a TrainingRun goes through
   `ml.registry.execute_run`, as "Retrain now" does through django-q2: train, register,
   promote if better and, when promoted, score the kind's clients (inside the timed figure).
   Wall and CPU seconds, the run's status and message and the version's key metrics.
3. Single-client latency: `predict_client` (the project's what-if path: active version, the
   client's features read from the KPI store and genome, the cached model, interval and SHAP
   explanation in words) called --calls times after one warm-up call, median and p95, beside
   the loaded model's own `predict` on that client's already-built feature row (and, for
   XGBoost, the booster's `inplace_predict` on the row's numbers). The same steps are then
   timed one by one to show where the project's path spends its time. When the
   profitability version did not beat its baseline it is not active, and it is promoted here
   (in this throwaway database only) so the predict path has a version to serve.
4. Batch of --batch clients: the demo world has only 120 clients, so a frame of --batch rows
   is made from every eligible client-month of the demo world (all months, not only the
   latest), drawn with replacement (numpy seed 0) and perturbed: each continuous column is
   multiplied by 1 + 0.05 x N(0, 1) (columns whose values are all whole numbers, such as the
   calendar month, counts and tenure, are left as they are; missing values stay missing).
   Each row gets its own client id. Timed on it: the profitability model's `predict`, the
   project's batch scoring of a frame (`_score`: prediction, 90% interval, SHAP explanation
   in words, the same function `score_and_store` runs), the churn family's `predict_proba`
   and the project's `score_frame` (risk, tier, reasons and actions). Best and median of 3, then
   each step of the two scorings timed once on its own (CPU seconds), to show where it goes.
   Writing rows needs real clients, so `score_and_store` of each kind is timed on the demo
   world's own clients.

On the demo world (24 months) profitability trains with held-out and calibration blocks of 4
months (train.block_months); `--months 30` gives the 6-month blocks of the tests' worlds.

Goals (issue 11): single-client prediction under 5 ms, 10,000 clients under 3 s. CPU seconds
are printed beside wall seconds and the load average at the start and the end, because on a
shared machine wall time also measures the neighbours.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SINGLE_GOAL_MS = 5.0
BATCH_GOAL_S = 3.0


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"


def timed(fn, *args, **kwargs):
    started, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started, time.process_time() - cpu


def latencies(fn, calls: int) -> list[float]:
    """Milliseconds of each of `calls` calls, after one warm-up call."""
    fn()
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def repeat(fn, times: int = 3) -> tuple[float, float, float]:
    """Best and median wall seconds of `times` calls, and the median CPU seconds."""
    walls, cpus = [], []
    for _ in range(times):
        _, wall, cpu = timed(fn)
        walls.append(wall)
        cpus.append(cpu)
    return min(walls), statistics.median(walls), statistics.median(cpus)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def perturbed(frame, n: int, keep: tuple[str, ...] = (), seed: int = 0):
    """`n` rows drawn with replacement from `frame`, each continuous column multiplied by
    1 + 0.05 x N(0, 1); whole-number columns and `keep` are left as drawn."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = frame.iloc[rng.integers(0, len(frame), n)].reset_index(drop=True).copy()
    for column in rows.columns:
        if column in keep or not np.issubdtype(rows[column].dtype, np.floating):
            continue
        values = rows[column].to_numpy(dtype="float64")
        finite = values[np.isfinite(values)]
        if finite.size == 0 or np.all(finite == np.round(finite)):
            continue
        rows[column] = values * (1 + 0.05 * rng.standard_normal(n))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=120)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep", help="keep the world, database and models in this folder")
    args = parser.parse_args()

    work = Path(args.keep or tempfile.mkdtemp(prefix="superhack-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["SUPERHACK_VAR_DIR"] = str(work / "var")
    os.environ["MODEL_DIR"] = str(work / "models")
    os.environ["DJANGO_SETTINGS_MODULE"] = "superhack.settings"
    try:
        run(args, work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.MODEL_DIR = work / "models"
    settings.ML_BUILD_AFTER_SYNC = False  # the bench builds features itself, once
    warnings.filterwarnings("ignore", category=UserWarning)

    from integrations.dump import import_dump
    from integrations.simulator import simulate
    from ml.features.build import build_features

    print(f"load average at start: {load_text()}")
    call_command("migrate", verbosity=0)
    world = work / "world"
    _, seconds, _ = timed(simulate, clients=args.clients, months=args.months, seed=args.seed, leak_rate=0.05,
                          churn_rate=0.12, out_dir=world)
    print(f"simulated {args.clients} clients x {args.months} months (seed {args.seed}) in {seconds:.1f} s")
    dump_run, seconds, _ = timed(import_dump, world, progress=False)
    print(f"import_dump: {dump_run.status}, {dump_run.created:,} rows in {seconds:.1f} s")
    report, seconds, _ = timed(build_features)
    print(f"build_features: {report.clients_rebuilt} clients rebuilt in {seconds:.1f} s")

    trained = train_kinds()
    single = single_client(args.calls)
    batch = batch_scoring(args.batch, trained)
    summary(args, trained, single, batch)


def train_kinds() -> dict:
    from ml.models import TrainingRun
    from ml.registry import execute_run

    keys = {
        "profitability": ("mae", "baseline_mae", "mae_vs_baseline", "r2", "r2_target", "coverage_90",
                          "held_out_rows"),
        "churn": ("pr_auc", "lr_pr_auc", "roc_auc", "lr_roc_auc", "f1", "lr_f1", "brier", "test_rows",
                  "test_churners"),
    }
    out = {}
    print("\n== Training (TrainingRun + execute_run; includes scoring when the version is promoted)")
    for kind in ("profitability", "churn"):
        queued = TrainingRun.objects.create(kind=kind, trigger="command")
        finished, wall, cpu = timed(execute_run, queued.pk)
        version = finished.version
        if version is not None:
            version.refresh_from_db()  # promote_if_better changed its status on another instance
        out[kind] = {"run": finished, "version": version, "wall": wall, "cpu": cpu}
        print(f"{kind}: {wall:.1f} s wall, {cpu:.1f} s CPU; status {finished.status}: {finished.message}")
        if version is not None:
            metrics = version.metrics
            shown = ", ".join(f"{k} {metrics[k]:.3f}" if isinstance(metrics.get(k), float) else f"{k} {metrics.get(k)}"
                              for k in keys[kind] if k in metrics)
            family = version.params.get("family", "ensemble")
            print(f"  v{version.version} ({family}, {version.status}): {shown}")
    return out


def single_client(calls: int) -> dict:
    from ml import registry
    from ml.estimators.profitability import dataset
    profit = importlib.import_module("ml.estimators.profitability.predict")  # the package re-exports predict()
    from ml.estimators.profitability.dataset import scale
    from ml.estimators.profitability.explain import explain_rows

    print(f"\n== Single-client profitability prediction ({calls} calls after one warm-up)")
    version = registry.active("profitability")
    if version is None:
        from ml.models import ModelVersion

        latest = ModelVersion.objects.filter(kind="profitability").order_by("-version").first()
        if latest is None:
            print("  SKIPPED: no profitability version was trained (see the training run above)")
            return {}
        version = registry.promote(latest)
        print(f"  (v{version.version} was not promoted by training; promoted here so predict_client can serve it)")
    month = profit._as_of(None)
    frame = dataset.build(as_of=month, with_target=False)
    client_id = int(frame.X.index.get_level_values("client_id")[0])
    features = version.params.get("features", list(frame.X.columns))
    row = frame.X.loc[[(client_id, frame.X.index.get_level_values("mi")[0])], features]
    model = profit.loaded_model(version)

    project = latencies(lambda: profit.predict_client(client_id), calls)
    direct = latencies(lambda: model.predict(row), calls)
    result = {"client": client_id, "month": month, "project": project, "direct": direct,
              "family": version.params.get("family")}
    if hasattr(model, "get_booster"):
        booster, numbers = model.get_booster(), row.to_numpy(dtype="float32")
        result["booster"] = latencies(lambda: booster.inplace_predict(numbers), calls)

    # The same steps as predict_client, one by one (medians over the same number of calls).
    steps: dict[str, list[float]] = {}
    names = ("active version and month (1 query)",
             "feature row: month frame (store state, 1 query) + lookup", "cached model (file stat + lookup)",
             "model prediction (booster, or the flat forest)", "SHAP contributions", "explanation in words")
    for i in range(calls + 1):
        marks = [time.perf_counter()]
        v, m = profit._serving(None)
        marks.append(time.perf_counter())
        whole = profit.month_frame(m)
        f = whole.rows(whole.X.index.get_level_values("client_id") == client_id)
        marks.append(time.perf_counter())
        attributor = profit._loaded(v)
        marks.append(time.perf_counter())
        X = f.X[v.params.get("features", list(f.X.columns))]
        s = scale(X)
        values = f.baseline.to_numpy() + attributor.change(X) * s
        marks.append(time.perf_counter())
        contributions = attributor.contributions(X, s)
        marks.append(time.perf_counter())
        explain_rows(X, contributions, values, f.baseline.to_numpy())
        marks.append(time.perf_counter())
        if i:  # the first pass is the warm-up
            for name, start, end in zip(names, marks, marks[1:], strict=False):
                steps.setdefault(name, []).append((end - start) * 1000)
    result["steps"] = {name: statistics.median(ms) for name, ms in steps.items()}

    med, high = statistics.median(project), p95(project)
    print(f"client {client_id}, as of {month:%Y-%m}, model {result['family']}")
    print(f"{'':44}{'median ms':>10}{'p95 ms':>9}")
    print(f"{'predict_client (project)':44}{med:>10.2f}{high:>9.2f}   goal < {SINGLE_GOAL_MS:g} ms: "
          f"{verdict(med < SINGLE_GOAL_MS)} (median)")
    print(f"{'model.predict on the built row (direct)':44}{statistics.median(direct):>10.3f}{p95(direct):>9.3f}")
    if "booster" in result:
        b = result["booster"]
        print(f"{'booster.inplace_predict on the row':44}{statistics.median(b):>10.3f}{p95(b):>9.3f}")
    print(f"ratio project / direct (medians): {med / statistics.median(direct):.1f}x")
    total = sum(result["steps"].values())
    print(f"where predict_client's time goes (steps timed one by one, medians, sum {total:.2f} ms):")
    for name, ms in sorted(result["steps"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:<62}{ms:>7.2f} ms {100 * ms / total:>5.1f} %")
    return result


def batch_profitability(n: int, version, out: dict) -> None:
    import numpy as np
    import pandas as pd

    from ml.estimators.profitability import dataset
    profit = importlib.import_module("ml.estimators.profitability.predict")  # the package re-exports predict()

    model = profit.loaded_model(version)
    features = version.params.get("features")
    source = dataset.build(with_target=False)
    table = pd.concat([source.X, source.baseline], axis=1).reset_index()
    rows = perturbed(table.drop(columns=["client_id", "mi"]), n, keep=("calendar_month",))
    index = pd.MultiIndex.from_arrays([np.arange(1, n + 1), np.full(n, int(table["mi"].max()))],
                                      names=["client_id", "mi"])
    X = pd.DataFrame(rows[list(source.X.columns)].to_numpy(), index=index, columns=source.X.columns)
    big = dataset.Frame(X, pd.Series(rows["baseline"].to_numpy(), index=index, name="baseline"))
    print(f"profitability frame: {n:,} rows from {len(table):,} client-months, {X.shape[1]} features")
    out["profit_predict"] = repeat(lambda: model.predict(X[features]))
    out["profit_score"] = repeat(lambda: profit._score(version, big))
    out["profit_steps"] = profitability_steps(version, big)


def profitability_steps(version, frame) -> dict[str, float]:
    """CPU seconds of each step of `_score` on the batch, timed one by one (one pass)."""
    from ml.estimators.profitability.dataset import scale
    from ml.estimators.profitability.explain import explain_rows
    profit = importlib.import_module("ml.estimators.profitability.predict")

    attributor = profit._loaded(version)
    X = frame.X[version.params.get("features", list(frame.X.columns))]
    baseline = frame.baseline.to_numpy(dtype="float64")
    steps = {}
    s, _, steps["features and scale"] = timed(scale, X)
    change, _, steps["model prediction"] = timed(attributor.change, X)
    _, _, steps["interval spread"] = timed(attributor.spread, X)
    contributions, _, steps["SHAP contributions"] = timed(attributor.contributions, X, s)
    _, _, steps["explanation in words"] = timed(explain_rows, X, contributions, baseline + change * s, baseline)
    return steps


def churn_steps(family, rows) -> dict[str, float]:
    """CPU seconds of each step of churn's `score_frame` on the batch, one by one (one pass)."""
    from ml.estimators.churn.attribution import contributions
    from ml.estimators.churn.dataset import FEATURES
    from ml.estimators.churn.reasons import reasons_from

    X = rows.loc[:, list(FEATURES)]
    steps = {}
    _, _, steps["family predict_proba"] = timed(family.predict_proba, X)
    effects, _, steps["SHAP and linear contributions"] = timed(contributions, family, X)
    _, _, steps["reasons and actions in words"] = timed(reasons_from, effects, X)
    return steps


def batch_scoring(n: int, trained: dict) -> dict:
    import numpy as np

    from ml import registry
    from ml.estimators.churn.dataset import FEATURES as CHURN_FEATURES
    from ml.estimators.churn.dataset import build_frame
    from ml.estimators.churn.predict import score_and_store as churn_score_and_store
    from ml.estimators.churn.predict import score_frame
    profit = importlib.import_module("ml.estimators.profitability.predict")  # the package re-exports predict()

    print(f"\n== Batch scoring of {n:,} clients (demo rows drawn with replacement and perturbed; best/median of 3)")
    out: dict = {}
    version = registry.active("profitability")
    if version is not None:
        batch_profitability(n, version, out)
    else:
        print("profitability: SKIPPED, no profitability version was trained")

    churn_version = trained["churn"]["version"]
    family = registry.load(churn_version)
    churn_rows = build_frame().rows
    drawn = perturbed(churn_rows.loc[:, list(CHURN_FEATURES)].astype("float64"), n)
    drawn.insert(0, "client_id", np.arange(1, n + 1))
    print(f"churn frame: {n:,} rows from {len(churn_rows):,} client-months, {len(CHURN_FEATURES)} features "
          f"(v{churn_version.version}, {churn_version.status})")
    out["churn_proba"] = repeat(lambda: family.predict_proba(drawn.loc[:, list(CHURN_FEATURES)]))
    out["churn_score"] = repeat(lambda: score_frame(family, drawn))
    out["churn_steps"] = churn_steps(family, drawn)

    print(f"{'':58}{'best s':>8}{'median s':>9}{'CPU s':>7}")
    labels = {
        "profit_predict": "profitability model.predict",
        "profit_score": "profitability batch scoring (value, interval, SHAP words)",
        "churn_proba": "churn family predict_proba",
        "churn_score": "churn score_frame (risk, tier, reasons, actions)",
    }
    for key, label in labels.items():
        if key not in out:
            continue
        best, med, cpu = out[key]
        print(f"{label:<58}{best:>8.2f}{med:>9.2f}{cpu:>7.2f}   goal < {BATCH_GOAL_S:g} s: "
              f"{verdict(med < BATCH_GOAL_S)}")

    for key, label in (("profit_steps", "profitability _score"), ("churn_steps", "churn score_frame")):
        if key in out:
            steps = out[key]
            print(f"  where {label}'s time goes (CPU s, steps timed one by one): "
                  + ", ".join(f"{name} {seconds:.2f}" for name, seconds in steps.items()))
    print("score_and_store on the demo world's own clients (reads the KPI store, writes Prediction rows):")
    if version is not None:
        written, wall, cpu = timed(profit.score_and_store)
        out["profit_store"] = (written, wall, cpu)
        print(f"  profitability: {written} clients in {wall:.2f} s wall, {cpu:.2f} s CPU")
    written, wall, cpu = timed(churn_score_and_store, version=churn_version)
    out["churn_store"] = (written, wall, cpu)
    print(f"  churn (v{churn_version.version}): {written} clients in {wall:.2f} s wall, {cpu:.2f} s CPU")
    return out


def summary(args, trained: dict, single: dict, batch: dict) -> None:
    print("\n== Summary")
    for kind, t in trained.items():
        print(f"training {kind}: {t['wall']:.1f} s wall, {t['cpu']:.1f} s CPU ({t['run'].status})")
    if single:
        med, direct = statistics.median(single["project"]), statistics.median(single["direct"])
        print(f"single client: predict_client median {med:.2f} ms, p95 {p95(single['project']):.2f} ms "
              f"(goal < {SINGLE_GOAL_MS:g} ms: {verdict(med < SINGLE_GOAL_MS)}); direct model.predict "
              f"{direct:.3f} ms; ratio {med / direct:.1f}x")
    else:
        print("single client: NOT MEASURED, no profitability model could be trained on this world")
    for key, label in (("profit_predict", "profitability model.predict"),
                       ("profit_score", "profitability scoring with intervals and explanations"),
                       ("churn_proba", "churn predict_proba"), ("churn_score", "churn score_frame with reasons")):
        if key in batch:
            print(f"{args.batch:,} clients, {label}: {batch[key][1]:.2f} s (goal < {BATCH_GOAL_S:g} s: "
                  f"{verdict(batch[key][1] < BATCH_GOAL_S)})")
        else:
            print(f"{args.batch:,} clients, {label}: NOT MEASURED (no model)")
    print(f"load average at end: {load_text()}")


if __name__ == "__main__":
    main()
