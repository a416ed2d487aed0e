"""Ticket demand forecasting (ml.forecasting): honest on the public helpdesk log, never failing on
the series real MSPs have (a new client's three weeks, a flat contract, a client who rarely
calls), and continuing whatever calendar the series is on. Figures print with -s."""

import numpy as np
import pandas as pd
import pytest

from ml.forecasting import backtest, coverage, forecast, holdout_split, mase, smape, weekly_arrivals

from .datasets import find_dataset

COLUMNS = ["mean", "lo_80", "hi_80", "lo_95", "hi_95"]


def assert_nested(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == COLUMNS
    assert np.isfinite(frame.to_numpy()).all()
    assert (frame["lo_95"] <= frame["lo_80"]).all()
    assert (frame["lo_80"] <= frame["mean"]).all()
    assert (frame["mean"] <= frame["hi_80"]).all()
    assert (frame["hi_80"] <= frame["hi_95"]).all()


def weekly_counts(weeks: int, seed: int, amplitude: float = 0.0, level: float = 30.0) -> pd.Series:
    """Poisson ticket counts around a slowly wandering level, with an annual season."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    log_level = np.log(level) + np.cumsum(rng.normal(0, 0.02, weeks)) + amplitude * np.sin(2 * np.pi * t / 52)
    index = pd.date_range("2021-01-03", periods=weeks, freq="W-SUN")
    return pd.Series(rng.poisson(np.exp(log_level)).astype(float), index=index)


# --- the public helpdesk log -----------------------------------------------------------------
@pytest.fixture(scope="module")
def helpdesk():
    weekly = weekly_arrivals(find_dataset("helpdesk-event-log.csv"))
    history, future = holdout_split(weekly)
    return weekly, history, future, forecast(history, len(future))


def test_helpdesk_log_gives_135_complete_weeks_of_arrivals(helpdesk):
    weekly, history, future, _ = helpdesk
    events = pd.read_csv(find_dataset("helpdesk-event-log.csv"), parse_dates=["CompleteTimestamp"])
    first_events = events.groupby("CaseID")["CompleteTimestamp"].min()

    assert len(weekly) == 135
    assert weekly.index[-1] == pd.Timestamp("2012-08-12") and weekly.index[-1].day_name() == "Sunday"
    assert weekly.index.freqstr == "W-SUN"
    # Every ticket that arrived in a complete week is counted once, in the week of its first event.
    assert weekly.sum() == (first_events.dt.normalize() <= pd.Timestamp("2012-08-12")).sum()
    assert (len(history), len(future)) == (123, 12)


def _helpdesk_figures(helpdesk) -> dict[str, tuple[float, float, float]]:
    _, history, future, frame = helpdesk
    actual = future.to_numpy()
    bands = {"forecast": {c: frame[c].to_numpy() for c in COLUMNS}}
    bands.update(frame.attrs["members"])
    bands.update(frame.attrs["baselines"])
    figures = {}
    for name, band in bands.items():
        figures[name] = (
            mase(actual, band["mean"], history),
            smape(actual, band["mean"]),
            coverage(actual, band["lo_80"], band["hi_80"]),
        )
    print(f"\nHelpdesk weekly arrivals, 12-week holdout ({frame.attrs['model']}): {frame.attrs['note']}")
    for name, (m, s, c) in figures.items():
        print(f"  {name:<15} MASE {m:.3f}  sMAPE {s:5.1f}  80% coverage {c:.0%}")
    return figures


def test_helpdesk_forecast_intervals_cover_the_holdout_as_promised(helpdesk):
    figures = _helpdesk_figures(helpdesk)
    frame = helpdesk[3]
    assert_nested(frame)
    assert (frame >= 0).all().all()
    assert 0.70 <= figures["forecast"][2] <= 0.90


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,  # only the bar may fail: an error on the way is not an expected failure
    reason=(
        "measured once per design, each fixed on synthetic series, simulated MSPs and the log's 123 training weeks "
        "only. Inverse-MASE-squared weights within 2x of the best backtest (weights.RULE, since 2 Dec 2026, chosen "
        "on simulated worlds): holdout MASE 1.384 (80% coverage 75%); members ets 1.388, arima 1.362, theta 1.390, "
        "prophet 1.392; no season used (STL strength 0.62 < 0.64); naive 1.488, seasonal naive 2.617 (the README's "
        "1.49 and 2.62). Earlier designs: the median rule 1.379, inverse-MASE weights 1.383. Every model lands where "
        "the README's SES 1.39 and ARIMA(1,1,1) 1.36 do; the issue's 1.25 is not reached and no constant was changed "
        "against the holdout. On the training weeks one 12-week window's MASE has sd 0.53 across six windows, and "
        "the forecast differs from ARIMA(1,1,1) by -0.004 on average (sd 0.06; bench/forecasting_helpdesk.py). "
        "Read with the answers in hand (bench/forecasting_helpdesk_bounds.py), the holdout's best constant forecast "
        "scores 1.388 and its best straight line 1.374: the bar is 0.124 below any level or trend forecast, and only "
        "a forecast that predicts the holdout's late-July surge (60, 67 and 67 tickets in weeks 9-11, against 34 a "
        "week over the last 12 training weeks) can reach it"
    ),
)
def test_helpdesk_forecast_beats_the_issue_mase_bar_on_the_holdout(helpdesk):
    forecast_mase = _helpdesk_figures(helpdesk)["forecast"][0]
    assert forecast_mase <= 1.25


# --- series that must never fail ---------------------------------------------------------------
@pytest.mark.parametrize("values", [[7.0], [7.0, 9.0], [7.0, 9.0, 4.0]], ids=["1 point", "2 points", "3 points"])
def test_a_new_clients_first_weeks_fall_back_to_the_naive_forecast(values):
    series = pd.Series(values, index=pd.date_range("2024-01-07", periods=len(values), freq="W-SUN"))

    frame = forecast(series, 4)

    assert frame.attrs["model"] == "naive"
    assert "fell back" in frame.attrs["note"]
    assert list(frame.index) == list(pd.date_range(series.index[-1], periods=5, freq="W-SUN")[1:])
    assert (frame["mean"] == values[-1]).all()
    assert_nested(frame)
    assert (frame["lo_95"] >= 0).all()
    assert (frame["hi_95"] > frame["lo_95"]).all()  # counts: some spread even from one week


def test_a_flat_history_falls_back_and_says_so():
    series = pd.Series(5.0, index=pd.date_range("2023-01-01", periods=40, freq="W-SUN"))

    frame = forecast(series, 6)

    assert frame.attrs["model"] == "naive" and "flat" in frame.attrs["note"]
    assert (frame["mean"] == 5.0).all()
    assert_nested(frame)


def test_a_client_who_rarely_calls_gets_croston_and_no_negative_tickets():
    rng = np.random.default_rng(4)
    values = rng.poisson(0.25, 80).astype(float)
    values[5] = 3.0
    series = pd.Series(values, index=pd.date_range("2022-01-02", periods=80, freq="W-SUN"))

    frame = forecast(series, 8)

    assert frame.attrs["model"] == "croston_sba"
    assert "intermittent" in frame.attrs["note"] and "fell back" in frame.attrs["note"]
    assert_nested(frame)
    assert (frame >= 0).all().all()
    assert 0 < frame["mean"].iloc[0] < 1  # a rate, not a spike and not zero
    assert set(frame.attrs["baselines"]) == {"naive", "seasonal_naive"}


# --- calendars -------------------------------------------------------------------------------
@pytest.mark.parametrize("freq", ["MS", "ME"])
def test_monthly_series_continue_their_months(freq):
    rng = np.random.default_rng(1)
    t = np.arange(60)
    values = 200 + 2 * t + 30 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 5, 60)
    series = pd.Series(values, index=pd.date_range("2019-01-01", periods=60, freq=freq))

    frame = forecast(series, 6, members=("ets", "theta"))

    expected = pd.date_range(series.index[-1], periods=7, freq=freq)[1:]
    assert list(frame.index) == list(expected)
    assert frame.attrs["season_length"] == 12 and frame.attrs["seasonal"] is True
    assert_nested(frame)


def test_hourly_series_continue_their_hours_with_a_daily_season():
    rng = np.random.default_rng(2)
    t = np.arange(24 * 14)
    values = rng.poisson(6 + 5 * np.sin(2 * np.pi * (t - 6) / 24)).astype(float)
    series = pd.Series(values, index=pd.date_range("2024-03-04 00:00", periods=len(t), freq="h"))

    frame = forecast(series, 24, members=("ets", "theta"))

    assert list(frame.index) == list(pd.date_range("2024-03-18 00:00", periods=24, freq="h"))
    assert frame.attrs["season_length"] == 24 and frame.attrs["seasonal"] is True
    assert_nested(frame)
    assert (frame >= 0).all().all()
    # The daily cycle is forecast, not flattened: afternoon above the small hours.
    assert frame["mean"].iloc[12] > frame["mean"].iloc[0] + 4


def test_integer_indexed_series_continue_their_integers():
    rng = np.random.default_rng(3)
    series = pd.Series(50 + np.cumsum(rng.normal(0, 1, 30)), index=pd.RangeIndex(100, 130))

    frame = forecast(series, 3, members=("ets",))

    assert list(frame.index) == [130, 131, 132]
    assert frame.attrs["season_length"] is None and frame.attrs["seasonal"] is False
    assert_nested(frame)


# --- holidays --------------------------------------------------------------------------------
def test_holidays_move_to_the_label_of_the_period_that_holds_them():
    from ml.forecasting.history import History
    from ml.forecasting.prophet_member import holiday_frame

    weeks = pd.date_range("2023-01-01", periods=60, freq="W-SUN")
    weekly = holiday_frame(History(np.ones(60), weeks, None, weeks.freq, {"country": "US"}))
    christmas = weekly[weekly["holiday"] == "Christmas Day"]["ds"]
    assert pd.Timestamp("2023-12-31") in set(christmas)  # Monday 25 December, week ending Sunday 31st
    assert set(weekly["ds"]) <= set(pd.date_range("2023-01-01", "2026-12-31", freq="W-SUN"))

    months = pd.date_range("2023-01-01", periods=24, freq="MS")
    own = pd.DataFrame({"ds": ["2024-03-15"], "holiday": ["office move"]})
    monthly = holiday_frame(History(np.ones(24), months, None, months.freq, {"holidays": own}))
    assert list(monthly["ds"]) == [pd.Timestamp("2024-03-01")]


def test_prophet_with_the_country_holidays_forecasts_the_christmas_dip():
    rng = np.random.default_rng(5)
    weeks = pd.date_range("2021-01-03", periods=160, freq="W-SUN")
    christmas_week = np.array([w - pd.Timedelta(days=6) <= pd.Timestamp(w.year, 12, 25) <= w for w in weeks])
    arrivals = pd.Series(rng.poisson(np.where(christmas_week, 16.0, 40.0)).astype(float), index=weeks)
    history = arrivals.iloc[:-9]  # to 19 November 2023; the forecast reaches the week of 31 December

    plain = forecast(history, 9, members=("prophet",))
    with_holidays = forecast(history, 9, members=("prophet",), country="US")

    dip = pd.Timestamp("2023-12-31")
    others = with_holidays["mean"].drop(dip).median()
    print(
        f"\nChristmas week forecast: {with_holidays.loc[dip, 'mean']:.1f} with US holidays, "
        f"{plain.loc[dip, 'mean']:.1f} without; other weeks {others:.1f}"
    )
    assert with_holidays.loc[dip, "mean"] < 0.7 * others
    assert plain.loc[dip, "mean"] > 0.9 * plain["mean"].drop(dip).median()
    assert_nested(with_holidays)


def test_prophet_member_gives_stock_prophets_numbers(monkeypatch):
    """The member fits a Prophet subclass (its component matrix built without pandas' crosstab)
    and builds the features once for the point forecast and the samples; the figures must be
    those of stock Prophet's fit, predict() and predictive_samples()."""
    from prophet import Prophet

    import ml.forecasting.prophet_member as prophet_member
    from ml.forecasting.history import History

    series = weekly_counts(110, seed=6, amplitude=0.3)
    history = History(series.to_numpy(), series.index, 52, series.index.freq, {"country": "US"})
    fast = prophet_member.ProphetMember().fit(history)
    monkeypatch.setattr(prophet_member, "_prophet_class", lambda: Prophet)
    stock = prophet_member.ProphetMember().fit(history)
    assert type(stock.model) is Prophet and type(fast.model) is not Prophet

    ours, theirs = fast.forecast(9), stock.public_forecast(9)

    pd.testing.assert_frame_equal(fast.model.train_component_cols, stock.model.train_component_cols)
    for column in COLUMNS:
        np.testing.assert_allclose(getattr(ours, column), getattr(theirs, column), rtol=1e-9, atol=1e-9)
    assert np.ptp(ours.mean) > 0 and (ours.hi_95 > ours.lo_95).all()


def test_prophet_fits_in_two_threads_at_once_each_get_their_own_series_numbers():
    """The member's cmdstan files are one set per process: threads forecasting side by side
    (two web requests, a worker's threads) must not read each other's optimum."""
    from concurrent.futures import ThreadPoolExecutor

    low, high = weekly_counts(110, seed=7, level=10), weekly_counts(110, seed=8, level=300)
    alone = [forecast(series, 6, members=("prophet",))["mean"] for series in (low, high)]

    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda series: forecast(series, 6, members=("prophet",))["mean"], [low, high] * 3))

    for i, frame in enumerate(together):
        pd.testing.assert_series_equal(frame, alone[i % 2])


# --- accuracy on synthetic series ------------------------------------------------------------
def test_a_strongly_seasonal_series_is_forecast_better_than_naive():
    series = weekly_counts(169, seed=21, amplitude=0.5, level=40)
    history, future = series.iloc[:-13], series.iloc[-13:]

    frame = forecast(history, 13)

    ours = mase(future, frame["mean"], history)
    naive = mase(future, frame.attrs["baselines"]["naive"]["mean"], history)
    print(f"\nSeasonal weekly counts: forecast MASE {ours:.3f}, naive {naive:.3f} ({frame.attrs['note']})")
    assert frame.attrs["seasonal"] is True
    assert ours < 0.8 * naive
    assert_nested(frame)


@pytest.fixture(scope="module")
def synthetic_backtests() -> pd.DataFrame:
    """Rolling-origin MASE (2 origins) of the forecast, every member and the baselines on four
    synthetic series, with a `mean` column. STL + ETS runs only on seasonal series and is ETS
    itself on the others, so its gaps are filled with ETS's figures."""
    rng = np.random.default_rng(31)
    t = np.arange(130)
    trend = pd.Series(40 + 0.3 * t + rng.normal(0, 4, 130), index=pd.date_range("2021-01-03", periods=130, freq="W"))
    monthly = pd.Series(
        300 + 25 * np.sin(2 * np.pi * np.arange(72) / 12) + np.cumsum(rng.normal(0, 6, 72)),
        index=pd.date_range("2018-01-01", periods=72, freq="MS"),
    )
    cases = {
        "trend": (trend, 13),
        "seasonal counts": (weekly_counts(156, seed=32, amplitude=0.35), 13),
        "wandering counts": (weekly_counts(130, seed=33), 13),
        "monthly": (monthly, 6),
    }
    rows = []
    for name, (series, horizon) in cases.items():
        result = backtest(series, horizon, origins=2)
        assert {"forecast", "naive", "seasonal_naive", "ets", "arima", "theta"} <= set(result.index)
        assert result[["coverage_80", "coverage_95"]].stack().between(0, 1).all()
        assert (result["origins"] == 2).all()
        rows.append(result["mase"].rename(name))
    table = pd.concat(rows, axis=1)
    table.loc["stl_ets"] = table.loc["stl_ets"].fillna(table.loc["ets"])
    table["mean"] = table.mean(axis=1)
    print("\nRolling-origin MASE (2 origins per series):\n" + table.round(3).to_string())
    return table


def test_the_ensemble_backtests_better_than_naive_and_the_average_member(synthetic_backtests):
    table = synthetic_backtests
    members = table.drop(index=["forecast", "naive", "seasonal_naive"])
    assert table.loc["forecast", "mean"] < table.loc["naive", "mean"]
    assert table.loc["forecast", "mean"] < members["mean"].mean()
    assert table.loc["forecast", "mean"] <= members["mean"].median()


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,  # only the bar may fail: an error on the way is not an expected failure
    reason=(
        "A stand-in for issue 14's bar on eight synthetic forecasts; the bar itself is asserted on simulated MSPs "
        "in tests/test_forecasting_worlds.py. Under the rule chosen there (inverse MASE squared, 2 Dec 2026) the "
        "ensemble scores 0.816 here against STL+ETS 0.811; the median rule before it scored 0.806"
    ),
)
def test_the_ensemble_backtests_at_least_as_well_as_its_best_member(synthetic_backtests):
    table = synthetic_backtests
    members = table.drop(index=["forecast", "naive", "seasonal_naive"])
    assert table.loc["forecast", "mean"] <= members["mean"].min()


# --- metrics ---------------------------------------------------------------------------------
def test_mase_scales_by_the_in_sample_naive_error_and_smape_forgives_zero_for_zero():
    history = np.arange(1.0, 11.0)  # one-step naive error 1 throughout
    assert mase([11, 12], [10, 10], history) == pytest.approx(1.5)
    assert mase([11, 12], [11, 12], history) == 0.0
    zigzag = [1, 3, 2, 4, 3, 5]  # one-step naive error 1.6, seasonal naive (lag 2) error 1
    assert mase([6], [5], zigzag) == pytest.approx(1 / 1.6)
    assert mase([6], [5], zigzag, season=2) == pytest.approx(1.0)
    assert smape([0, 10], [0, 10]) == 0.0
    assert smape([10], [0]) == pytest.approx(200.0)


# --- speed paths that must not change behaviour ---------------------------------------------------
def test_prophets_plots_still_draw_after_the_member_put_off_importing_them():
    """The member keeps matplotlib out of a process until something plots (ml.forecasting.
    prophet_member._defer_plotting_import); a plot asked for afterwards must still be drawn."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys, numpy as np, pandas as pd\n"
        "from ml.forecasting.prophet_member import _prophet_class\n"
        "model = _prophet_class()(uncertainty_samples=0)\n"
        "print('before', 'matplotlib' in sys.modules)\n"
        "frame = pd.DataFrame({'ds': pd.date_range('2021-01-03', periods=60, freq='W'), 'y': np.arange(60.0)})\n"
        "model.fit(frame)\n"
        "figure = model.plot(model.predict(model.make_future_dataframe(5, freq='W')))\n"
        "from prophet.plot import add_changepoints_to_plot\n"
        "print('after', type(figure).__name__, len(figure.axes[0].lines), callable(add_changepoints_to_plot))\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
        check=True,
    )
    assert done.stdout.split("\n")[:2] == ["before False", "after Figure 2 True"]
