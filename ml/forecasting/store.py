"""Stored demand forecasts: writing a forecast of a desk series as rows, reading them back, and
recording their live accuracy once the periods they forecast are complete.

Each forecast run stores, per series and origin, the forecast `forecast()` served (`served=True`:
"ensemble" or the single model or fallback it chose) and every model behind it -- the members'
own calibrated forecasts and the naive and seasonal naive baselines, always -- so live accuracy
is measured per series and model, baselines included.

Accuracy (`record_actuals`): for every stored forecast with at least one complete period, MASE
(scaled by the one-step naive error of the series' history up to the origin, as the backtests
scale it), sMAPE and 80% coverage over the periods that have actuals, one ForecastAccuracy row
per (series, model, origin), updated as more periods complete.

Drift rule: a model drifts when its live MASE exceeds `FORECAST_DRIFT_RATIO` (default
`DRIFT_FACTOR`, 1.5) x its backtest MASE, judged only once `FORECAST_DRIFT_MIN_PERIODS` (default
`DRIFT_MIN_PERIODS`, 4) periods have actuals. 1.5 was the tolerance the ensemble used to drop
a member when it weighted members by inverse MASE (the median rule now keeps members within 2x
of the best, `weights`); below four periods one bad week decides the ratio. The flag and the
figures (live MASE, backtest MASE, ratio, factor) are on the row;
`ml.forecasting.signals.accuracy_recorded` says which rows were written, and the alerts app,
listening, raises the drifting ones (ml names no app that listens).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from django.db import transaction

from ml.forecasting.bands import COLUMNS
from ml.forecasting.capacity import setting
from ml.forecasting.desk import DeskSeries
from ml.forecasting.metrics import coverage, mase, smape
from ml.forecasting.signals import accuracy_recorded
from ml.models import Forecast, ForecastAccuracy

VERSION = "ml.forecasting/1"
DRIFT_FACTOR = 1.5
DRIFT_MIN_PERIODS = 4


def _parameters(frame: pd.DataFrame, model: str) -> str:
    attrs = frame.attrs
    return json.dumps(
        {
            "served_model": attrs.get("model"),
            "note": attrs.get("note"),
            "weights": attrs.get("weights", {}) if model in ("ensemble", attrs.get("model")) else {},
            "weight": attrs.get("weights", {}).get(model),
            "season_length": attrs.get("season_length"),
            "seasonal": attrs.get("seasonal"),
            "origins": attrs.get("origins"),
            "regressors": attrs.get("regressors") or {},
            "arima_holidays": bool(attrs.get("arima_holidays")),
        },
        default=str,
    )


def model_bands(frame: pd.DataFrame) -> dict[str, tuple[dict[str, list[float]], bool]]:
    """model -> (its band as lists, served?) for the forecast frame and every model behind it."""
    served = frame.attrs.get("model", "forecast")
    bands = {name: (band, False) for name, band in {**frame.attrs.get("baselines", {}),
                                                     **frame.attrs.get("members", {})}.items()}
    bands[served] = ({c: [float(v) for v in frame[c]] for c in COLUMNS}, True)
    return bands


@transaction.atomic
def store_forecast(series: DeskSeries, frame: pd.DataFrame) -> int:
    """Write `frame` (forecast() of `series.values`) and the models behind it as Forecast rows
    from the series' last period; rows of the same series, model and origin are replaced.
    Returns the number of rows written."""
    origin = series.values.index[-1].date()
    backtest = frame.attrs.get("backtest", {})
    Forecast.objects.filter(series_key=series.key, origin=origin).delete()
    rows = []
    for model, (band, served) in model_bands(frame).items():
        score = backtest.get(model, {}).get("mase")
        parameters = _parameters(frame, model)
        for step, period in enumerate(frame.index, start=1):
            values = {c: float(band[c][step - 1]) for c in COLUMNS}
            rows.append(Forecast(
                series_key=series.key, measure=series.measure, scope=series.scope, label=series.label[:200],
                frequency=series.frequency, model=model, served=served, origin=origin, step=step,
                period=pd.Timestamp(period).date(), backtest_mase=score, version=VERSION, parameters=parameters,
                **values,
            ))
    Forecast.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def stored_forecast(series_key: str, origin: date | None = None, model: str | None = None) -> pd.DataFrame:
    """A stored forecast as forecast() returns it (mean, lo_80, hi_80, lo_95, hi_95 by period):
    the served one unless `model` is named, from `origin` (default: the latest stored)."""
    rows = Forecast.objects.filter(series_key=series_key)
    rows = rows.filter(model=model) if model else rows.filter(served=True)
    if origin is None:
        origin = rows.order_by("-origin").values_list("origin", flat=True).first()
    rows = rows.filter(origin=origin).order_by("step")
    records = list(rows.values("period", "model", "backtest_mase", "actual", *COLUMNS))
    frame = pd.DataFrame(records, columns=["period", "model", "backtest_mase", "actual", *COLUMNS])
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("period")), name="period")
    frame.attrs.update({"series_key": series_key, "origin": origin,
                        "model": records[0]["model"] if records else model})
    return frame


def _score(rows: list[Forecast], history: np.ndarray) -> dict:
    actual = np.array([r.actual for r in rows], dtype=float)
    mean = np.array([r.mean for r in rows], dtype=float)
    live = mase(actual, mean, history)
    backtest = rows[0].backtest_mase
    factor = float(setting("FORECAST_DRIFT_RATIO", DRIFT_FACTOR))
    enough = len(rows) >= int(setting("FORECAST_DRIFT_MIN_PERIODS", DRIFT_MIN_PERIODS))
    ratio = live / backtest if np.isfinite(live) and backtest and backtest > 0 else None
    return {
        "periods_scored": len(rows),
        "mase": live if np.isfinite(live) else None,
        "smape": smape(actual, mean),
        "coverage_80": coverage(actual, [r.lo_80 for r in rows], [r.hi_80 for r in rows]),
        "backtest_mase": backtest,
        "drift_ratio": ratio,
        "drift_factor": factor,
        "drifted": bool(ratio is not None and enough and ratio > factor),
    }


@transaction.atomic
def record_actuals(series: list[DeskSeries]) -> list[ForecastAccuracy]:
    """Fill in the actuals of stored forecast periods that `series` now covers and write the
    accuracy of every (series, model, origin) with at least one of them. Returns the accuracy
    rows written or updated."""
    written = []
    for one in series:
        values = one.values
        end = values.index[-1].date()
        pending = Forecast.objects.filter(series_key=one.key, period__lte=end, origin__lt=end)
        origins = sorted(set(pending.values_list("origin", flat=True)))
        for origin in origins:
            history = values[values.index <= pd.Timestamp(origin)].to_numpy()
            rows = list(pending.filter(origin=origin).order_by("model", "step"))
            for row in rows:
                row.actual = float(values.get(pd.Timestamp(row.period), np.nan))
            rows = [r for r in rows if np.isfinite(r.actual)]
            Forecast.objects.bulk_update(rows, ["actual"], batch_size=2000)
            by_model: dict[str, list[Forecast]] = {}
            for row in rows:
                by_model.setdefault(row.model, []).append(row)
            for model, scored in by_model.items():
                figures = _score(scored, history)
                accuracy, _ = ForecastAccuracy.objects.update_or_create(
                    series_key=one.key, model=model, origin=origin,
                    defaults={"served": scored[0].served, **figures},
                )
                written.append(accuracy)
    if written:
        accuracy_recorded.send(sender=ForecastAccuracy, ids=[a.pk for a in written])
    return written


@dataclass
class DemandRun:
    """What `forecast_demand` did: the series forecast, rows written, accuracy recorded, the
    capacity plan of the desk's labour hours and its recommendations."""

    origin: date | None = None
    series: int = 0
    rows: int = 0
    accuracy: list[ForecastAccuracy] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    plan: pd.DataFrame | None = None
    recommendations: list = field(default_factory=list)
    seconds: float = 0.0


def long_horizon_months(weeks: int) -> int:
    """Months that cover `weeks` weeks (the monthly series are forecast past 26 weeks)."""
    return math.ceil(weeks * 7 / 30.44)


def forecast_demand(horizon: int | None = 13, *, top: int | None = 10, as_of: date | None = None,
                    members: tuple[str, ...] | None = None, utilisation: float | None = None,
                    progress=None) -> DemandRun:
    """Build the desk's series, record the accuracy of earlier forecasts, forecast every series
    `horizon` weeks ahead (and monthly past 26 weeks), store them, and plan capacity on the
    desk's labour hours. The one service the command (and later a task) calls; a horizon or top
    of None is the setting's (FORECAST_HORIZON_WEEKS, FORECAST_TOP_CLIENTS)."""
    from ml.forecasting.api import forecast
    from ml.forecasting.capacity import HOLIDAY_COUNTRY, capacity_gap, proactive_share, recommendations, setting
    from ml.forecasting.desk import TOP_CLIENTS, desk_series, onboardings, series_regressors
    from ml.forecasting.onboardings import DEFAULT_REGRESSORS, REGRESSOR_SETS

    horizon = int(setting("FORECAST_HORIZON_WEEKS", 13)) if horizon is None else horizon
    top = int(setting("FORECAST_TOP_CLIENTS", TOP_CLIENTS)) if top is None else top
    started = time.perf_counter()
    run = DemandRun()
    weekly = desk_series(as_of, top=top, frequency="W")
    plans = [(weekly, horizon)]
    if horizon > 26:
        plans.append((desk_series(as_of, top=top, frequency="M"), long_horizon_months(horizon)))
    # Prophet takes the country's public holidays (ARIMA too, as a regressor, when the setting
    # says so); Prophet and ARIMA the known onboardings.
    country = setting("FORECAST_HOLIDAY_COUNTRY", HOLIDAY_COUNTRY)
    arima_holidays = setting("FORECAST_ARIMA_HOLIDAYS", None)  # None: forecast()'s own default
    columns = REGRESSOR_SETS[setting("FORECAST_ONBOARDING_REGRESSORS", DEFAULT_REGRESSORS)]
    went_live = onboardings() if columns else None
    desk_hours = None
    for series_list, steps in plans:
        run.accuracy += record_actuals(series_list)
        for one in series_list:
            try:
                regressors = series_regressors(one, went_live, steps, columns)
                frame = forecast(one.values, steps, members=members, country=country, regressors=regressors,
                                 arima_holidays=arima_holidays)
            except Exception as error:  # one series must not stop the others; said in the report
                run.failed[one.key] = f"{type(error).__name__}: {error}"[:200]
                continue
            run.rows += store_forecast(one, frame)
            run.series += 1
            if one.key == "hours:desk" and one.frequency == "W":
                desk_hours = frame
            if progress:
                progress(f"{one.key}: {frame.attrs['model']}")
    run.origin = weekly[0].end if weekly else None
    if desk_hours is not None:
        run.plan = capacity_gap(desk_hours, utilisation=utilisation)
        run.recommendations = recommendations(run.plan, proactive_share(run.origin))
    run.seconds = time.perf_counter() - started
    return run
