"""Forecast drift alerts (issue 14): when the weeks a stored forecast covered have happened and
the served model's live MASE passes its backtest MASE by the configured ratio, one alert is
raised per series and model (a repeat is counted, not added); none while the error stays within
the ratio, and none when the rows are rolled back.

A desk series of 60 weeks relative to today: 52 of history forecast 8 weeks ahead (ETS and
Theta), then the 8 weeks as forecast (steady) or with demand doubled (drift). The live MASE is
recomputed here from the stored rows and the series, not read from the code under test.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from django.db import transaction
from django.utils import timezone

from insights.alerts import forecast_receivers
from insights.alerts.models import Alert
from ml.forecasting import forecast
from ml.forecasting.desk import DeskSeries
from ml.forecasting.store import record_actuals, store_forecast
from ml.models import Forecast, ForecastAccuracy

needs_kind = pytest.mark.skipif(
    "forecast_drift" not in Alert.Kind.values,
    reason="needs Alert.Kind.FORECAST_DRIFT and its migration (insights/alerts, integrated by the lead)",
)
KEY = "tickets:desk"


@pytest.fixture(autouse=True)
def connected():
    forecast_receivers.connect()  # AlertsConfig.ready connects it too; the dispatch uid keeps it once


@pytest.fixture
def weeks():
    today = timezone.localdate()
    last_sunday = today - timedelta(days=today.weekday() + 1)
    index = pd.date_range(end=pd.Timestamp(last_sunday), periods=60, freq="W-SUN", name="week")
    return pd.Series(50 + np.random.default_rng(3).normal(0, 3, 60), index=index)


def _series(values: pd.Series) -> DeskSeries:
    return DeskSeries(KEY, "tickets", "desk", "Whole desk", values)


@pytest.fixture
def stored(weeks, db):
    frame = forecast(weeks.iloc[:52], 8, members=("ets", "theta"))
    store_forecast(_series(weeks.iloc[:52]), frame)
    return frame.attrs["model"]


def _record(values, capture) -> None:
    with capture(execute=True):
        record_actuals([_series(values)])


@needs_kind
def test_drift_raises_one_alert_naming_the_series_model_and_errors(weeks, stored, django_capture_on_commit_callbacks):
    doubled = weeks.copy()
    doubled.iloc[52:] *= 2
    _record(doubled, django_capture_on_commit_callbacks)
    alerts = Alert.objects.filter(kind="forecast_drift")
    assert alerts.count() == 1
    alert = alerts.get()
    # Live MASE recomputed: mean absolute error over the history's mean one-step naive error.
    rows = Forecast.objects.filter(series_key=KEY, model=stored).order_by("step")
    live = np.mean(np.abs(doubled.iloc[52:].to_numpy() - [r.mean for r in rows]))
    live /= np.mean(np.abs(np.diff(weeks.iloc[:52].to_numpy())))
    backtest = rows[0].backtest_mase
    assert live / backtest > 1.5
    assert alert.dedup_key == f"forecast_drift:{KEY}:{stored}"
    assert stored in alert.title and "Whole desk" in alert.title
    assert f"{live:.2f}" in alert.message and f"{backtest:.2f}" in alert.message
    assert alert.evidence["live_mase"] == pytest.approx(live)
    assert alert.evidence["drift_ratio"] == pytest.approx(live / backtest)
    # The next scoring of the same drifting forecast is a repeat of that alert, not a second one.
    _record(doubled, django_capture_on_commit_callbacks)
    assert Alert.objects.filter(kind="forecast_drift").count() == 1
    assert Alert.objects.get(kind="forecast_drift").count == 2
    # Only the served forecast alerts; the members and baselines that drifted too do not.
    drifted_models = set(ForecastAccuracy.objects.filter(drifted=True).values_list("model", flat=True))
    assert stored in drifted_models and len(drifted_models) >= 2


@needs_kind
def test_no_alert_while_the_error_stays_within_the_ratio(weeks, stored, django_capture_on_commit_callbacks):
    _record(weeks, django_capture_on_commit_callbacks)
    served = ForecastAccuracy.objects.get(series_key=KEY, model=stored)
    assert served.periods_scored == 8 and not served.drifted
    assert not Alert.objects.filter(kind="forecast_drift").exists()


@needs_kind
def test_the_ratio_is_a_setting(weeks, stored, settings, django_capture_on_commit_callbacks):
    settings.FORECAST_DRIFT_RATIO = 100.0  # doubled demand is within 100x the backtest error
    doubled = weeks.copy()
    doubled.iloc[52:] *= 2
    _record(doubled, django_capture_on_commit_callbacks)
    assert ForecastAccuracy.objects.get(series_key=KEY, model=stored).drift_factor == 100.0
    assert not Alert.objects.filter(kind="forecast_drift").exists()


@needs_kind
def test_a_rolled_back_scoring_raises_nothing(weeks, stored, django_capture_on_commit_callbacks):
    doubled = weeks.copy()
    doubled.iloc[52:] *= 2
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            record_actuals([_series(doubled)])
            transaction.set_rollback(True)
    assert not Alert.objects.filter(kind="forecast_drift").exists()


def test_forecast_settings_come_from_the_environment_and_bad_values_stop_start_up(monkeypatch):
    import importlib

    import superhack.settings_forecasting as forecasting
    from superhack.env import ImproperlyConfiguredEnv

    monkeypatch.setenv("FORECAST_DRIFT_RATIO", "2")
    monkeypatch.setenv("FORECAST_TARGET_UTILISATION", "0.8")
    monkeypatch.setenv("FORECAST_HOLIDAY_COUNTRY", "none")
    monkeypatch.setenv("FORECAST_ONBOARDING_REGRESSORS", " Both ")
    monkeypatch.setenv("FORECAST_ARIMA_HOLIDAYS", "on")
    loaded = importlib.reload(forecasting)
    assert loaded.FORECAST_ARIMA_HOLIDAYS is True
    monkeypatch.delenv("FORECAST_ARIMA_HOLIDAYS")
    assert (loaded.FORECAST_DRIFT_RATIO, loaded.FORECAST_TARGET_UTILISATION) == (2.0, 0.8)
    assert loaded.FORECAST_HOLIDAY_COUNTRY is None
    assert loaded.FORECAST_ONBOARDING_REGRESSORS == "both"
    monkeypatch.delenv("FORECAST_ONBOARDING_REGRESSORS")
    for name, bad in (("FORECAST_DRIFT_RATIO", "1"), ("FORECAST_TARGET_UTILISATION", "75"),
                      ("FORECAST_HOLIDAY_COUNTRY", "Atlantis"), ("FORECAST_HOURS_PER_WEEK", "forty"),
                      ("FORECAST_ONBOARDING_REGRESSORS", "sometimes"), ("FORECAST_ARIMA_HOLIDAYS", "sometimes")):
        monkeypatch.setenv(name, bad)
        with pytest.raises(ImproperlyConfiguredEnv, match=name):
            importlib.reload(forecasting)
        monkeypatch.delenv(name)
    monkeypatch.delenv("FORECAST_DRIFT_RATIO", raising=False)
    monkeypatch.delenv("FORECAST_TARGET_UTILISATION", raising=False)
    monkeypatch.delenv("FORECAST_HOLIDAY_COUNTRY", raising=False)
    defaults = importlib.reload(forecasting)
    assert (defaults.FORECAST_DRIFT_RATIO, defaults.FORECAST_TARGET_UTILISATION) == (1.5, 0.75)
    assert defaults.FORECAST_HOLIDAY_COUNTRY == "US" and defaults.FORECAST_CONTRACTOR_HOURLY_RATE == 95.0
    from ml.forecasting.onboardings import DEFAULT_REGRESSORS

    assert defaults.FORECAST_ONBOARDING_REGRESSORS == DEFAULT_REGRESSORS
    assert defaults.FORECAST_ARIMA_HOLIDAYS is False
