"""`backtest()`: rolling-origin evaluation of `forecast()` and of every member and baseline.

At each origin the whole of `forecast()` runs on the history up to it -- its own inner
backtest, weights and interval calibration included -- so the figures for the ensemble are
out-of-sample at every level: nothing after an origin is seen by anything forecasting from it.
Errors are MASE (scaled by the one-step naive error of the history up to the origin, or the
seasonal naive one with `seasonal_mase=True`), sMAPE, and the share of actual values inside the
80% and 95% intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.forecasting.api import clean, forecast
from ml.forecasting.metrics import coverage, mase, smape
from ml.forecasting.periods import resolve_offset, season_length_for

METRICS = ("mase", "smape", "coverage_80", "coverage_95")


def origin_positions(length: int, horizon: int, origins, step: int | None = None) -> list[int]:
    """Positions (number of points of history) of the forecast origins: the last `origins` ones
    `step` apart (default: `horizon`, non-overlapping windows) ending `horizon` before the end,
    or the positions given."""
    if not isinstance(origins, int):
        return sorted(int(o) for o in origins)
    step = step or horizon
    last = length - horizon
    return sorted(last - i * step for i in range(origins) if last - i * step >= 1)


def _row(name: str, band: dict, actual: np.ndarray, history: np.ndarray, season: int) -> dict:
    steps = len(actual)
    mean = np.asarray(band["mean"][:steps])
    return {
        "model": name,
        "mase": mase(actual, mean, history, season),
        "smape": smape(actual, mean),
        "coverage_80": coverage(actual, band["lo_80"][:steps], band["hi_80"][:steps]),
        "coverage_95": coverage(actual, band["lo_95"][:steps], band["hi_95"][:steps]),
    }


def backtest(
    series: pd.Series,
    horizon: int,
    origins=3,
    season_length: int | None = None,
    *,
    step: int | None = None,
    seasonal_mase: bool = False,
    **options,
) -> pd.DataFrame:
    """Mean errors and coverage per model over the origins, one row each: `forecast` (what
    `forecast()` returned: the ensemble or its fallback), each member, `naive` and
    `seasonal_naive`, with `origins` the number of origins a model was scored at.
    `attrs["per_origin"]` holds every origin's figures; `options` go to `forecast()`."""
    values, _ = clean(series)
    history = values.to_numpy()
    season = 1
    if seasonal_mase:
        season = season_length or season_length_for(resolve_offset(values.index, options.get("freq"))) or 1
    rows = []
    for position in origin_positions(len(values), horizon, origins, step):
        actual = history[position : position + horizon]
        frame = forecast(values.iloc[:position], horizon, season_length, **options)
        scored = {"forecast": {c: frame[c].to_numpy() for c in frame.columns}}
        scored.update(frame.attrs["members"])
        scored.update(frame.attrs["baselines"])
        for name, band in scored.items():
            row = _row(name, band, actual, history[:position], season)
            row.update(origin=str(values.index[position - 1]), forecast_model=frame.attrs["model"])
            rows.append(row)
    per_origin = pd.DataFrame(rows)
    summary = per_origin.groupby("model", sort=False)[list(METRICS)].mean()
    summary["origins"] = per_origin.groupby("model", sort=False).size()
    summary.attrs["per_origin"] = rows
    return summary


def against_members(per_origin: pd.DataFrame, members=("ets", "stl_ets", "arima", "theta", "prophet")):
    """MASE of every forecast (rows: one per series and origin, from `backtest`'s per-origin rows
    with a `series` column added) laid out one column per model, for comparing the ensemble with
    each member over the same forecasts: STL + ETS runs only on seasonal series and is plain ETS
    elsewhere, so its gaps take ETS's score; forecasts where a member still did not run (a
    fallback for a short, flat or intermittent series: no ensemble was made) are left out.
    Returns the frame and the number of forecasts left out."""
    wide = per_origin.pivot_table(index=["series", "origin"], columns="model", values="mase", aggfunc="first")
    members = [m for m in members if m in wide.columns]
    if "stl_ets" in members and "ets" in wide.columns:
        wide["stl_ets"] = wide["stl_ets"].fillna(wide["ets"])
    ran = wide[members].notna().all(axis=1)
    return wide[ran], int((~ran).sum())
