"""Known onboardings as forecast regressors: when clients go live, and how big they are, turned
into columns that `forecast(regressors=...)` takes for every period of a series and its horizon.

A new client changes the desk's demand twice: for its first weeks the set-up and discovery work
runs on top of its own tickets (the simulator's priors: tickets x2.0 and x1.4 in the first two
months, plus the onboarding project), and from then on its steady demand is part of the desk's.
Two columns, both in users (the client's `employee_count`; 1 where the tenant keeps no count, so
a client still counts):

- `onboarding`: users of the clients in their first `SURGE_WEEKS` weeks after go-live;
- `onboarded`: users of every client gone live so far (a step up at each go-live). Departures are
  left out on purpose: a churn is not known ahead the way a signed client's start date is, so a
  column that fell at past churns could only stay flat in the horizon and would teach the models
  a drop they are never told about.

A client's own series gets only `onboarding` (1 in its own first weeks): its steady demand is
the series itself.

What is known ahead: the go-live dates the tenant holds. Clients with a go-live date after the
series' end are the signed ones not yet live; `known_until` cuts off those not signed yet when a
past origin is replayed (`bench/forecasting_worlds.py`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.forecasting.periods import future_index, resolve_offset

# Eight weeks, about the two months of a new client's set-up (chosen: no published figure in
# ../shared/MSP_WORLD.md gives how long onboarding work lasts; the simulator's surge is 2 months).
SURGE_WEEKS = 8
SURGE_MONTHS = 2
COLUMNS = ("onboarding", "onboarded")
# What the FORECAST_ONBOARDING_REGRESSORS setting can name. None by default: both won on the
# design worlds (pooled MASE 0.7609 against 0.7780) but lost on four fresh ones (0.830 against
# 0.809), where a client five times the size of any earlier go-live took the learnt per-user
# effect far past what came (bench/forecasting_worlds.py has the figures).
REGRESSOR_SETS = {"none": (), "onboarding": ("onboarding",), "both": COLUMNS}
DEFAULT_REGRESSORS = "none"


def onboarding_columns(
    onboardings: pd.DataFrame,
    labels: pd.DatetimeIndex,
    frequency: str = "W",
    client_id: int | None = None,
    known_until: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The regressor columns over `labels` (a series' periods and its horizon's) from
    `onboardings` (client_id, onboarded_on, users; a missing or zero user count counts as 1,
    a row without a date not at all).

    `client_id` gives that client's own `onboarding` column only. `known_until` leaves out the
    clients going live in a period after its own (not signed yet at a replayed origin)."""
    rows = onboardings.dropna(subset=["onboarded_on"])
    if client_id is not None:
        rows = rows[rows["client_id"] == client_id]
    freq = "W-SUN" if frequency == "W" else "M"  # weeks end on Sunday, as the desk's series do
    periods = pd.PeriodIndex(pd.to_datetime(rows["onboarded_on"]), freq=freq)
    users = pd.to_numeric(rows["users"], errors="coerce") if "users" in rows and client_id is None else None
    users = np.ones(len(rows)) if users is None else users.fillna(0).clip(lower=0).replace(0, 1).to_numpy(float)
    if known_until is not None:
        signed = periods <= pd.Period(known_until, freq=freq)
        periods, users = periods[signed], users[signed]
    surge = SURGE_WEEKS if frequency == "W" else SURGE_MONTHS
    # Each go-live's position on `labels`; one before the first label is negative, so a client
    # that went live just before the series starts has the rest of its surge and no more.
    grid = pd.PeriodIndex(labels, freq=freq)
    positions = (periods.asi8 - grid.asi8[0]) if len(grid) else np.array([], dtype=int)
    onboarding, onboarded = np.zeros(len(labels)), np.zeros(len(labels))
    for position, count in zip(positions, users, strict=True):
        start = max(int(position), 0)
        onboarding[start : max(int(position) + surge, 0)] += count
        onboarded[start:] += count
    frame = pd.DataFrame({"onboarding": onboarding, "onboarded": onboarded}, index=labels)
    return frame[["onboarding"]] if client_id is not None else frame


def series_columns(
    onboardings: pd.DataFrame | None,
    labels: pd.DatetimeIndex,
    horizon: int,
    columns: tuple[str, ...],
    frequency: str = "W",
    client_id: int | None = None,
    known_until: pd.Timestamp | None = None,
) -> pd.DataFrame | None:
    """The `columns` of `onboarding_columns` for a series with periods `labels` and the next
    `horizon`, as `forecast(regressors=...)` takes them; None when there are none to give."""
    if not columns or onboardings is None or onboardings.empty:
        return None
    full = labels.append(future_index(labels, horizon, resolve_offset(labels)))
    frame = onboarding_columns(onboardings, pd.DatetimeIndex(full), frequency, client_id, known_until)
    kept = [column for column in columns if column in frame.columns]
    return frame[kept] if kept else None
