"""`Band`: a forecast path with its 80% and 95% prediction intervals, the one shape every
member, baseline and the ensemble hand around.

A band's `scale` is the spread its 80% interval implies, in standard deviations of a normal
error: (hi_80 - lo_80) / (2 x 1.2816). Conformal calibration (`intervals`) stretches or shrinks a
band around its mean in units of that scale, so a model's own idea of how uncertainty grows with
the horizon is kept while its level is corrected from backtests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Z80 = 1.2815515655446004  # standard normal quantile 0.90
Z95 = 1.959963984540054  # standard normal quantile 0.975
COLUMNS = ("mean", "lo_80", "hi_80", "lo_95", "hi_95")


@dataclass(frozen=True)
class Band:
    mean: np.ndarray
    lo_80: np.ndarray
    hi_80: np.ndarray
    lo_95: np.ndarray
    hi_95: np.ndarray

    @classmethod
    def symmetric(cls, mean, sigma) -> Band:
        """Normal intervals of standard deviation `sigma` (per step) around `mean`."""
        mean = np.asarray(mean, dtype=float)
        sigma = np.broadcast_to(np.asarray(sigma, dtype=float), mean.shape)
        return cls(mean, mean - Z80 * sigma, mean + Z80 * sigma, mean - Z95 * sigma, mean + Z95 * sigma)

    @classmethod
    def around(cls, mean, scale, factor_80: float, factor_95: float) -> Band:
        """Mean +- factor x scale, the shape of a conformally calibrated band."""
        mean = np.asarray(mean, dtype=float)
        return cls(
            mean, mean - factor_80 * scale, mean + factor_80 * scale, mean - factor_95 * scale, mean + factor_95 * scale
        )

    @property
    def scale(self) -> np.ndarray:
        return (self.hi_80 - self.lo_80) / (2 * Z80)

    def __len__(self) -> int:
        return len(self.mean)

    def head(self, steps: int) -> Band:
        return Band(*(getattr(self, name)[:steps] for name in COLUMNS))

    def is_finite(self) -> bool:
        return all(np.all(np.isfinite(getattr(self, name))) for name in COLUMNS)

    def nested(self) -> Band:
        """Make lo_95 <= lo_80 <= mean <= hi_80 <= hi_95 hold, widening where a model's
        intervals were not nested (asymmetric or sampled intervals can cross the mean)."""
        lo_80 = np.minimum(self.lo_80, self.mean)
        hi_80 = np.maximum(self.hi_80, self.mean)
        return Band(self.mean, lo_80, hi_80, np.minimum(self.lo_95, lo_80), np.maximum(self.hi_95, hi_80))

    def clipped_at(self, floor: float) -> Band:
        return Band(*(np.maximum(getattr(self, name), floor) for name in COLUMNS))

    def as_dict(self) -> dict[str, list[float]]:
        return {name: [float(v) for v in getattr(self, name)] for name in COLUMNS}


def weighted(bands: dict[str, Band], weights: dict[str, float]) -> Band:
    """The weighted average of bands, column by column (quantile averaging)."""
    total = sum(weights.values())
    columns = []
    for name in COLUMNS:
        columns.append(sum(weights[key] * getattr(bands[key], name) for key in weights) / total)
    return Band(*columns)


def median(bands: dict[str, Band]) -> Band:
    """The median of bands, column by column. Each band is nested (lo_95 <= lo_80 <= mean <= ...),
    and a median of ordered columns keeps that order, so the result is nested too."""
    return Band(*(np.median([getattr(band, name) for band in bands.values()], axis=0) for name in COLUMNS))
