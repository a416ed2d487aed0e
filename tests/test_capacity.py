"""Capacity planning (issue 14) on a simulated MSP whose staffing is known: seed 4242, 60 clients
x 18 months ending October 2026, staffed by the simulator at one technician per 250-300
endpoints (integrations/simulator/world.py `build_technicians`: 5 here, all full-time, each a
QuickBooks employee hired two years before the world starts and never released; truth.json lists
them with their burdened hourly cost). The data holds no part-time hours or leave, so the roster
is 40 h per technician less US public holidays on weekdays.

"Matches the world's known staffing": the roster the plan reports is the simulator's technicians
at 40 h, and the plan's gap is the one the world's own recent labour hours give against that
roster, within what a forecast of a steady desk may move.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from django.db import transaction

from clients.models import Employee, Technician, Worklog
from integrations.dump import import_dump
from integrations.sandbox.testing import simulated_world
from ml.forecasting import forecast
from ml.forecasting.capacity import CONTRACTOR_HOURLY_RATE, capacity_gap, proactive_share, recommendations
from ml.forecasting.desk import desk_series

SEED, CLIENTS, MONTHS = 4242, 60, 18
AS_OF = date(2026, 11, 1)  # the world ends on Saturday 31 October: last complete week ends 25 October
HORIZON = 13


@pytest.fixture(scope="module")
def world(tmp_path_factory, django_db_setup, django_db_blocker):
    folder = tmp_path_factory.mktemp("capacity-world") / "msp"
    with django_db_blocker.unblock(), transaction.atomic():
        simulated_world(folder, clients=CLIENTS, months=MONTHS, seed=SEED)
        import_dump(folder, progress=False)
        hours = next(s for s in desk_series(AS_OF, top=0) if s.key == "hours:desk").values
        frame = forecast(hours, HORIZON, members=("ets", "theta"))
        yield {"truth": json.loads((folder / "truth.json").read_text()), "hours": hours, "forecast": frame}
        transaction.set_rollback(True)


def test_roster_is_the_simulated_technicians_less_public_holidays(world, db):
    techs = len(world["truth"]["technicians"])
    plan = capacity_gap(world["forecast"])
    assert list(plan.index) == list(world["forecast"].index)
    assert (plan["technicians"] == techs).all()
    # Thanksgiving (Thu 26 Nov), Christmas (Fri 25 Dec), New Year (Fri 1 Jan), Martin Luther King
    # Day (Mon 18 Jan) and Veterans Day (Wed 11 Nov) take a day each; other weeks are full.
    holiday_weeks = {date(2026, 11, 15), date(2026, 11, 29), date(2026, 12, 27), date(2027, 1, 3), date(2027, 1, 24)}
    for week, row in plan.iterrows():
        expected = techs * (32 if week.date() in holiday_weeks else 40)
        assert row.roster_hours == expected, week
    assert (capacity_gap(world["forecast"], country=None)["roster_hours"] == 40 * techs).all()


def test_gap_matches_the_worlds_staffing(world, db):
    techs = len(world["truth"]["technicians"])
    plan = capacity_gap(world["forecast"], utilisation=0.75)
    recent = world["hours"].iloc[-HORIZON:]
    # The world's own gap: its last quarter's weekly labour at 75% against its technicians.
    known_gap = (recent.mean() / 0.75 - plan["roster_hours"]) / 40
    print(f"\n{techs} technicians, labour {recent.mean():.1f} h/week over the last {HORIZON} weeks "
          f"(utilisation {recent.mean() / (40 * techs):.0%}); forecast {plan['forecast_hours'].mean():.1f} h/week; "
          f"gap {plan['gap_fte'].mean():+.2f} FTE (80% {plan['gap_fte_lo_80'].mean():+.2f} to "
          f"{plan['gap_fte_hi_80'].mean():+.2f}), from the world's own hours {known_gap.mean():+.2f} FTE")
    # A steady desk: the forecast stays within a fifth of last quarter, so the gaps agree within
    # the FTE that a fifth of the hours is.
    assert plan["forecast_hours"].mean() == pytest.approx(recent.mean(), rel=0.2)
    assert np.abs(plan["gap_fte"] - known_gap).max() <= 0.2 * recent.mean() / 0.75 / 40 + 1e-9
    assert (plan["gap_fte_lo_80"] <= plan["gap_fte"]).all() and (plan["gap_fte"] <= plan["gap_fte_hi_80"]).all()
    # Needed hours scale with 1 / utilisation.
    looser = capacity_gap(world["forecast"], utilisation=0.5)
    np.testing.assert_allclose(looser["needed_hours"], plan["needed_hours"] * 1.5)


def test_part_timers_and_leavers_shrink_the_roster(world, db):
    techs = list(Technician.objects.filter(active=True).order_by("pk").values_list("pk", flat=True))
    weeks = world["forecast"].index
    base = capacity_gap(world["forecast"], country=None)
    half = capacity_gap(world["forecast"], country=None, hours_per_week={techs[0]: 20})
    assert (base["roster_hours"] - half["roster_hours"] == 20).all()
    # A technician whose QuickBooks employee leaves mid-horizon stops counting after that week.
    leaving = weeks[5].date() - timedelta(days=10)
    assert Employee.objects.filter(technician_id=techs[1]).update(released_on=leaving) == 1
    after = capacity_gap(world["forecast"], country=None)
    assert (after["technicians"].iloc[:5] == len(techs)).all()
    assert (after["technicians"].iloc[5:] == len(techs) - 1).all()
    np.testing.assert_allclose(after["gap_fte"].iloc[5:] - base["gap_fte"].iloc[5:], 1.0)


def _plan(hours: float, spread: float, weeks: int = 8) -> pd.DataFrame:
    """capacity_gap of a flat forecast of `hours` a week with an 80% interval of +- spread."""
    index = pd.date_range("2026-11-08", periods=weeks, freq="W-SUN")
    frame = pd.DataFrame({"mean": hours, "lo_80": hours - spread, "hi_80": hours + spread,
                          "lo_95": hours - 2 * spread, "hi_95": hours + 2 * spread}, index=index)
    return capacity_gap(frame, utilisation=0.75, country=None)


def test_recommendations_say_what_to_do_and_what_it_costs(world, db):
    techs = world["truth"]["technicians"]
    roster = 40 * len(techs)
    mean_cost = sum(float(t["burdenedHourlyCost"]) for t in techs) / len(techs)
    proactive = proactive_share(date(2026, 10, 25))
    assert 0 < proactive < 1

    # Sure shortfall of about 2.5 FTE every week: hire 2 (the 80% lower bound's whole FTEs).
    short = _plan(hours=(roster + 100) * 0.75, spread=7.5)
    hire = {r.action: r for r in recommendations(short, proactive)}["hire"]
    assert "Hire 2 technicians" in hire.words
    assert hire.cost == pytest.approx(2 * 40 * 8 * mean_cost, rel=1e-6)

    # A small shortfall (8 h a week): proactive work first, contractors for the rest.
    small = _plan(hours=(roster + 8) * 0.75, spread=15)
    found = {r.action: r for r in recommendations(small, 0.02)}
    assert "hire" not in found
    movable = (roster + 8) * 0.02  # needed hours freed: 2% of the labour, at the same utilisation
    assert found["move_proactive"].hours == pytest.approx(8 * min(8, movable))
    assert found["contractor"].cost == pytest.approx(found["contractor"].hours * CONTRACTOR_HOURLY_RATE)
    assert found["move_proactive"].hours + found["contractor"].hours == pytest.approx(8 * 8)

    # Far more people than work, even at the upper bound: spare capacity, a saving.
    idle = {r.action: r for r in recommendations(_plan(hours=roster * 0.3, spread=5), proactive)}
    assert set(idle) == {"spare_capacity"} and idle["spare_capacity"].cost < 0

    plan = capacity_gap(world["forecast"])
    words = recommendations(plan, proactive)
    if (plan["gap_hours"] <= 0).all() and not (plan["gap_fte_hi_80"] <= -1).all():
        assert [r.action for r in words] == ["hold"]
    print(f"\nproactive share {proactive:.0%}; recommendations for the world: "
          + ("; ".join(f"{r.words} ({r.hours:.0f} h, ${r.cost:,.0f})" for r in words) or "none"))
    assert Worklog.objects.labour().exists()
