"""When a model's own prediction intervals are kept, and how they are recalibrated when not.

The rule, level by level (80% and 95%), for every member and for the ensemble:

1. Backtest first: the model's own intervals at each rolling origin are compared with what
   happened. Own coverage is the share of all backtest points (every origin, every step ahead)
   inside them.
2. Keep the own interval when its coverage is within the tolerance of the level: 10 points
   (70-90% for the 80% interval, 85-100% for the 95% one), or two binomial standard errors,
   2 sqrt(level (1 - level) / n) for n backtest points, when that is wider. A short series
   backtests on a handful of points, and 6 of 6 inside an 80% interval happens one time in
   four to a perfectly calibrated one: no evidence to shrink it on.
3. Otherwise replace it by a scaled split-conformal interval: each backtest error is divided by
   the band's own scale at that step (the spread its 80% interval implies; `bands.Band.scale`),
   the scores of all origins and steps are pooled, and the interval is mean +- q x scale with q
   the ceil((n + 1) x level)-th smallest of the n scores (the finite-sample conformal quantile).
   Scaling by the model's own spread keeps its idea of how uncertainty grows with the horizon
   while correcting the level from the backtest; pooling the steps gives origins x horizon
   scores instead of a handful per step. With too few scores for that rank the factor is the
   larger of the largest score and the normal quantile.

Scores within one origin are correlated, so a few origins give a noisy quantile: that is why a
model whose own intervals already cover about right keeps them. The ensemble's own band is the
weighted average of its members' calibrated bands, judged by the same rule on its own backtest
(each origin combined with leave-one-origin-out weights). On the synthetic design set
(`bench/forecasting.py --design`: 50 series, two outer origins each, never seen by the
calibration) this rule covered 81.6% and 95.3% with the median ensemble (80.8% and 95.4% with
the inverse-MASE weights before it); calibrating every band conformally instead
(`--always-conformal`) gave 82.3% and 95.4% (81.8% and 95.4% before).

Coverage reported by `backtest()` is measured on origins the calibration never saw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ml.forecasting.bands import Z80, Z95, Band

TOLERANCE = 0.10
ALWAYS_CONFORMAL = False  # the design study's alternative rule (bench/forecasting.py --always-conformal)
LEVELS = {80: (0.80, Z80), 95: (0.95, Z95)}


def conformal_factor(scores: np.ndarray, level: float, normal_quantile: float) -> float:
    scores = np.sort(scores[np.isfinite(scores)])
    n = len(scores)
    if n == 0:
        return normal_quantile
    rank = math.ceil((n + 1) * level)
    if rank > n:
        return float(max(scores[-1], normal_quantile))
    return float(scores[rank - 1])


def pooled(bands: list[Band], actuals: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Actual values, band means and band scales of all backtest points, in one array each."""
    actual = np.concatenate(actuals)
    mean = np.concatenate([band.mean for band in bands])
    scale = np.concatenate([band.scale for band in bands])
    return actual, mean, scale


def own_coverage(bands: list[Band], actuals: list[np.ndarray], level: int) -> float:
    actual = np.concatenate(actuals)
    lower = np.concatenate([getattr(band, f"lo_{level}") for band in bands])
    upper = np.concatenate([getattr(band, f"hi_{level}") for band in bands])
    return float(np.mean((actual >= lower) & (actual <= upper)))


@dataclass(frozen=True)
class Calibration:
    """Own coverage at each level on the backtest, and the conformal factor replacing the own
    interval at that level (None where the own interval is kept)."""

    own_80: float
    own_95: float
    factor_80: float | None
    factor_95: float | None

    def apply(self, band: Band) -> Band:
        if self.factor_80 is None and self.factor_95 is None:
            return band
        scale = band.scale
        columns = {"lo_80": band.lo_80, "hi_80": band.hi_80, "lo_95": band.lo_95, "hi_95": band.hi_95}
        for level, factor in ((80, self.factor_80), (95, self.factor_95)):
            if factor is not None:
                columns[f"lo_{level}"] = band.mean - factor * scale
                columns[f"hi_{level}"] = band.mean + factor * scale
        return Band(band.mean, **columns).nested()

    @property
    def rule(self) -> str:
        kept = [f"{level}% own" for level, f in ((80, self.factor_80), (95, self.factor_95)) if f is None]
        fixed = [f"{level}% conformal" for level, f in ((80, self.factor_80), (95, self.factor_95)) if f is not None]
        return ", ".join(kept + fixed)

    def as_dict(self) -> dict:
        return {
            "own_coverage_80": round(self.own_80, 4),
            "own_coverage_95": round(self.own_95, 4),
            "conformal_factor_80": None if self.factor_80 is None else round(self.factor_80, 4),
            "conformal_factor_95": None if self.factor_95 is None else round(self.factor_95, 4),
        }


KEEP = Calibration(float("nan"), float("nan"), None, None)


def calibrate(bands: list[Band], actuals: list[np.ndarray]) -> Calibration:
    """The calibration of a model from its backtest bands and what happened (module docstring)."""
    if not bands:
        return KEEP
    actual, mean, scale = pooled(bands, actuals)
    usable = np.isfinite(scale) & (scale > 0)
    coverages = {level: own_coverage(bands, actuals, level) for level in LEVELS}
    factors = {}
    for level, (nominal, normal_quantile) in LEVELS.items():
        tolerance = max(TOLERANCE, 2 * math.sqrt(nominal * (1 - nominal) / len(actual)))
        if (abs(coverages[level] - nominal) <= tolerance and not ALWAYS_CONFORMAL) or not usable.all():
            factors[level] = None  # own interval kept (or no spread to scale a conformal one by)
        else:
            scores = np.abs(actual - mean) / scale
            factors[level] = conformal_factor(scores, nominal, normal_quantile)
    if factors[80] is not None and factors[95] is not None:
        factors[95] = max(factors[95], factors[80])
    return Calibration(coverages[80], coverages[95], factors[80], factors[95])
