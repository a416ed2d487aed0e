"""Change detection: how an incremental build knows which (client, month) rows to redo
without scanning the large tables.

Each build records, per source table, its row count and highest id, and the sync-run
watermark (the highest run finished before the build started). The next build asks, with
queries that only touch changed rows:
- new rows: id above the recorded highest id (a primary-key range), grouped per (client, month);
- edited rows: sync_run_id above the recorded watermark (the sync_run index). The loader stamps
  `sync_run` on every row it creates or updates, including a record the source reports deleted
  (`deleted_at_source`), and an invoice whose lines or a payment whose applications changed;
- removed rows: if a table now has fewer rows than recorded plus the new ones, a row was hard
  deleted (the loader never does; an admin or a cascade can) and every month of that table is
  treated as changed.
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
    """Per table: {"rows": count, "max_id": highest id} (cheap: an index count and the pk)."""
    state = {}
    for key, (model, _) in MONTHLY.items():
        df = frame(f"SELECT COUNT(*), MAX(id) FROM {table(model)}", [], ["rows", "max_id"])
        rows, max_id = df["rows"].iloc[0], df["max_id"].iloc[0]
        state[key] = {"rows": int(rows or 0), "max_id": 0 if max_id is None or pd.isna(max_id) else int(max_id)}
    return state


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


def new_rows(key: str, after_id: int) -> tuple[pd.MultiIndex, int]:
    """(client_id, mi) of rows with an id above `after_id`, and how many rows that is."""
    df = _grouped(key, "id > %s", [after_id])
    return pd.MultiIndex.from_frame(df[["client_id", "mi"]]), int(df["n"].sum())


def touched(key: str, after_run: int | None) -> pd.MultiIndex:
    """(client_id, mi) of rows written by sync runs after `after_run` (None: every row a sync
    ever wrote, the safe answer when no build recorded a watermark)."""
    df = _grouped(key, "sync_run_id > %s", [after_run if after_run is not None else -1])
    return pd.MultiIndex.from_frame(df[["client_id", "mi"]])


def first_activity(as_of_mi: int) -> tuple[pd.Series, int | None]:
    """(client_id -> first month with a ticket, worklog or invoice; the data's first month).
    MIN per client walks the (client, date) index in order, so it reads no table rows."""
    firsts = []
    for key in ACTIVITY:
        model, column = MONTHLY[key]
        df = frame(
            f"""SELECT client_id, MIN({column}) FROM {table(model)}
                       WHERE client_id IS NOT NULL GROUP BY client_id""",
            [],
            ["client_id", "first"],
        )
        stamp = pd.to_datetime(df["first"].astype(str).str[:10], errors="coerce")
        firsts.append(
            pd.Series((stamp.dt.year * 12 + stamp.dt.month - 1).to_numpy(), index=df["client_id"].astype("int64"))
        )
    combined = pd.concat(firsts).dropna()
    combined = combined[combined <= as_of_mi].groupby(level=0).min().astype("int64")
    return combined, (int(combined.min()) if len(combined) else None)


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
