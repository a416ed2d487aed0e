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
