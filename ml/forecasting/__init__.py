"""Ticket demand forecasting: any regular series (weekly, monthly, hourly, or integer-indexed)
forecast with 80% and 95% prediction intervals by an ensemble of the models that rolling-origin
backtests keep.

Pure machine learning: no Django models, no database, nothing imported at Django start-up
(statsmodels and Prophet are imported inside the functions that fit them).

- `forecast(series, horizon, season_length=None)`: the entry point (`api`). A frame of `mean`,
  `lo_80`, `hi_80`, `lo_95`, `hi_95` indexed by the next periods; `attrs` say which model made
  it, why, the weights and every member's and baseline's own forecast. `regressors=` takes
  known regressors (values for the history and the horizon); ARIMA and Prophet fit them.
- `members`: damped-trend ETS, ARIMA (small order set by AICc, KPSS for d), STL + ETS, Theta and
  ETS on temporally aggregated blocks (`agg_ets`) from statsmodels; `prophet_member`: Prophet
  with country or caller holidays.
- `baselines`: naive, seasonal naive (always computed and reported) and Croston-SBA (the
  fallback for intermittent counts).
- `ensemble`: the rolling-origin backtest inside every forecast, fallbacks for short, flat and
  intermittent series; `weights`: the median of the models within 2x of the best backtest MASE
  (baselines scored and reported, not pooled); `intervals`: own intervals where backtests say
  they cover, scaled conformal ones where they miss (the rule is in its docstring).
- `history`: a series up to an origin, its shared STL decomposition and the seasonality test
  (two full seasons and STL seasonal strength >= 0.64); `periods`: frequencies, season lengths
  and the index of the next periods; `bands`: a forecast with its 80% and 95% intervals.
- `backtest(series, horizon, origins)`: out-of-sample MASE, sMAPE and interval coverage of the
  forecast and of each member; `metrics`: MASE, sMAPE, coverage.
- `helpdesk`: the public helpdesk log as weekly ticket arrivals, the real-data check.
"""

from ml.forecasting.api import forecast
from ml.forecasting.backtest import backtest
from ml.forecasting.helpdesk import holdout_split, weekly_arrivals
from ml.forecasting.metrics import coverage, mase, smape

__all__ = ["backtest", "coverage", "forecast", "holdout_split", "mase", "smape", "weekly_arrivals"]
