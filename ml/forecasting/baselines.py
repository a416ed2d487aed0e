"""Baselines: the forecasts every model must beat, and the fallbacks when no model can be fitted.

- `naive`: the last value carried forward. Intervals from the random walk: the one-step errors'
  root mean square (of the history's differences) times sqrt(steps ahead).
- `seasonal_naive`: the value one season earlier. Intervals grow with the number of whole
  seasons ahead, sqrt(1 + (step - 1) // m), times the root mean square of the seasonal
  differences.
- `croston_sba`: for intermittent demand (many zero periods), Croston's method with the
  Syntetos-Boylan bias correction: demand sizes and the intervals between demands are smoothed
  separately (alpha 0.1, the usual a-priori choice) and the rate is (1 - alpha / 2) x size /
  interval. Its intervals are the empirical quantiles of the history's per-period values: with
  lumpy demand the next period is best described by how periods have gone, not by a normal error.

With fewer than two points there is no error to measure; a history of whole non-negative
numbers (a count) then gets a Poisson spread, sqrt(level), and anything else a zero-width
interval, and the forecast's note says so.
"""

from __future__ import annotations

import numpy as np

from ml.forecasting.bands import Band

CROSTON_ALPHA = 0.1


def is_count(values: np.ndarray) -> bool:
    """Whole, non-negative numbers: ticket arrivals, not temperatures."""
    return bool(len(values)) and bool(np.all(values >= 0)) and bool(np.all(values == np.round(values)))


def guessed_sigma(values: np.ndarray) -> float:
    """Spread for a history too short to measure errors on (see the module docstring)."""
    if is_count(values):
        return float(np.sqrt(max(np.mean(values), 1.0)))
    return 0.0


def naive(values: np.ndarray, horizon: int) -> Band:
    steps = np.arange(1, horizon + 1)
    if len(values) >= 2:
        sigma = float(np.sqrt(np.mean(np.diff(values) ** 2)))
    else:
        sigma = guessed_sigma(values)
    return Band.symmetric(np.full(horizon, values[-1]), sigma * np.sqrt(steps))


def seasonal_naive(values: np.ndarray, horizon: int, season: int | None) -> Band:
    """The value one season earlier; the naive forecast when there is no full season."""
    if not season or season < 2 or len(values) < season:
        return naive(values, horizon)
    steps = np.arange(horizon)
    mean = values[len(values) - season + steps % season]
    if len(values) > season:
        sigma = float(np.sqrt(np.mean((values[season:] - values[:-season]) ** 2)))
    else:
        sigma = guessed_sigma(values)
    return Band.symmetric(mean, sigma * np.sqrt(1 + steps // season))


def is_intermittent(values: np.ndarray) -> bool:
    """Counts whose average interval between non-zero periods is 1.32 or more (Syntetos,
    Boylan and Croston's cut-off between smooth and intermittent demand)."""
    if not is_count(values) or len(values) < 4:
        return False
    nonzero = np.count_nonzero(values)
    return 0 < nonzero and len(values) / nonzero >= 1.32


def croston_sba(values: np.ndarray, horizon: int, alpha: float = CROSTON_ALPHA) -> Band:
    demands = np.flatnonzero(values)
    if len(demands) == 0:
        return Band.symmetric(np.zeros(horizon), 0.0)
    size = float(values[demands[0]])
    interval = float(demands[0] + 1)
    for previous, current in zip(demands[:-1], demands[1:], strict=False):
        size += alpha * (values[current] - size)
        interval += alpha * ((current - previous) - interval)
    rate = (1 - alpha / 2) * size / interval
    lo_80, hi_80, lo_95, hi_95 = np.quantile(values, [0.10, 0.90, 0.025, 0.975])
    full = np.full(horizon, 1.0)
    return Band(full * rate, full * lo_80, full * hi_80, full * lo_95, full * hi_95).nested()
