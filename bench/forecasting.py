"""Time to forecast many weekly ticket series with every model and the ensemble (ml.forecasting).

    .venv/bin/python bench/forecasting.py [--series 500] [--weeks 156] [--horizon 13]
                                          [--workers 2] [--prophet] [--seed 0]
    .venv/bin/python bench/forecasting.py --design [--prophet] [--aggregate] [--always-conformal] [--seeds 5]
                                          [--origins 4] [--rule median|inverse_mase] [--trim 2]

Series: --series synthetic weekly ticket-arrival counts of --weeks weeks (numpy seed --seed):
a level between 5 and 200 tickets a week, a trend of up to +-40% over the span, an annual
season of amplitude 0-35% of the level (none in a quarter of the series), a slow random walk in
the log level, Poisson counts. Each series is forecast --horizon weeks ahead by
`ml.forecasting.forecast` with the statsmodels members -- ETS, ARIMA, STL + ETS (when the series
passes the seasonality test) and Theta -- plus Prophet with --prophet, each fitted and
backtested at 4 rolling origins, the baselines beside them, the ensemble combined and its
intervals calibrated.

Prophet is behind a flag because `forecast()`'s callers choose their members; the goal is for all
models, so it is judged with --prophet. Prophet fits five times a series (the forecast and four
backtest origins), each one a cmdstan process (about 4.5 ms of it starting the process).
`forecast()` itself uses Prophet by default for dated series.

Measured again on 2 December 2026 at 12:40-12:56 UTC, a new session's host (2 cores, 24 GB, idle
at the start: load 0.2), the code of a99aa01: 92.9 s wall, 180.1 s of CPU in the workers (186 ms a
series; prophet 141 ms, arima 133 ms) -- **missed** on this host. The code is not slower: 150
series with 1739ed1 (the code measured at 05:03) and with a99aa01, alternating twice, took 30.2,
29.6 and 29.6, 29.6 s wall (58.0, 57.0 and 57.3, 57.4 s of CPU). The host is: a pure-Python loop
of 20 million additions took 2.98 s, and the same code's CPU per series was 2.2x the 05:03
host's.

Measured on 2 December 2026 at 05:03-05:08 UTC, nothing else running (load 1.4-2.4, this
bench's own), the code with the ARIMA, Prophet and Theta changes below (1739ed1, "after") and
without them (79cce46, "before") alternating; wall and CPU (user + system, cmdstan included) of
the whole process by /usr/bin/time, and the bench's own CPU-bound estimate:

| order | code | wall | CPU | workers' CPU / 2 |
|---|---|---|---|---|
| 1, 2 | after, before | 48.70, 52.70 s | 93.7, 98.3 s | 46.1, 48.5 s |
| 3, 4 | after, before | 41.34, 47.64 s | 80.6, 93.0 s | 39.7, 45.8 s |
| 5, 6 | after, before | 43.46, 50.00 s | 84.8, 97.7 s | 41.7, 48.1 s |
| 7 | after | 41.1 s (the bench's own clock) | 79.6 s in the workers | 39.8 s |

The goal is met on this run's host: 41.1-48.7 s. The host was about 1.4x faster than at
01:40-01:58 the same day (below: 124-140 s of CPU for the code "before" here), so on that host
"after" would take about 57-64 s. What changed (forecasts equal to within 3e-16 relative; weights,
backtest scores, notes and chosen models identical on 40 series and one of each design kind; the
design set's tables identical before and after; tests/test_forecasting_speed_equivalence.py
holds the members to statsmodels' and stock Prophet's own results):
- ARIMA forecasts from the Kalman filter's last state (`get_forecast` rebuilt the model and
  filtered again: 1.6 ms a forecast, five a series); fits and backtest origins keep the filter's
  output without statsmodels' results object, the AICc from the same parts statsmodels uses
  (identical to the bit). One-process interleaved pairs: 0.962 of the CPU (0.922-0.987).
- Prophet's preprocessing of a plain frame (dates, automatic seasonalities, changepoint grid) on
  numpy arrays, 3.0 -> 2.3 ms a fit (0.4 ms of it from a copy of Prophet's `preprocess`, dropped
  after these runs so as not to keep Prophet's code here line for line), and a forecast's
  Fourier features as one array when it has no holidays or regressors, 3.5 -> 2.9 ms: 0.940
  (0.922-0.969).
- Theta's mean forecast as an array and its interval errors on Python floats (~1.7 ms a
  series). Together: 0.898 of the CPU (0.866-0.923, six interleaved pairs on 40 series).
Tried and dropped: warm-starting ARIMA candidates from nested orders (about 5% fewer likelihood
evaluations, 1% of the CPU, forecasts move by 1e-5 of the level); other ARIMA optimisers for the
three-order search (41 ms a series now: Harvey score 309 ms, complex-step score 52 ms, BFGS
74 ms, Newton fails on some series); Prophet warm starts from the final fit (iterations 55-610
against 96-369 cold). Where the CPU goes now (one process, 40 series): Prophet ~44% (cmdstan
~47 ms a series), ARIMA ~a third (order search ~32 ms, backtest refit ~12 ms), ETS ~10%, the STL
decomposition of the backtest prefixes ~6%.

Measured earlier on 2 December 2026, after the bit-identical changes listed below, on the same 2 cores,
no other job seen at the start of a run. The host's speed drifted by up to a third within
minutes (the code of 1 December, 34ba2c3: 65.2-89.6 s), so "before" (34ba2c3) and "after" were
run back to back and alternately; wall and CPU (cmdstan included) of each run, in the order run:

| time (UTC) | load average | code | wall | CPU |
|---|---|---|---|---|
| 01:22-01:25 (a neighbour's job running) | 1.6-3.2 | before, after | 156.1, 127.5 s | 177.1, 142.9 s |
| 01:40-01:42 | 1.6-2.2 | before, after | 89.6, 71.4 s | 170.7, 140.2 s |
| 01:43-01:47 | 2.0-2.4 | after x3 | 70.4, 67.6, 64.2 s | 138.2, 132.9, 126.1 s |
| 01:49-01:53 | 0.9-2.1 | after, before, after | 63.9, 65.2, 63.5 s | 124.0, 127.2, 124.2 s |
| 01:53-01:58 | 1.9-2.2 | after, before, after, before | 70.3, 70.6, 67.4, 80.8 s | 138.0, 137.1, 132.1, 157.8 s |

The goal is missed: after, 63.5-71.4 s wall (124.0-140.2 s of CPU) over eight runs without a
neighbour; before, 65.2-89.6 s in the same hour. The drift is larger than the change at this
scale, so the change was measured in one process, before and after alternating (40 series, all
five members, CPU of the process and its cmdstan children, imports included, five pairs):
before 14.6-17.2 s, after 12.1-14.2 s, after / before 0.82-0.97 (median 0.83). What changed
(forecasts bit-identical: 30 bench series and one series of each of the ten design kinds with
all five members, and the same with agg_ets; every member's band, the forecast, backtest scores
and weights differ by 0):
- ETS results no longer compute the parameters' covariance (statsmodels' ETSResults computes a
  complex-step Hessian when made, on every fit and backtest origin; `members._ets_class`) and
  ARIMA's backtest filters skip the OPG covariance; nothing read either.
- Prophet's 400 predictive samples are one matrix (`sample_model_vectorized`'s arithmetic and
  draws without a dict per sample), its Fourier terms and linear-trend samples use numpy
  arrays instead of pandas Series, and `prophet.plot` (matplotlib, plotly) is imported only
  when something plots: Prophet's import 1.1 -> 0.54 s of CPU per worker.
- ETS forecasts from get_prediction's two parts without its index and results objects
  (0.80 -> 0.67 ms a forecast); Theta gets a numpy array instead of a Series.
- This bench's pool takes a series a task instead of ten (an idle worker at the end: up to ~2.4 s).
Tried and left on 2 December: ETS on a numpy array (statsmodels' ETS prediction needs a pandas
index); cold starts for the backtest's ARIMA fit (the warm start is already cheaper: on 60
series, means by order of 10-75 likelihood evaluations a fit against 12-92 cold); `gc.freeze()`
after the imports (three full collections in 40 series: nothing to gain). Where the CPU goes
now (py-spy, one process, 40 series): ARIMA's fits ~27% of the Python time -- statsmodels' state-space
likelihood, half the Cython filter and half its Python set-up per call, 10-100 evaluations a
fit with finite-difference gradients, the models with a constant slowest to converge; cmdstan
~60 ms of CPU a series (12 ms a fit, ~2.6 ms of it starting the process); Prophet's pandas
preprocessing ~3.7 ms a fit; each worker's imports ~1.3 s (statsmodels, scipy.signal/stats,
formulaic through statsmodels.base.model).

Measured on 1 December 2026 (2 cores shared with other jobs; the load average is theirs and ours).
CPU seconds rise with the neighbours' load too (shared caches), so "before" and "after" were run
back to back at the same load, the code before from commit d1312ed:

| run | load average | wall | CPU (cmdstan included) | CPU / 2: on 2 idle cores |
|---|---|---|---|---|
| 500 series with Prophet, after (ml.forecasting as of this table) | 1.3-1.8 | **64.8 s** | **125.5 s** | **62.8 s** |
| the same, one commit earlier (two bit-identical changes fewer) | 1.5-2.0 | 62.6 s | 121.7 s | 60.8 s |
| the same, two commits earlier | 1.6-3.2 | 116.4 s | 121.8 s | 60.9 s |
| 500 series, statsmodels members, after | 1.7-1.8 | 35.2 s | 68.1 s | 34.0 s -- goal met |
| the same, after (without the last Prophet frame change) | 2.8-3.1 | 108.9 s | 120.6 s | 60.3 s |
| the same, after (without the last Prophet frame change) | 4.7-5.2 | 156.0 s | 137.8 s | 68.9 s |
| the same, before (d1312ed), back to back with the run above | 4.7-5.1 | 199.4 s | 197.4 s | 98.7 s |
| 500 series, statsmodels members, after | 4.4-5.1 | 105.6 s | **81.8 s** | **40.9 s** |
| the same, before (d1312ed) | 5.1-5.3 | 137.8 s | 92.0 s | 46.0 s |
| earlier, before: 500 series with Prophet | 3-4 | 148.9 s | 148.6 s | 74.3 s -- goal missed |
| earlier, before: 500 series, statsmodels members | 3-4 | 72.1 s | 72.7 s | 36.3 s -- goal met |

After / before: 0.70 of the CPU with Prophet at load 5 (run back to back), 0.82 against the
earlier quieter run (148.6 s; the disk writes saved weigh more under load); 0.89 without
Prophet. The goal is missed narrowly: on an almost idle machine (load 1.3-2, most of it this
run) 62.6-64.8 s wall and 121.7-125.5 s of CPU, 60.8-62.8 s on 2 idle cores (run-to-run noise
is a few per cent; the last two changes, each measured alone as ~1-3% of a member's time, are
inside it); 120.6-121.8 s of CPU at loads up to 3. Wall time on this shared machine is
otherwise whatever the neighbours leave. What changed (ml.forecasting.prophet_member, members):
- Prophet's compiled Stan model is run directly (`_CmdStanRunner`) with the data, inits and
  command line cmdstanpy would use, its files in /dev/shm: no cmdstanpy model object per Prophet
  object, no console read line by line, no temporary files on the disk (15 ms of system CPU a
  series here). Forecasts bit-identical to stock Prophet (tests/test_forecasting.py).
- Prophet's `setup_dataframe` and `initialize_scales` in numpy for plain frames (bit-identical;
  a few ms a series).
- Theta's smoothing parameter by a bounded Brent search on the same objective instead of a
  state-space MLE: 7 -> 0.5 ms a fit, forecasts within 0.05% of the series level; the design
  set (--design --prophet, 100 forecasts) gave the same figures to three decimals before and
  after: forecast 1.116, Theta 1.121, coverage 82.0% / 95.4%.
- ARIMA fits end with a filter instead of statsmodels' smoother, and Prophet's component
  matrix is kept per process (both bit-identical).
Tried and left: warm-starting Prophet's backtest fits from the final fit (`init=`; cmdstan's CPU
did not fall: half of it is starting the process), ARIMA's `low_memory` (changes the AICc
statsmodels reports, so the order chosen), looser L-BFGS tolerances for ARIMA (no fewer
likelihood evaluations). What is left is mostly ARIMA's order search (three state-space fits
with numerical gradients, ~30% of the CPU) and Prophet's five fits a series: per series about
42 ms of cmdstan (half of it starting the five processes) and 54 ms of Python (its
preprocessing 18 ms, forecasts 19 ms of which 8 ms drawing the 400 samples its intervals come
from).

Parallelism: a `multiprocessing` pool of --workers processes (fork), each importing
statsmodels (and Prophet) once and taking series one at a time (chunks of 10 left one worker
idle for up to a chunk, ~2.4 s, at the end; a series at a time costs the pool a few ms of
pickling); Prophet's fits also start one cmdstan process each, which runs on the same cores.
BLAS threads are pinned to one inside each forecast (see ml.forecasting.ensemble), so two
workers use two cores and no more.

Printed: wall seconds in total and per series (total / series), the workers' summed CPU
seconds (cmdstan's processes included, as finished children) and that CPU / the cores used
(--workers, at most the machine's): the wall time the run would take on those cores idle, the
figure to compare runs by on a shared machine, where wall time also pays for the neighbours'
load; then each member's share of the members' wall time, the models the forecasts ended as,
and the load average before and after.

Goal (issue 14): 500 series x 156 weeks, h = 13, under 60 s on 2 cores. Other counts print
the wall time projected to 500 series.

--design reproduces the synthetic study the ensemble's rules were chosen on (ml.forecasting
weights and intervals): --seeds (5) series of each of ten kinds (random walk, trend + AR(1), weekly
season, wandering weekly counts with a mild season, level shift, damped S-curve, white noise,
flat-rate Poisson counts, monthly trend + season + walk, hourly counts with a daily cycle), each
forecast from two outer origins (the last one or two horizons held out). For every run the
members' own forecasts and inner backtest MASE are taken from `forecast()`'s attrs and other
combination rules are replayed on them: the mean holdout MASE of each member, of each rule and
the forecast's 80% / 95% coverage. --always-conformal recalibrates every band conformally
instead of keeping own intervals that cover (ml.forecasting.intervals.ALWAYS_CONFORMAL);
--origins sets the inner backtest origins, --rule and --trim the combination rule in force
(ml.forecasting.weights.RULE, TRIMS). The median rule was chosen with --seeds 10 (200
forecasts), with and without --prophet (figures in ml.forecasting.weights). Eight inner
origins instead of four gave 1.052 against 1.060 with the weights of the time, not taken: about
a quarter more time without Prophet, and 9 Prophet fits a series instead of 5.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_S = 60.0
_OPTIONS: dict = {}


def synthetic_weekly(count: int, weeks: int, seed: int):
    """`count` weekly count series (see the module docstring)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    index = pd.date_range("2022-01-02", periods=weeks, freq="W-SUN")
    t = np.arange(weeks)
    series = []
    for _ in range(count):
        level = np.log(rng.uniform(5, 200))
        trend = rng.uniform(-0.4, 0.4) * t / weeks
        amplitude = 0.0 if rng.random() < 0.25 else rng.uniform(0, 0.35)
        season = amplitude * np.sin(2 * np.pi * t / 52 + rng.uniform(0, 2 * np.pi))
        wander = np.cumsum(rng.normal(0, 0.02, weeks))
        counts = rng.poisson(np.exp(level + trend + season + wander))
        series.append(pd.Series(counts.astype(float), index=index))
    return series


def _init(options: dict) -> None:
    _OPTIONS.update(options)
    if options.get("rule"):
        import ml.forecasting.weights as weights

        weights.RULE = options["rule"]
        if options.get("trim"):
            weights.TRIMS[weights.RULE] = options["trim"]
    if options.get("always_conformal"):
        import ml.forecasting.intervals as intervals

        intervals.ALWAYS_CONFORMAL = True


def _forecast_chunk(chunk):
    from ml.forecasting import forecast

    started = _cpu_seconds()
    out = []
    for series in chunk:
        frame = forecast(series, _OPTIONS["horizon"], members=_OPTIONS["members"])
        out.append((frame.attrs["model"], frame.attrs["seconds"]))
    return out, _cpu_seconds() - started


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (Prophet's cmdstan runs)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


# --- the design study --------------------------------------------------------------------------
DESIGN_KINDS = ("rw", "trend_ar", "seasonal", "counts", "shift", "damped", "noise", "poisson", "monthly", "hourly")


def design_series(kind: str, seed: int):
    """One synthetic series of `kind` and its horizon (see the module docstring)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1000 + seed)
    n, freq, horizon, start = 156, "W-SUN", 13, "2019-01-06"
    if kind == "monthly":
        n, freq, horizon, start = 96, "MS", 12, "2018-01-01"
    elif kind == "hourly":
        n, freq, horizon, start = 24 * 28, "h", 24, "2018-01-01"
    t = np.arange(n)
    noise = rng.normal(0, 1, n)
    if kind == "rw":
        y = 100 + np.cumsum(2 * noise) + rng.normal(0, 1, n)
    elif kind == "trend_ar":
        ar = np.zeros(n)
        for i in range(1, n):
            ar[i] = 0.6 * ar[i - 1] + 3 * noise[i]
        y = 50 + 0.3 * t + ar
    elif kind == "seasonal":
        y = 80 + 15 * np.sin(2 * np.pi * t / 52) + 6 * np.cos(4 * np.pi * t / 52) + 4 * noise
    elif kind == "counts":
        log_level = np.log(30) + np.cumsum(0.03 * noise) + 0.15 * np.sin(2 * np.pi * t / 52 + rng.uniform(0, 6))
        y = rng.poisson(np.exp(log_level)).astype(float)
    elif kind == "shift":
        y = 40 + 15 * (t >= rng.integers(60, 120)) + 3 * noise
    elif kind == "damped":
        y = 20 + 60 / (1 + np.exp(-(t - 80) / 15)) + 3 * noise
    elif kind == "noise":
        y = 60 + 6 * noise
    elif kind == "poisson":
        y = rng.poisson(25, n).astype(float)
    elif kind == "monthly":
        y = 200 + 1.5 * t + 25 * np.sin(2 * np.pi * t / 12) + 8 * noise + np.cumsum(rng.normal(0, 3, n))
    else:
        y = rng.poisson(np.maximum(0.5, 6 + 5 * np.sin(2 * np.pi * (t - 6) / 24))).astype(float)
    return pd.Series(y, index=pd.date_range(start, periods=n, freq=freq)), horizon


def _design_run(job):
    import numpy as np

    from ml.forecasting import forecast, mase

    kind, seed, back = job
    series, horizon = design_series(kind, seed)
    origin = len(series) - horizon * (back + 1)
    history, actual = series.iloc[:origin], series.to_numpy()[origin : origin + horizon]
    frame = forecast(history, horizon, members=_OPTIONS["members"], origins=_OPTIONS.get("origins", 4))
    means = {name: np.asarray(band["mean"]) for name, band in frame.attrs["members"].items()}
    means.update({name: np.asarray(band["mean"]) for name, band in frame.attrs["baselines"].items()})
    inner = {name: score["mase"] for name, score in frame.attrs["backtest"].items() if name in means}

    def rule(pool, trim=1.5):
        scores = {n: inner[n] for n in pool if n in inner}
        kept = {n: max(v, 1e-6) for n, v in scores.items() if v <= trim * max(min(scores.values()), 1e-6)}
        return sum(means[n] / v for n, v in kept.items()) / sum(1 / v for v in kept.values())

    models = [n for n in means if n not in ("naive", "seasonal_naive")]
    replayed = {n: means[n] for n in means}
    replayed["forecast"] = frame["mean"].to_numpy()
    if models:
        for trim in (1.0, 1.25, 1.5, 2.0, 1e9):
            replayed[f"models, trim {trim:g}"] = rule(models, trim)
        replayed["models + naive, trim 1.5"] = rule(models + ["naive"])
        replayed["models + baselines, trim 1.5"] = rule(list(means))
        replayed["models, equal weights"] = np.mean([means[n] for n in models], axis=0)
        replayed["models, median"] = np.median([means[n] for n in models], axis=0)
        scored = [n for n in models if n in inner and np.isfinite(inner[n])]
        if scored:
            best = min(scored, key=lambda n: inner[n])
            replayed["models, best inner"] = means[best]
            for trim in (1.5, 2.0, 1e9):
                kept = [n for n in scored if inner[n] <= trim * max(inner[best], 1e-6)]
                replayed[f"models, median of kept, trim {trim:g}"] = np.median([means[n] for n in kept], axis=0)
                for power in (2.0,):
                    w = {n: max(inner[n], 1e-6) ** -power for n in kept}
                    replayed[f"models, inv MASE^{power:g}, trim {trim:g}"] = sum(
                        means[n] * v for n, v in w.items()
                    ) / sum(w.values())
                for lam in (0.5,):
                    inv = {n: 1 / max(inner[n], 1e-6) for n in kept}
                    tot = sum(inv.values())
                    w = {n: lam * inv[n] / tot + (1 - lam) / len(kept) for n in kept}
                    replayed[f"models, shrink {lam:g}, trim {trim:g}"] = sum(means[n] * v for n, v in w.items())
            if len(scored) > 2:
                worst = max(scored, key=lambda n: inner[n])
                replayed["models, drop worst, equal"] = np.mean([means[n] for n in scored if n != worst], axis=0)
    row = {name: mase(actual, mean, history) for name, mean in replayed.items()}
    row["coverage_80"] = float(np.mean((actual >= frame["lo_80"]) & (actual <= frame["hi_80"])))
    row["coverage_95"] = float(np.mean((actual >= frame["lo_95"]) & (actual <= frame["hi_95"])))
    return kind, row


def design(workers: int, options: dict) -> None:
    import pandas as pd

    jobs = [(kind, seed, back) for kind in DESIGN_KINDS for seed in range(options.get("seeds", 5)) for back in range(2)]
    started = time.perf_counter()
    with get_context("fork").Pool(workers, initializer=_init, initargs=(options,)) as pool:
        results = pool.map(_design_run, jobs, chunksize=1)
    frame = pd.DataFrame([row for _, row in results], index=[kind for kind, _ in results])
    print(f"{len(jobs)} forecasts in {time.perf_counter() - started:.0f} s; mean holdout MASE (and coverage):")
    print(frame.mean().round(3).to_string())
    print("\nBy kind:\n" + frame.groupby(level=0).mean().T.round(2).to_string())


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--horizon", type=int, default=13)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--prophet", action="store_true", help="add Prophet to the members (slow: see above)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--design", action="store_true", help="the synthetic design study instead of the timing")
    parser.add_argument("--always-conformal", action="store_true", help="with --design: conformal intervals always")
    parser.add_argument("--origins", type=int, default=4, help="with --design: inner backtest origins")
    parser.add_argument("--seeds", type=int, default=5, help="with --design: series of each kind")
    parser.add_argument("--rule", choices=("inverse_mase", "median"), help="with --design: the combination rule")
    parser.add_argument("--trim", type=float, help="with --design: drop members this many times the best MASE")
    parser.add_argument("--aggregate", action="store_true", help="add the agg_ets member (temporal aggregation)")
    args = parser.parse_args()

    members = ("ets", "arima", "stl_ets", "theta") + (("prophet",) if args.prophet else ())
    members += ("agg_ets",) if args.aggregate else ()
    if args.design:
        design(
            args.workers,
            {
                "members": members,
                "always_conformal": args.always_conformal,
                "origins": args.origins,
                "seeds": args.seeds,
                "rule": args.rule,
                "trim": args.trim,
            },
        )
        return
    series = synthetic_weekly(args.series, args.weeks, args.seed)
    # One series a task: the last tasks end within a series' time of each other (see above).
    chunks = [[one] for one in series]
    print(f"Load at start: {load_text()}")
    print(
        f"Forecasting {args.series} weekly series of {args.weeks} weeks, h={args.horizon}, "
        f"{'with' if args.prophet else 'without'} Prophet, {args.workers} worker(s) ...",
        flush=True,
    )
    options = {"horizon": args.horizon, "members": members}
    started = time.perf_counter()
    if args.workers > 1:
        with get_context("fork").Pool(args.workers, initializer=_init, initargs=(options,)) as pool:
            results = pool.map(_forecast_chunk, chunks, chunksize=1)
    else:
        _init(options)
        results = [_forecast_chunk(chunk) for chunk in chunks]
    wall = time.perf_counter() - started

    models: Counter = Counter()
    seconds: Counter = Counter()
    cpu = 0.0
    for out, chunk_cpu in results:
        cpu += chunk_cpu
        for model, member_seconds in out:
            models[model] += 1
            seconds.update(member_seconds)
    total_member = sum(seconds.values()) or 1.0
    print(f"Load at end: {load_text()}")
    print(f"Total: {wall:.1f} s wall ({wall / args.series * 1000:.0f} ms a series), CPU {cpu:.1f} s in the workers")
    cores = max(1, min(args.workers, os.cpu_count() or 1))
    print(
        f"CPU-bound estimate on {cores} idle cores: {cpu / cores:.1f} s "
        f"(the workers' CPU seconds, cmdstan's included, / {cores}; wall time also pays for the neighbours')"
    )
    print("Share of the members' wall time:")
    for name, value in seconds.most_common():
        print(f"  {name:<14} {value / total_member:6.1%}  ({value / args.series * 1000:.0f} ms a series)")
    print("Forecast made by: " + ", ".join(f"{model} {count}" for model, count in models.most_common()))
    projected = wall / args.series * 500
    verdict = "met" if projected < GOAL_S else "MISSED"
    note = "" if args.series == 500 else f", projected from {args.series} series"
    print(f"Goal: 500 series under {GOAL_S:.0f} s on 2 cores -- {verdict} ({projected:.1f} s{note})")


if __name__ == "__main__":
    main()
