"""`forecast()`: a pandas series in, a frame of the next periods' forecasts and intervals out.

The frame's columns are `mean`, `lo_80`, `hi_80`, `lo_95`, `hi_95`; its index continues the
series' own. Its `attrs` say how it was made, in plain Python values (safe to copy, compare and
serialise):

- `model`: "ensemble", a single member's name, or the fallback ("naive", "croston_sba").
- `note`: one sentence on what was done and why (weights, interval rule, fallbacks, failures).
- `weights`: member -> weight in the forecast.
- `backtest`: member -> backtest MASE, own interval coverage and any conformal factors.
- `members`: every model's own calibrated forecast; `baselines`: naive and seasonal naive.
- `season_length` and `seasonal`: the season used (or not) and whether the history had the two
  full seasons seasonal models need.
- `failed`: member -> the error that stopped it; `origins`: the backtest origins' labels;
  `seconds`: wall seconds per member (its fits and backtest), baselines and combination.
- `regressors`: `{"columns": [...], "members": [...]}`, the known regressors kept and the
  members that fitted them (`members.REGRESSOR_MEMBERS`); `{}` when none were passed or kept.
- `arima_holidays`: whether ARIMA took the holidays as a regressor (`arima_holidays=True`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.forecasting import members as member_options
from ml.forecasting.bands import COLUMNS
from ml.forecasting.ensemble import BASELINES, ORIGINS, fallback_reason, run
from ml.forecasting.history import HOLIDAY_COLUMN, History
from ml.forecasting.members import REGRESSOR_MEMBERS, aggregate_applies
from ml.forecasting.periods import future_index, resolve_offset, season_length_for

MEMBERS = ("ets", "arima", "stl_ets", "theta", "prophet", "agg_ets")
# agg_ets (temporal aggregation) is tried only when named: in the default pool it improved the
# synthetic design set (1.116 -> 1.114, 100 forecasts with Prophet) but took the ensemble above
# its best member on tests/test_forecasting.py's backtest series (0.815 against 0.811; 0.806
# without it), issue 14's other bar; docs/forecasting.md has the figures.
DEFAULT_MEMBERS = ("ets", "arima", "stl_ets", "theta", "prophet")


def applicable_members(
    labels: pd.Index,
    seasonal: bool,
    wanted: tuple[str, ...] | None = None,
    horizon: int = 1,
    period: int | None = None,
    origins: int = ORIGINS,
) -> tuple[str, ...]:
    """The members of `wanted` (default: `DEFAULT_MEMBERS`) that apply: `stl_ets` only for a seasonal series
    (otherwise it is `ets` again), Prophet only for a dated one, `agg_ets` only when its first
    backtest origin still has `members.AGGREGATE_MIN_BLOCKS` blocks (`members.aggregate_applies`)."""
    wanted = DEFAULT_MEMBERS if wanted is None else tuple(wanted)
    unknown = set(wanted) - set(MEMBERS)
    if unknown:
        raise ValueError(f"unknown members {sorted(unknown)}; choose from {list(MEMBERS)}")
    dated = isinstance(labels, pd.DatetimeIndex | pd.PeriodIndex)
    aggregate = aggregate_applies(len(labels), horizon, period, origins)
    return tuple(
        name
        for name in wanted
        if (name != "stl_ets" or seasonal) and (name != "prophet" or dated) and (name != "agg_ets" or aggregate)
    )


def clean(series: pd.Series) -> tuple[pd.Series, str]:
    """Float values without leading or trailing gaps, inner gaps filled by linear interpolation,
    starting at the first non-zero value.

    Leading zeros are dropped because before its first non-zero period the thing measured did
    not exist yet: a client onboarded last spring has two years of zeros on the desk's shared
    weekly index, and a category its first ticket. Read as weeks of no demand they pull the level
    and trend toward zero and shrink the naive error MASE is scaled by, so one such client's
    backtest error could outweigh the rest of the desk (the M5 competition scales from the first
    non-zero sale for the same reason). A series of nothing but zeros is kept: it is flat."""
    if not isinstance(series, pd.Series):
        series = pd.Series(series)
    values = pd.to_numeric(series, errors="coerce").astype(float)
    present = values.notna().to_numpy()
    if not present.any():
        raise ValueError("the series has no values to forecast from")
    first, last = np.flatnonzero(present)[[0, -1]]
    active = np.flatnonzero(values.fillna(0).to_numpy() != 0)
    leading = int(active[0] - first) if len(active) else 0
    values = values.iloc[first + leading : last + 1]
    notes = []
    if leading:
        notes.append(f"{leading} leading zero period{'s' if leading > 1 else ''} left out (before the first activity)")
    gaps = int(values.isna().sum())
    if gaps:
        values = values.interpolate(method="linear")
        notes.append(f"{gaps} missing value{'s' if gaps > 1 else ''} filled by linear interpolation")
    return values, "".join(f"; {note}" for note in notes)


def regressor_frame(regressors: pd.DataFrame, labels: pd.Index, future: pd.Index) -> tuple[pd.DataFrame | None, str]:
    """The rows of `regressors` for the history's `labels` then the `future` labels, as floats,
    without the columns constant over the history (their effect cannot be estimated from it),
    and a note naming those; None when no column is left. Rows for other labels are ignored.
    A column that is not numeric, or lacks a finite value for one of those labels, is an
    error naming the column and the first such label: a regressor is known in advance or it
    is not one."""
    if not isinstance(regressors, pd.DataFrame):
        raise ValueError("regressors must be a DataFrame of numeric columns indexed by period labels")
    if HOLIDAY_COLUMN in regressors.columns:
        raise ValueError(f"the regressor name {HOLIDAY_COLUMN!r} is the forecast's own (arima_holidays); rename it")
    if regressors.index.has_duplicates:
        raise ValueError("the regressors' index has duplicate labels")
    wanted = labels.append(future)
    present = wanted.isin(regressors.index)
    rows = regressors.reindex(wanted)
    kept, constant = {}, []
    for name in rows.columns:
        try:
            column = pd.to_numeric(rows[name], errors="raise").to_numpy(dtype=float)
        except (TypeError, ValueError) as error:
            raise ValueError(f"regressor {name!r} is not numeric ({error})") from None
        bad = ~(present & np.isfinite(column))
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            why = "no row" if not present[first] else f"the value {column[first]}"
            raise ValueError(
                f"regressor {name!r} has {why} for {_label_text(wanted[first])}; {int(bad.sum())} of the "
                f"{len(wanted)} periods of the history and horizon lack a finite value"
            )
        if np.ptp(column[: len(labels)]) == 0:
            constant.append(str(name))
        else:
            kept[name] = column
    note = ""
    if constant:
        note = (
            f"; regressor{'s' if len(constant) > 1 else ''} {', '.join(constant)} left out (constant over the history)"
        )
    if not kept:
        return None, note
    return pd.DataFrame(kept, index=wanted), note


def _with_holiday_column(
    known: pd.DataFrame | None, history: History, future: pd.Index
) -> tuple[pd.DataFrame | None, str]:
    """`known` with ARIMA's holiday column (`members.ARIMA_HOLIDAYS`) beside the caller's
    columns, and the note saying so; `known` as it was when the history has no weekday holiday
    to learn from (or none varies)."""
    from ml.forecasting.prophet_member import weekday_holidays

    wanted = history.labels.append(future)
    days = weekday_holidays(history, wanted)
    if days is None or np.ptp(days[: len(history)]) == 0:
        return known, ""
    column = pd.DataFrame({HOLIDAY_COLUMN: days}, index=wanted)
    known = column if known is None else known.join(column)
    return known, "; weekday holidays a regressor for arima"


def _label_text(label) -> str:
    if isinstance(label, pd.Timestamp) and label == label.normalize():
        return str(label.date())
    return str(label)


def _regressors_note(used: dict) -> str:
    if not used:
        return ""
    columns = ", ".join(used["columns"])
    if used["members"]:
        return f"; regressors {columns} used by {', '.join(used['members'])}"
    return f"; regressors {columns} not used (no member that takes them was fitted)"


def forecast(
    series: pd.Series,
    horizon: int,
    season_length: int | None = None,
    *,
    members: tuple[str, ...] | None = None,
    country: str | None = None,
    holidays: pd.DataFrame | None = None,
    origins: int = ORIGINS,
    freq: str | None = None,
    regressors: pd.DataFrame | None = None,
    arima_holidays: bool | None = None,
) -> pd.DataFrame:
    """Forecast the next `horizon` periods of a regular series.

    `season_length` None infers it from the frequency (W 52, M/MS 12, Q 4, H 24, D 7); seasonal
    models are used only with two full seasons of history and a seasonal strength of at least
    0.64 (`History.seasonality_detected`). `members` names the models tried (default:
    `DEFAULT_MEMBERS`, all but `agg_ets`;
    those that do not apply are skipped, see `applicable_members`). `country` (e.g. "US") or a
    Prophet-style `holidays` frame (ds, holiday) gives Prophet holidays. `freq` is needed only
    for a single dated point. Never fails on a flat, intermittent or very short series: it
    falls back to a baseline and says so in `attrs["note"]`.

    `regressors`: known regressors, a frame of numeric columns indexed by period labels with a
    finite value for every label of the cleaned series (from its first non-zero value) and for
    the `horizon` labels after it (`regressor_frame`; extra rows ignored), e.g. how many users
    of new clients are in their onboarding weeks. ARIMA (regression with ARIMA errors) and
    Prophet (extra regressors) fit them, at the backtest origins too with each origin's own
    future values; the other members ignore them. Columns constant over the history are left
    out; with none left the forecast is the one without regressors.

    `arima_holidays`: ARIMA also takes the holidays (`country`, `holidays`) as a regressor, the
    number of weekday holidays in each period (Prophet keeps them as its own holidays); None
    is `members.ARIMA_HOLIDAYS` (off: on simulated MSPs it was not worth the default,
    docs/forecasting.md). Periods with no weekday holiday all through the history leave it out."""
    if int(horizon) < 1:
        raise ValueError("horizon must be at least 1")
    horizon = int(horizon)
    values, gap_note = clean(series)
    offset = resolve_offset(values.index, freq)
    if season_length is None:
        season_length = season_length_for(offset)
    season = int(season_length) if season_length and season_length >= 2 else None
    future = future_index(values.index, horizon, offset)
    known, regressor_note = (None, "") if regressors is None else regressor_frame(regressors, values.index, future)
    extras = {"country": country, "holidays": holidays}
    holiday_note = ""
    if arima_holidays is None:
        arima_holidays = member_options.ARIMA_HOLIDAYS
    if arima_holidays and (country or holidays is not None):
        dated = History(values.to_numpy(), values.index, None, offset, extras)
        known, holiday_note = _with_holiday_column(known, dated, future)
    if known is not None:
        extras["regressors"] = known
    history = History(values.to_numpy(), values.index, season, offset, extras, season)
    seasonal, season_note = False, ""
    # A series that falls back to a baseline is not tested for a season (the test fits STL).
    if season is not None and len(values) >= 2 * season and fallback_reason(history.values) is None:
        seasonal = history.seasonality_detected()
        strength = history.seasonal_strength()
        season_note = f"; season of {season} {'used' if seasonal else 'not used'} (STL strength {strength:.2f})"
    if not seasonal:
        history = History(values.to_numpy(), values.index, None, offset, extras, season)
    names = applicable_members(values.index, seasonal, members, horizon, season, origins)
    result = run(history, horizon, season, names, origins)

    used = {}
    callers = [] if known is None else [str(name) for name in known.columns if name != HOLIDAY_COLUMN]
    if callers:
        fitted = [name for name in names if name in REGRESSOR_MEMBERS and name in result.members]
        used = {"columns": callers, "members": fitted}
    if holiday_note and "arima" not in result.members:
        holiday_note = ""  # no ARIMA forecast took them
    frame = pd.DataFrame({column: getattr(result.band, column) for column in COLUMNS}, index=future)
    frame.attrs.update(
        {
            "model": result.model,
            "note": result.note + season_note + gap_note + regressor_note + _regressors_note(used) + holiday_note,
            "weights": {name: round(w, 4) for name, w in result.weights.items()},
            "backtest": result.scores,
            "members": {n: b.as_dict() for n, b in result.members.items() if n not in BASELINES},
            "baselines": {n: b.as_dict() for n, b in result.members.items() if n in BASELINES},
            "season_length": season,
            "seasonal": seasonal,
            "failed": result.failed,
            "seconds": {name: round(sec, 4) for name, sec in result.seconds.items()},
            "origins": [str(values.index[o]) for o in result.origins],
            "regressors": used,
            "arima_holidays": bool(holiday_note),
        }
    )
    return frame
