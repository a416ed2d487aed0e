"""Forecast accuracy: MASE, sMAPE and interval coverage.

MASE divides the mean absolute error of a forecast by the mean absolute error of the one-step
naive forecast inside the history it was made from (`season=m` uses the seasonal naive at lag m
instead), so 1.0 means "as good on the future as last-value-carried-forward was on the past" and
figures are comparable across series of any size. sMAPE is the symmetric percentage error,
0-200, with 0/0 counted as a perfect 0 (a zero forecast for a zero week is not an error).
"""

from __future__ import annotations

import numpy as np


def mase_scale(history, season: int = 1) -> float:
    """Mean absolute error of the (seasonal) naive forecast inside `history`; NaN when the
    history is too short to have one."""
    values = np.asarray(history, dtype=float)
    if len(values) <= season:
        return float("nan")
    return float(np.mean(np.abs(values[season:] - values[:-season])))


def mase(actual, predicted, history, season: int = 1) -> float:
    """Mean absolute scaled error; NaN when the history gives no scale (too short or flat)."""
    scale = mase_scale(history, season)
    if not np.isfinite(scale) or scale <= 0:
        return float("nan")
    errors = np.abs(np.asarray(actual, dtype=float) - np.asarray(predicted, dtype=float))
    return float(np.mean(errors) / scale)


def smape(actual, predicted) -> float:
    """Symmetric mean absolute percentage error, in percent (0-200)."""
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    denominator = np.abs(actual) + np.abs(predicted)
    ratio = np.divide(
        2.0 * np.abs(actual - predicted), denominator, out=np.zeros_like(denominator), where=denominator > 0
    )
    return float(100.0 * np.mean(ratio))


def coverage(actual, lower, upper) -> float:
    """Share of actual values inside [lower, upper]."""
    actual = np.asarray(actual, dtype=float)
    inside = (actual >= np.asarray(lower, dtype=float)) & (actual <= np.asarray(upper, dtype=float))
    return float(np.mean(inside))
