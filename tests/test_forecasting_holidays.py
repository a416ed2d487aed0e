"""Public holidays as ARIMA's regressor (issue 14: "holidays ... as regressors where the model
takes them"): the weekday holidays of each period, from the calendar Prophet is given."""

import numpy as np
import pandas as pd
import pytest

from ml.forecasting import forecast, members
from ml.forecasting.history import HOLIDAY_COLUMN, History
from ml.forecasting.prophet_member import weekday_holidays

WEEKS = pd.date_range("2022-01-02", periods=156, freq="W-SUN")


def _days(labels: pd.Index, **extras) -> pd.Series:
    history = History(np.zeros(len(labels)), labels, None, labels.freq, {"country": None, "holidays": None, **extras})
    return pd.Series(weekday_holidays(history, labels), index=labels)


def test_a_holiday_counts_in_the_week_it_falls_in_and_only_on_a_weekday():
    days = _days(WEEKS, country="US")

    # Monday 4 July 2022 is in the week that ends on Sunday 10 July.
    assert days[pd.Timestamp("2022-07-10")] == 1 and days[pd.Timestamp("2022-07-03")] == 0
    # Thanksgiving, Thursday 24 November 2022.
    assert days[pd.Timestamp("2022-11-27")] == 1
    # Christmas 2022 fell on a Sunday: the Monday it was observed on counts, the Sunday does not.
    assert days[pd.Timestamp("2022-12-25")] == 0 and days[pd.Timestamp("2023-01-01")] == 1


def test_a_callers_own_holiday_frame_is_counted_too():
    frame = pd.DataFrame({"ds": pd.to_datetime(["2022-03-16", "2022-03-17", "2022-03-19"]), "holiday": "closure"})

    days = _days(WEEKS, holidays=frame)

    assert days[pd.Timestamp("2022-03-20")] == 2  # Wednesday and Thursday; Saturday the 19th is a weekend
    assert days.sum() == 2


def test_months_count_every_weekday_holiday_in_them():
    months = pd.date_range("2022-01-01", periods=24, freq="MS")

    days = _days(months, country="US")

    assert days[pd.Timestamp("2022-11-01")] == 2  # Veterans Day (Friday 11th) and Thanksgiving
    assert days[pd.Timestamp("2022-08-01")] == 0


def _desk_with_holiday_dips(seed: int) -> tuple[pd.Series, pd.Series]:
    """A desk of about 100 tickets a week that loses 18 for each weekday holiday: 100 weeks, under
    the two years a weekly season needs, so the dips are the holidays' alone."""
    weeks = WEEKS[:100]
    days = _days(weeks, country="US")
    rng = np.random.default_rng(seed)
    return pd.Series(rng.poisson(100 - 18 * days.to_numpy()).astype(float), index=weeks), days


def test_arima_forecasts_the_dip_of_a_holiday_week_when_it_takes_the_holidays(monkeypatch):
    series, days = _desk_with_holiday_dips(0)
    history, actual = series.iloc[:-13], series.iloc[-13:].to_numpy()
    holiday_weeks = days.iloc[-13:].to_numpy() > 0
    assert holiday_weeks.sum() >= 2

    monkeypatch.setattr(members, "ARIMA_HOLIDAYS", False)
    without = forecast(history, 13, country="US", members=("arima", "ets"))
    monkeypatch.setattr(members, "ARIMA_HOLIDAYS", True)
    with_holidays = forecast(history, 13, country="US", members=("arima", "ets"))

    arima = np.asarray(with_holidays.attrs["members"]["arima"]["mean"])
    plain = np.asarray(without.attrs["members"]["arima"]["mean"])
    # The holiday weeks are forecast about 18 tickets lower than the others; without the
    # regressor ARIMA sees no difference between them.
    assert 12 < arima[~holiday_weeks].mean() - arima[holiday_weeks].mean() < 24
    assert abs(plain[~holiday_weeks].mean() - plain[holiday_weeks].mean()) < 4
    assert np.mean(np.abs(actual - arima)) < np.mean(np.abs(actual - plain))
    assert "weekday holidays a regressor for arima" in with_holidays.attrs["note"]
    assert "holidays" not in without.attrs["note"]
    # The column is the forecast's own, not one of the caller's regressors.
    assert with_holidays.attrs["regressors"] == {}


def test_without_holidays_named_the_forecast_is_unchanged(monkeypatch):
    series, _ = _desk_with_holiday_dips(1)

    monkeypatch.setattr(members, "ARIMA_HOLIDAYS", False)
    before = forecast(series, 13, members=("arima", "ets"))
    monkeypatch.setattr(members, "ARIMA_HOLIDAYS", True)
    after = forecast(series, 13, members=("arima", "ets"))

    pd.testing.assert_frame_equal(before, after)
    assert before.attrs["note"] == after.attrs["note"]


def test_prophet_keeps_its_own_holidays_and_the_callers_regressors_stay_the_callers(monkeypatch):
    series, _ = _desk_with_holiday_dips(2)
    history = series.iloc[:-13]
    go_live = pd.Series(0.0, index=series.index)
    go_live[pd.Timestamp("2023-06-04") :] = 1.0  # a client gone live in June 2023
    monkeypatch.setattr(members, "ARIMA_HOLIDAYS", True)

    frame = forecast(history, 13, country="US", members=("arima", "prophet"), regressors=go_live.to_frame("live"))

    assert frame.attrs["regressors"] == {"columns": ["live"], "members": ["arima", "prophet"]}
    assert "weekday holidays a regressor for arima" in frame.attrs["note"]
    assert HOLIDAY_COLUMN not in frame.attrs["note"]


@pytest.mark.parametrize("labels", [pd.RangeIndex(60)], ids=["integer index"])
def test_an_undated_series_has_no_holidays_to_count(labels):
    history = History(np.zeros(len(labels)), labels, None, None, {"country": "US", "holidays": None})

    assert weekday_holidays(history, labels) is None


def test_the_roster_and_arima_count_the_same_holidays():
    from ml.forecasting.capacity import _weekday_holidays

    roster = _weekday_holidays(WEEKS, "US")
    days = _days(WEEKS, country="US")

    assert [roster.get(week.date(), 0) for week in WEEKS] == days.astype(int).tolist()
    assert days.sum() > 30
    # New Year's Day 2022 fell on a Saturday and was observed on Friday 31 December 2021: both
    # count it in the series' first week.
    assert days[WEEKS[0]] == 1


def test_a_callers_regressor_cannot_take_the_holiday_columns_name():
    series, _ = _desk_with_holiday_dips(3)
    clash = pd.DataFrame({HOLIDAY_COLUMN: np.arange(len(series) + 4, dtype=float)},
                         index=pd.date_range(series.index[0], periods=len(series) + 4, freq="W-SUN"))

    with pytest.raises(ValueError, match=HOLIDAY_COLUMN):
        forecast(series, 4, members=("arima",), regressors=clash)

