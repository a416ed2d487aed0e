"""Small robust statistics the detectors share, in plain Python: a few dozen numbers per
baseline do not need numpy, and Django start-up stays free of it."""

from __future__ import annotations

import math
from statistics import median

# MAD x 1.4826 estimates the standard deviation of normal data, so a robust z reads like an
# ordinary one on the well-behaved part of a sample while ignoring its outliers.
MAD_TO_SD = 1.4826


def robust_z(value: float, sample: list[float], floor: float) -> tuple[float, float, float]:
    """(z, centre, spread): how many robust standard deviations `value` lies from the median
    of `sample`. `floor` is the smallest spread allowed: a client billed the same amount every
    month has a MAD of 0, and any change at all would otherwise be infinitely surprising."""
    centre = median(sample)
    spread = max(MAD_TO_SD * median(abs(x - centre) for x in sample), floor)
    return (value - centre) / spread, centre, spread


def log_amount(value: float) -> float:
    """Amounts and durations are right-skewed (a few large invoices, a few long jobs); on a
    log scale "five times the usual" is the same distance for every client."""
    return math.log1p(max(value, 0.0))


def poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean), summed from k upward in log space (exact enough for the
    tiny tails a surge lives in, where 1 - CDF would round to 0)."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    log_term = -mean + k * math.log(mean) - math.lgamma(k + 1)
    total, i = 0.0, k
    while True:
        term = math.exp(log_term)
        total += term
        i += 1
        log_term += math.log(mean) - math.log(i)
        if i > mean and term < total * 1e-12:
            break
        if i - k > 10_000:  # only reached for k far below the mean, where the tail is ~1
            break
    return min(total, 1.0)
