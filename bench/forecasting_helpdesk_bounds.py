"""How low a 12-week window's MASE can go on the public helpdesk log, for forecasts of a given
shape chosen in hindsight (issue 14's real-data bar: MASE <= 1.25 on the 12-week holdout).

    .venv/bin/python bench/forecasting_helpdesk_bounds.py [--origins 6] [--horizon 12] [--workers 2]

Unlike `bench/forecasting_helpdesk.py` (the design study, which never reads the holdout) this
script reads the holdout on purpose: it measures what the bar asks, not how to meet it, and
nothing under `ml/` reads what it prints. For each 12-week window -- the design study's six
training windows and, last, the holdout -- it prints the MASE (scaled by the one-step naive error
of the weeks before the window, as `tests/test_forecasting.py` scores the holdout) of:

- `forecast`: `ml.forecasting.forecast()` as it stands, from the weeks before the window;
- `arima(1,1,1)` and `naive`: the datasets README's references;
- `best flat`: the best constant forecast, chosen knowing the window's actuals (their median);
- `best line`: the best straight line, chosen knowing the actuals (least absolute deviations of
  the actuals on the week number);
- `gap`: forecast minus best line, how far a real forecast made from the past lands above the
  best line drawn with the answers in hand.

A window whose `best line` is above a bar can only be forecast under that bar by a forecast that
bends inside the 12 weeks the way the actuals did -- predicting a surge or a dip, not a level
or a trend.
"""

from __future__ import annotations

import argparse
import sys
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "datasets" / "helpdesk-event-log.csv"


def best_line(actual):
    """The straight line with the least absolute error on `actual` (median regression on the
    week number; a linear program, so the optimum is exact)."""
    import numpy as np
    from scipy.optimize import linprog

    n = len(actual)
    weeks = np.arange(1.0, n + 1)
    # Variables: intercept, slope, then one error bound per week; minimise the sum of bounds
    # subject to bound >= |actual - (intercept + slope * week)|.
    cost = np.r_[0.0, 0.0, np.ones(n)]
    rows = np.zeros((2 * n, n + 2))
    rows[:n, 0], rows[:n, 1] = -1.0, -weeks
    rows[n:, 0], rows[n:, 1] = 1.0, weeks
    rows[:n, 2:] = rows[n:, 2:] = -np.eye(n)
    bounds = np.r_[-actual, actual]
    result = linprog(cost, A_ub=rows, b_ub=bounds, bounds=[(None, None)] * 2 + [(0, None)] * n)
    if not result.success:
        raise RuntimeError(f"best line: {result.message}")
    intercept, slope = result.x[:2]
    return intercept + slope * weeks


def _window(job):
    import numpy as np

    from ml.forecasting import forecast, mase
    from ml.forecasting.baselines import naive

    sys.path.insert(0, str(ROOT / "bench"))
    from forecasting_helpdesk import arima_111

    weekly, position, horizon = job
    past = weekly.iloc[:position]
    values = past.to_numpy().astype(float)
    actual = weekly.to_numpy()[position : position + horizon].astype(float)
    means = {
        "forecast": forecast(past, horizon)["mean"].to_numpy(),
        "arima(1,1,1)": arima_111(values, horizon),
        "naive": naive(values, horizon).mean,
        "best flat": np.full(horizon, np.median(actual)),
        "best line": best_line(actual),
    }
    row = {name: mase(actual, mean, values) for name, mean in means.items()}
    row["gap"] = row["forecast"] - row["best line"]
    return position, row


def main() -> None:
    import pandas as pd

    from ml.forecasting import weekly_arrivals
    from ml.forecasting.helpdesk import HOLDOUT_WEEKS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=6, help="training windows before the holdout")
    parser.add_argument("--horizon", type=int, default=HOLDOUT_WEEKS)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    weekly = weekly_arrivals(DATA)
    holdout = len(weekly) - args.horizon
    positions = [holdout - args.horizon * i for i in range(args.origins + 1)][::-1]
    with get_context("fork").Pool(args.workers) as pool:
        results = dict(pool.map(_window, [(weekly, p, args.horizon) for p in positions], chunksize=1))
    frame = pd.DataFrame.from_dict(results, orient="index")
    frame.index = [f"{weekly.index[p].date()}{' (holdout)' if p == holdout else ''}" for p in frame.index]
    frame.index.name = "window from"
    print(f"Helpdesk weekly arrivals, {args.horizon}-week windows: MASE")
    print(frame.round(3).to_string())
    training = frame.iloc[:-1]
    print(
        f"\nTraining windows: forecast {training['forecast'].mean():.3f} on average, "
        f"{training['gap'].mean():+.3f} above the best line in hindsight "
        f"(range {training['gap'].min():+.3f} to {training['gap'].max():+.3f})"
    )
    last = frame.iloc[-1]
    print(
        f"Holdout: best flat {last['best flat']:.3f}, best line {last['best line']:.3f} -- "
        f"{last['best line'] - 1.25:+.3f} from issue 14's bar of 1.25; forecast {last['forecast']:.3f}"
    )


if __name__ == "__main__":
    main()
