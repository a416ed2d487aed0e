"""What the pages and the API show of the demand forecasts, read from the stored rows (never a
model fitted on the request path):

- `catalogue()`: every series with a stored forecast -- its latest origin, the model served, that
  model's backtest MASE and its latest live accuracy (ForecastAccuracy);
- `accuracy(key)`: per model of the series' latest forecast, backtest MASE beside the live MASE,
  sMAPE, 80% coverage and drift flag of its most recent scored origin;
- `history(key, end)`: the series' own past periods up to the forecast's origin, built by
  `desk.series_history` exactly as the forecast's input was;
- `capacity_plan()`: the capacity gap and recommendations of the stored `hours:desk` forecast,
  against the roster as synced now (ml.forecasting.capacity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from django.db.models import Max

from ml.forecasting.desk import known_onboardings, parse_key, series_history
from ml.forecasting.store import stored_forecast
from ml.models import Forecast, ForecastAccuracy

HISTORY_PERIODS = {"W": 104, "M": 36}  # two years of weeks, three of months: enough to see a season
CAPACITY_KEY = "hours:desk"


@dataclass
class SeriesSummary:
    key: str
    measure: str
    scope: str
    label: str
    frequency: str
    origin: date
    model: str
    backtest_mase: float | None
    live: ForecastAccuracy | None = None  # the served model's latest scored accuracy

    @property
    def client_id(self) -> int | None:
        """The client of a client series (its key's last part), else None."""
        _measure, scope, value, _frequency = parse_key(self.key)
        return int(value) if scope == "client" else None


def catalogue(*, measure: str | None = None, scope: str | None = None, key: str | None = None,
              frequency: str | None = None) -> list[SeriesSummary]:
    """Every series with a stored served forecast, at its latest origin; desk first, then by key."""
    served = Forecast.objects.filter(served=True)
    for name, value in (("measure", measure), ("scope", scope), ("series_key", key), ("frequency", frequency)):
        if value:
            served = served.filter(**{name: value})
    latest = dict(served.values("series_key").annotate(last=Max("origin")).values_list("series_key", "last"))
    rows = {}
    for row in served.filter(step=1, origin__in=set(latest.values())).order_by("series_key"):
        if latest.get(row.series_key) == row.origin:
            rows[row.series_key] = row
    live = {}
    for acc in ForecastAccuracy.objects.filter(served=True, series_key__in=rows).order_by("series_key", "-origin"):
        live.setdefault(acc.series_key, acc)
    order = {"desk": 0, "category": 1, "priority": 2, "client": 3}
    found = [SeriesSummary(r.series_key, r.measure, r.scope, r.label, r.frequency, r.origin, r.model,
                           r.backtest_mase, live.get(r.series_key)) for r in rows.values()]
    return sorted(found, key=lambda s: (s.frequency != "W", order.get(s.scope, 9), s.measure != "tickets",
                                        s.label.lower(), s.key))


@dataclass
class ModelAccuracy:
    model: str
    served: bool
    weight: float | None
    backtest_mase: float | None
    live: ForecastAccuracy | None


def accuracy(key: str, origin: date | None = None) -> list[ModelAccuracy]:
    """Per model of the series' forecast at `origin` (default the latest): its backtest MASE
    then, and the live accuracy of its most recent origin with actuals (served model first)."""
    rows = Forecast.objects.filter(series_key=key, step=1)
    origin = origin or rows.aggregate(o=Max("origin"))["o"]
    if origin is None:
        return []
    live = {}
    for acc in ForecastAccuracy.objects.filter(series_key=key).order_by("model", "-origin"):
        live.setdefault(acc.model, acc)
    found = []
    for row in rows.filter(origin=origin):
        weight = _weight(row.parameters)
        found.append(ModelAccuracy(row.model, row.served, weight, row.backtest_mase, live.get(row.model)))
    return sorted(found, key=lambda m: (not m.served, m.model in ("naive", "seasonal_naive"), m.model))


def _weight(parameters: str) -> float | None:
    return _parameters(parameters).get("weight")


def _parameters(parameters: str) -> dict:
    import json

    try:
        return json.loads(parameters or "{}")
    except ValueError:
        return {}


def history(key: str, end: date, frequency: str = "W") -> pd.Series:
    """The series' last periods up to `end` (the forecast's origin), as its forecast saw them."""
    return series_history(key, end, HISTORY_PERIODS.get(frequency, 104))


@dataclass
class SeriesDetail:
    summary: SeriesSummary
    forecast: pd.DataFrame  # stored_forecast(): mean, lo/hi 80 and 95, actual, by period
    history: pd.Series
    models: list[ModelAccuracy] = field(default_factory=list)


def detail(key: str, model: str | None = None) -> SeriesDetail | None:
    """A series' latest stored forecast (the served one unless `model` is named), its history
    and every model's accuracy; None when nothing is stored for it."""
    found = catalogue(key=key)
    if not found:
        return None
    summary = found[0]
    frame = stored_forecast(key, origin=summary.origin, model=model)
    if frame.empty:
        return None
    return SeriesDetail(summary, frame, history(key, summary.origin, summary.frequency),
                        accuracy(key, summary.origin))


@dataclass
class CapacityPlan:
    origin: date
    model: str
    plan: pd.DataFrame  # capacity.capacity_gap(): per week needed, roster, gap and its interval
    recommendations: list
    proactive_share: float
    onboardings: list = field(default_factory=list)  # desk.KnownOnboarding going live in the plan's weeks
    regressors: dict = field(default_factory=dict)  # the forecast's regressors: columns and the members that took them


def capacity_plan() -> CapacityPlan | None:
    """The capacity gap of the latest stored weekly forecast of the desk's labour hours, and the
    clients known to go live in its weeks."""
    from ml.forecasting.capacity import capacity_gap, proactive_share, recommendations

    frame = stored_forecast(CAPACITY_KEY)
    if frame.empty:
        return None
    origin = frame.attrs["origin"]
    plan = capacity_gap(frame)
    share = proactive_share(origin)
    coming = known_onboardings(origin, plan.index[-1].date()) if len(plan) else []
    served = Forecast.objects.filter(series_key=CAPACITY_KEY, served=True, origin=origin).first()
    regressors = _parameters(served.parameters).get("regressors") or {} if served else {}
    return CapacityPlan(origin, frame.attrs["model"], plan, recommendations(plan, share), share, coming, regressors)
