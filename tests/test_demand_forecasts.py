"""The desk's demand series, stored forecasts and their live accuracy (issue 14), on a simulated
MSP (seed 4141, 16 clients x 24 months ending October 2026).

The world is simulated and imported once for the module inside one transaction rolled back at
the end (as tests/test_churn_model.py does), so other test files see an empty database. Series
are checked against counts computed here from the rows, not through the code under test.
Forecasts use ETS and Theta only (the command's --members), to keep the file fast; the
ensemble's own quality is tests/test_forecasting.py's business.
"""

from __future__ import annotations

import io
import json
from collections import Counter, defaultdict
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from clients.models import Ticket, Worklog
from integrations.dump import import_dump
from integrations.sandbox.testing import simulated_world
from ml.forecasting import forecast
from ml.forecasting.desk import DeskSeries, desk_series, onboardings, top_clients
from ml.forecasting.metrics import mase, smape
from ml.forecasting.onboardings import onboarding_columns
from ml.forecasting.store import DRIFT_FACTOR, forecast_demand, record_actuals, store_forecast, stored_forecast
from ml.models import Forecast, ForecastAccuracy

SEED, CLIENTS, MONTHS = 4141, 16, 24
MEMBERS = ("ets", "theta")
AS_OF = date(2026, 10, 28)  # a Wednesday: the week ending Sunday 1 November is still running


@pytest.fixture(scope="module")
def world(tmp_path_factory, django_db_setup, django_db_blocker):
    folder = tmp_path_factory.mktemp("demand-world") / "msp"
    with django_db_blocker.unblock(), transaction.atomic():
        simulated_world(folder, clients=CLIENTS, months=MONTHS, seed=SEED)
        import_dump(folder, progress=False)
        yield folder
        transaction.set_rollback(True)


def test_an_empty_desk_has_nothing_to_forecast(db):
    # First in the file: it runs before the module's world is loaded.
    assert desk_series(AS_OF) == []
    out = io.StringIO()
    call_command("forecast_demand", "--members", "ets", stdout=out)
    assert out.getvalue().strip() == "No tickets or worklogs yet: nothing to forecast."
    assert not Forecast.objects.exists()


def _sunday(day: date) -> date:
    return day + timedelta(days=6 - day.weekday())


@pytest.fixture(scope="module")
def rows(world, django_db_blocker):
    """The tickets and labour worklogs as plain tuples, read once, with their week's Sunday."""
    with django_db_blocker.unblock():
        tickets = [
            (_sunday(timezone.localtime(at).date()), timezone.localtime(at).date(), category or "(none)", client)
            for at, category, client in Ticket.objects.filter(deleted_at_source__isnull=True)
            .values_list("created_at", "category", "client_id")
        ]
        logs = [
            (_sunday(day), day, minutes / 60, client, ticket, category, priority)
            for day, minutes, client, ticket, category, priority in Worklog.objects.filter(
                source="superops", deleted_at_source__isnull=True
            ).values_list("work_date", "minutes", "client_id", "ticket_id", "ticket__category", "ticket__priority")
        ]
    return {"tickets": tickets, "logs": logs}


def _weekly(records, key, amount=lambda r: 1) -> dict[object, Counter]:
    sums: dict[object, Counter] = defaultdict(Counter)
    for record in records:
        sums[key(record)][record[0]] += amount(record)
    return sums


def _by_key(found: list[DeskSeries]) -> dict[str, pd.Series]:
    return {s.key: s.values for s in found}


def _check(series: pd.Series, expected: Counter, end: date) -> None:
    for week, value in series.items():
        assert value == pytest.approx(expected.get(week.date(), 0), abs=1e-9), week
    later = sum(v for week, v in expected.items() if week > end)
    assert series.sum() == pytest.approx(sum(expected.values()) - later)


def test_weekly_series_match_the_rows_complete_weeks_only(rows, db):
    found = desk_series(AS_OF, top=5)
    series = _by_key(found)
    desk = series["tickets:desk"]
    # Weeks end on Sunday, every week present, the running week (ending 1 November) dropped.
    assert desk.index[-1].date() == date(2026, 10, 25)
    assert (desk.index.dayofweek == 6).all()
    assert (np.diff(desk.index.asi8) == 7 * 86400 * 10**9).all()
    assert len({len(s) for s in series.values()}) == 1, "every series shares one index"
    end = desk.index[-1].date()

    tickets, logs = rows["tickets"], rows["logs"]
    hours_of = lambda r: r[2]  # noqa: E731
    _check(desk, _weekly(tickets, lambda r: None)[None], end)
    _check(series["hours:desk"], _weekly(logs, lambda r: None, hours_of)[None], end)
    for name, counts in _weekly(tickets, lambda r: r[2]).items():
        _check(series[f"tickets:category:{name}"], counts, end)
    for name, hours in _weekly(logs, lambda r: r[6] or "(none)", hours_of).items():
        _check(series[f"hours:priority:{name}"], hours, end)
    project = _weekly(logs, lambda r: r[5] if r[4] else "Project", hours_of)["Project"]
    _check(series["hours:category:Project"], project, end)

    # Top clients: the most labour hours in the 52 weeks up to the end, computed from the rows.
    since = end - timedelta(weeks=52)
    hours = Counter()
    for _, day, amount, client, *_ in logs:
        if since < day <= end:
            hours[client] += amount
    expected_top = [c for c, _ in sorted(hours.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]
    assert top_clients(AS_OF, 5) == expected_top
    client = expected_top[0]
    _check(series[f"tickets:client:{client}"], _weekly(tickets, lambda r: r[3])[client], end)
    _check(series[f"hours:client:{client}"], _weekly(logs, lambda r: r[3], hours_of)[client], end)
    quiet = [w for w, v in desk.items() if v == 0]
    print(f"\n{len(found)} series, {len(desk)} weeks ({desk.index[0]:%Y-%m-%d} to {end}), weekly tickets "
          f"mean {desk.mean():.1f}, hours mean {series['hours:desk'].mean():.1f}, {len(quiet)} empty weeks")


def test_monthly_series_are_complete_months(rows, db):
    monthly = _by_key(desk_series(AS_OF, top=0, frequency="M"))
    tickets = monthly["tickets:desk@M"]
    assert tickets.index[-1] == pd.Timestamp("2026-09-01"), "October is still running on 28 October"
    counts = Counter(day.replace(day=1) for _, day, *_ in rows["tickets"])
    for month, value in tickets.items():
        assert value == counts.get(month.date(), 0)


def test_forecasts_are_stored_and_read_back(world, db):
    run = forecast_demand(13, top=1, as_of=AS_OF, members=MEMBERS)
    assert run.failed == {}
    weekly = _by_key(desk_series(AS_OF, top=1))
    assert run.series == len(weekly)
    assert run.origin == date(2026, 10, 25)
    direct = forecast(weekly["hours:desk"], 13, members=MEMBERS)
    stored = stored_forecast("hours:desk")
    assert list(stored.index) == list(direct.index)
    assert stored.index[0] == pd.Timestamp("2026-11-01")
    for column in ("mean", "lo_80", "hi_80", "lo_95", "hi_95"):
        np.testing.assert_allclose(stored[column].to_numpy(), direct[column].to_numpy(), rtol=1e-9)
    assert stored.attrs["model"] == direct.attrs["model"]
    # Baselines are always stored beside the served forecast, 13 steps each.
    models = set(Forecast.objects.filter(series_key="hours:desk").values_list("model", flat=True))
    assert {"naive", "seasonal_naive", direct.attrs["model"]} <= models
    assert Forecast.objects.filter(series_key="hours:desk", served=True).count() == 13
    assert stored_forecast("hours:desk", model="naive")["mean"].nunique() == 1
    # Running it again for the same origin replaces the rows instead of adding more.
    before = Forecast.objects.count()
    store_forecast(next(s for s in desk_series(AS_OF, top=0) if s.key == "hours:desk"), direct)
    assert Forecast.objects.count() == before
    print(f"\n{run.series} series, {run.rows} rows in {run.seconds:.1f} s; hours:desk next week "
          f"{stored['mean'].iloc[0]:.1f} h [{stored['lo_80'].iloc[0]:.1f}, {stored['hi_80'].iloc[0]:.1f}]")


def test_accuracy_is_recorded_once_actuals_exist(world, db):
    earlier = AS_OF - timedelta(weeks=8)
    forecast_demand(13, top=0, as_of=earlier, members=MEMBERS)
    assert not ForecastAccuracy.objects.exists(), "nothing to score before its weeks happen"
    run = forecast_demand(13, top=0, as_of=AS_OF, members=MEMBERS)
    origin = date(2026, 8, 30)
    accuracy = ForecastAccuracy.objects.filter(origin=origin)
    assert len(run.accuracy) == accuracy.count() > 0
    series = _by_key(desk_series(AS_OF, top=0))
    row = accuracy.get(series_key="tickets:desk", served=True)
    assert row.periods_scored == 8
    # Recomputed here from the stored rows and the series itself.
    stored = stored_forecast("tickets:desk", origin=origin)
    actual = series["tickets:desk"].reindex(stored.index[:8]).to_numpy()
    np.testing.assert_array_equal(stored["actual"].iloc[:8].to_numpy(), actual)
    assert stored["actual"].iloc[8:].isna().all()
    history = series["tickets:desk"][: pd.Timestamp(origin)].to_numpy()
    assert row.mase == pytest.approx(mase(actual, stored["mean"].iloc[:8], history))
    assert row.smape == pytest.approx(smape(actual, stored["mean"].iloc[:8]))
    assert row.backtest_mase == stored["backtest_mase"].iloc[0]
    assert row.drifted == (row.mase / row.backtest_mase > DRIFT_FACTOR)
    naive = accuracy.get(series_key="tickets:desk", model="naive")
    assert naive.periods_scored == 8 and naive.served is False
    served = accuracy.filter(served=True)
    print(f"\nlive accuracy from {origin} over 8 weeks, {served.count()} series: tickets:desk MASE "
          f"{row.mase:.2f} (backtest {row.backtest_mase:.2f}, naive {naive.mase:.2f}), sMAPE {row.smape:.1f}; "
          f"median served MASE {np.median([a.mase for a in served if a.mase is not None]):.2f}; "
          f"{served.filter(drifted=True).count()} drifting")


def test_drift_is_flagged_when_live_error_passes_the_backtest_error(db):
    weeks = pd.date_range("2025-01-05", periods=60, freq="W-SUN", name="week")
    rng = np.random.default_rng(3)
    steady = pd.Series(50 + rng.normal(0, 3, 60), index=weeks)
    history = DeskSeries("tickets:desk", "tickets", "desk", "Whole desk", steady.iloc[:52])
    frame = forecast(history.values, 8, members=MEMBERS)
    store_forecast(history, frame)
    # The next 8 weeks as forecast: no drift; then a world where demand doubled: drift.
    same = DeskSeries("tickets:desk", "tickets", "desk", "Whole desk", steady)
    calm = {a.model: a for a in record_actuals([same])}
    served = frame.attrs["model"]
    assert calm[served].periods_scored == 8 and not calm[served].drifted
    doubled = steady.copy()
    doubled.iloc[52:] *= 2
    surge = {a.model: a for a in record_actuals([DeskSeries("tickets:desk", "tickets", "desk", "", doubled)])}
    assert surge[served].drifted and surge[served].drift_ratio > DRIFT_FACTOR
    assert ForecastAccuracy.objects.get(series_key="tickets:desk", model=served).drifted
    print(f"\ndrift ratio steady {calm[served].drift_ratio:.2f}, after demand doubled {surge[served].drift_ratio:.2f}")


def test_long_horizons_are_forecast_by_month_too(world, db):
    run = forecast_demand(30, top=0, as_of=AS_OF, members=MEMBERS)
    assert run.failed == {}
    weekly = stored_forecast("hours:desk")
    monthly = stored_forecast("hours:desk@M")
    assert len(weekly) == 30 and weekly.index[0] == pd.Timestamp("2026-11-01")
    assert len(monthly) == 7 and monthly.index[0] == pd.Timestamp("2026-10-01")
    assert set(Forecast.objects.filter(series_key="hours:desk@M").values_list("frequency", flat=True)) == {"M"}
    # A month of hours is about 4.35 weeks of them.
    assert monthly["mean"].iloc[1] == pytest.approx(weekly["mean"].iloc[:4].mean() * 30.44 / 7, rel=0.35)


def test_command_prints_the_capacity_gap_per_week(world, db):
    out = io.StringIO()
    call_command("forecast_demand", "--horizon", "4", "--top", "2", "--as-of", AS_OF.isoformat(),
                 "--members", ",".join(MEMBERS), stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert "from the week ending 2026-10-25" in text
    for week in ("2026-11-01", "2026-11-08", "2026-11-15", "2026-11-22"):
        assert week in text
    assert Forecast.objects.filter(series_key="hours:client:" + str(top_clients(AS_OF, 1)[0])).exists()
    print("\n" + text)


def test_known_onboardings_reach_the_models_that_take_them(world, db, settings):
    settings.FORECAST_ONBOARDING_REGRESSORS = "both"
    went_live = onboardings()
    series = _by_key(desk_series(AS_OF, top=1))
    first = series["tickets:desk"].index[0].date()
    assert ((went_live["onboarded_on"] > first) & (went_live["onboarded_on"] <= AS_OF)).any(), \
        "the world onboards clients inside the series, or this test shows nothing"
    run = forecast_demand(13, top=1, as_of=AS_OF, members=("ets", "arima"))
    assert run.failed == {}
    served = Forecast.objects.filter(series_key="hours:desk", served=True).first()
    used = json.loads(served.parameters)["regressors"]
    assert used == {"columns": ["onboarding", "onboarded"], "members": ["arima"]}
    # The same forecast as the one function gives with the columns built here.
    weekly = series["hours:desk"]
    labels = weekly.index.append(pd.date_range(weekly.index[-1], periods=14, freq="W-SUN")[1:])
    direct = forecast(weekly, 13, members=("ets", "arima"), regressors=onboarding_columns(went_live, labels))
    np.testing.assert_allclose(stored_forecast("hours:desk")["mean"].to_numpy(), direct["mean"].to_numpy(),
                               rtol=1e-9)
    # A client's own series has only its own surge, which a long-standing client does not vary.
    client_key = next(key for key in series if key.startswith("hours:client:"))
    client_row = Forecast.objects.filter(series_key=client_key, served=True).first()
    assert json.loads(client_row.parameters)["regressors"].get("columns", []) in ([], ["onboarding"])

def test_arima_takes_the_holidays_when_the_setting_says_so(world, db, settings):
    settings.FORECAST_ARIMA_HOLIDAYS = True
    run = forecast_demand(13, top=1, as_of=AS_OF, members=("ets", "arima"))
    assert run.failed == {}
    served = Forecast.objects.filter(series_key="hours:desk", served=True).first()
    parameters = json.loads(served.parameters)
    assert parameters["arima_holidays"] is True
    assert "weekday holidays a regressor for arima" in parameters["note"]
    # The same forecast as the one function gives with the setting's country.
    weekly = _by_key(desk_series(AS_OF, top=1))["hours:desk"]
    direct = forecast(weekly, 13, members=("ets", "arima"), country="US", arima_holidays=True)
    plain = forecast(weekly, 13, members=("ets", "arima"), country="US", arima_holidays=False)
    stored = stored_forecast("hours:desk")["mean"].to_numpy()
    np.testing.assert_allclose(stored, direct["mean"].to_numpy(), rtol=1e-9)
    assert not np.allclose(stored, plain["mean"].to_numpy(), rtol=1e-6)

