"""`History`: the values of a series up to a forecast origin, with what several members share
about them (the STL decomposition), so a backtest origin is decomposed once, not once per member.

Seasonal members work on the STL seasonally adjusted series and add back the last season of the
seasonal component (the seasonal naive forecast of the seasonal part). The STL fit:
- `seasonal_deg=0`: each week-of-year (month-of-year, hour-of-day) is smoothed across seasons by
  a local mean, not a local line. The histories here hold two to four seasons; a line through
  two or three points per subseries passes through the noise, and on a synthetic weekly series
  with three years of data the constant fit halved the error of the seasonal component.
- not robust: the robust fit costs seven times as much, and the backtest weighting already
  down-weights a member an outlier has misled.

Known regressors (`extras["regressors"]`, set by `api.forecast`): a frame of numeric columns whose
rows are the whole series' labels followed by its forecast horizon's, in order. A prefix (a
backtest origin) keeps the frame, and `regressors(ahead)` gives it the rows of its own labels and
of the `ahead` periods after its origin: values known in advance, so a backtest forecast uses
them as the forecast from the end of the series does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ml.forecasting.periods import future_index

# The known-regressor column `api.forecast` adds for ARIMA with the caller's holidays
# (`members.ARIMA_HOLIDAYS`); Prophet, which takes the holidays themselves, skips it.
HOLIDAY_COLUMN = "holiday_weekdays"
SEASONAL_STRENGTH = 0.64  # Wang, Smith & Hyndman (2006); forecast::nsdiffs' "seas" test cut-off


@dataclass
class History:
    values: np.ndarray
    labels: pd.Index
    season: int | None  # periods per season when the series is treated as seasonal, else None
    offset: object = None  # the pandas offset between labels (None for an integer index)
    extras: dict = field(default_factory=dict)  # caller options members read (country, holidays, regressors)
    period: int | None = None  # the frequency's own season length, used or not (W 52, M 12, H 24)

    def __len__(self) -> int:
        return len(self.values)

    def prefix(self, length: int) -> History:
        return History(self.values[:length], self.labels[:length], self.season, self.offset, self.extras, self.period)

    def future_labels(self, horizon: int) -> pd.Index:
        return future_index(self.labels, horizon, self.offset)

    def regressors(self, ahead: int = 0) -> np.ndarray | None:
        """The known regressors' values (periods x columns) for this history's periods and the
        `ahead` periods after it; None when there are none. The frame's rows follow the series'
        labels from its first, so a prefix's rows are found by position (checked by label at
        both ends of the history)."""
        frame = self.extras.get("regressors")
        if frame is None or frame.shape[1] == 0:
            return None
        start = frame.index.get_loc(self.labels[0])
        stop = start + len(self) + ahead
        if stop > len(frame) or frame.index[start + len(self) - 1] != self.labels[-1]:
            raise ValueError(f"the regressors do not cover this history and the {ahead} periods after it")
        return frame.to_numpy(dtype=float)[start:stop]

    def varying_regressors(self, among: tuple[int, ...] | None = None, skip: tuple[str, ...] = ()) -> tuple[int, ...]:
        """The regressor columns (of `among`, default all; none named in `skip`) that vary over
        this history: a constant one has no effect a fit could estimate apart from the level."""
        rows = self.regressors()
        if rows is None:
            return ()
        names = list(self.extras["regressors"].columns)
        return tuple(
            i
            for i in (range(rows.shape[1]) if among is None else among)
            if np.ptp(rows[:, i]) > 0 and names[i] not in skip
        )

    @cached_property
    def _stl(self):
        from statsmodels.tsa.seasonal import STL

        return STL(self.values, period=self.season, seasonal_deg=0, robust=False).fit()

    def seasonal_strength(self) -> float:
        """1 - Var(remainder) / Var(seasonal + remainder) of the STL fit: the share of the
        detrended series' variation that the season explains (0 none, 1 all)."""
        remainder, seasonal = np.asarray(self._stl.resid), np.asarray(self._stl.seasonal)
        detrended = np.var(remainder + seasonal)
        return float(max(0.0, 1 - np.var(remainder) / detrended)) if detrended > 0 else 0.0

    def seasonality_detected(self) -> bool:
        """Two full seasons and a seasonal strength of at least 0.64. Seasonal models fitted to
        a series without a season turn noise into a pattern and repeat it (on synthetic random
        walks, before this test existed, the STL members' error was 47% above ETS's). The classical ACF test at lag m
        (Theta's) was tried first and rejected: with a smooth 52-week season the lower lags'
        autocorrelations widen its bound until a clear sine wave fails it."""
        if not self.season or len(self) < 2 * self.season or np.ptp(self.values) == 0:
            return False
        return self.seasonal_strength() >= SEASONAL_STRENGTH

    @property
    def adjusted(self) -> np.ndarray:
        """Seasonally adjusted values (the values themselves when not seasonal)."""
        if not self.season:
            return self.values
        return self.values - np.asarray(self._stl.seasonal)

    def seasonal_ahead(self, horizon: int) -> np.ndarray:
        """The seasonal component of the next `horizon` periods (zeros when not seasonal)."""
        if not self.season:
            return np.zeros(horizon)
        last_season = np.asarray(self._stl.seasonal)[-self.season :]
        return last_season[np.arange(horizon) % self.season]
