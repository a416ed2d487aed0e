"""Prophet as an ensemble member, with holidays when the caller names a country or passes a frame.

Only for dated series (Prophet needs timestamps). Its seasonalities are left to Prophet's own
"auto" rules (yearly with two years of history, weekly for sub-weekly data with two weeks,
daily for sub-daily data with two days) when the series is seasonal, and all are off when it is
not. Intervals are Prophet's own: quantiles of its predictive samples (trend-change and noise
simulation), 400 samples for both levels from one draw.

Holidays: Prophet matches a holiday to the rows of its date. A weekly or monthly series has one
row per period, labelled by a single date, so a holiday on a Wednesday would match no row; each
holiday is therefore moved to the label of the period that contains it (a week or month labelled
by its end -- pandas' convention for `W` and `ME` -- rolls forward, one labelled by its start
rolls back). Daily and hourly series keep the holiday's own date.

Prophet is refitted at every backtest origin (it has no state to filter), about 70 ms a fit
here, and importing it costs about a second once per process: the slowest member by far.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ml.forecasting.bands import Band
from ml.forecasting.history import History

SAMPLES = 400


def _quiet_logs() -> None:
    # cmdstanpy logs two INFO lines per fit; a batch of thousands of fits would drown the log.
    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _timestamps(labels: pd.Index) -> pd.DatetimeIndex:
    if isinstance(labels, pd.PeriodIndex):
        return labels.to_timestamp(how="start")
    if isinstance(labels, pd.DatetimeIndex):
        return labels.tz_localize(None) if labels.tz is not None else labels
    raise ValueError("prophet needs a dated series")


def _period_label(dates: pd.Series, history: History) -> pd.Series:
    """Each date moved to the label of the period containing it (see the module docstring)."""
    labels = history.labels
    if isinstance(labels, pd.PeriodIndex):
        return dates.dt.to_period(labels.freq).dt.start_time
    offset = history.offset
    if offset is None or isinstance(offset, pd.offsets.Tick):
        return dates
    kind = type(offset).__name__
    if "Begin" in kind:
        return dates.map(offset.rollback)
    if "End" in kind or isinstance(offset, pd.offsets.Week):
        return dates.map(offset.rollforward)
    return dates


def holiday_frame(history: History) -> pd.DataFrame | None:
    country = history.extras.get("country")
    frame = history.extras.get("holidays")
    parts = []
    if country:
        from prophet.make_holidays import make_holidays_df

        stamps = _timestamps(history.labels)
        years = list(range(stamps[0].year, stamps[-1].year + 3))
        parts.append(make_holidays_df(year_list=years, country=country))
    if frame is not None:
        parts.append(pd.DataFrame(frame))
    if not parts:
        return None
    holidays = pd.concat(parts, ignore_index=True)
    holidays["ds"] = _period_label(pd.to_datetime(holidays["ds"]), history)
    return holidays.drop_duplicates(subset=["ds", "holiday"]).reset_index(drop=True)


class ProphetMember:
    name = "prophet"

    def fit(self, history: History, warm=None) -> _ProphetFit:
        from prophet import Prophet

        _quiet_logs()
        seasonality = "auto" if history.season else False
        model = Prophet(
            yearly_seasonality=seasonality,
            weekly_seasonality=seasonality,
            daily_seasonality=seasonality,
            holidays=holiday_frame(history),
            uncertainty_samples=SAMPLES,
        )
        frame = pd.DataFrame({"ds": _timestamps(history.labels), "y": history.values})
        model.fit(frame)
        return _ProphetFit(self, history, model)


class _ProphetFit:
    def __init__(self, member: ProphetMember, history: History, model):
        self.member, self.history, self.model = member, history, model

    def forecast(self, horizon: int) -> Band:
        model = self.model
        future = model.setup_dataframe(pd.DataFrame({"ds": _timestamps(self.history.future_labels(horizon))}))
        # predict() and predictive_samples() would each rebuild the seasonality and holiday
        # features (a pandas crosstab, most of a forecast's cost); they are built once here and
        # used for both, with Prophet's own formulas: the point forecast is predict()'s yhat
        # (MAP trend x (1 + multiplicative terms) + additive terms) and the samples are
        # predictive_samples()' vectorised draws, so the numbers are the same as through the
        # public calls (tests/test_forecasting.py checks it).
        features, _, components, _ = model.make_all_seasonality_features(future)
        matrix, beta = features.values, model.params["beta"]
        additive = np.nanmean(matrix @ (beta * components["additive_terms"].values).T, axis=1) * model.y_scale
        multiplicative = np.nanmean(matrix @ (beta * components["multiplicative_terms"].values).T, axis=1)
        point = np.asarray(model.predict_trend(future), dtype=float) * (1 + multiplicative) + additive
        iterations = model.params["k"].shape[0]
        per_iteration = max(1, int(np.ceil(SAMPLES / float(iterations))))
        # One fixed seed: intervals that change between two identical calls confuse people.
        state = np.random.get_state()
        np.random.seed(0)
        try:
            draws = []
            for i in range(iterations):
                sims = model.sample_model_vectorized(
                    df=future,
                    seasonal_features=features,
                    iteration=i,
                    s_a=components["additive_terms"],
                    s_m=components["multiplicative_terms"],
                    n_samples=per_iteration,
                )
                draws.extend(sim["yhat"] for sim in sims)
        finally:
            np.random.set_state(state)
        samples = np.column_stack(draws)
        lo_80, hi_80, lo_95, hi_95 = np.quantile(samples, [0.10, 0.90, 0.025, 0.975], axis=1)
        return Band(point, lo_80, hi_80, lo_95, hi_95).nested()

    def public_forecast(self, horizon: int) -> Band:
        """The same forecast through Prophet's public predict() and predictive_samples() (slower;
        kept to check `forecast` against)."""
        future = pd.DataFrame({"ds": _timestamps(self.history.future_labels(horizon))})
        state = np.random.get_state()
        np.random.seed(0)
        try:
            self.model.uncertainty_samples = 0
            point = self.model.predict(future)
            self.model.uncertainty_samples = SAMPLES
            samples = self.model.predictive_samples(future)["yhat"]
        finally:
            self.model.uncertainty_samples = SAMPLES
            np.random.set_state(state)
        lo_80, hi_80, lo_95, hi_95 = np.quantile(samples, [0.10, 0.90, 0.025, 0.975], axis=1)
        return Band(np.asarray(point["yhat"], dtype=float), lo_80, hi_80, lo_95, hi_95).nested()

    def at(self, history: History) -> _ProphetFit:
        return self.member.fit(history)
