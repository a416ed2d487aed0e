"""Demand forecasts as rows (ml.forecasting.store writes them) and their live accuracy once the
weeks they forecast have happened.

A forecast run stores, for each desk series, the forecast it served and every model behind it
(members and the naive baselines), one row per forecast period, so each model's live error can be
set beside its backtest error. The alerts app reads `ForecastAccuracy.drifted` (ml names no app
that listens)."""

from __future__ import annotations

from django.db import models


class Forecast(models.Model):
    """One model's forecast of one desk series for one period, made at one origin."""

    series_key = models.CharField(max_length=200, help_text='e.g. "hours:desk", "tickets:client:12"')
    measure = models.CharField(max_length=16, help_text="tickets or hours")
    scope = models.CharField(max_length=16, help_text="desk, category, priority or client")
    label = models.CharField(max_length=200, blank=True, help_text="The category, priority or client name")
    frequency = models.CharField(max_length=2, default="W", help_text="W (weeks ending Sunday) or M (months)")
    model = models.CharField(max_length=32, help_text="ensemble, a member (ets, arima, ...) or a baseline (naive)")
    served = models.BooleanField(default=False, help_text="The forecast forecast() returned (what pages show)")
    origin = models.DateField(help_text="Label of the last period of history: a Sunday, or a month's first day")
    step = models.PositiveSmallIntegerField(help_text="Periods after the origin (1 = the next one)")
    period = models.DateField(help_text="Label of the forecast period")
    mean = models.FloatField()
    lo_80 = models.FloatField()
    hi_80 = models.FloatField()
    lo_95 = models.FloatField()
    hi_95 = models.FloatField()
    backtest_mase = models.FloatField(
        null=True, blank=True, help_text="The model's rolling-origin backtest MASE when the forecast was made"
    )
    version = models.CharField(max_length=64, help_text="Forecasting code version that made the row")
    parameters = models.TextField(blank=True, help_text="How it was made: forecast()'s note, weights, season")
    actual = models.FloatField(null=True, blank=True, help_text="The period's actual value, once complete")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["series_key", "model", "-origin", "step"]
        constraints = [
            models.UniqueConstraint(fields=["series_key", "model", "origin", "step"], name="forecast_uniq"),
        ]
        indexes = [models.Index(fields=["series_key", "served", "origin"]), models.Index(fields=["period"])]

    def __str__(self) -> str:
        return f"{self.series_key} {self.model} {self.origin} +{self.step}: {self.mean:.3g}"


class ForecastAccuracy(models.Model):
    """The live error of one model's forecast of one series from one origin, over the periods
    whose actuals exist so far; `drifted` when that error passes its backtest error by the
    factor stored beside it (rule in ml.forecasting.store and docs/forecasting.md)."""

    series_key = models.CharField(max_length=200)
    model = models.CharField(max_length=32)
    served = models.BooleanField(default=False)
    origin = models.DateField()
    periods_scored = models.PositiveSmallIntegerField(help_text="Forecast periods with an actual so far")
    mase = models.FloatField(null=True, blank=True, help_text="Live MASE (scale: naive error of the history)")
    smape = models.FloatField(help_text="Live sMAPE, 0-200")
    coverage_80 = models.FloatField(null=True, blank=True, help_text="Share of actuals inside the 80% interval")
    backtest_mase = models.FloatField(null=True, blank=True)
    drift_ratio = models.FloatField(null=True, blank=True, help_text="Live MASE / backtest MASE")
    drift_factor = models.FloatField(help_text="The ratio above which the model is flagged as drifting")
    drifted = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["series_key", "model", "-origin"]
        verbose_name_plural = "forecast accuracy"
        constraints = [
            models.UniqueConstraint(fields=["series_key", "model", "origin"], name="forecastaccuracy_uniq"),
        ]
        indexes = [models.Index(fields=["drifted", "recorded_at"])]

    def __str__(self) -> str:
        return f"{self.series_key} {self.model} from {self.origin}: MASE {self.mase}"
