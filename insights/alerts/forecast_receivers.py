"""Forecast drift alerts: ml.forecasting.signals.accuracy_recorded (record_actuals wrote accuracy
rows of stored demand forecasts) -> detectors.forecast_drift.raise_drift, once the rows commit
(a rolled back forecast run raises nothing). A failing detector is logged and never fails the
forecast run that triggered it. `connect()` is called by AlertsConfig.ready, as receivers.connect() is.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction

from ml.forecasting.signals import accuracy_recorded

log = logging.getLogger(__name__)


def accuracy_written(sender, ids=(), **_) -> None:
    if ids:
        transaction.on_commit(partial(raise_forecast_drift, list(ids)), robust=True)


def raise_forecast_drift(ids: list[int]) -> list:
    from .detectors.forecast_drift import raise_drift

    try:
        return raise_drift(ids)
    except Exception:  # a lost alert is bad; a forecast run failed by its alert would be worse
        log.exception("Raising forecast drift alerts for %d accuracy row(s) failed", len(ids))
        return []


def connect() -> None:
    accuracy_recorded.connect(accuracy_written, dispatch_uid="alerts.forecast_drift")
