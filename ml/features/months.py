"""Month arithmetic on the integer month index (year * 12 + month - 1) used by every frame,
and trailing-window sums within one client's run of months."""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np
import pandas as pd


def to_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def to_date(index: int) -> date:
    """First day of the month with this index."""
    return date(int(index) // 12, int(index) % 12 + 1, 1)


def month_end(index: int) -> date:
    first = to_date(index)
    return date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])


def days_in(index: int) -> int:
    first = to_date(index)
    return calendar.monthrange(first.year, first.month)[1]


def parse(text: str) -> date:
    """'YYYY-MM' -> first day of that month; raises ValueError with the bad text."""
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except (ValueError, AttributeError):
        raise ValueError(f"{text!r} is not a month (use YYYY-MM)") from None


def rolling(frame: pd.DataFrame, column: str, window: int, shift: int = 0, partial: bool = False) -> pd.Series:
    """Sum of `column` over the `window` months ending `shift` months before each row, within
    each client. The frame is sorted by (client_id, mi) and holds every month of a client's
    run, so a row offset is a month offset. Missing (NaN) months count as 0. A window reaching
    before the client's first month is NaN (not enough history is not zero) unless `partial`,
    which sums what there is (for counts such as QBRs in the last 12 months).

    Vectorised as one shifted add per month of the window, always in the same order (the
    latest month first). The sum of a row's window therefore depends only on the values in
    that window, never on where the frame starts or on other clients' rows: an incremental
    build, which reads a year of history, gets bit for bit the sums a full build gets. (A
    running total over the frame, subtracted at both ends, differed in the last bits, and
    one genome value in 200,000 rounded the other way.)
    """
    values = frame[column].fillna(0).to_numpy(dtype="float64")
    position = _positions(frame.index)
    n = len(values)
    total = np.zeros(n)
    for lag in range(shift, shift + window):
        if lag >= n:
            break
        # Row t adds the value `lag` rows back when that row is the same client's.
        total[lag:] += np.where(position[lag:] >= lag, values[: n - lag], 0.0)
    valid = position >= (shift if partial else shift + window - 1)
    return pd.Series(np.where(valid, total, np.nan), index=frame.index)


def runs(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The month indexes of consecutive runs laid end to end: runs([3, 10], [2, 3]) ->
    [3, 4, 10, 11, 12]. One repeat instead of an arange per run."""
    lengths = np.asarray(lengths, dtype="int64")
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(np.asarray(starts, dtype="int64"), lengths) + offsets


_last_positions: dict = {}


def _positions(index: pd.MultiIndex) -> np.ndarray:
    """Each row's month number within its client (0, 1, ...). A build asks for dozens of
    windows over the same frame, so the last index's answer is kept (an Index is immutable;
    the cache holds the index itself, so an id is never reused while cached)."""
    if _last_positions.get("index") is not index:
        codes = index.codes[0] if isinstance(index, pd.MultiIndex) else pd.factorize(index)[0]
        _last_positions.update(index=index, positions=pd.Series(codes).groupby(codes).cumcount().to_numpy())
    return _last_positions["positions"]


def cumulative(events: pd.DataFrame, column: str, grid: pd.DataFrame) -> pd.Series:
    """Running total over each client's months of `column` in events (client_id, mi, column).
    Events before a client's first month count from that month; events after its last month
    are dropped (they are not known at any month we report)."""
    starts = grid.reset_index().groupby("client_id")["mi"].min()
    ends = grid.reset_index().groupby("client_id")["mi"].max()
    ev = events[events["client_id"].isin(starts.index)].copy()
    ev["mi"] = np.maximum(ev["mi"].to_numpy(), ev["client_id"].map(starts).to_numpy())
    ev = ev[ev["mi"] <= ev["client_id"].map(ends)]
    summed = ev.groupby(["client_id", "mi"])[column].sum()
    aligned = summed.reindex(grid.index, fill_value=0)
    return aligned.groupby(level=0).cumsum()


def lag(frame: pd.DataFrame, column: str, months: int) -> pd.Series:
    return frame[column].groupby(level=0).shift(months)


def safe_ratio(numerator, denominator, minimum: float = 0.0) -> pd.Series:
    """numerator / denominator, NaN where the denominator is missing or not above `minimum`
    (the documented rule: a ratio on a tiny base is missing, not huge)."""
    numerator = pd.Series(numerator, dtype="float64")
    denominator = pd.Series(denominator, dtype="float64")
    out = numerator / denominator.where(denominator > minimum)
    return out.replace([np.inf, -np.inf], np.nan)
