"""python manage.py forecast_demand [--horizon N] [--top N]: forecast the desk's weekly ticket
arrivals and labour hours (whole desk, per category, priority and top client), store them,
record the accuracy of earlier forecasts now that their weeks happened, and print the capacity
gap per week (ml.forecasting.store.forecast_demand does the work)."""

from __future__ import annotations

import warnings
from datetime import date

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Forecast ticket demand and labour hours, store the forecasts and print the capacity gap."

    def add_arguments(self, parser):
        parser.add_argument("--horizon", type=int, default=None,
                            help="Weeks ahead, FORECAST_HORIZON_WEEKS when left out (monthly series too past 26)")
        parser.add_argument("--top", type=int, default=None,
                            help="Clients with own series (most hours, 52 weeks); FORECAST_TOP_CLIENTS if left out")
        parser.add_argument("--as-of", help="YYYY-MM-DD: forecast from the last complete week before this day")
        parser.add_argument("--members", help="Comma-separated models to try (default: all), e.g. ets,arima,theta")
        parser.add_argument("--utilisation", type=float, help="Target utilisation (default 0.75)")

    def handle(self, *args, horizon=None, top=None, as_of=None, members=None, utilisation=None, **options):
        from ml.forecasting.store import forecast_demand

        if (horizon is not None and horizon < 1) or (top is not None and top < 0):
            raise CommandError("--horizon must be at least 1 and --top at least 0")
        try:
            day = date.fromisoformat(as_of) if as_of else None
        except ValueError as exc:
            raise CommandError(f"--as-of: {exc}") from None
        chosen = tuple(m.strip() for m in members.split(",") if m.strip()) if members else None
        try:
            with warnings.catch_warnings():
                # statsmodels warns on flat or short series it is tried on; forecast() falls back.
                warnings.simplefilter("ignore")
                run = forecast_demand(horizon, top=top, as_of=day, members=chosen, utilisation=utilisation)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not run.series and not run.failed:
            self.stdout.write("No tickets or worklogs yet: nothing to forecast.")
            return
        drifted = [a for a in run.accuracy if a.drifted]
        self.stdout.write(
            f"{run.series} series forecast from the week ending {run.origin}, {run.rows} rows stored; "
            f"accuracy recorded for {len(run.accuracy)} earlier forecasts ({len(drifted)} drifting) "
            f"in {run.seconds:.1f} s"
        )
        for key, error in run.failed.items():
            self.stderr.write(f"  {key} not forecast: {error}")
        for accuracy in drifted:
            self.stdout.write(self.style.WARNING(
                f"  drift: {accuracy.series_key} {accuracy.model} from {accuracy.origin}: live MASE "
                f"{accuracy.mase:.2f} vs backtest {accuracy.backtest_mase:.2f} (> {accuracy.drift_factor}x)"
            ))
        if run.plan is None:
            self.stdout.write("No labour hours to plan capacity on.")
            return
        plan = run.plan
        self.stdout.write(
            f"\nCapacity at {plan.attrs['utilisation']:.0%} target utilisation "
            f"({plan.attrs['hours_per_fte']:.0f} h per FTE):"
        )
        self.stdout.write(f"{'week ending':<12} {'hours':>8} {'needed':>8} {'roster':>8} {'gap FTE':>8}  80% interval")
        for week, row in plan.iterrows():
            self.stdout.write(
                f"{week:%Y-%m-%d}   {row.forecast_hours:8.1f} {row.needed_hours:8.1f} {row.roster_hours:8.1f} "
                f"{row.gap_fte:+8.2f}  [{row.gap_fte_lo_80:+.2f}, {row.gap_fte_hi_80:+.2f}]"
            )
        for recommendation in run.recommendations:
            cost = f"${recommendation.cost:,.0f}" if recommendation.cost >= 0 else f"saves ${-recommendation.cost:,.0f}"
            self.stdout.write(f"- {recommendation.words} ({recommendation.hours:,.0f} h, {cost})")
