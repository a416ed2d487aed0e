"""Design study on the public helpdesk log's training weeks only (issue 14's real-data bar).

    .venv/bin/python bench/forecasting_helpdesk.py [--origins 6] [--horizon 12] [--workers 2]

The log's 135 weekly arrival counts (ml.forecasting.helpdesk) lose their last 12 weeks first --
the holdout `tests/test_forecasting.py` scores once per fixed design -- and nothing here reads
them: `holdout_split` is applied before anything else and only its first part is kept. Inside
the 123 training weeks, `forecast()` runs from --origins rolling origins 12 weeks apart (the last
one 12 weeks before the end of the training weeks), each forecasting the next --horizon weeks.

Printed: the mean MASE (each origin scaled by the one-step naive error of the weeks up to it) of
the forecast as `forecast()` makes it now, of the same with the `agg_ets` member in the pool
(`forecast with agg_ets`; the member applies from 88 weeks of history, so at the last two
origins), of each member and baseline, and of combinations
replayed on the members' own forecasts with extra candidates beside them: temporal aggregation
(the weekly series summed into blocks of k weeks from the origin back, Theta or damped ETS on
the blocks, each block's forecast spread evenly over its weeks; Kourentzes, Petropoulos &
Trapero 2014, MAPA; Athanasopoulos et al. 2017, THieF), the 13-week mean, and the members on
log(1 + counts) transformed back.
"""

from __future__ import annotations

import argparse
import sys
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "datasets" / "helpdesk-event-log.csv"


def training_weeks():
    from ml.forecasting import holdout_split, weekly_arrivals

    history, _ = holdout_split(weekly_arrivals(DATA))  # the holdout is dropped here, unread
    return history


def aggregated(values, horizon: int, block: int, model: str):
    """Forecast of `horizon` weeks from `block`-week sums (see the module docstring)."""
    import numpy as np
    import pandas as pd

    from ml.forecasting.members import _theta_results, quiet

    blocks = len(values) // block
    sums = values[len(values) - blocks * block :].reshape(blocks, block).sum(axis=1)
    ahead = -(-horizon // block)
    with quiet():
        if model == "theta":
            from statsmodels.tsa.forecasting.theta import ThetaModel

            fitted = _theta_results(ThetaModel(pd.Series(sums), period=1, deseasonalize=False))
            mean = np.asarray(fitted.forecast(ahead), dtype=float)
        else:
            from statsmodels.tsa.exponential_smoothing.ets import ETSModel

            fitted = ETSModel(
                pd.Series(sums), error="add", trend="add", damped_trend=True, initialization_method="estimated"
            ).fit(disp=False)
            mean = np.asarray(fitted.forecast(ahead), dtype=float)
    return np.repeat(mean / block, block)[:horizon]


def arima_111(values, horizon: int):
    """The README's reference: a plain ARIMA(1,1,1), as statsmodels fits it by default."""
    import numpy as np
    from statsmodels.tsa.arima.model import ARIMA

    from ml.forecasting.members import quiet

    with quiet():
        return np.asarray(ARIMA(values, order=(1, 1, 1)).fit().forecast(horizon), dtype=float)


def _origin(job):
    import numpy as np
    import pandas as pd

    from ml.forecasting import forecast, mase
    from ml.forecasting.api import DEFAULT_MEMBERS

    position, horizon = job
    history = training_weeks()
    past, actual = history.iloc[:position], history.to_numpy()[position : position + horizon]
    values = past.to_numpy().astype(float)
    frame = forecast(past, horizon)
    means = {name: np.asarray(band["mean"]) for name, band in frame.attrs["members"].items()}
    pooled = forecast(past, horizon, members=DEFAULT_MEMBERS + ("agg_ets",))
    means["forecast with agg_ets"] = pooled["mean"].to_numpy()
    if "agg_ets" in pooled.attrs["members"]:
        means["agg_ets"] = np.asarray(pooled.attrs["members"]["agg_ets"]["mean"])
    means.update({name: np.asarray(band["mean"]) for name, band in frame.attrs["baselines"].items()})
    means["forecast"] = frame["mean"].to_numpy()
    means["mean_13"] = np.full(horizon, values[-13:].mean())
    means["arima(1,1,1)"] = arima_111(values, horizon)  # the datasets README's reference model
    for block in (4, 13):
        for model in ("theta", "ets"):
            means[f"agg{block}_{model}"] = aggregated(values, horizon, block, model)
    logged = forecast(pd.Series(np.log1p(values), index=past.index), horizon)
    for name, band in logged.attrs["members"].items():
        means[f"log_{name}"] = np.expm1(np.asarray(band["mean"]))
    members = [n for n in frame.attrs["members"]]
    means["median_members"] = np.median([means[n] for n in members], axis=0)
    for extra in (["agg4_theta"], ["agg13_theta"], ["agg4_theta", "agg13_theta"], ["agg4_ets", "agg4_theta"]):
        means["median_members+" + "+".join(extra)] = np.median([means[n] for n in members + extra], axis=0)
    means["mapa_theta(1,4,13)"] = np.mean([means["theta"], means["agg4_theta"], means["agg13_theta"]], axis=0)
    means["median_log_members"] = np.median([means[f"log_{n}"] for n in members], axis=0)
    row = {name: mase(actual, mean, values) for name, mean in means.items()}
    row["weights"] = ",".join(sorted(frame.attrs["weights"]))
    return position, row


def main() -> None:
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=6)
    parser.add_argument("--horizon", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    length = len(training_weeks())
    positions = [length - args.horizon * (i + 1) for i in range(args.origins)][::-1]
    jobs = [(p, args.horizon) for p in positions]
    with get_context("fork").Pool(args.workers) as pool:
        results = pool.map(_origin, jobs, chunksize=1)
    frame = pd.DataFrame([row for _, row in results], index=[p for p, _ in results])
    weights = frame.pop("weights")
    print(f"Helpdesk training weeks ({length}), origins at {positions}, h={args.horizon}: MASE per origin")
    print(frame.T.round(3).assign(mean=frame.mean().round(3)).sort_values("mean").to_string())
    # How far one 12-week window's MASE can be trusted: the spread across windows of the same
    # series, and of the paired difference between the forecast and the reference model.
    spread = frame["forecast"].std(ddof=1)
    paired = (frame["forecast"] - frame["arima(1,1,1)"]).std(ddof=1)
    print(
        f"\nOne 12-week window's MASE: forecast sd {spread:.3f} across origins (mean {frame['forecast'].mean():.3f}, "
        f"standard error {spread / len(frame) ** 0.5:.3f}); forecast - arima(1,1,1): mean "
        f"{(frame['forecast'] - frame['arima(1,1,1)']).mean():+.3f}, sd {paired:.3f}"
    )
    print("\nMembers kept per origin: " + "; ".join(f"{p}: {w}" for p, w in weights.items()))


if __name__ == "__main__":
    main()
