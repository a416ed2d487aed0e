"""Scaling raw dimension values against the month's portfolio so dimensions are comparable.

Method: the mid-rank percentile within the month, p = (rank - 0.5) / n, with ties sharing
their average rank, over the clients that have a value. It is robust: an outlier moves one
rank, never the scale of everyone else, and skewed money figures (revenue, MRR) spread evenly
over 0..1. When a dimension's sense is -1 the percentile is flipped (1 - p) so that, per group,
a higher scaled value is always better (or, for Risk Factors, riskier).

A missing raw value (no tickets, no invoices due, not enough history) is set to 0.5 — the
portfolio median, neutral for similarity and group scores — and its index is recorded with
the vector, so nothing is imputed silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .dimensions import DIMENSIONS, GROUPS

MISSING_VALUE = 0.5


def scale(raw: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """raw: rows indexed by (client_id, mi), 50 columns in dimension order.
    Returns (scaled values in [0, 1], missing mask)."""
    by_month = raw.groupby(level=1)
    ranks = by_month.rank(method="average")
    counts = by_month.transform("count")
    pct = ((ranks - 0.5) / counts).to_numpy(dtype="float64")
    senses = np.array([d.sense for d in DIMENSIONS], dtype="float64")
    pct = np.where(senses < 0, 1.0 - pct, pct)
    missing = np.isnan(pct)
    pct[missing] = MISSING_VALUE
    return pct, missing


def group_scores(values: np.ndarray) -> np.ndarray:
    """Per row, the mean scaled value of each group of ten, x 100 (0-100)."""
    return np.stack([values[:, g * 10 : (g + 1) * 10].mean(axis=1) * 100 for g in range(len(GROUPS))], axis=1)
