"""Demand forecasting and capacity planning settings (issue 14, docs/forecasting.md), read from
the environment with the defaults below. A bad value stops start-up with a message naming the
variable (superhack.env), instead of a capacity plan built on a typo.

ml.forecasting reads each through `getattr(settings, NAME, default)`, so a test's `settings`
fixture or a deployment's own settings module still wins.
"""

from __future__ import annotations

from .env import ImproperlyConfiguredEnv, env_bool, env_float, env_int, env_str

__all__ = [  # what settings.py's star import takes: the settings, not the parsers
    "FORECAST_ARIMA_HOLIDAYS", "FORECAST_CONTRACTOR_HOURLY_RATE", "FORECAST_DRIFT_MIN_PERIODS", "FORECAST_DRIFT_RATIO",
    "FORECAST_HOLIDAY_COUNTRY",
    "FORECAST_HORIZON_WEEKS", "FORECAST_HOURS_PER_WEEK", "FORECAST_ONBOARDING_REGRESSORS",
    "FORECAST_TARGET_UTILISATION", "FORECAST_TOP_CLIENTS",
]


def env_country(name: str, default: str | None) -> str | None:
    """An ISO country code for the `holidays` package, or none/off/empty for no holidays."""
    raw = env_str(name, default or "").strip()
    if raw.lower() in ("", "none", "off", "false", "0"):
        return None
    import holidays  # the package the roster reads; a code it does not know fails here, not mid-plan

    if raw.upper() not in holidays.list_supported_countries():
        raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a country the holidays package knows")
    return raw.upper()


# Technician hours needed = forecast labour hours / this: MSP targets are 75-80% (MSP_WORLD.md
# section 4); the low end, since admin, training and travel fill the rest and no worklog records them.
FORECAST_TARGET_UTILISATION = env_float("FORECAST_TARGET_UTILISATION", 0.75, above=0, at_most=1)
# A full-time technician's contracted week (the synced data holds no contracted hours).
FORECAST_HOURS_PER_WEEK = env_float("FORECAST_HOURS_PER_WEEK", 40.0, above=0)
# Public holidays on weekdays come off the roster; "none" counts none.
FORECAST_HOLIDAY_COUNTRY = env_country("FORECAST_HOLIDAY_COUNTRY", "US")
# No published MSP figure: about 1.8x the roster's burdened $41-58/h, a staffing agency's margin.
FORECAST_CONTRACTOR_HOURLY_RATE = env_float("FORECAST_CONTRACTOR_HOURLY_RATE", 95.0, above=0)
# Weeks ahead a scheduled forecast_demand run forecasts (a quarter), and the clients with a series.
FORECAST_HORIZON_WEEKS = env_int("FORECAST_HORIZON_WEEKS", 13, minimum=1)
FORECAST_TOP_CLIENTS = env_int("FORECAST_TOP_CLIENTS", 10, minimum=0)
# Drift: live MASE above this x the backtest MASE, once this many periods have actuals. 1.5 is the
# tolerance the ensemble already uses to drop a member; under four weeks one odd week decides it.
FORECAST_DRIFT_RATIO = env_float("FORECAST_DRIFT_RATIO", 1.5, above=1)
FORECAST_DRIFT_MIN_PERIODS = env_int("FORECAST_DRIFT_MIN_PERIODS", 4, minimum=1)
# Known onboardings given to Prophet and ARIMA (ml.forecasting.onboardings.REGRESSOR_SETS):
# none, onboarding (the surge weeks) or both (and the users gone live so far).
FORECAST_ONBOARDING_REGRESSORS = env_str("FORECAST_ONBOARDING_REGRESSORS", "none").strip().lower()
if FORECAST_ONBOARDING_REGRESSORS not in ("none", "onboarding", "both"):
    raise ImproperlyConfiguredEnv(
        f"FORECAST_ONBOARDING_REGRESSORS={FORECAST_ONBOARDING_REGRESSORS!r}: choose none, onboarding or both"
    )
# ARIMA takes the weekday public holidays of FORECAST_HOLIDAY_COUNTRY as a regressor (Prophet has
# them either way). Off: on simulated MSPs it helped ARIMA but the forecast by less than the
# protocol asked (bench/forecasting_worlds.py, fifth round).
FORECAST_ARIMA_HOLIDAYS = env_bool("FORECAST_ARIMA_HOLIDAYS", False)
