"""Known regressors in ml.forecasting (issue 14): values known for the history and the horizon,
such as how many users of new clients are in their onboarding weeks. ARIMA and Prophet fit them;
a jump only the regressor announces must show in their forecasts; bad regressors are refused by
name; a regressor with nothing to learn from is left out and the forecast is the one without.
Figures print with -s."""

import warnings

import numpy as np
import pandas as pd
import pytest

from ml.forecasting import forecast, mase
from ml.forecasting.api import clean
from ml.forecasting.history import History
from ml.forecasting.members import ARIMA_ORDERS, ArimaMember, _arima_forecast

HORIZON = 13
WEEKS = 156
PER_USER = 0.25  # tickets a week per user in their onboarding weeks


def onboarding_world(seed: int, weeks: int = WEEKS, horizon: int = HORIZON):
    """Weekly ticket arrivals around a wandering level of about 40, plus a quarter of a ticket per
    user of a new client in its first six weeks: five onboardings in the history and one that
    starts four weeks into the horizon, which nothing in the arrivals themselves announces.
    Returns the history, the horizon's actual arrivals and the regressor frame (both spans)."""
    rng = np.random.default_rng(seed)
    total = weeks + horizon
    index = pd.date_range("2022-01-02", periods=total, freq="W-SUN")
    onboarding = np.zeros(total)
    starts = sorted(rng.choice(np.arange(8, weeks - 14, 6), size=5, replace=False).tolist()) + [weeks + 4]
    for start in starts:
        onboarding[start : start + 6] += rng.integers(60, 160)
    level = 40 + np.cumsum(rng.normal(0, 0.4, total))
    arrivals = pd.Series(rng.poisson(np.maximum(level + PER_USER * onboarding, 1)).astype(float), index=index)
    regressors = pd.DataFrame({"onboarding_users": onboarding}, index=index)
    return arrivals.iloc[:weeks], arrivals.iloc[weeks:], regressors


@pytest.fixture(scope="module")
def world():
    return onboarding_world(1)


@pytest.fixture(autouse=True)
def _quiet_statsmodels():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# --- accuracy: the onboarding the regressor announces --------------------------------------------
@pytest.mark.parametrize("member", ["arima", "prophet"])
def test_a_member_with_the_onboarding_regressor_forecasts_the_announced_jump(world, member):
    history, actual, regressors = world
    without = forecast(history, HORIZON, members=(member,))
    with_regressor = forecast(history, HORIZON, members=(member,), regressors=regressors)

    error_without = mase(actual, without["mean"], history)
    error_with = mase(actual, with_regressor["mean"], history)
    onboarding = regressors["onboarding_users"].reindex(actual.index) > 0
    jump_with = with_regressor["mean"][onboarding].mean() - with_regressor["mean"][~onboarding].mean()
    jump_without = without["mean"][onboarding].mean() - without["mean"][~onboarding].mean()
    true_jump = PER_USER * regressors["onboarding_users"].reindex(actual.index)[onboarding].mean()
    print(
        f"\n{member}: horizon MASE {error_without:.2f} without the regressor, {error_with:.2f} with; onboarding "
        f"weeks forecast {jump_with:+.1f} tickets above the others with it ({jump_without:+.1f} without, "
        f"true {true_jump:+.1f})"
    )
    assert error_with < 0.7 * error_without
    assert jump_with > 0.6 * true_jump and abs(jump_without) < 0.2 * true_jump
    assert with_regressor.attrs["regressors"] == {"columns": ["onboarding_users"], "members": [member]}
    assert without.attrs["regressors"] == {}
    assert "onboarding_users used by " + member in with_regressor.attrs["note"]
    # The backtest origins forecast with their own next weeks' regressor values, so the members
    # that use them score better there too and earn their weight.
    assert with_regressor.attrs["backtest"][member]["mase"] < without.attrs["backtest"][member]["mase"]


def test_the_ensemble_uses_the_regressor_through_arima_and_prophet(world):
    history, actual, regressors = world
    without = forecast(history, HORIZON)
    with_regressor = forecast(history, HORIZON, regressors=regressors)

    error_without = mase(actual, without["mean"], history)
    error_with = mase(actual, with_regressor["mean"], history)
    print(f"\nensemble: horizon MASE {error_without:.2f} without the regressor, {error_with:.2f} with")
    assert with_regressor.attrs["regressors"]["members"] == ["arima", "prophet"]
    assert error_with < 0.8 * error_without
    # ETS and Theta ignore regressors: their own forecasts are unchanged.
    for name in ("ets", "theta"):
        assert with_regressor.attrs["members"][name] == without.attrs["members"][name]


def test_a_member_that_takes_no_regressors_says_none_used(world):
    history, _, regressors = world
    frame = forecast(history, HORIZON, members=("ets",), regressors=regressors)
    assert frame.attrs["regressors"] == {"columns": ["onboarding_users"], "members": []}
    assert "onboarding_users not used" in frame.attrs["note"]


def test_regressor_rows_are_matched_by_label_and_extra_rows_ignored(world):
    history, _, regressors = world
    shuffled = pd.concat(
        [
            regressors.sample(frac=1.0, random_state=3),
            pd.DataFrame({"onboarding_users": [9.0]}, index=[pd.Timestamp("2019-01-06")]),
        ]
    )
    ours = forecast(history, HORIZON, members=("arima",), regressors=shuffled)
    theirs = forecast(history, HORIZON, members=("arima",), regressors=regressors)
    pd.testing.assert_frame_equal(ours, theirs)


def test_leading_zero_weeks_need_no_regressor_rows(world):
    """A client's series starts at its first ticket (`api.clean`): the regressors must cover the
    weeks from there, not the zeros before."""
    history, _, regressors = world
    padded = pd.concat([pd.Series(0.0, index=pd.date_range("2021-06-06", periods=30, freq="W-SUN")), history])
    frame = forecast(padded, HORIZON, members=("arima",), regressors=regressors)
    assert frame.attrs["regressors"]["members"] == ["arima"]
    assert len(clean(padded)[0]) == len(history)


# --- bad and useless regressors ------------------------------------------------------------------
def test_a_regressor_without_the_horizons_values_is_refused_by_name(world):
    history, _, regressors = world
    short = regressors.iloc[:-1]
    last_week = regressors.index[-1].strftime("%Y-%m-%d")
    with pytest.raises(ValueError, match=f"'onboarding_users' has no row for {last_week}"):
        forecast(history, HORIZON, members=("arima",), regressors=short)


def test_a_regressor_with_a_missing_value_is_refused_by_name(world):
    history, _, regressors = world
    holed = regressors.assign(seats=100.0 + np.arange(len(regressors)))
    holed.loc[holed.index[40], "seats"] = np.nan
    with pytest.raises(ValueError, match=f"'seats' has the value nan for {holed.index[40]:%Y-%m-%d}"):
        forecast(history, HORIZON, members=("arima",), regressors=holed)
    with pytest.raises(ValueError, match="'seats' is not numeric"):
        forecast(history, HORIZON, members=("arima",), regressors=regressors.assign(seats="many"))


def test_a_constant_regressor_is_left_out_and_the_note_says_so(world):
    history, _, regressors = world
    frame = forecast(history, HORIZON, members=("arima",), regressors=regressors.assign(contract_tier=3.0))
    assert frame.attrs["regressors"]["columns"] == ["onboarding_users"]
    assert "contract_tier left out (constant over the history)" in frame.attrs["note"]


def test_with_only_constant_regressors_the_forecast_is_the_one_without(world):
    """Constant over the history, even when it changes in the horizon: nothing to learn its
    effect from, so the forecast is exactly the one without regressors."""
    history, _, regressors = world
    steps_later = pd.DataFrame({"tier": np.where(np.arange(len(regressors)) < WEEKS, 1.0, 2.0)}, index=regressors.index)
    plain = forecast(history, HORIZON, members=("arima", "prophet"))
    constant = forecast(history, HORIZON, members=("arima", "prophet"), regressors=steps_later)
    pd.testing.assert_frame_equal(constant, plain, check_exact=True)
    assert constant.attrs["regressors"] == {}
    assert constant.attrs["members"] == plain.attrs["members"]
    assert constant.attrs["note"] == plain.attrs["note"] + "; regressor tier left out (constant over the history)"


# --- the ARIMA member's own recursions against statsmodels -------------------------------------
def regressor_history(length: int, values: np.ndarray, regressors: np.ndarray) -> History:
    index = pd.date_range("2022-01-02", periods=len(regressors), freq="W-SUN")
    frame = pd.DataFrame(regressors, index=index, columns=[f"x{i}" for i in range(regressors.shape[1])])
    return History(values[:length], index[:length], None, index.freq, {"regressors": frame})


@pytest.mark.parametrize(("order", "trend"), [c for candidates in ARIMA_ORDERS.values() for c in candidates])
def test_arima_with_regressors_forecasts_what_statsmodels_get_forecast_gives(world, order, trend):
    from statsmodels.tsa.arima.model import ARIMA

    history, _, regressors = world
    rng = np.random.default_rng(11)
    exog = np.column_stack([regressors["onboarding_users"].to_numpy(), rng.normal(0, 1, len(regressors))])
    values = history.to_numpy()
    fitted = ArimaMember()._fit_one(regressor_history(WEEKS, values, exog), order, trend, columns=(0, 1))

    results = ARIMA(values, exog=exog[:WEEKS], order=order, trend=trend, concentrate_scale=True).filter(
        fitted.params, cov_type="none"
    )
    prediction = results.get_forecast(HORIZON, exog=exog[WEEKS:])
    band = fitted.forecast(HORIZON)
    mean, variance = _arima_forecast(fitted.filtered, fitted.params, trend, HORIZON, exog[WEEKS:])

    assert fitted.aicc == pytest.approx(results.aicc, rel=1e-12)
    np.testing.assert_allclose(band.mean, np.asarray(prediction.predicted_mean), rtol=1e-8, atol=0)
    np.testing.assert_allclose(mean, np.asarray(prediction.predicted_mean), rtol=1e-8, atol=0)
    np.testing.assert_allclose(variance, np.asarray(prediction.var_pred_mean), rtol=1e-8, atol=0)
    # The regressors moved the forecast: the same filter without their future values differs.
    assert np.max(np.abs(_arima_forecast(fitted.filtered, fitted.params, trend, HORIZON)[0] - mean)) > 1.0


def test_an_arima_backtest_origin_forecasts_with_its_own_next_regressor_values(world):
    """`at` filters a shorter history with the fitted parameters and forecasts with the
    regressor values of the weeks after that origin (rows inside the series, not the horizon)."""
    from statsmodels.tsa.arima.model import ARIMA

    history, _, regressors = world
    exog = regressors.to_numpy()
    values = history.to_numpy()
    final = ArimaMember().fit(regressor_history(WEEKS, values, exog))
    assert final.columns == (0,)
    origin = 120
    shorter = final.at(regressor_history(WEEKS, values, exog).prefix(origin))

    results = ARIMA(values[:origin], exog=exog[:origin], order=final.order, trend=final.trend, concentrate_scale=True)
    prediction = results.filter(final.params, cov_type="none").get_forecast(
        HORIZON, exog=exog[origin : origin + HORIZON]
    )
    np.testing.assert_allclose(shorter.forecast(HORIZON).mean, np.asarray(prediction.predicted_mean), rtol=1e-8)


def test_arima_leaves_out_a_regressor_constant_up_to_the_first_origin():
    """A regressor that is zero until after the first backtest origin has no coefficient the
    data up to it could give; the fit there leaves it out rather than keep the whole history's."""
    _, _, regressors = onboarding_world(2)
    rng = np.random.default_rng(4)
    late = np.where(np.arange(len(regressors)) >= 130, 50.0, 0.0)
    exog = np.column_stack([regressors["onboarding_users"].to_numpy(), late])
    values = 40 + rng.normal(0, 2, WEEKS) + 0.25 * exog[:WEEKS].sum(axis=1)
    final = ArimaMember().fit(regressor_history(WEEKS, values, exog))
    first = ArimaMember().fit(regressor_history(WEEKS, values, exog).prefix(110), warm=final)
    assert final.columns == (0, 1) and first.columns == (0,)
    assert first.params.size == final.params.size - 1


# --- the Prophet member ------------------------------------------------------------------------
def test_prophet_with_regressors_gives_stock_prophets_numbers(world, monkeypatch):
    """The member's forecast (features built once, `_features`) with an extra regressor equals
    stock Prophet's fit, predict() and predictive_samples() on the same frame."""
    from prophet import Prophet

    import ml.forecasting.prophet_member as prophet_member

    history, _, regressors = world
    frame = regressors.iloc[: WEEKS + HORIZON]
    own = History(history.to_numpy(), history.index, 52, history.index.freq, {"regressors": frame})
    fast = prophet_member.ProphetMember().fit(own)
    monkeypatch.setattr(prophet_member, "_prophet_class", lambda: Prophet)
    stock = prophet_member.ProphetMember().fit(own)
    assert "regressor_0" in stock.model.extra_regressors

    ours, theirs = fast.forecast(HORIZON), stock.public_forecast(HORIZON)
    for column in ("mean", "lo_80", "hi_80", "lo_95", "hi_95"):
        np.testing.assert_allclose(getattr(ours, column), getattr(theirs, column), rtol=1e-9, atol=1e-9)
