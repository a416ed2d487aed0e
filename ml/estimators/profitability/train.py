"""Training the profitability model: time-ordered validation, a small documented search over
XGBoost and Random Forest, split conformal intervals, metrics beside the naive baseline.

Months (as-of months whose next quarter is known, oldest first):
    [ fit ............ ] gap [ calibration (6) ] gap [ test (6, held out) ]
(calibration and test shrink to as few as 3 months each when the history is about two years:
`block_months`).
A gap of HORIZON - 1 months is left before each later block, so every row a block learns or
calibrates from has its whole next quarter known by the block's first month: nothing is ever
trained on months after the months it is measured on.

Search (documented, small): XGBoost (absolute-error objective, learning rate 0.05, subsample
and column sample 0.8, min child weight 5) with max_depth in {2, 3, 4} x trees in {150, 400};
Random Forest (200 trees, max_features 0.3) with min_samples_leaf in {5, 20}. Each candidate is
scored by MAE over up to three time-ordered inner splits of the fit months (validate on a block
of 2 months, train on the months before it less the gap, at least 3 months); the best is refit on all fit months.

What is learned: the change from last quarter's margin divided by the client's scale
(max(|revenue last quarter|, SCALE_FLOOR)), so one tree serves small and large clients alike;
the prediction is baseline + change x scale. Intervals: normalised split conformal on the
calibration months, with the score |y - y_hat| / (scale x spread), where spread is each row's
expected scaled error from a small model of the inner splits' errors (spread.py); its 90%
quantile q at the finite-sample rank ceil((n + 1) 0.9); the interval is y_hat +- q x scale x
spread. The version served is then refit
on every month known before the test months (fit + calibration: on the development seeds this
took MAE 2-5 points further below the baseline's and left coverage where it was) and keeps
that q. Coverage is measured on the test months, which no fit and no calibration saw.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ml.features import months
from ml.registry import Trained, TrainingContext, Window, frame_hash, trainer

from . import dataset
from .dataset import SCALE_FLOOR, scale
from .spread import fit_spread, spread

KIND = "profitability"
TEST_MONTHS = 6
CALIBRATION_MONTHS = 6
MIN_BLOCK_MONTHS = 3
INNER_SPLITS = 3
INNER_BLOCK = 2
MIN_TRAIN_MONTHS = 3
COVERAGE = 0.90
R2_TARGET = 0.90  # the original plan's target, reported beside the measured R²
XGB_GRID = [{"max_depth": d, "n_estimators": n} for d in (2, 3, 4) for n in (150, 400)]
RF_GRID = [{"min_samples_leaf": leaf} for leaf in (5, 20)]
SEED = 7


def make_model(family: str, params: dict):
    if family == "xgboost":
        import xgboost

        return xgboost.XGBRegressor(
            objective="reg:absoluteerror", learning_rate=0.05, subsample=0.8, colsample_bytree=0.8,
            min_child_weight=5, tree_method="hist", n_jobs=1, random_state=SEED, **params,
        )
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=200, max_features=0.3, n_jobs=1, random_state=SEED, **params)


def predict_values(model, X: pd.DataFrame, baseline: np.ndarray) -> np.ndarray:
    return np.asarray(baseline, dtype="float64") + model.predict(X) * scale(X)


def _fit(family: str, params: dict, frame: dataset.Frame):
    model = make_model(family, params)
    model.fit(frame.X, frame.change.to_numpy() / scale(frame.X))
    return model


def _mae(y, p) -> float:
    return float(np.mean(np.abs(np.asarray(y) - np.asarray(p))))


def _scores(y: np.ndarray, p: np.ndarray) -> dict:
    y, p = np.asarray(y, dtype="float64"), np.asarray(p, dtype="float64")
    ss = float(np.sum((y - y.mean()) ** 2))
    return {
        "mae": _mae(y, p),
        "rmse": float(np.sqrt(np.mean((y - p) ** 2))),
        "r2": float(1 - np.sum((y - p) ** 2) / ss) if ss > 0 else float("nan"),
    }


def block_months(n: int) -> int:
    """Months in each of the test and calibration blocks: TEST_MONTHS (6) when the history
    allows it, fewer (down to MIN_BLOCK_MONTHS) for a history of about two years, so an MSP
    that connects two years of books still gets a measured model."""
    fixed = 3 * (dataset.HORIZON - 1) + INNER_BLOCK + MIN_TRAIN_MONTHS
    return min(TEST_MONTHS, CALIBRATION_MONTHS, (n - fixed) // 2)


def split_months(all_months: list[int]) -> tuple[list[int], list[int], list[int]]:
    """(fit, calibration, test) as-of months, with a gap of HORIZON - 1 before each later block."""
    block = block_months(len(all_months))
    if block < MIN_BLOCK_MONTHS:
        needed = 2 * MIN_BLOCK_MONTHS + 3 * (dataset.HORIZON - 1) + INNER_BLOCK + MIN_TRAIN_MONTHS
        raise ValueError(
            f"Profitability needs at least {needed} as-of months whose next quarter is known "
            f"(about {needed + dataset.HORIZON + 2} months of history); the KPI store has {len(all_months)}"
        )
    test = all_months[-block:]
    before = [m for m in all_months if m <= test[0] - dataset.HORIZON]
    calibration = before[-block:]
    fit = [m for m in before if m <= calibration[0] - dataset.HORIZON]
    return fit, calibration, test


def inner_splits(fit_months: list[int]) -> list[tuple[list[int], list[int]]]:
    """Time-ordered (train, validate) month lists over the fit months: the last INNER_SPLITS
    blocks of INNER_BLOCK months, each trained on the months before it less the gap."""
    splits = []
    for k in range(INNER_SPLITS, 0, -1):
        validate = fit_months[len(fit_months) - k * INNER_BLOCK: len(fit_months) - (k - 1) * INNER_BLOCK]
        train = [m for m in fit_months if m <= validate[0] - dataset.HORIZON]
        if len(train) >= MIN_TRAIN_MONTHS:
            splits.append((train, validate))
    return splits


def search(frame: dataset.Frame, fit_months: list[int], progress=None) -> tuple[str, dict, list[dict], tuple]:
    """The best (family, params) by mean inner-split MAE, every candidate's score, and the best
    one's out-of-sample rows and scaled absolute errors on the inner splits (what the spread
    model learns from, so those fits are not made twice)."""
    candidates = [("xgboost", p) for p in XGB_GRID] + [("random_forest", p) for p in RF_GRID]
    splits = inner_splits(fit_months)
    tried, held = [], []
    for i, (family, params) in enumerate(candidates):
        maes, rows, errors = [], [], []
        for train, validate in splits:
            tr = frame.rows(np.isin(frame.months, train))
            va = frame.rows(np.isin(frame.months, validate))
            model = _fit(family, params, tr)
            predicted = predict_values(model, va.X, va.baseline)
            maes.append(_mae(va.target, predicted))
            rows.append(va.X)
            errors.append(np.abs(va.target.to_numpy() - predicted) / scale(va.X))
        tried.append({"family": family, "params": params, "inner_mae": float(np.mean(maes))})
        held.append((pd.concat(rows), np.concatenate(errors)))
        if progress:
            progress(10 + int(60 * (i + 1) / len(candidates)), f"searched {family} {params}")
    best = min(range(len(tried)), key=lambda k: tried[k]["inner_mae"])
    return tried[best]["family"], tried[best]["params"], tried, held[best]


def conformal_quantile(scores: np.ndarray, coverage: float = COVERAGE) -> float:
    """The split-conformal quantile: the ceil((n + 1) coverage)-th smallest score."""
    scores = np.sort(np.asarray(scores, dtype="float64"))
    rank = min(len(scores), math.ceil((len(scores) + 1) * coverage))
    return float(scores[rank - 1])


def fit_and_measure(frame: dataset.Frame, progress=None) -> dict:
    """Everything train() records, without the registry (benches and tests can call it)."""
    all_months = dataset.history_months(frame)
    fit_m, cal_m, test_m = split_months(all_months)
    fit = frame.rows(np.isin(frame.months, fit_m))
    cal = frame.rows(np.isin(frame.months, cal_m))
    test = frame.rows(np.isin(frame.months, test_m))
    family, params, tried, (inner_rows, inner_errors) = search(frame, fit_m, progress)
    if progress:
        progress(72, "learning each client's spread from the inner splits' errors")
    spread_model = fit_spread(inner_errors, inner_rows)
    if progress:
        progress(75, f"fitting {family} {params} on {len(fit)} client-months")
    first = _fit(family, params, fit)
    errors = np.abs(cal.target.to_numpy() - predict_values(first, cal.X, cal.baseline)) / scale(cal.X)
    q = conformal_quantile(errors / spread(spread_model, cal.X))
    # The version served is refit on every month known before the test (fit, gap and
    # calibration months); the quantile stays the one the calibration months gave.
    known = frame.rows(frame.months <= test_m[0] - dataset.HORIZON)
    if progress:
        progress(85, f"refitting on {len(known)} client-months known before the held-out months")
    model = _fit(family, params, known)

    predicted = predict_values(model, test.X, test.baseline)
    width = q * scale(test.X) * spread(spread_model, test.X)
    y = test.target.to_numpy()
    metrics = _scores(y, predicted)
    base = _scores(y, test.baseline.to_numpy())
    metrics.update({f"baseline_{k}": v for k, v in base.items()})
    metrics["coverage_90"] = float(np.mean((y >= predicted - width) & (y <= predicted + width)))
    metrics["r2_target"] = R2_TARGET
    metrics["mae_vs_baseline"] = metrics["mae"] / base["mae"] - 1 if base["mae"] else float("nan")
    metrics["held_out_rows"] = len(test)
    metrics["mean_interval_width"] = float(np.mean(2 * width))

    if progress:
        progress(90, "global importance (mean |SHAP| on the held-out months)")
    from .explain import global_importance

    return {
        "model": model, "spread": spread_model, "family": family, "params": params, "tried": tried, "quantile": q,
        "metrics": metrics, "importance": global_importance(model, test.X),
        "months": {"fit": fit_m, "calibration": cal_m, "test": test_m},
        "rows": {"fit": len(fit), "calibration": len(cal), "refit": len(known), "test": len(test)},
    }


@trainer(KIND)
def train(ctx: TrainingContext) -> Trained:
    ctx.progress(2, "building the profitability frame from the KPI store and the genome")
    frame = dataset.build()
    if not len(frame):
        raise ValueError("No client-month has a complete next quarter yet: build features first")
    data_hash = frame_hash(frame.X, frame.baseline, frame.target)
    ctx.check_data_hash(data_hash)
    ctx.progress(8, f"{len(frame)} client-months")
    result = fit_and_measure(frame, ctx.progress)
    label = dataset.month_label
    m = result["months"]
    params = {
        "family": result["family"],
        "hyperparameters": result["params"],
        "search": result["tried"],
        "features": list(frame.X.columns),
        "target": "gross margin over the next 3 months; the model learns (target - baseline) / scale",
        "baseline": "gross margin over the last 3 months",
        "scale_floor": SCALE_FLOOR,
        "conformal_quantile": result["quantile"],
        "coverage": COVERAGE,
        "fit_months": [label(m["fit"][0]), label(m["fit"][-1])],
        "calibration_months": [label(x) for x in m["calibration"]],
        "rows": result["rows"],
        "importance": result["importance"],
    }
    # The model and its spread model serve together: XGBoost's JSON for both when the model is
    # XGBoost, a joblib pickle (loaded only after its hash checks) for a Random Forest.
    artifact = {"model": result["model"], "spread": result["spread"]}
    fmt = "xgboost-json-set" if result["family"] == "xgboost" else "joblib"
    ctx.progress(98, "registering")
    all_months = dataset.history_months(frame)
    return Trained(
        artifact=artifact,
        fmt=fmt,
        params=params,
        window=Window(
            months.to_date(all_months[0]), months.to_date(all_months[-1]), tuple(label(x) for x in m["test"])
        ),
        data_hash=data_hash,
        metrics=result["metrics"],
        metric="mae",
        higher_is_better=False,
    )
