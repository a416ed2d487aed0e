"""Forecast drift: a demand forecast whose live error has passed its backtest error.

ml.forecasting.store.record_actuals scores stored forecasts once their weeks have happened and
flags a row `drifted` when the live MASE is more than FORECAST_DRIFT_RATIO (1.5) x the backtest
MASE, with at least FORECAST_DRIFT_MIN_PERIODS (4) weeks scored (the rule and its reasons are
in that module and docs/forecasting.md; the factor is stored on each row). This detector turns
the served forecasts' drifted rows into alerts: the forecast people plan staffing on is no
longer as good as it was measured to be. The members' and baselines' own rows are not alerts
(a member the ensemble outweighs can drift without changing what is served); the naive
baseline's live error is quoted as context, since when it drifted too the weeks themselves were
unlike the history -- demand changed, not only the model.

One alert per series and model: the dedup key is "forecast_drift:<series key>:<model>", so the
weekly scoring of several origins of the same drifting forecast is counted as repeats within
the suppression window; of several origins in one call only the latest is raised. Warning, or
critical when the live error is more than twice the allowed multiple (3x the backtest by
default): the intervals then say little.

Not run on committed rows like the other detectors: insights.alerts.forecast_receivers calls
`raise_drift(ids)` when ml.forecasting.signals.accuracy_recorded says rows were written.
"""

from __future__ import annotations

from dataclasses import asdict

from clients.models import Client
from ml.forecasting.desk import parse_key
from ml.models import Forecast, ForecastAccuracy

from . import Finding

KIND = "forecast_drift"
CRITICAL_MULTIPLE = 2.0  # x the drift factor


def detect(accuracy_ids) -> list[Finding]:
    rows = (ForecastAccuracy.objects.filter(pk__in=list(accuracy_ids), served=True, drifted=True)
            .order_by("series_key", "model", "-origin"))
    latest: dict[tuple[str, str], ForecastAccuracy] = {}
    for row in rows:
        latest.setdefault((row.series_key, row.model), row)
    return [_finding(row) for row in latest.values()]


def _finding(row: ForecastAccuracy) -> Finding:
    forecast = (Forecast.objects.filter(series_key=row.series_key, origin=row.origin, model=row.model)
                .values("label", "measure", "frequency").first() or {})
    measure, scope, value, frequency = parse_key(row.series_key)
    client_id = int(value) if scope == "client" and Client.objects.filter(pk=int(value)).exists() else None
    label = forecast.get("label") or row.series_key
    what = "ticket arrivals" if measure == "tickets" else "labour hours"
    unit = "weeks" if frequency == "W" else "months"
    naive = ForecastAccuracy.objects.filter(series_key=row.series_key, origin=row.origin, model="naive").first()
    context = ""
    if naive is not None and naive.mase is not None and naive.backtest_mase:
        context = (f" The naive baseline {'drifted too' if naive.drifted else 'did not drift'} (live MASE "
                   f"{naive.mase:.2f} against its backtest {naive.backtest_mase:.2f}): "
                   + ("demand itself changed, not only the model." if naive.drifted else
                      "the model, more than the demand, moved away."))
    critical = row.drift_ratio is not None and row.drift_ratio > CRITICAL_MULTIPLE * row.drift_factor
    return Finding(
        kind=KIND, severity="critical" if critical else "warning", client_id=client_id,
        title=f"Forecast drift: {label} {what} ({row.model})",
        message=(f"The {row.model} forecast of {label} {what} ({row.series_key}) made from "
                 f"{row.origin:%Y-%m-%d} has a live MASE of {row.mase:.2f} over {row.periods_scored} {unit}, "
                 f"{row.drift_ratio:.2f}x its backtest MASE of {row.backtest_mase:.2f} (the limit is "
                 f"{row.drift_factor:g}x); live sMAPE {row.smape:.1f}.{context} Plan staffing on its intervals "
                 f"with care until the next forecast_demand run re-weighs the models on these weeks."),
        evidence={"forecast_accuracy": row.pk, "series_key": row.series_key, "model": row.model,
                  "origin": row.origin.isoformat(), "periods_scored": row.periods_scored, "live_mase": row.mase,
                  "backtest_mase": row.backtest_mase, "drift_ratio": row.drift_ratio,
                  "drift_factor": row.drift_factor, "smape": row.smape,
                  "naive_mase": naive.mase if naive is not None else None},
        dedup_key=f"{KIND}:{row.series_key}:{row.model}",
    )


def raise_drift(accuracy_ids) -> list:
    """Raise an alert for each drifting served forecast among these ForecastAccuracy rows."""
    from ..services import raise_alert

    return [raise_alert(**asdict(finding)) for finding in detect(accuracy_ids)]
