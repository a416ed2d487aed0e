"""Change detection: how an incremental build knows which (client, month) rows to redo
without scanning the large tables.

Each build records, per source table, its highest id, and the sync-run watermark (the highest
run finished before the build started). The next build asks, with queries that only touch
changed rows:
- new rows: id above the recorded highest id (a primary-key range), grouped per (client, month);
- edited rows: sync_run_id above the recorded watermark (the sync_run index). The loader stamps
  `sync_run` on every row it creates or updates, including a record the source reports deleted
  (`deleted_at_source`), and an invoice whose lines or a payment whose applications changed;
- moved, edited by hand, or deleted rows: the row-change journal (clients.RowChange), which
  database triggers fill with a row's old (client, day) on every UPDATE and DELETE, and its
  new one when it moved. Whoever wrote the change (loader, admin, SQL), the month it left is
  rebuilt. An update a newer sync run stamped in place is not journalled: its stamp says it
  all. The build deletes the journal rows it read once it has succeeded.
A sync still running when a build starts has an id above the watermark, so its rows are looked
at again by the next build. The client record with its agreements, and the technicians'
burdened costs (set by hand, no sync run), are small and hashed in full every time.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from clients.models import (
    Asset,
    Client,
    Contract,
    Expense,
    Interaction,
    Invoice,
    Payment,
    RowChange,
    SatisfactionSurvey,
    SyncRun,
    Technician,
    Ticket,
    Worklog,
)

from .sql import frame, month_index, no_index, table

# table key -> (model, month column)
MONTHLY = {
    "tickets": (Ticket, "created_at"),
    "worklogs": (Worklog, "work_date"),
    "surveys": (SatisfactionSurvey, "responded_at"),
    "invoices": (Invoice, "txn_date"),
    "payments": (Payment, "txn_date"),
    "expenses": (Expense, "txn_date"),
    "interactions": (Interaction, "occurred_at"),
    "assets": (Asset, "added_on"),
}
# Tables whose KPIs are per-month only (no cumulative KPI reads them), so an incremental build
# re-reads just their changed months and keeps the stored values of the others.
LARGE = ("tickets", "worklogs", "surveys")
# What starts a client's run of months: service-desk activity or an invoice.
ACTIVITY = ("tickets", "worklogs", "invoices")


def _digest(parts) -> str:
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=6).hexdigest()


def table_state() -> dict[str, dict[str, int]]:
    """Per table: {"max_id": highest id} (a seek at the end of the primary key)."""
    state = {}
    for key, (model, _) in MONTHLY.items():
        max_id = frame(f"SELECT MAX(id) FROM {table(model)}", [], ["max_id"])["max_id"].iloc[0]
        state[key] = {"max_id": 0 if max_id is None or pd.isna(max_id) else int(max_id)}
    return state


def journal() -> tuple[dict[str, pd.MultiIndex], list[tuple[int, int]]]:
    """Per table, the (client_id, mi) the row-change journal names; and the runs of journal
    ids read (to delete once the build has succeeded). Undated rows (an endpoint with no
    purchase date) come back as month -1, which the grid reads as the client's first month.

    One grouped query; when the ids it covered are consecutive (the usual case) that run is
    all there is to delete. Otherwise (ids another transaction had not yet committed) the
    rows are read one by one, positions and ids from the same query."""
    mi = month_index("day")
    df = frame(
        f"SELECT table_key, client_id, {mi}, MIN(id), MAX(id), COUNT(*) FROM {table(RowChange)} "
        f"GROUP BY table_key, client_id, {mi}",
        [],
        ["key", "client_id", "mi", "lo", "hi", "n"],
    )
    if df.empty:
        return {}, []
    lo, hi = int(df["lo"].min()), int(df["hi"].max())
    if int(df["n"].sum()) == hi - lo + 1:
        runs = [(lo, hi)]
    else:
        df = frame(
            f"SELECT table_key, client_id, {mi}, id FROM {table(RowChange)}", [], ["key", "client_id", "mi", "id"]
        )
        runs = _runs(df["id"].astype("int64").tolist())
    df = df[df["client_id"].notna()]
    df = df.assign(client_id=df["client_id"].astype("int64"), mi=df["mi"].fillna(-1).astype("int64"))
    positions = {
        key: pd.MultiIndex.from_frame(rows[["client_id", "mi"]].drop_duplicates()) for key, rows in df.groupby("key")
    }
    return positions, runs


def _runs(ids: list[int]) -> list[tuple[int, int]]:
    """Sorted ids as runs of consecutive ids: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    if not ids:
        return []
    ids = sorted(ids)
    runs, start = [], ids[0]
    for previous, current in zip(ids, ids[1:], strict=False):
        if current != previous + 1:
            runs.append((start, previous))
            start = current
    runs.append((start, ids[-1]))
    return runs


def forget(runs: list[tuple[int, int]]) -> int:
    """Delete the journal rows a build read, by runs of consecutive ids: a row another
    transaction wrote meanwhile has an id outside every run, so it stays for the next build."""
    return sum(RowChange.objects.filter(id__gte=lo, id__lte=hi).delete()[0] for lo, hi in runs)


def _grouped(key: str, condition: str, params: list) -> pd.DataFrame:
    model, column = MONTHLY[key]
    client = no_index("client_id")
    mi = month_index(column)
    sql = f"""SELECT {client}, {mi}, COUNT(*) FROM {table(model)}
              WHERE {condition} AND {client} IS NOT NULL GROUP BY {client}, {mi}"""
    df = frame(sql, params, ["client_id", "mi", "n"])
    df["mi"] = df["mi"].fillna(-1).astype("int64")  # endpoints with no added_on date
    df["client_id"] = df["client_id"].astype("int64")
    return df


def new_or_edited(key: str, after_id: int, after_run: int | None) -> pd.MultiIndex:
    """(client_id, mi) of rows with an id above `after_id` (new) or written by a sync run
    after `after_run` (edited; None: every row a sync ever wrote, the safe answer when no
    build recorded a watermark). One query: both conditions are index ranges."""
    run = after_run if after_run is not None else -1
    df = _grouped(key, "(id > %s OR sync_run_id > %s)", [after_id, run])
    return pd.MultiIndex.from_frame(df[["client_id", "mi"]])


def first_activity(as_of_mi: int) -> tuple[pd.Series, int | None]:
    """(client_id -> first month with a ticket, worklog or invoice; the data's first month).
    Per client and table, the month of its first row as a correlated subquery: ORDER BY the
    date LIMIT 1 is a single seek into the (client, date) index, where a GROUP BY would walk
    every entry of the index (and month_index(MIN(...)) would run the subquery twice)."""
    firsts = ", ".join(
        f"(SELECT {month_index('x.' + column)} FROM {table(model)} x WHERE x.client_id = c.id "
        f"ORDER BY x.{column} LIMIT 1)"
        for model, column in (MONTHLY[key] for key in ACTIVITY)
    )
    df = frame(f"SELECT c.id, {firsts} FROM {table(Client)} c", [], ["client_id", *ACTIVITY])
    first = df[list(ACTIVITY)].astype("float64").min(axis=1, skipna=True)
    first = pd.Series(first.to_numpy(), index=df["client_id"].astype("int64").to_numpy())
    first = first[first.notna() & (first <= as_of_mi)].astype("int64")
    return first, (int(first.min()) if len(first) else None)


def watermark() -> int:
    """The highest sync run id below every run still in progress (0 when there is none)."""
    running = frame(f"SELECT MIN(id) FROM {table(SyncRun)} WHERE status = 'running'", [], ["id"])["id"].iloc[0]
    if running is not None and not pd.isna(running):
        return int(running) - 1
    latest = frame(f"SELECT MAX(id) FROM {table(SyncRun)}", [], ["id"])["id"].iloc[0]
    return 0 if latest is None or pd.isna(latest) else int(latest)


def per_client() -> pd.Series:
    """client_id -> hash of the client row and its agreements."""
    clients = frame(
        f"SELECT id, status, onboarded_on, churned_on, currency, source_updated_at, sync_run_id FROM {table(Client)}",
        [],
        ["client_id", "status", "onboarded_on", "churned_on", "currency", "upd", "run"],
    )
    contracts = frame(
        f"""SELECT client_id, COUNT(*), MAX(id), MAX(source_updated_at), MAX(sync_run_id),
                   SUM(id * billed_quantity), SUM(id * unit_price)
            FROM {table(Contract)} GROUP BY client_id""",
        [],
        ["client_id", "n", "max_id", "max_upd", "max_run", "qty", "price"],
    )
    merged = clients.merge(contracts, on="client_id", how="left")
    return pd.Series(
        [_digest(row) for row in merged.drop(columns=["client_id"]).itertuples(index=False)],
        index=merged["client_id"].astype("int64"),
        dtype=object,
    )


def technicians() -> str:
    """One hash for all technicians' burdened costs (they price every client's labour)."""
    df = frame(
        f"""SELECT COUNT(*), MAX(id), MAX(source_updated_at), MAX(sync_run_id), SUM(id * burdened_hourly_cost),
                   COUNT(burdened_hourly_cost) FROM {table(Technician)}""",
        [],
        ["n", "max_id", "max_upd", "max_run", "cost", "costed"],
    )
    return _digest(df.iloc[0].tolist())
