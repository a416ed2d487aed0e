"""Issue 14's bar on simulated worlds: the ensemble's mean MASE in rolling-origin backtests is at
or below the best single member's.

Two simulated MSPs (seeds 5301 and 5302, 60 clients x 36 months ending October 2026), each
imported into the test database inside a transaction rolled back afterwards, give every weekly
series `forecast_demand` forecasts (tickets and labour hours for the whole desk, each category,
each priority and the top 10 clients: 54 a world). Each series is backtested at 4 rolling
origins 13 weeks apart with `forecast()`'s default members, Prophet included and given the
holidays `forecast_demand` gives it (FORECAST_HOLIDAY_COUNTRY). The comparison is
over the forecasts where every member ran (`backtest.against_members`), pooled over both
worlds: one model is chosen for every MSP, so "the best single member" is the one best over all
of them.

These are the evaluation worlds of bench/forecasting_worlds.py's protocol: the combination rule
(ml.forecasting.weights) was chosen on worlds 5101 and 5102 and the synthetic design set, and
these two were simulated for the first time after the choice was committed.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest
from django.conf import settings
from django.db import transaction

from integrations.dump import import_dump
from integrations.sandbox.testing import simulated_world
from ml.forecasting.backtest import against_members, backtest
from ml.forecasting.desk import desk_series

pytestmark = [
    pytest.mark.slow,  # two 60-client worlds and 432 backtested forecasts: ~4 min of one core
    # The figures are the forecasts', not the database's: the worlds only pass through it. CI's
    # SQLite pass measures them; its PostgreSQL pass would spend the same 4 minutes again.
    pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="measured on the embedded database's pass"),
]

SEEDS, CLIENTS, MONTHS = (5301, 5302), 60, 36
HORIZON, ORIGINS = 13, 4


@pytest.fixture(scope="module")
def scores(tmp_path_factory, django_db_setup, django_db_blocker) -> pd.DataFrame:
    rows = []
    for seed in SEEDS:
        folder = tmp_path_factory.mktemp(f"forecast-world-{seed}") / "msp"
        with django_db_blocker.unblock(), transaction.atomic():
            simulated_world(folder, clients=CLIENTS, months=MONTHS, seed=seed)
            import_dump(folder, progress=False)
            series = desk_series()
            transaction.set_rollback(True)
        assert len(series) == 54
        for one in series:
            table = backtest(one.values, HORIZON, origins=ORIGINS, country=settings.FORECAST_HOLIDAY_COUNTRY)
            rows += [{**row, "series": f"{seed}/{one.key}"} for row in table.attrs["per_origin"]]
    scored, left_out = against_members(pd.DataFrame(rows))
    table = scored.dropna(axis=1, how="all").agg(["mean", "median"]).T.round(4)  # Croston: fallbacks only
    print(f"\n{len(scored)} forecasts scored, {left_out} left out (a fallback served)\n{table.to_string()}")
    return scored


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,  # only the comparison may fail: a broken world or backtest is an error
    reason=(
        "measured once, after the rule was chosen on other worlds (2 Dec 2026): ensemble 0.921 against ETS 0.917 "
        "over 360 forecasts; with Prophet given the US holidays, as forecast_demand gives them, 0.919 against ETS "
        "0.917, Theta 0.935, ARIMA 0.931, STL+ETS 0.949, Prophet 1.024 (5301: 1.013 against ETS 0.982; 5302: 0.829 "
        "against ARIMA 0.851). Ten further worlds: bench/forecasting_worlds.py's docstring"
    ),
)
def test_the_ensemble_backtests_at_least_as_well_as_its_best_member_on_simulated_msps(scores):
    members = scores[["ets", "stl_ets", "arima", "theta", "prophet"]].mean()
    assert scores["forecast"].mean() <= members.min(), members.idxmin()


def test_every_world_is_forecast_better_than_naive(scores):
    world = scores.index.get_level_values(0).str.split("/").str[0]
    for seed in SEEDS:
        mine = scores[world == str(seed)]
        assert len(mine) > 100
        assert mine["forecast"].mean() < mine["naive"].mean(), seed
