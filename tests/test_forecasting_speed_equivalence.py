"""The ARIMA member's shortcuts past statsmodels' results objects (ml.forecasting.members) must
give statsmodels' own numbers: the AICc the order is chosen by, and the forecasts and their
variances from the end of a filtered history, for every order and trend the member fits."""

import warnings

import numpy as np
import pandas as pd
import pytest

from ml.forecasting.history import History
from ml.forecasting.members import ARIMA_ORDERS, ArimaMember, _arima_forecast, _filter

CANDIDATES = [candidate for orders in ARIMA_ORDERS.values() for candidate in orders]


def weekly_series(seed: int, weeks: int = 120) -> np.ndarray:
    """Counts around a wandering, trending level (the kind of series the member sees)."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    level = np.log(40) + 0.3 * t / weeks + np.cumsum(rng.normal(0, 0.03, weeks))
    return rng.poisson(np.exp(level)).astype(float)


def history_of(values: np.ndarray) -> History:
    index = pd.date_range("2022-01-02", periods=len(values), freq="W-SUN")
    return History(values, index, None, index.freq)


@pytest.fixture(autouse=True)
def _quiet_statsmodels():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize(("order", "trend"), CANDIDATES)
@pytest.mark.parametrize("seed", [1, 2])
def test_arima_forecast_and_aicc_are_statsmodels_own(order, trend, seed):
    from statsmodels.tsa.arima.model import ARIMA

    values = weekly_series(seed)
    fitted = ArimaMember()._fit_one(history_of(values), order, trend)

    model = ARIMA(values, order=order, trend=trend, concentrate_scale=True)
    results = model.filter(fitted.params, cov_type="none")
    prediction = results.get_forecast(13)
    mean, variance = _arima_forecast(fitted.filtered, fitted.params, trend, 13)

    assert fitted.aicc == results.aicc
    # The same recursions in numpy: equal, or apart in the last bit or two.
    np.testing.assert_allclose(mean, np.asarray(prediction.predicted_mean), rtol=1e-13, atol=0)
    np.testing.assert_allclose(variance, np.asarray(prediction.var_pred_mean), rtol=1e-13, atol=0)
    assert np.ptp(variance) > 0


def test_a_backtest_origin_filters_with_the_fits_parameters():
    """`at` filters a shorter history with the parameters fitted on the longer one: the same
    forecast statsmodels gives for that history filtered with those parameters."""
    from statsmodels.tsa.arima.model import ARIMA

    values = weekly_series(3)
    final = ArimaMember().fit(history_of(values))
    shorter = final.at(history_of(values[:100]))

    model = ARIMA(values[:100], order=final.order, trend=final.trend, concentrate_scale=True)
    prediction = model.filter(final.params, cov_type="none").get_forecast(13)
    band = shorter.forecast(13)

    np.testing.assert_allclose(band.mean, np.asarray(prediction.predicted_mean), rtol=1e-13, atol=0)
    np.testing.assert_allclose(band.hi_80 - band.mean, band.mean - band.lo_80, rtol=1e-12)


def test_filter_gives_what_model_filter_gives():
    from statsmodels.tsa.arima.model import ARIMA

    values = weekly_series(4)
    model = ARIMA(values, order=(1, 1, 1), trend="n", concentrate_scale=True)
    params = np.array([0.3, -0.6])
    results = model.filter(params, cov_type="none")
    filtered = _filter(ARIMA(values, order=(1, 1, 1), trend="n", concentrate_scale=True), params)

    assert filtered.llf == results.llf
    np.testing.assert_array_equal(filtered.predicted_state, results.filter_results.predicted_state)
    np.testing.assert_array_equal(filtered.predicted_state_cov, results.filter_results.predicted_state_cov)


def test_prophet_forecast_features_without_holidays_are_prophets_own():
    """Without holidays or regressors the member stacks the seasonalities' Fourier terms itself;
    they must be Prophet's feature matrix to the bit, laid out as its DataFrame's values are."""
    import ml.forecasting.prophet_member as prophet_member

    values = weekly_series(5, weeks=156)
    index = pd.date_range("2021-01-03", periods=len(values), freq="W-SUN")
    history = History(values, index, 52, index.freq, {})
    model = prophet_member.ProphetMember().fit(history).model
    assert model.holidays is None and list(model.seasonalities) == ["yearly"]
    future = model.setup_dataframe(pd.DataFrame({"ds": prophet_member._timestamps(history.future_labels(13))}))

    matrix, components = prophet_member._features(model, future)
    theirs = model.make_all_seasonality_features(future)[0].values

    assert matrix.shape == theirs.shape == (13, 20)
    assert matrix.tobytes(order="A") == theirs.tobytes(order="A")
    assert matrix.flags.f_contiguous == theirs.flags.f_contiguous
    assert components is model.train_component_cols


@pytest.mark.parametrize(
    ("periods", "freq"),
    [(156, "W-SUN"), (80, "W-SUN"), (96, "MS"), (24 * 28, "h"), (40, "D"), (12, "W-SUN")],
)
def test_prophet_seasonalities_and_changepoints_are_stock_prophets(periods, freq):
    """The member's Prophet prepares a plain frame (its history, automatic seasonalities and
    changepoint grid) from numpy arrays; stock Prophet's preprocessing of the same frame must
    give the same, to the bit (weekly with and without two years, monthly, hourly, daily, and
    fewer rows than the 25 changepoints asked)."""
    from prophet import Prophet

    import ml.forecasting.prophet_member as prophet_member

    rng = np.random.default_rng(periods)
    frame = pd.DataFrame(
        {"ds": pd.date_range("2020-01-05", periods=periods, freq=freq), "y": rng.poisson(30, periods).astype(float)}
    )
    options = {"yearly_seasonality": "auto", "weekly_seasonality": "auto", "daily_seasonality": "auto"}
    ours, stock = prophet_member._prophet_class()(**options), Prophet(**options)
    ours_input, stock_input = ours.preprocess(frame), stock.preprocess(frame)

    for step in ("setup_dataframe", "set_auto_seasonalities", "set_changepoints"):  # ours ran
        assert getattr(type(ours), step) is not getattr(Prophet, step)
    pd.testing.assert_series_equal(ours.history_dates, stock.history_dates)
    pd.testing.assert_frame_equal(ours.history, stock.history)
    assert ours.seasonalities == stock.seasonalities
    assert ours.n_changepoints == stock.n_changepoints
    pd.testing.assert_series_equal(ours.changepoints, stock.changepoints)
    assert ours.changepoints_t.tobytes() == stock.changepoints_t.tobytes()
    assert ours_input.S == stock_input.S and ours_input.K == stock_input.K
    for name in ("t_change", "y", "t", "X", "s_a", "s_m", "cap"):
        np.testing.assert_array_equal(np.asarray(getattr(ours_input, name)), np.asarray(getattr(stock_input, name)))


@pytest.mark.parametrize("season", [None, 52])
@pytest.mark.parametrize("shift", [0.0, -45.0])  # all positive (multiplicative season) or not (additive)
def test_theta_forecast_is_statsmodels_own(season, shift):
    from ml.forecasting.members import ThetaMember, _theta_forecast

    rng = np.random.default_rng(9)
    t = np.arange(156)
    values = 40 + 8 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 2, 156) + shift
    index = pd.date_range("2021-01-03", periods=156, freq="W-SUN")
    fitted = ThetaMember().fit(History(values, index, season, index.freq))
    assert fitted.results.model.deseasonalize == bool(season)

    ours, theirs = _theta_forecast(fitted.results, 13), np.asarray(fitted.results.forecast(13), dtype=float)

    assert ours.tobytes() == theirs.tobytes()
