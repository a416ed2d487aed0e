"""One forecasting run: baselines, members, their rolling-origin backtest, the weights, the
calibrated intervals and the combined forecast -- or the fallback when the history cannot carry
models.

Fallbacks (the forecast's note says which and why):
- 1 to 3 points, or fewer than `MIN_TRAIN` + 2: the naive forecast; no model can be fitted and
  backtested on so little.
- a flat history: the naive forecast, with zero-width intervals (nothing varied to measure).
- intermittent counts (`baselines.is_intermittent`): Croston-SBA; ETS and ARIMA assume a
  continuous level and forecast fractions of a spike.
- every member failed (or none applies): the baseline, naive or seasonal naive, with the lower
  backtest MASE.

Backtest origins: up to `ORIGINS` (4) origins ending `horizon` periods before the end, spaced
by up to `horizon` (non-overlapping windows when the history allows) and never earlier than
`MIN_TRAIN` (10) points -- two full seasons when the series is seasonal, so the seasonal members
are judged as the seasonal models they are. A window shorter than the horizon is used when the
history is short.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ml.forecasting import weights as weighting
from ml.forecasting.bands import Band
from ml.forecasting.baselines import croston_sba, is_intermittent, naive, seasonal_naive
from ml.forecasting.history import History
from ml.forecasting.intervals import Calibration, calibrate
from ml.forecasting.members import make_member
from ml.forecasting.metrics import mase_scale

MIN_TRAIN = 10
ORIGINS = 4
BASELINES = ("naive", "seasonal_naive")


@dataclass
class Run:
    model: str
    note: str
    band: Band
    members: dict[str, Band] = field(default_factory=dict)  # every model and baseline, calibrated
    weights: dict[str, float] = field(default_factory=dict)
    scores: dict[str, dict] = field(default_factory=dict)  # backtest MASE and interval rule per model
    failed: dict[str, str] = field(default_factory=dict)
    origins: list[int] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per member (fit and backtest)


def backtest_origins(length: int, horizon: int, min_train: int, count: int = ORIGINS) -> list[int]:
    last = max(min_train, length - horizon)
    if last >= length:
        return []
    room = last - min_train
    step = max(1, min(horizon, room // (count - 1))) if count > 1 and room > 0 else 1
    return sorted({last - i * step for i in range(count) if last - i * step >= min_train})


def _scale(prefix: np.ndarray) -> float:
    """The one-step naive MAE of a history; its mean absolute value (or 1) when that is zero."""
    scale = mase_scale(prefix)
    if np.isfinite(scale) and scale > 0:
        return scale
    level = float(np.mean(np.abs(prefix))) if len(prefix) else 0.0
    return level if level > 0 else 1.0


def _fallback(history: History, horizon: int, season: int | None, model: str, note: str) -> Run:
    values = history.values
    baselines = {"naive": naive(values, horizon), "seasonal_naive": seasonal_naive(values, horizon, season)}
    band = croston_sba(values, horizon) if model == "croston_sba" else baselines["naive"]
    members = dict(baselines, **({model: band} if model not in baselines else {}))
    if np.all(values >= 0):
        band = band.clipped_at(0.0)
        members = {name: b.clipped_at(0.0) for name, b in members.items()}
    return Run(model=model, note=note, band=band, members=members, weights={model: 1.0})


def fallback_reason(values: np.ndarray) -> tuple[str, str] | None:
    n = len(values)
    if n <= 3:
        return "naive", f"{n} point{'s' if n != 1 else ''}: too few for any model; fell back to the naive forecast"
    if np.ptp(values) == 0:
        return "naive", "flat history: fell back to the naive forecast (zero-width intervals: nothing varied)"
    if is_intermittent(values):
        share = 1 - np.count_nonzero(values) / n
        return "croston_sba", f"intermittent counts ({share:.0%} zero periods): fell back to Croston-SBA"
    if n < MIN_TRAIN + 2:
        return "naive", f"{n} points: too short to fit and backtest models; fell back to the naive forecast"
    return None


def run(history: History, horizon: int, season: int | None, names: tuple[str, ...], origin_count: int = ORIGINS) -> Run:
    """Forecast `horizon` periods after `history` (see the module docstring)."""
    # The state-space and ETS fits multiply tiny matrices thousands of times; OpenBLAS threads
    # only spin on them (an ARIMA(0,1,1) fit here: 377 ms of CPU with threads, 9 ms without).
    with _blas_controller().limit(limits=1, user_api="blas"):
        return _run(history, horizon, season, names, origin_count)


@lru_cache(maxsize=1)
def _blas_controller():
    """One threadpoolctl controller per process: finding the loaded libraries costs 3.5 ms of
    CPU, a limit through a controller that knows them 0.015 ms. It covers the libraries loaded
    when it is made: numpy's and, imported here first, SciPy's own OpenBLAS."""
    import scipy.linalg  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _run(history: History, horizon: int, season: int | None, names: tuple[str, ...], origin_count: int) -> Run:
    values = history.values
    reason = fallback_reason(values)
    min_train = max(MIN_TRAIN, 2 * history.season) if history.season else MIN_TRAIN
    origins = backtest_origins(len(values), horizon, min_train, origin_count) if reason is None else []
    if reason is None and not origins:
        reason = ("naive", "too short to backtest the models; fell back to the naive forecast")
    if reason is not None:
        return _fallback(history, horizon, season, *reason)

    prefixes = [history.prefix(o) for o in origins]
    actuals = [values[o : o + horizon] for o in origins]
    started = time.perf_counter()
    finals = {"naive": naive(values, horizon), "seasonal_naive": seasonal_naive(values, horizon, season)}
    tested = {
        "naive": [naive(p.values, len(a)) for p, a in zip(prefixes, actuals, strict=True)],
        "seasonal_naive": [seasonal_naive(p.values, len(a), season) for p, a in zip(prefixes, actuals, strict=True)],
    }
    seconds = {"baselines": time.perf_counter() - started}
    failed: dict[str, str] = {}
    for name in names:
        started = time.perf_counter()
        try:
            finals[name], tested[name] = _fit_and_backtest(name, history, prefixes, actuals, horizon)
        except Exception as error:  # a member that cannot fit this series must not sink the forecast
            failed[name] = f"{type(error).__name__}: {error}"[:200]
        seconds[name] = time.perf_counter() - started

    started = time.perf_counter()
    scales = [_scale(p.values) for p in prefixes]
    per_origin = {name: _mases(actuals, bands, scales) for name, bands in tested.items()}
    pool = {name: errors for name, errors in per_origin.items() if name not in BASELINES}
    if pool:
        weights = weighting.member_weights({name: float(np.mean(e)) for name, e in pool.items()})
    else:  # no model fitted: the baseline that backtested better
        weights = {min(BASELINES, key=lambda name: float(np.mean(per_origin[name]))): 1.0}

    calibrations = {name: calibrate(tested[name], actuals) for name in tested}
    members = {name: calibrations[name].apply(finals[name]) for name in finals}
    scores = {name: _score(per_origin[name], calibrations[name]) for name in tested}
    if len(weights) > 1:
        # The ensemble's backtest, each origin combined with the weights the other origins give,
        # calibrates the combined intervals.
        loo = weighting.leave_one_origin_out(pool)
        ensemble_tests = []
        for i in range(len(origins)):
            origin_weights = loo[i] or weights
            bands = {n: calibrations[n].apply(tested[n][i]) for n in origin_weights}
            ensemble_tests.append(weighting.combine(bands, origin_weights))
        calibration = calibrate(ensemble_tests, actuals)
        band = calibration.apply(weighting.combine(members, weights))
        model = "ensemble"
        scores["ensemble"] = _score(_mases(actuals, ensemble_tests, scales), calibration)
    else:
        model = next(iter(weights))
        band, calibration = members[model], calibrations[model]
    if np.all(values >= 0):
        band = band.clipped_at(0.0)
        members = {name: b.clipped_at(0.0) for name, b in members.items()}
    if pool:
        note = _note(model, weights, origins, calibration.rule, failed)
    else:
        why = f"every model failed ({', '.join(sorted(failed))})" if failed else "no model applies to this series"
        note = f"{why}: fell back to the {model} baseline, the better one in backtests; intervals: {calibration.rule}"
    seconds["combination"] = time.perf_counter() - started
    return Run(model, note, band, members, weights, scores, failed, origins, seconds)


def _fit_and_backtest(
    name: str, history: History, prefixes: list[History], actuals: list[np.ndarray], horizon: int
) -> tuple[Band, list[Band]]:
    """The member's forecast from the whole history and its forecasts at each backtest origin
    (structure from the whole history, parameters from the first origin; see `members`)."""
    member = make_member(name)
    final = member.fit(history)
    first = member.fit(prefixes[0], warm=final)
    fits = [first] + [first.at(prefix) for prefix in prefixes[1:]]
    bands = [fit.forecast(len(actual)) for fit, actual in zip(fits, actuals, strict=True)]
    band = final.forecast(horizon)
    if not band.is_finite() or not all(b.is_finite() for b in bands):
        raise ValueError("non-finite forecast")
    return band, bands


def _mases(actuals: list[np.ndarray], bands: list[Band], scales: list[float]) -> list[float]:
    return [float(np.mean(np.abs(a - b.mean))) / s for a, b, s in zip(actuals, bands, scales, strict=True)]


def _score(errors: list[float], calibration: Calibration) -> dict:
    return {"mase": round(float(np.mean(errors)), 4), **calibration.as_dict()}


def _note(model: str, weights: dict[str, float], origins: list[int], intervals: str, failed: dict) -> str:
    parts = []
    if model == "ensemble" and weighting.RULE == "median":
        parts.append(
            f"ensemble: the median of the {len(weights)} models within {weighting.trim():g}x of the best backtest "
            f"MASE over {len(origins)} origins ({', '.join(sorted(weights))})"
        )
    elif model == "ensemble":
        shares = ", ".join(f"{name} {w:.2f}" for name, w in sorted(weights.items(), key=lambda kv: -kv[1]))
        squared = " squared" if weighting.POWERS.get(weighting.RULE) == 2 else ""
        parts.append(
            f"ensemble of the models within {weighting.trim():g}x of the best backtest MASE over {len(origins)} "
            f"origins, weighted by inverse MASE{squared} ({shares})"
        )
    else:
        parts.append(f"{model} alone: the only model within {weighting.trim():g}x of the best backtest MASE")
    parts.append(f"intervals: {intervals}")
    if failed:
        parts.append(f"failed: {', '.join(sorted(failed))}")
    return "; ".join(parts)
