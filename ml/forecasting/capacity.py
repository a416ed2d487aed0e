"""Capacity planning: the technician hours the forecast work needs each week against the hours
the roster has, the gap in FTEs with its 80% interval, and what to do about it with its cost.

Rules and defaults (docs/forecasting.md says why):
- needed hours = forecast labour hours / target utilisation. Default 0.75: MSP utilisation
  targets are 75-80% (shared/MSP_WORLD.md, section 4, BMK and ERPAIStack); the low end, because
  the rest of a technician's week goes on admin, training and travel that no worklog records.
  Setting `FORECAST_TARGET_UTILISATION` or the `utilisation` argument.
- roster hours = for each active technician, `FORECAST_HOURS_PER_WEEK` (40: SuperOps and
  QuickBooks hold no contracted hours or leave, so everyone counts full-time unless the caller
  passes `hours_per_week={technician id: hours}` for part-timers), less 8 hours for each public
  holiday on a weekday that week (`FORECAST_HOLIDAY_COUNTRY`, "US"; None for none). A technician
  whose QuickBooks employee was hired after, or released before, the week does not count in it.
- gap (FTE) = (needed - roster) / hours per FTE (40); its 80% interval comes from the forecast's
  80% bounds divided by the same utilisation.
- recommendations: a shortfall whose 80% lower bound stays above one FTE for at least half the
  horizon is a hire (cost: the roster's mean burdened hourly cost x 40 h per week for the rest of
  the horizon); other weeks short of hours are first covered by moving proactive work (the share
  of recent labour on planned tickets and projects, which can wait, at no extra cost), then by
  contractor hours at `FORECAST_CONTRACTOR_HOURLY_RATE` ($95/h: chosen, no published MSP figure;
  about 1.8x the roster's burdened cost of $41-58/h, MSP_WORLD.md section 4). A surplus of more than
  one FTE in every week of the 80% interval says so: bring proactive work forward, do not backfill.
  With none of these, the recommendation is to hold: the roster fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from django.conf import settings
from django.db.models import Q

from clients.models import Employee, Technician, Worklog
from ml.forecasting.holiday_days import weekday_holiday_dates

TARGET_UTILISATION = 0.75
HOURS_PER_WEEK = 40.0
HOLIDAY_HOURS = 8.0
HOLIDAY_COUNTRY = "US"
CONTRACTOR_HOURLY_RATE = 95.0
PROACTIVE_WINDOW_WEEKS = 13


def setting(name: str, default):
    return getattr(settings, name, default)


@dataclass(frozen=True)
class Recommendation:
    action: str  # hire | move_proactive | contractor | spare_capacity | hold
    words: str
    hours: float
    cost: float


def roster(week_ends: pd.DatetimeIndex, hours_per_week: dict[int, float] | None = None,
           country: str | None = "default") -> pd.DataFrame:
    """Per week (labelled by its Sunday): active technicians and the hours they have."""
    full_week = float(setting("FORECAST_HOURS_PER_WEEK", HOURS_PER_WEEK))
    country = setting("FORECAST_HOLIDAY_COUNTRY", HOLIDAY_COUNTRY) if country == "default" else country
    overrides = hours_per_week or {}
    techs = list(Technician.objects.filter(active=True, deleted_at_source__isnull=True).values_list("pk", flat=True))
    spans: dict[int, list[tuple[date | None, date | None]]] = {}
    for tech_id, hired, released in Employee.objects.filter(
        technician_id__in=techs, deleted_at_source__isnull=True
    ).values_list("technician_id", "hired_on", "released_on"):
        spans.setdefault(tech_id, []).append((hired, released))
    holidays = _weekday_holidays(week_ends, country)
    rows = []
    for sunday in week_ends:
        end = sunday.date()
        start = end - timedelta(days=6)
        on = [t for t in techs if _employed(spans.get(t), start, end)]
        weekly = sum(overrides.get(t, full_week) for t in on)
        off = holidays.get(end, 0) * HOLIDAY_HOURS * sum(min(1.0, overrides.get(t, full_week) / full_week) for t in on)
        rows.append({"technicians": len(on), "holidays": holidays.get(end, 0), "roster_hours": weekly - off})
    return pd.DataFrame(rows, index=week_ends)


def _employed(spans, start: date, end: date) -> bool:
    if not spans:  # no QuickBooks employee linked: counted while the technician is active
        return True
    return any((h is None or h <= end) and (r is None or r >= start) for h, r in spans)


def _weekday_holidays(week_ends: pd.DatetimeIndex, country: str | None) -> dict[date, int]:
    if not country or len(week_ends) == 0:
        return {}
    counts: dict[date, int] = {}
    for day in weekday_holiday_dates(country, week_ends[0].year - 1, week_ends[-1].year):
        sunday = day + timedelta(days=6 - day.weekday())
        counts[sunday] = counts.get(sunday, 0) + 1
    return counts


def capacity_gap(hours_forecast: pd.DataFrame, *, utilisation: float | None = None,
                 hours_per_week: dict[int, float] | None = None, country: str | None = "default") -> pd.DataFrame:
    """Per forecast week: forecast labour hours, hours needed at the target utilisation (with the
    80% interval), the roster's hours and the gap in hours and FTEs (with its 80% interval)."""
    utilisation = float(utilisation or setting("FORECAST_TARGET_UTILISATION", TARGET_UTILISATION))
    if not 0 < utilisation <= 1:
        raise ValueError("target utilisation must be in (0, 1]")
    fte = float(setting("FORECAST_HOURS_PER_WEEK", HOURS_PER_WEEK))
    weeks = pd.DatetimeIndex(hours_forecast.index)
    plan = roster(weeks, hours_per_week, country)
    plan.insert(0, "forecast_hours", hours_forecast["mean"].to_numpy())
    for column, source in (("needed_hours", "mean"), ("needed_lo_80", "lo_80"), ("needed_hi_80", "hi_80")):
        plan[column] = hours_forecast[source].to_numpy() / utilisation
    plan["gap_hours"] = plan["needed_hours"] - plan["roster_hours"]
    plan["gap_fte"] = plan["gap_hours"] / fte
    plan["gap_fte_lo_80"] = (plan["needed_lo_80"] - plan["roster_hours"]) / fte
    plan["gap_fte_hi_80"] = (plan["needed_hi_80"] - plan["roster_hours"]) / fte
    plan.attrs.update({"utilisation": utilisation, "hours_per_fte": fte})
    return plan


def proactive_share(end: date, weeks: int = PROACTIVE_WINDOW_WEEKS) -> float:
    """Share of labour hours in the `weeks` up to `end` spent on planned work: proactive tickets
    (Ticket.is_reactive False) and project time (no ticket)."""
    recent = Worklog.objects.labour().filter(work_date__gt=end - timedelta(weeks=weeks), work_date__lte=end)
    total = sum(recent.values_list("minutes", flat=True))
    planned_work = recent.filter(Q(ticket__isnull=True) | Q(ticket__is_reactive=False))
    planned = sum(planned_work.values_list("minutes", flat=True))
    return planned / total if total else 0.0


def mean_hourly_cost() -> float:
    costs = [float(c) for c in Technician.objects.filter(active=True, deleted_at_source__isnull=True)
             .values_list("burdened_hourly_cost", flat=True) if c]
    return sum(costs) / len(costs) if costs else 0.0


def recommendations(plan: pd.DataFrame, proactive: float, *, hourly_cost: float | None = None,
                    contractor_rate: float | None = None) -> list[Recommendation]:
    """What to do about the gap, in words, with hours and cost (see the module docstring)."""
    fte = plan.attrs.get("hours_per_fte", HOURS_PER_WEEK)
    hourly_cost = mean_hourly_cost() if hourly_cost is None else hourly_cost
    rate = float(contractor_rate or setting("FORECAST_CONTRACTOR_HOURLY_RATE", CONTRACTOR_HOURLY_RATE))
    weeks = len(plan)
    found: list[Recommendation] = []
    sure_short = plan["gap_fte_lo_80"] >= 1.0
    hires = 0
    if weeks and sure_short.sum() >= weeks / 2:
        hires = max(1, math.floor(plan.loc[sure_short, "gap_fte_lo_80"].median()))
        first = plan.index[sure_short.to_numpy().argmax()]
        left = weeks - int(sure_short.to_numpy().argmax())
        hours = hires * fte * left
        found.append(Recommendation(
            "hire", f"Hire {hires} technician{'s' if hires > 1 else ''} from the week ending {first:%Y-%m-%d}: the "
            f"80% interval stays more than one FTE short in {int(sure_short.sum())} of {weeks} weeks.",
            hours, hours * hourly_cost))
    short = (plan["gap_hours"] - hires * fte).clip(lower=0)
    movable = plan["forecast_hours"] * proactive / plan.attrs.get("utilisation", TARGET_UTILISATION)
    moved = pd.concat([short, movable], axis=1).min(axis=1)
    if moved.sum() > 0:
        found.append(Recommendation(
            "move_proactive", f"Move {moved.sum():.0f} hours of proactive work (planned tickets and projects, "
            f"{proactive:.0%} of recent labour) out of the {int((moved > 0).sum())} short weeks.",
            float(moved.sum()), 0.0))
    contract = short - moved
    if contract.sum() > 0:
        found.append(Recommendation(
            "contractor", f"Book {contract.sum():.0f} contractor hours at ${rate:.0f}/h over "
            f"{int((contract > 0).sum())} weeks for what proactive work cannot absorb.",
            float(contract.sum()), float(contract.sum() * rate)))
    if weeks and (plan["gap_fte_hi_80"] <= -1.0).all():
        spare = float(-plan["gap_fte"].mean())
        found.append(Recommendation(
            "spare_capacity", f"About {spare:.1f} FTE spare in every week, even at the 80% upper bound: bring "
            "proactive work forward and do not backfill a leaver.", spare * fte * weeks,
            -spare * fte * weeks * hourly_cost))
    if weeks and not found:
        found.append(Recommendation(
            "hold", f"The roster fits the forecast work: the gap stays between {plan['gap_fte_lo_80'].min():+.1f} and "
            f"{plan['gap_fte_hi_80'].max():+.1f} FTE (80% interval); no change needed.", 0.0, 0.0))
    return found
