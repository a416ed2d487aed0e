"""The statsmodels members of the ensemble and how each is refitted along a backtest.

- `ets`: exponential smoothing with additive errors and an additive damped trend (ETS(A,Ad,N)),
  with additive seasonal states when the series is seasonal and the season is at most 24 periods
  (a 52-state weekly season on two or three years of data has more states than the data can
  pin down; `stl_ets` covers long seasons). Heuristic initial states, smoothing and damping
  parameters by maximum likelihood. Analytic intervals.
- `stl_ets`: the same damped ETS on the STL seasonally adjusted series, plus the last season of
  the seasonal component. Only when the series is seasonal.
- `arima`: ARIMA on the (seasonally adjusted when seasonal) series. The differencing order comes
  from a KPSS test at 5% (d = 1 when level stationarity is rejected), then the model with the
  lowest AICc among a small set: (1,0,0), (2,0,0), (1,0,1) with a constant when d = 0; (0,1,1),
  (1,1,1) and (0,1,1) with drift when d = 1. Analytic intervals (seasonal part taken as known).
  With known regressors (`History.regressors`) it is a regression with ARIMA errors on the same
  (adjusted) series: statsmodels' `exog`, the KPSS test then run on the residuals of the least
  squares fit on the regressors (as forecast::auto.arima does), the regressors' future values
  entering the forecast mean. A regressor constant up to the first backtest origin is left out
  of the backtest's fit (its coefficient would be the whole history's starting value, a look
  ahead); the backtest then misses its effect as a forecast made then would have.
- `theta`: statsmodels' ThetaModel (the standard theta = 2 method: SES plus half the linear
  trend), deseasonalised by classical decomposition when its seasonality test at 90% passes; its
  SES parameter found by a bounded Brent search (`_theta_results`, 14x cheaper than the
  state-space fit statsmodels runs, same objective).
  Its intervals use the SES variance h steps ahead, sigma^2 (1 + (h - 1) alpha^2), with sigma the
  one-step error of the theta line on the STL-adjusted history, computed here: statsmodels
  estimates sigma^2 with an extra ARIMA(0,1,1) fit, 14 ms here against 9 ms for the Theta fit.

- `agg_ets`: the same damped ETS on the series summed into blocks (4 weeks, 3 months, 24 hours,
  7 days; `AggregateMember`), spread back over the periods: temporal aggregation, added on
  1 December 2026 (see `AggregateMember` and docs/forecasting.md for the figures).

Backtests must be cheap, so the structure (seasonal or not, ARIMA order and d) is chosen once on the whole
history; at the first backtest origin the parameters are re-estimated on the data up to it
(starting the optimiser from the whole-history values) and carried to later origins by filtering
with those fixed parameters. No backtest forecast sees a value after its origin; only the model
structure and the optimiser's starting point come from the whole history. Theta has no state to
filter and is simply refitted at every origin.

statsmodels warns when an optimiser stops at its iteration cap (the parameters are still the
best found, and the backtest weights judge the result), when it replaces non-invertible
starting values with zeros, and when a KPSS statistic is beyond its p-value table (the p-value
is then capped at 0.01 or 0.1, both on the right side of 5%). Those three are silenced in
`quiet()` and nothing else.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from ml.forecasting.bands import Band
from ml.forecasting.history import History

REGRESSOR_MEMBERS = ("arima", "prophet")  # the members that fit known regressors; the rest ignore them
# ARIMA takes the caller's holidays (a country's or a frame, as Prophet does) as a regressor: the
# weekday holidays in each period (`prophet_member.weekday_holidays`, `api.forecast`). Off: on the
# design worlds it gained 0.0027 of pooled MASE, under the 0.005 asked, and on four fresh worlds
# ARIMA did worse with it (bench/forecasting_worlds.py, fifth round).
ARIMA_HOLIDAYS = False
MAXITER = 200  # ETS and ARIMA optimiser iterations; well-posed fits converge in 20-60
LONGEST_ETS_SEASON = 24
KPSS_ALPHA = 0.05
ARIMA_ORDERS = {
    0: (((1, 0, 0), "c"), ((2, 0, 0), "c"), ((1, 0, 1), "c")),
    1: (((0, 1, 1), "n"), ((1, 1, 1), "n"), ((0, 1, 1), "t")),
}


@contextmanager
def quiet():
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, EstimationWarning, InterpolationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", EstimationWarning)
        warnings.simplefilter("ignore", InterpolationWarning)
        yield


class _Fitted:
    """A fitted member: `forecast(h)` from the end of its history, `at(history)` the same model
    (same parameters where it has a state to filter) at another origin."""

    def forecast(self, horizon: int) -> Band:
        raise NotImplementedError

    def at(self, history: History) -> _Fitted:
        raise NotImplementedError


# --- ETS -------------------------------------------------------------------------------------
class ETSMember:
    def __init__(self, name: str, on_adjusted: bool):
        self.name = name
        self.on_adjusted = on_adjusted

    def _model(self, history: History):
        season = None
        if not self.on_adjusted and history.season and history.season <= LONGEST_ETS_SEASON:
            season = history.season
        values = history.adjusted if self.on_adjusted else history.values
        return _ets_class()(
            pd.Series(values),
            error="add",
            trend="add",
            damped_trend=True,
            seasonal="add" if season else None,
            seasonal_periods=season,
            initialization_method="heuristic",
        )

    def fit(self, history: History, warm: _ETSFit | None = None) -> _ETSFit:
        with quiet():
            model = self._model(history)
            start = warm.results.params if warm is not None else None
            results = model.fit(disp=False, maxiter=MAXITER, start_params=start)
        return _ETSFit(self, history, results)


@lru_cache(maxsize=1)
def _ets_class():
    """statsmodels' ETSModel whose results skip the parameters' covariance matrix.

    ETSResults computes it when made -- a complex-step Hessian of the likelihood, a fifth of the
    cost of smoothing with given parameters, and paid by every fit and every backtest origin --
    but nothing here reads it: the forecasts and their analytic variances use the parameters and
    states only. Its `cov_params_approx` is NaN instead; everything else is statsmodels' own, and
    the forecasts are the same to the bit (tests/test_forecasting.py)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel, ETSResults, ETSResultsWrapper

    class ETSResultsWithoutCovariance(ETSResults):
        @property
        def cov_params_approx(self):
            return np.full((self.k_params, self.k_params), np.nan)

    class LeanETSModel(ETSModel):
        @property
        def _res_classes(self):
            return {"fit": (ETSResultsWithoutCovariance, ETSResultsWrapper)}

    return LeanETSModel


EXACT_ETS = ("ANN", "AAN", "AAdN", "ANA", "AAA", "AAdA")  # statsmodels' analytic-variance models


def _ets_forecast(results, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean and variance `results.get_prediction` gives for the `steps` periods after the
    data, from its own two parts for the models with analytic variances (method "exact"): the
    mean simulated without errors from the last state (`forecast`), the variance the residuals'
    mean square times the relative variance at 1..steps ahead. Without its prediction index and
    results objects: 0.67 ms a forecast here against 0.80 ms, the same numbers to the bit (on
    the bench's and the design set's series, seasonal states and not)."""
    with quiet():
        if results.model.short_name not in EXACT_ETS:
            n = int(results.nobs)
            prediction = results.get_prediction(start=n, end=n + steps - 1)
            return np.asarray(prediction.predicted_mean, dtype=float), np.asarray(prediction.forecast_variance, float)
        mean = np.asarray(results.forecast(steps), dtype=float)
        variance = results.mse * results._relative_forecast_variance(np.arange(1, steps + 1, dtype=float))
    return mean, np.asarray(variance, dtype=float)


class _ETSFit(_Fitted):
    def __init__(self, member: ETSMember, history: History, results):
        self.member, self.history, self.results = member, history, results

    def forecast(self, horizon: int) -> Band:
        mean, variance = _ets_forecast(self.results, horizon)
        if self.member.on_adjusted:
            mean = mean + self.history.seasonal_ahead(horizon)
        return Band.symmetric(mean, np.sqrt(np.maximum(variance, 0.0)))

    def at(self, history: History) -> _ETSFit:
        with quiet():
            results = self.member._model(history).smooth(self.results.params)
        return _ETSFit(self.member, history, results)


# --- ARIMA -----------------------------------------------------------------------------------
def differencing_order(values: np.ndarray) -> int:
    from statsmodels.tsa.stattools import kpss

    with quiet():
        p_value = kpss(values, regression="c", nlags="auto", result_object=True).pvalue
    return 1 if p_value < KPSS_ALPHA else 0


class ArimaMember:
    name = "arima"

    def _fit_one(self, history: History, order, trend, start=None, columns: tuple[int, ...] = ()) -> _ArimaFit:
        from statsmodels.tsa.arima.model import ARIMA

        model = ARIMA(history.adjusted, exog=_exog(history, columns), order=order, trend=trend, concentrate_scale=True)
        # cov_type "none": the parameters' standard errors (a numerical Hessian) are never used;
        # skipping them leaves the parameters, AICc and forecasts exactly as they were, 8% faster.
        # The estimated parameters are then filtered, not smoothed (what fit() ends with): the
        # smoothed states are never used, and the parameters, AICc and forecasts are the same.
        params = model.fit(
            start_params=start, method_kwargs={"maxiter": MAXITER, "disp": 0}, cov_type="none", return_params=True
        )
        return _ArimaFit(history, params, _filter(model, params), order, trend, columns)

    def fit(self, history: History, warm: _ArimaFit | None = None) -> _ArimaFit:
        with quiet():
            if warm is not None:
                columns = history.varying_regressors(warm.columns)
                return self._fit_one(history, warm.order, warm.trend, warm.start_for(columns), columns)
            columns = history.varying_regressors()
            best = None
            for order, trend in ARIMA_ORDERS[differencing_order(_regression_errors(history, columns))]:
                try:
                    fitted = self._fit_one(history, order, trend, columns=columns)
                except (ValueError, np.linalg.LinAlgError):
                    continue
                if np.isfinite(fitted.aicc) and (best is None or fitted.aicc < best.aicc):
                    best = fitted
        if best is None:
            raise ValueError("no ARIMA order could be fitted")
        return best


def _exog(history: History, columns: tuple[int, ...], ahead: int = 0) -> np.ndarray | None:
    """The chosen regressor columns over the history (`ahead` 0) or over the `ahead` periods
    after it; None without regressors."""
    if not columns:
        return None
    rows = history.regressors(ahead)[:, list(columns)]
    return rows[len(history) :] if ahead else rows


def _regression_errors(history: History, columns: tuple[int, ...]) -> np.ndarray:
    """The adjusted series less its least squares fit on a constant and the regressors: the
    errors the ARIMA part models, which the differencing test must judge (a step a regressor
    explains is no unit root). The adjusted series itself without regressors."""
    exog = _exog(history, columns)
    if exog is None:
        return history.adjusted
    design = np.column_stack([np.ones(len(history)), exog])
    coefficients = np.linalg.lstsq(design, history.adjusted, rcond=None)[0]
    return history.adjusted - design @ coefficients


def _filter(model, params: np.ndarray):
    """What `model.filter(params)` runs, the Kalman filter's output (`FilterResults`) without
    the results object statsmodels wraps it in (0.2-0.3 ms a filter): nothing here reads one."""
    model.update(params, transformed=True, includes_fixed=True)
    return model.ssm.filter()


class _ArimaFit(_Fitted):
    """An ARIMA model filtered with given parameters (`filtered`: statsmodels' `FilterResults`),
    with the regressor columns (`columns`, indices into `History.regressors`) it was fitted on."""

    def __init__(self, history: History, params: np.ndarray, filtered, order, trend, columns: tuple[int, ...] = ()):
        self.history, self.params, self.filtered, self.order, self.trend = history, params, filtered, order, trend
        self.columns = columns

    def start_for(self, columns: tuple[int, ...]) -> np.ndarray:
        """These parameters as starting values for a fit on `columns` (a subset of its own):
        statsmodels orders them trend, regressors, AR, MA."""
        if columns == self.columns:
            return self.params
        k_trend = 0 if self.trend == "n" else 1
        keep = [k_trend + self.columns.index(i) for i in columns]
        rest = np.arange(k_trend + len(self.columns), self.params.size)
        return self.params[np.r_[np.arange(k_trend), keep, rest].astype(int)]

    @cached_property
    def aicc(self) -> float:
        """statsmodels' `MLEResults.aicc`, from the same parts: the log-likelihood after the
        burn-in, the observations after it, and as degrees of freedom the parameters, the
        diffuse states and the concentrated scale (Durbin & Koopman 2012, 7.4)."""
        from statsmodels.tools.eval_measures import aicc

        filtered = self.filtered
        diffuse = filtered.initial_diffuse_state_cov
        k_diffuse = 0 if diffuse is None else np.sum(np.diagonal(diffuse) == 1)
        df_model = self.params.size + k_diffuse + filtered.filter_concentrated
        return aicc(filtered.llf, filtered.nobs - filtered.loglikelihood_burn, df_model)

    def forecast(self, horizon: int) -> Band:
        exog = _exog(self.history, self.columns, horizon)
        mean, variance = _arima_forecast(self.filtered, self.params, self.trend, horizon, exog)
        mean = mean + self.history.seasonal_ahead(horizon)
        return Band.symmetric(mean, np.sqrt(np.maximum(variance, 0.0)))

    def at(self, history: History) -> _ArimaFit:
        from statsmodels.tsa.arima.model import ARIMA

        with quiet():
            exog = _exog(history, self.columns)
            model = ARIMA(history.adjusted, exog=exog, order=self.order, trend=self.trend, concentrate_scale=True)
            return _ArimaFit(history, self.params, _filter(model, self.params), self.order, self.trend, self.columns)


def _arima_forecast(
    filtered, params: np.ndarray, trend: str, steps: int, exog: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The mean and variance `get_forecast(steps)` gives, from the Kalman filter's last predicted
    state by the same recursions statsmodels runs over the missing future observations (the state
    a <- T a + c and its covariance P <- T P T' + R Q R'; the forecast Z a + d, its variance
    Z P Z' + H), without the extended model, second filter and prediction objects statsmodels
    builds for them (1.6 ms a forecast, five a backtest). The trend enters as the observation
    intercept d: the constant itself ("c") or the drift times the period number, counted from 1
    at the first observation ("t"; statsmodels' trend_offset); every other system matrix of
    these models is time-invariant. Known regressors (`exog`, their future rows) add their
    values times their coefficients, which statsmodels places after the trend's, to the same
    intercept. The covariances are those of the
    filter's output, already multiplied by the concentrated scale. On 40 bench series and all six
    orders the numbers equal statsmodels' or differ in the last bit (at most 6e-16 relative)."""
    if trend == "n":
        intercept = np.zeros(steps)
    elif trend == "c":
        intercept = np.full(steps, params[0])
    elif trend == "t":
        intercept = params[0] * (filtered.nobs + 1 + np.arange(steps, dtype=float))
    else:
        raise ValueError(f"unsupported ARIMA trend {trend!r}")
    if exog is not None:
        k_trend = 0 if trend == "n" else 1
        intercept = intercept + exog @ params[k_trend : k_trend + exog.shape[1]]
    matrices = (filtered.design, filtered.obs_cov, filtered.transition, filtered.selection, filtered.state_cov)
    if any(matrix.shape[-1] != 1 for matrix in matrices + (filtered.state_intercept,)):
        raise ValueError("ARIMA forecast recursions need time-invariant system matrices")
    design, transition = filtered.design[:, :, 0], filtered.transition[:, :, 0]
    selection, state_intercept = filtered.selection[:, :, 0], filtered.state_intercept[:, 0]
    disturbance = selection @ filtered.state_cov[:, :, 0] @ selection.T
    state, covariance = filtered.predicted_state[:, -1], filtered.predicted_state_cov[:, :, -1]
    mean, variance = np.empty(steps), np.empty(steps)
    for step in range(steps):
        mean[step] = (design @ state)[0] + intercept[step]
        variance[step] = (design @ covariance @ design.T)[0, 0] + filtered.obs_cov[0, 0, 0]
        state = transition @ state + state_intercept
        covariance = transition @ covariance @ transition.T + disturbance
    return mean, variance


# --- Theta -----------------------------------------------------------------------------------
class ThetaMember:
    name = "theta"

    def fit(self, history: History, warm=None) -> _ThetaFit:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        with quiet():
            model = ThetaModel(
                np.asarray(history.values, dtype=float),
                period=history.season or 1,
                deseasonalize=bool(history.season),
                use_test=True,
            )
            return _ThetaFit(self, history, _theta_results(model))


def _ses_levels(values: np.ndarray, alpha: float) -> np.ndarray:
    """Simple exponential smoothing levels l_1..l_n from l_0 = values[0] (a first-order filter)."""
    from scipy.signal import lfilter

    return lfilter([alpha], [1.0, alpha - 1.0], values, zi=[(1.0 - alpha) * values[0]])[0]


def _ses_sse(alpha: float, values: np.ndarray) -> float:
    errors = values[1:] - _ses_levels(values, alpha)[:-1]
    return float(errors @ errors)


def _theta_results(model):
    """`ThetaModel.fit()` (its default two-step estimation) with the SES smoothing parameter found
    by a bounded Brent search on the sum of squared one-step errors instead of statsmodels'
    state-space maximum likelihood. With the initial level known (the first value) and the scale
    concentrated out, both maximise the same likelihood over the same bounds, (1e-4, 1 - 1e-4);
    the state-space fit cost 7 ms a fit, this 0.5 ms. On 60 bench series and the 50 design
    series, at three origins each, seasonal and not, the forecasts agreed within 0.05% of the
    series' mean level (the optimisers stop at slightly different points)."""
    from scipy.optimize import minimize_scalar
    from statsmodels.tsa.forecasting.theta import ThetaModelResults
    from statsmodels.tsa.tsatools import add_trend

    # From here to alpha, ThetaModel.fit's own steps.
    if model._deseasonalize and model._use_test:
        model._test_seasonality()
    values, seasonal = model._deseasonalize_data()
    design = add_trend(values, "ct", prepend=True)[:, :2]
    design[:, 1] -= 1
    _, b0 = np.linalg.lstsq(design, values, rcond=None)[0]
    alpha = float(
        minimize_scalar(_ses_sse, bounds=(1e-4, 1 - 1e-4), args=(values,), method="bounded", options={"xatol": 1e-8}).x
    )
    one_step = float(_ses_levels(values, alpha)[-1])
    return ThetaModelResults(b0, alpha, None, one_step, seasonal, False, model)


def _theta_forecast(results, steps: int) -> np.ndarray:
    """`ThetaModelResults.forecast(steps)` (theta = 2) as an array: its `forecast_components` and
    their sum, the same operations in the same order, without the DataFrame and extended index
    it builds for them (half of a Theta forecast's time here). The same numbers to the bit
    (tests/test_forecasting_speed_equivalence.py)."""
    theta = 2.0
    trend_weight = (theta - 1) / theta
    alpha, nobs, model = results._alpha, results._nobs, results.model
    h = np.arange(1, steps + 1, dtype=np.float64) - 1
    if alpha > 0:
        h += 1 / alpha - ((1 - alpha) ** nobs / alpha)
    forecast = trend_weight * (results._b0 * h) + results._one_step * np.ones(steps)
    if model.deseasonalize:
        season = np.zeros(steps) if model.method.startswith("add") else np.ones(steps)
        if results._seasonal.shape[0]:
            season[:] = results._seasonal[(nobs + np.arange(steps)) % model.period]
        if model.method.startswith("mul"):
            forecast *= season
        else:
            forecast += season
    return forecast


class _ThetaFit(_Fitted):
    def __init__(self, member: ThetaMember, history: History, results):
        self.member, self.history, self.results = member, history, results

    def forecast(self, horizon: int) -> Band:
        mean = _theta_forecast(self.results, horizon)
        return Band.symmetric(mean, self._sigma() * np.sqrt(1 + np.arange(horizon) * self.results.params["alpha"] ** 2))

    def _sigma(self) -> float:
        """Root mean square one-step error of the theta line (SES with half the trend slope as
        drift) on the seasonally adjusted history."""
        alpha, drift = float(self.results.params["alpha"]), float(self.results.params["b0"]) / 2
        # Python floats, not numpy scalars: the same arithmetic (0.26 -> 0.16 ms here).
        values = np.asarray(self.history.adjusted, dtype=float).tolist()
        level, errors = values[0], []
        for value in values[1:]:
            errors.append(value - (level + drift))
            level = alpha * value + (1 - alpha) * (level + drift)
        return float(np.sqrt(np.mean(np.square(errors)))) if errors else 0.0

    def at(self, history: History) -> _ThetaFit:
        return self.member.fit(history)


# --- temporal aggregation --------------------------------------------------------------------
AGGREGATE_BLOCKS = {52: 4, 12: 3, 7: 7, 24: 24}  # weeks -> 4-week months, months -> quarters, ...
AGGREGATE_BLOCK = 4  # any other period (or none: an integer index)
AGGREGATE_MIN_BLOCKS = 10  # ETS's heuristic initial states need ten points


def aggregate_block(period: int | None) -> int:
    return AGGREGATE_BLOCKS.get(period or 0, AGGREGATE_BLOCK)


def aggregate_applies(length: int, horizon: int, period: int | None, origins: int) -> bool:
    """Whether the history leaves `AGGREGATE_MIN_BLOCKS` blocks before the earliest backtest
    origin (at most `origins` horizons before the end)."""
    return length - origins * horizon >= AGGREGATE_MIN_BLOCKS * aggregate_block(period)


class AggregateMember:
    """`agg_ets`: damped-trend ETS on the series summed into blocks of `aggregate_block(period)`
    periods (4 weeks, 3 months, 24 hours, 7 days), counted back from the origin, on the
    seasonally adjusted values when the series is seasonal; each block's forecast is spread
    evenly over its periods and the last season of the seasonal component added back. Temporal
    aggregation (Kourentzes, Petropoulos & Trapero 2014, MAPA; Athanasopoulos et al. 2017,
    THieF): a block's sum carries a fraction of a period's noise relative to its level, so the
    level and trend are estimated on a smoother series. Intervals: the block forecast's standard
    deviation spread as independent periods would, sigma_block / sqrt(block); the backtest
    recalibrates them where they miss."""

    name = "agg_ets"

    def _sums(self, history: History) -> tuple[np.ndarray, int]:
        block = aggregate_block(history.period)
        count = len(history) // block
        if count < AGGREGATE_MIN_BLOCKS:
            raise ValueError(f"{count} blocks of {block}: too few to aggregate")
        values = history.adjusted
        return values[len(values) - count * block :].reshape(count, block).sum(axis=1), block

    def _model(self, sums: np.ndarray):
        return _ets_class()(
            pd.Series(sums), error="add", trend="add", damped_trend=True, initialization_method="heuristic"
        )

    def fit(self, history: History, warm: _AggregateFit | None = None) -> _AggregateFit:
        sums, block = self._sums(history)
        with quiet():
            start = warm.results.params if warm is not None else None
            results = self._model(sums).fit(disp=False, maxiter=MAXITER, start_params=start)
        return _AggregateFit(self, history, results, block)


class _AggregateFit(_Fitted):
    def __init__(self, member: AggregateMember, history: History, results, block: int):
        self.member, self.history, self.results, self.block = member, history, results, block

    def forecast(self, horizon: int) -> Band:
        ahead = -(-horizon // self.block)
        block_mean, block_variance = _ets_forecast(self.results, ahead)
        mean = np.repeat(block_mean / self.block, self.block)[:horizon]
        variance = np.maximum(block_variance, 0.0)
        sigma = np.repeat(np.sqrt(variance / self.block), self.block)[:horizon]
        return Band.symmetric(mean + self.history.seasonal_ahead(horizon), sigma)

    def at(self, history: History) -> _AggregateFit:
        sums, block = self.member._sums(history)
        with quiet():
            results = self.member._model(sums).smooth(self.results.params)
        return _AggregateFit(self.member, history, results, block)


STATSMODELS_MEMBERS = ("ets", "arima", "stl_ets", "theta", "agg_ets")


def make_member(name: str):
    if name == "ets":
        return ETSMember("ets", on_adjusted=False)
    if name == "stl_ets":
        return ETSMember("stl_ets", on_adjusted=True)
    if name == "arima":
        return ArimaMember()
    if name == "theta":
        return ThetaMember()
    if name == "agg_ets":
        return AggregateMember()
    if name == "prophet":
        from ml.forecasting.prophet_member import ProphetMember

        return ProphetMember()
    raise ValueError(f"unknown forecasting member {name!r}")
