"""The ensemble against its members on simulated MSPs' own demand series (issue 14: "on simulated
worlds, the ensemble's mean MASE in rolling-origin backtests is at or below the best single
member's").

    .venv/bin/python bench/forecasting_worlds.py [--seeds 5101 5102] [--clients 60] [--months 36]
                                                 [--origins 4] [--horizon 13] [--workers 2]

Each seed's world is simulated and imported into an SQLite file of its own in a temporary var
directory (never the project's database), in a child process; `ml.forecasting.desk.desk_series`
then gives every weekly series the `forecast_demand` command forecasts (tickets and labour hours
for the whole desk, each category, each priority and the top 10 clients). Each series is
backtested by `ml.forecasting.backtest` at --origins rolling origins --horizon weeks apart, with
`forecast()`'s default members (Prophet included).

Scored: the mean MASE over every (series, origin) of the forecast, each member, the naive and
seasonal naive. A member that does not apply to a series is filled the way tests/test_forecasting.py
fills it: STL + ETS runs only on seasonal series and is plain ETS elsewhere, so its gaps take ETS's
score; temporal aggregation is not a default member. Forecasts where no member ran (a fallback
for a short, flat or intermittent series: the forecast is a baseline or Croston) are left out of
the comparison and counted, because there the ensemble did not run. The verdict compares the
forecast's mean with the best member's over the same forecasts.

Beside them, combination rules (`RULES`) are replayed on the members' own forecasts and inner
backtest MASEs, so a rule can be chosen on the simulated MSP's own kind of series. Protocol,
written down before any evaluation world was simulated (2 December 2026):
- design worlds: seeds 5101 (40 clients x 36 months) and 5102 (60 x 36); the synthetic design
  set (`bench/forecasting.py --design --prophet`, 100 forecasts, which replays the same rules);
- choice: the rule with the lowest mean MASE over the design worlds' forecasts pooled, among
  those within 0.01 of the rule in force on the synthetic design set; the rule in force stays
  unless another is lower on the worlds by more than 0.005;
- evaluation, once, after the choice is in the code: seeds 5301 and 5302 (60 x 36), never
  looked at before; their figures are reported whatever they are.

Second round, desk-level weights (2 December 2026, later; written and committed before any of
it was scored). The evaluation above missed by 0.004 with the best member changing from world to
world, while per-series weights rest on four noisy inner origins. `--raw` keeps each forecast's
member means and inner backtest MASEs so desk-level rules are replayed without refitting; a
desk is one world's weekly series at one outer origin. Candidates:
- S, series: the rule in force (inverse MASE squared within 2x of the best, each series' own
  inner backtests);
- D, desk: a member's desk score is the geometric mean, over the desk's series it ran on, of its
  inner MASE divided by the series' best member's; one set of weights (inverse score squared,
  within 2x of the best) for the desk, renormalised over the members each series has;
- DM, desk by measure: D, computed for the tickets series and the hours series apart;
- H, half: on each series, a member's score is the geometric mean of its series-relative score
  (inner MASE over the series' best) and its desk score; inverse squared, within 2x of the best;
- B, the desk's best: on each series, the member with the lowest desk score among those it has;
- A, desk arithmetic: D with each member's plain mean inner MASE over the desk's series.
Design worlds: 5101 (40 x 36), 5102, 5301 and 5302 (60 x 36), all seen before. Choice: the
lowest mean MASE over their forecasts pooled; S stays unless beaten by more than 0.005. The
single-series `forecast()` has no desk and is unchanged by any of them. Evaluation, once, after
the choice is in `forecast_demand`'s code: seeds 5401 and 5402 (60 x 36), never simulated
before, with the code as it stands then; their figures are reported whatever they are.

Result of the second round (`--raw` on the four design worlds, then `--replay-desks`; 736
forecasts where every member ran), pooled mean MASE:

| rule | pooled | 5101 | 5102 | 5301 | 5302 |
|---|---|---|---|---|---|
| S, series (in force) | 0.8473 | 0.7485 | 0.8068 | 1.0124 | 0.8284 |
| D, desk | **0.8435** | 0.7469 | 0.8031 | 1.0016 | 0.8291 |
| DM, desk by measure | 0.8436 | 0.7469 | 0.8035 | 1.0015 | 0.8292 |
| A, desk arithmetic | 0.8444 | 0.7494 | 0.8022 | 1.0031 | 0.8297 |
| H, half | 0.8448 | 0.7476 | 0.8043 | 1.0065 | 0.8278 |
| B, the desk's best | 0.8619 | 0.7220 | 0.8627 | 1.0146 | 0.8515 |
| best member, in hindsight: ARIMA | 0.8630 | 0.7917 | 0.8030 | 1.0146 | 0.8506 |

D beat S by 0.0038, less than the 0.005 the protocol asks: S stays, `forecast_demand` is
unchanged, and seeds 5401 and 5402 were not needed for a choice. (The replayed S differs from the
forecast served, 0.8471, only by the forecast's clipping at zero.) Choosing the desk's best member
alone (B) gained on one world and lost on three: a desk's four inner origins do not pick the
member that will do best next.

Third, a larger measurement of the bar for the code as it stands, written before any of its
worlds was simulated: seeds 5401 to 5410, 60 clients x 36 months, run once
(`--seeds 5401 5402 5403 5404 5405 5406 5407 5408 5409 5410`). Reported: the pooled mean MASE of
the forecast and each member over the forecasts where every member ran, per world, and the
pooled difference between the forecast and the best member with a bootstrap over worlds (2,000
resamples of the ten worlds). It was decided after the two-world evaluation above missed by
0.004, so it is a second look: it is reported beside that miss, not instead of it.

Result of the third (2 December 2026, run once; 1,918 of 2,152 forecasts where every member ran,
234 fallbacks left out; 1,196 s on 2 cores beside other jobs), pooled mean MASE:

| forecast | ARIMA | ETS | STL+ETS | Theta | Prophet | naive |
|---|---|---|---|---|---|---|
| **0.798** | 0.814 | 0.830 | 0.834 | 0.835 | 0.856 | 1.006 |

The forecast minus the best member (ARIMA): -0.016; resampling the ten worlds, 95% of draws in
[-0.024, -0.007], all at or below zero. By world the forecast is at or below that world's own
best member in 8 of 10 (above it on 5406, 0.870 against ARIMA 0.862, and 5407, 0.821 against
0.813). With the two-world evaluation (whose Prophet now gets the holidays `forecast_demand`
gives it: 0.919 against ETS 0.917 there), twelve evaluation worlds pooled: 0.817 against ARIMA
0.832. Desk weights (D) would have scored 0.797 on the ten.

Fourth, known onboardings as regressors (issue 14: "holidays and known onboardings as regressors
where the model takes them"), written and committed before any of it was scored. `--regressors`
gives Prophet and ARIMA the columns of `ml.forecasting.onboardings` at each outer origin, as known
then: go-lives up to the origin, and those within `NOTICE_WEEKS` after it (signed by then).
Variants: none (as `forecast_demand` is now), onboarding (the surge column only), both (surge and
users gone live so far). Design worlds: 5101 (40 x 36) and 5102 (60 x 36), seen before. Choice:
the lowest pooled mean MASE of the served forecast over the design worlds' forecasts where every
member ran; none stays unless another variant is lower by more than 0.005. Evaluation, once,
after the choice is in `forecast_demand`'s code: seeds 5501 to 5504 (60 x 36), never simulated
before, run with none and with the chosen variant (both if none stays, for the record); the
pooled MASE of each and the ensemble against its best member under the choice, reported
whatever they are.

Design result (2 December 2026; `--seeds 5101 --clients 40` and `--seeds 5102`, each with
`--regressors none|onboarding|both --keep`, pooled; 376 forecasts where every member ran):

| variant | forecast | ARIMA | Prophet | ETS | Theta |
|---|---|---|---|---|---|
| none | 0.7780 | 0.7976 | 0.8702 | 0.8148 | 0.7996 |
| onboarding (surge alone) | 0.7848 | 0.8124 | 0.8784 | 0.8148 | 0.7996 |
| **both** | **0.7609** | 0.7695 | 0.8435 | 0.8148 | 0.7996 |

Both beat none by 0.017, so `forecast_demand` was given both by default (469a3f6). The surge
alone made ARIMA and Prophet worse: without the users gone live, a go-live's lasting step is read
as a surge that ends.

Evaluation, run once (`--seeds 5501 5502 5503 5504 --regressors none`, then `both`; 725
forecasts where every member ran, 115 fallbacks left out), pooled mean MASE:

| variant | forecast | ARIMA | Prophet | ETS | Theta | 5501 | 5502 | 5503 | 5504 |
|---|---|---|---|---|---|---|---|---|---|
| none | **0.809** | 0.819 | 0.874 | 0.852 | 0.844 | 0.854 | 0.832 | 0.786 | 0.762 |
| both | 0.830 | 0.891 | 0.915 | 0.852 | 0.844 | 0.863 | 0.832 | 0.857 | 0.768 |

The choice did not hold: with both, the forecast is 0.021 worse, worse or level on every world,
and still 0.005 worse without 5503. On 5503 a 103-user client went live two weeks after the last
origin; the per-user effect ARIMA and Prophet had learnt from go-lives of 2 to 24 users,
extrapolated to it, raised that origin's forecasts far above what came (the origin's mean MASE
+0.26). A handful of go-lives in three years do not pin down a per-user effect. So the default is
none again (FORECAST_ONBOARDING_REGRESSORS=both turns them on); the ensemble stays at or below
its best member either way (none: 0.809 against ARIMA 0.819, 97% of world resamples at or below;
both: 0.830 against Theta 0.844). Over all six worlds (1,101 forecasts): none 0.798, both 0.807.

Fifth, public holidays as ARIMA's regressor (issue 14: "holidays ... as regressors where the
model takes them"; Prophet has had them, ARIMA had none), written and committed before any of it
was scored. `--arima-holidays` gives ARIMA one more regressor column: the number of weekday
public holidays (the calendar Prophet gets, `FORECAST_HOLIDAY_COUNTRY`) in each week, known for
the horizon as for the history; Prophet keeps its own holidays and does not take the column.
Design worlds: 5101 (40 x 36) and 5102 (60 x 36), seen before, `--regressors none` (the default).
Choice: ARIMA takes the holidays by default if the pooled mean MASE of the served forecast over
the design worlds' forecasts where every member ran is lower with it by more than 0.005, and
ARIMA's own is lower too. Evaluation, once, after the choice is in the code: seeds 5601 to 5604
(60 x 36), never simulated before, with and without the column; the pooled MASE of each and the
ensemble against its best member, reported whatever they are. As in the fourth round, a choice
that the evaluation worlds reverse (the forecast worse with it, pooled) is taken back.

Design result (2 December 2026; `--seeds 5101 --clients 40` and `--seeds 5102`, each with
`--arima-holidays off|on --keep`, pooled; 376 forecasts where every member ran, 50 fallbacks left
out; the "off" figures equal the fourth round's "none" to 4 decimals):

| ARIMA holidays | forecast | ARIMA | 5101 | 5102 |
|---|---|---|---|---|
| off (as before) | 0.7780 | 0.7976 | 0.7468 | 0.8070 |
| on | 0.7753 | 0.7900 | 0.7445 | 0.8040 |

ARIMA alone gains 0.008 and the forecast 0.0027, under the 0.005 asked: ARIMA does not take the
holidays by default (`members.ARIMA_HOLIDAYS` stays off; `FORECAST_ARIMA_HOLIDAYS=on` turns it on
for `forecast_demand`). The evaluation worlds were run anyway, for the record, after this
choice was written down.

Evaluation, run once for the record (`--seeds 5601 5602 5603 5604 --arima-holidays off`, then
`on`; 752 forecasts where every member ran, 104 fallbacks left out; the "on" run had the column
from Prophet's calendar, before it moved to `holiday_days`, which adds only an observed New Year
in the first week of a series starting in early January), pooled mean MASE:

| ARIMA holidays | forecast | ARIMA | ETS | STL+ETS | Theta | Prophet | 5601 | 5602 | 5603 | 5604 |
|---|---|---|---|---|---|---|---|---|---|---|
| off (the default) | **0.8075** | 0.8261 | 0.8423 | 0.8442 | 0.8448 | 0.8835 | 0.817 | 0.825 | 0.809 | 0.779 |
| on | 0.8068 | 0.8293 | 0.8423 | 0.8442 | 0.8448 | 0.8835 | 0.813 | 0.826 | 0.808 | 0.779 |

On fresh worlds the column did not help ARIMA (0.826 -> 0.829) and moved the forecast by 0.0007:
off stays. The default forecast is at or below its best member pooled (0.8075 against ARIMA
0.8261; resampling the four worlds, 97% of draws at or below zero), and at or below each world's
own best on two of four (5601: 0.817 against ETS 0.805; 5602: 0.825 against ARIMA 0.814).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ml.forecasting.backtest import against_members  # noqa: E402 (after the path)

SERIES_OF_WORLD = """
import os, sys
sys.path.insert(0, {root!r})
os.environ["SUPERHACK_VAR_DIR"] = {scratch!r}
os.environ.pop("DATABASE_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "superhack.settings"
import django
django.setup()
from django.core.management import call_command
from integrations.dump import import_dump
from integrations.sandbox.testing import simulated_world
from ml.forecasting.desk import desk_series, onboardings
call_command("migrate", verbosity=0)
folder = simulated_world({scratch!r} + "/msp", clients={clients}, months={months}, seed={seed})
import_dump(folder, progress=False)
import pandas as pd
rows = [pd.DataFrame({{"key": s.key, "week": s.values.index, "value": s.values.to_numpy()}}) for s in desk_series()]
pd.concat(rows).to_csv({out!r}, index=False)
onboardings().to_csv({out_onboardings!r}, index=False)
"""


CACHE = ROOT / "var" / "forecast-worlds"


def onboardings_file(seed: int, clients: int, months: int) -> Path:
    return CACHE / f"onboardings-s{seed}-{clients}x{months}.csv"


def world_series(seed: int, clients: int, months: int) -> list:
    """(key, weekly series) of one simulated world, built in a child process (and kept in
    var/forecast-worlds as plain CSV, so rerunning the backtests does not re-simulate)."""
    import pandas as pd

    out = CACHE / f"series-s{seed}-{clients}x{months}.csv"
    if not out.exists() or not onboardings_file(seed, clients, months).exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix=f"forecast-world-{seed}-")
        code = SERIES_OF_WORLD.format(
            root=str(ROOT), scratch=scratch, clients=clients, months=months, seed=seed, out=str(out),
            out_onboardings=str(onboardings_file(seed, clients, months)),
        )
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    frame = pd.read_csv(out, parse_dates=["week"], float_precision="round_trip")
    return [
        (key, pd.Series(rows["value"].to_numpy(), index=pd.DatetimeIndex(rows["week"], freq="W-SUN"), name=key))
        for key, rows in frame.groupby("key", sort=False)
    ]


# The combination rules replayed on the members' own forecasts beside the one in force
# (ml.forecasting.weights), named before any world was scored with them: the candidates of the
# synthetic design study (bench/forecasting.py --design) that are rules rather than single models.
RULES = (
    "median, trim 2",
    "median, trim 1.5",
    "median of best 3",
    "inverse MASE, trim 1.5",
    "inverse MASE^2, trim 2",
    "drop worst, equal",
    "best inner",
)


def replay(rule: str, means: dict, inner: dict):
    """The mean forecast `rule` makes from the members' means and inner backtest MASEs."""
    import numpy as np

    scored = sorted((n for n in means if np.isfinite(inner.get(n, np.nan))), key=lambda n: inner[n])
    if not scored:
        return None
    best = max(inner[scored[0]], 1e-6)

    def kept(trim):
        return [n for n in scored if inner[n] <= trim * best]

    if rule.startswith("median, trim"):
        return np.median([means[n] for n in kept(float(rule.split()[-1]))], axis=0)
    if rule == "median of best 3":
        return np.median([means[n] for n in scored[:3]], axis=0)
    if rule.startswith("inverse MASE"):
        power = 2.0 if "^2" in rule else 1.0
        weights = {n: max(inner[n], 1e-6) ** -power for n in kept(float(rule.split()[-1]))}
        return sum(means[n] * w for n, w in weights.items()) / sum(weights.values())
    if rule == "drop worst, equal":
        return np.mean([means[n] for n in (scored[:-1] if len(scored) > 2 else scored)], axis=0)
    return means[scored[0]]  # best inner


MEMBERS = ("ets", "stl_ets", "arima", "theta", "prophet")


def _backtest(job):
    """Every origin's MASE for the forecast, each member, the baselines and the replayed rules."""
    import numpy as np

    from ml.forecasting import forecast, mase
    from ml.forecasting.api import clean
    from ml.forecasting.backtest import origin_positions
    from ml.forecasting.metrics import mase_scale
    from superhack.settings_forecasting import FORECAST_HOLIDAY_COUNTRY

    seed, key, series, horizon, origins, variant, onboardings = job
    values, _ = clean(series)
    history = values.to_numpy()
    rows, raw = [], []
    try:
        for position in origin_positions(len(values), horizon, origins):
            actual, past = history[position : position + horizon], history[:position]
            # As `forecast_demand` calls it: Prophet with the setting's holidays (no Django here).
            regressors = origin_regressors(variant, onboardings, key, values.index[:position], horizon)
            frame = forecast(
                values.iloc[:position], horizon, country=FORECAST_HOLIDAY_COUNTRY, regressors=regressors
            )
            members = {n: np.asarray(b["mean"]) for n, b in frame.attrs["members"].items()}
            inner = {n: score["mase"] for n, score in frame.attrs["backtest"].items() if n in members}
            means = dict(members)
            means.update({n: np.asarray(b["mean"]) for n, b in frame.attrs["baselines"].items()})
            means["forecast"] = frame["mean"].to_numpy()
            for rule in RULES:
                combined = replay(rule, members, inner)
                if combined is not None:
                    means[rule] = combined
            origin = str(values.index[position - 1])
            raw.append({"origin": origin, "actual": actual, "scale": mase_scale(past), "means": means, "inner": inner})
            for name, mean in means.items():
                rows.append(
                    {
                        "origin": origin,
                        "model": name,
                        "mase": mase(actual, mean, past),
                        "forecast_model": frame.attrs["model"],
                    }
                )
    except Exception as error:  # a bench reports a failing series and goes on
        return seed, key, None, None, f"{type(error).__name__}: {error}"
    return seed, key, rows, raw, None


# Known onboardings replayed at a past origin: the clients going live within this many weeks
# after it were signed by then (the simulator's shortest notice, so none is known too early).
NOTICE_WEEKS = 2


def origin_regressors(variant: str, onboardings, key: str, labels, horizon: int):
    """The regressor columns of `variant` over `labels` (a series up to an origin) and the next
    `horizon` weeks, as known at the origin; None for "none"."""
    import pandas as pd

    from ml.forecasting.onboardings import REGRESSOR_SETS, series_columns

    parts = key.split(":")  # "tickets:desk", "hours:client:12"
    client = int(parts[2]) if parts[1] == "client" else None
    known = labels[-1] + pd.Timedelta(weeks=NOTICE_WEEKS)
    return series_columns(onboardings, labels, horizon, REGRESSOR_SETS[variant], "W", client, known)


DESK_RULES = ("S", "D", "DM", "H", "B", "A")


def _desk_scores(forecasts: list[dict], relative: bool = True) -> dict[str, float]:
    """Each member's desk score over `forecasts` (one desk): the geometric mean of its inner
    MASE relative to each series' best member, or with `relative=False` its plain mean."""
    import numpy as np

    logs: dict[str, list[float]] = {}
    for one in forecasts:
        inner = {n: v for n, v in one["inner"].items() if np.isfinite(v)}
        if not inner:
            continue
        best = max(min(inner.values()), 1e-6)
        for name, value in inner.items():
            logs.setdefault(name, []).append(np.log(max(value / best, 1e-6)) if relative else value)
    if relative:
        return {name: float(np.exp(np.mean(v))) for name, v in logs.items()}
    return {name: float(np.mean(v)) for name, v in logs.items()}


def _inverse_squared(scores: dict[str, float], means: dict) -> object:
    """The members' means combined with the weights `scores` give under the rule in force
    (`weights.member_weights`: inverse score squared within 2x of the best)."""
    from ml.forecasting.weights import member_weights

    return sum(means[name] * weight for name, weight in member_weights(scores).items())


def desk_rules(raw: list):
    """MASE of every desk rule (the second round's candidates, module docstring) on every forecast
    of `raw` (`--raw`'s pickles), one row per (series, origin), beside the forecast, the members
    and the baselines, in `against_members`' layout."""
    import numpy as np
    import pandas as pd

    desks: dict[tuple, list] = {}
    for seed, key, forecasts in raw:
        for one in forecasts:
            desks.setdefault((seed, one["origin"]), []).append((key, one))
    rows = []
    for (seed, origin), items in desks.items():
        scores = {"D": _desk_scores([one for _, one in items]), "A": _desk_scores([o for _, o in items], False)}
        for measure in ("tickets", "hours"):
            scores[f"DM:{measure}"] = _desk_scores([one for key, one in items if key.startswith(measure)])
        for key, one in items:
            means, inner = one["means"], {n: v for n, v in one["inner"].items() if np.isfinite(v)}
            combined = dict(means)
            if len(inner) > 1:
                best = max(min(inner.values()), 1e-6)
                combined["S"] = _inverse_squared(inner, means)
                for rule in ("D", "A"):
                    combined[rule] = _inverse_squared({n: scores[rule][n] for n in inner}, means)
                by_measure = scores[f"DM:{key.split(':')[0]}"]
                combined["DM"] = _inverse_squared({n: by_measure[n] for n in inner}, means)
                combined["H"] = _inverse_squared({n: np.sqrt(inner[n] / best * scores["D"][n]) for n in inner}, means)
                combined["B"] = means[min(inner, key=lambda n: scores["D"][n])]
            for name, mean in combined.items():
                error = float(np.mean(np.abs(one["actual"] - mean))) / one["scale"]
                rows.append({"series": f"{seed}/{key}", "origin": origin, "model": name, "mase": error})
    return pd.DataFrame(rows)


def replay_desks(paths: list[str]) -> None:
    """Print the desk rules' table for `--raw` pickles (module docstring, second round)."""
    import pandas as pd

    raw = [item for path in paths for item in pd.read_pickle(path)]
    scored, left_out = against_members(desk_rules(raw))
    members = [m for m in MEMBERS if m in scored.columns]
    columns = ["forecast", *DESK_RULES, *members, "naive"]
    seeds = scored.index.get_level_values(0).str.split("/").str[0]
    table = pd.DataFrame({"pooled": scored[columns].mean()})
    for seed in sorted(set(seeds)):
        table[seed] = scored[seeds == seed][columns].mean()
    print(f"{len(scored)} forecasts where every member ran ({left_out} left out)")
    print(table.round(4).to_string())


def world_bootstrap(scored, best: str, draws: int = 2000) -> tuple[float, float, float]:
    """The pooled difference forecast - `best` when the worlds themselves are resampled (how much
    of the verdict is the luck of which worlds were drawn): its 2.5% and 97.5% percentiles and
    the share of draws at or below zero."""
    import numpy as np

    worlds = scored.index.get_level_values(0).str.split("/").str[0]
    by_world = scored.assign(world=worlds).groupby("world")
    sums = by_world[["forecast", best]].sum().to_numpy()
    counts = by_world.size().to_numpy()
    picks = np.random.default_rng(0).integers(0, len(counts), size=(draws, len(counts)))
    diffs = (sums[picks, 0].sum(1) - sums[picks, 1].sum(1)) / counts[picks].sum(1)
    low, high = np.percentile(diffs, [2.5, 97.5])
    return float(low), float(high), float(np.mean(diffs <= 0))


def main() -> None:
    import numpy as np
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[5101, 5102])
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--origins", type=int, default=4)
    parser.add_argument("--horizon", type=int, default=13)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", help="pickle every forecast's scores here, for a closer look")
    parser.add_argument(
        "--raw", help="pickle every forecast's member means, inner backtest MASEs, actuals and MASE scale here"
    )
    parser.add_argument(
        "--regressors", choices=("none", "onboarding", "both"), default="none",
        help="known onboardings given to the members that take regressors (none: as forecast_demand did before)",
    )
    parser.add_argument(
        "--arima-holidays", choices=("on", "off"),
        help="ARIMA takes the weekday public holidays as a regressor (default: as ml.forecasting.members has it)",
    )
    parser.add_argument("--replay-desks", nargs="+", metavar="RAW", help="only replay the desk rules on --raw pickles")
    args = parser.parse_args()
    if args.arima_holidays:
        from ml.forecasting import members as member_options

        member_options.ARIMA_HOLIDAYS = args.arima_holidays == "on"  # the forked workers inherit it
    if args.replay_desks:
        replay_desks(args.replay_desks)
        return

    started = time.perf_counter()
    jobs = []
    for seed in args.seeds:
        series = world_series(seed, args.clients, args.months)
        print(f"world {seed}: {len(series)} weekly series of {len(series[0][1])} weeks", flush=True)
        onboardings = pd.read_csv(onboardings_file(seed, args.clients, args.months), parse_dates=["onboarded_on"])
        jobs += [
            (seed, key, values, args.horizon, args.origins, args.regressors, onboardings) for key, values in series
        ]
    with get_context("fork").Pool(args.workers) as pool:
        results = pool.map(_backtest, jobs, chunksize=1)

    rows = []
    if args.raw:
        pd.to_pickle([(seed, key, raw) for seed, key, _, raw, error in results if not error], args.raw)
    for seed, key, per_origin, _, error in results:
        if error:
            print(f"  {seed} {key}: backtest failed: {error}")
            continue
        for row in per_origin:
            rows.append(
                {
                    "seed": seed,
                    "series": key,
                    "origin": row["origin"],
                    "model": row["model"],
                    "mase": row["mase"],
                    "served": row["forecast_model"],
                }
            )
    frame = pd.DataFrame(rows)
    if args.keep:
        frame.to_pickle(args.keep)
    frame["series"] = frame["seed"].astype(str) + "/" + frame["series"]
    scored, left_out = against_members(frame)
    members = [m for m in MEMBERS if m in scored.columns]
    served = frame.groupby(["series", "origin"])["served"].first()
    skipped = served[~served.index.isin(scored.index)]
    print(
        f"\n{len(served)} forecasts ({len(args.seeds)} worlds); {left_out} left out where not every member ran "
        f"(served: {dict(skipped.value_counts())})"
    )
    rules = [r for r in RULES if r in scored.columns]
    table = scored[["forecast", *members, "naive", "seasonal_naive", *rules]].agg(["mean", "median"]).T
    seeds = scored.index.get_level_values(0).str.split("/").str[0]
    for seed in args.seeds:
        table[f"mean {seed}"] = scored[seeds == str(seed)][table.index].mean()
    print(table.round(3).to_string())
    best = min(members, key=lambda m: scored[m].mean())
    ensemble, single = scored["forecast"].mean(), scored[best].mean()
    wins = float(np.mean(scored["forecast"] <= scored[best]))
    print(
        f"\nEnsemble {ensemble:.4f} against the best member ({best}) {single:.4f}: "
        f"{'at or below' if ensemble <= single else 'ABOVE'}; the forecast at or below it in {wins:.0%} of forecasts"
    )
    if len(args.seeds) > 2:
        low, high, share = world_bootstrap(scored, best)
        print(
            f"forecast - {best}: {ensemble - single:+.4f}; resampling worlds: 95% of draws in "
            f"[{low:+.4f}, {high:+.4f}], {share:.0%} at or below zero"
        )
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
