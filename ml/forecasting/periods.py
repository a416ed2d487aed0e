"""The calendar of a series: its frequency, the labels of the next periods and the season length
that frequency implies.

A forecast continues the series' own index, so a weekly series ending on a Sunday is forecast for
the following Sundays, a monthly one for the next month starts (or ends), an integer index for
the next integers with the same step. Irregular dates are refused: every model here assumes
equally spaced periods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

# Periods in one season, by the frequency's code (its letters before any "-" anchor). The year is
# the season for weeks, months and quarters, the day for hours and the week for days.
_SEASON_OF_CODE = {
    "W": 52,
    "M": 12,
    "ME": 12,
    "MS": 12,
    "BM": 12,
    "BME": 12,
    "BMS": 12,
    "SM": 24,
    "SME": 24,
    "SMS": 24,
    "Q": 4,
    "QE": 4,
    "QS": 4,
    "BQ": 4,
    "BQE": 4,
    "BQS": 4,
    "h": 24,
    "H": 24,
    "D": 7,
    "B": 5,
}


def resolve_offset(index: pd.Index, freq=None):
    """The step between periods as a pandas offset, or None for an integer index."""
    if freq is not None:
        return to_offset(freq)
    if isinstance(index, pd.PeriodIndex):
        return index.freq
    if isinstance(index, pd.DatetimeIndex):
        if index.freq is not None:
            return index.freq
        if len(index) >= 3:
            inferred = pd.infer_freq(index)
            if inferred is None:
                raise ValueError("the series' dates are not equally spaced; resample it to a regular frequency first")
            return to_offset(inferred)
        if len(index) == 2:
            return to_offset(index[1] - index[0])
        raise ValueError("a single dated point has no frequency; pass freq= (e.g. 'W')")
    if _is_integer_index(index):
        return None
    raise ValueError(f"cannot continue an index of type {type(index).__name__}; use dates, periods or integers")


def season_length_for(offset) -> int | None:
    """Periods per season implied by the frequency (W -> 52, M/MS -> 12, Q -> 4, H -> 24, D -> 7),
    divided by the frequency's multiple (2W -> 26); None when no season is implied."""
    if offset is None:
        return None
    code = getattr(offset, "rule_code", "") or ""
    base = _SEASON_OF_CODE.get(code.split("-")[0])
    multiple = abs(getattr(offset, "n", 1)) or 1
    if base is None or base % multiple:
        return None
    season = base // multiple
    return season if season >= 2 else None


def future_index(index: pd.Index, horizon: int, offset) -> pd.Index:
    """Labels of the `horizon` periods after the last one in `index`."""
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(start=index[-1] + 1, periods=horizon, freq=index.freq, name=index.name)
    if isinstance(index, pd.DatetimeIndex):
        start = index[-1] + offset
        return pd.date_range(start=start, periods=horizon, freq=offset, name=index.name)
    if isinstance(index, pd.RangeIndex):
        step = index.step
        last = index[-1]
        return pd.RangeIndex(last + step, last + step * (horizon + 1), step, name=index.name)
    step = int(index[-1] - index[-2]) if len(index) >= 2 else 1
    step = step or 1
    return pd.Index(int(index[-1]) + step * np.arange(1, horizon + 1), name=index.name)


def _is_integer_index(index: pd.Index) -> bool:
    return isinstance(index, pd.RangeIndex) or pd.api.types.is_integer_dtype(index.dtype)
