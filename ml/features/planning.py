"""Planning a build: the data's as-of date, each client's run of months, and which
(client, month) rows changed since the last build (see build.py and docs/kpis.md)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from django.db.models import Max

from clients.models import Ticket, Worklog
from ml.models import FeatureBuild

from . import fingerprints, months, sources

FEATURES_VERSION = 1


def data_as_of() -> date | None:
    """The last day with service-desk activity (worklog or ticket): the data's 'today'."""
    day = Worklog.objects.aggregate(d=Max("work_date"))["d"]
    created = Ticket.objects.aggregate(d=Max("created_at"))["d"]
    days = [d for d in (day, created.date() if created else None) if d]
    return max(days) if days else None


def client_months(as_of: date) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """The month grid (client_id, mi) with a _partial flag, each client's tenure base month,
    and the client rows."""
    clients = sources.client_rows()
    as_of_mi = months.to_index(as_of)
    # Activity (tickets, worklogs, invoices) starts a client's run; an endpoint's purchase
    # date or an old CRM note does not.
    first_data, world_start = fingerprints.first_activity(as_of_mi)
    world_start = as_of_mi if world_start is None else world_start
    # Column-wise over all clients (a loop per client cost ~40 us each).
    ids = clients["client_id"].to_numpy(dtype="int64")
    onboard, onboard_day, _ = _month_parts(clients["onboarded_on"])
    churn, churn_day, churn_month_days = _month_parts(clients["churned_on"])
    first = np.fmin(onboard, first_data.reindex(ids).to_numpy(dtype="float64"))
    start = np.maximum(first, world_start)
    end = np.where(np.isnan(churn), as_of_mi, np.fmin(churn, as_of_mi))
    keep = ~np.isnan(first) & (start <= end)
    if not keep.any():
        empty = pd.MultiIndex.from_arrays([[], []], names=["client_id", "mi"])
        return pd.DataFrame({"_partial": []}, index=empty), pd.Series(dtype="int64"), clients
    lengths = (end[keep] - start[keep] + 1).astype("int64")
    mi = months.runs(start[keep].astype("int64"), lengths)

    def each_month(per_client: np.ndarray) -> np.ndarray:
        return np.repeat(per_client[keep], lengths)

    partial = np.zeros(len(mi), dtype=bool)
    if as_of < months.month_end(as_of_mi):
        partial |= mi == as_of_mi
    # A client onboarded after the 1st, or churned before the month's last day.
    partial |= mi == each_month(np.where(onboard_day > 1, onboard, -1))
    partial |= mi == each_month(np.where(churn_day < churn_month_days, churn, -1))
    grid = pd.DataFrame(
        {"_partial": partial},
        index=pd.MultiIndex.from_arrays([each_month(ids), mi], names=["client_id", "mi"]),
    ).sort_index()
    return grid, pd.Series(first[keep].astype("int64"), index=ids[keep], dtype="int64"), clients


def _month_parts(days: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(month index, day of month, days in that month) of optional dates, NaN where none."""
    stamp = pd.to_datetime(days, errors="coerce")
    mi = (stamp.dt.year * 12 + stamp.dt.month - 1).to_numpy(dtype="float64")
    return mi, stamp.dt.day.to_numpy(dtype="float64"), stamp.dt.days_in_month.to_numpy(dtype="float64")


def _on_grid(index: pd.MultiIndex, grid: pd.DataFrame, starts: pd.Series) -> np.ndarray:
    """Mask of the grid months that rows at these (client_id, mi) feed: rows dated before a
    client's first month (`starts`: client_id -> its first grid month) or undated endpoints
    feed its first month's cumulative KPIs."""
    df = index.to_frame(index=False)
    df = df[df["client_id"].isin(starts.index)]
    df["mi"] = np.maximum(df["mi"].to_numpy(), df["client_id"].map(starts).to_numpy())
    return grid.index.isin(pd.MultiIndex.from_frame(df))


def changed_tables(
    grid: pd.DataFrame, previous: FeatureBuild | None, moved: dict[str, pd.MultiIndex]
) -> dict[str, np.ndarray]:
    """Per monthly table, the mask of grid months with new, sync-edited, or moved, hand-edited
    or deleted rows (the journal's `moved`) since the previous build."""
    everything = np.ones(len(grid), dtype=bool)
    if previous is None:
        return {key: everything for key in fingerprints.MONTHLY}
    masks = {}
    starts = grid.reset_index().groupby("client_id")["mi"].min()  # once, not once per changed table
    for key in fingerprints.MONTHLY:
        before = previous.source_state.get(key)
        if not before:
            masks[key] = everything
            continue
        positions = fingerprints.new_or_edited(key, before["max_id"], previous.sync_watermark)
        if key in moved:
            positions = positions.append(moved[key])
        masks[key] = _on_grid(positions, grid, starts) if len(positions) else ~everything
    return masks


def plan(
    current: pd.DataFrame,
    stored: pd.DataFrame,
    since: date | None,
    tables: dict[str, np.ndarray],
    reflag_mi: int | None = None,
) -> tuple[pd.Series, dict, list]:
    """(rebuild_from per client, dirty-row masks of the large tables, stale stored rows).
    `current` holds the per-client hashes on the grid; `tables` the changed-month masks;
    `reflag_mi` a month whose rows are rebuilt for their partial-month flag alone."""
    st = stored.reindex(current.index)
    new_row = st["features_version"].isna() | (st["features_version"] != FEATURES_VERSION)
    changed = {}
    for key in current.columns:
        old = st[key] if key in st.columns else pd.Series("", index=st.index)
        changed[key] = new_row | (old.fillna("\0") != current[key])
    for key, mask in tables.items():
        changed[key] = new_row | mask
    if reflag_mi is not None:
        changed["as_of"] = new_row | (current.index.get_level_values(1) == reflag_mi)
    dirty = np.logical_or.reduce([np.asarray(c) for c in changed.values()]) if len(current) else np.array([], bool)
    mi = current.index.get_level_values(1)
    large = {k: np.asarray(changed[k]) | new_row.to_numpy() for k in fingerprints.LARGE}
    large["worklogs"] |= changed["technicians"].to_numpy()
    if since is not None:
        forced = mi >= months.to_index(since)
        dirty = dirty | forced
        large = {k: v | forced for k, v in large.items()}
        changed = {k: np.asarray(v) | forced for k, v in changed.items()}
    rebuild_from = pd.Series(mi[dirty], index=current.index.get_level_values(0)[dirty]).groupby(level=0).min()
    stale = [key for key in stored.index.difference(current.index)]
    large["_changed"] = {k: np.asarray(v) for k, v in changed.items()}
    return rebuild_from.astype("int64"), large, stale
