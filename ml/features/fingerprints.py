"""Source fingerprints: how an incremental build knows which (client, month) rows changed.

For every source table one grouped query gives, per (client, month), the row count and the
highest id; on SQLite both come from the (client, date) index without reading the table. They
change when a row is added (count, max id), removed (count) or re-dated (both months' counts).
The snapshot row stores a short hash of each table's pair; a month whose hash differs is dirty.

Edits are found through the sync run that wrote them: the loader stamps `sync_run` on every
row it creates or updates, so a second grouped query per table, over the rows written by runs
after the last build's watermark (the sync_run_id index keeps it to those rows), marks their
months dirty. The watermark is the highest run finished before the build started, so a sync
still running during a build is looked at again by the next one.

Per-client and global inputs are fingerprinted the same way and stored on every row of the
client: the client record itself (onboarding and churn dates), its contracts, and the
technicians' burdened costs (a cost set by hand in the admin changes the sum of costs even
though no sync ran). Invoice lines and payment applications have no update stamp of their
own; their counts and max ids are folded into the invoice and payment fingerprints.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from clients.models import (
    Asset, Client, Contract, Expense, Interaction, Invoice, InvoiceLine, Payment, PaymentApplication,
    SatisfactionSurvey, SyncRun, Technician, Ticket, Worklog,
)

from .sql import frame, month_index, table

# table key -> (model, month column). Keys are stored in ClientMonthKPI.source_fingerprint.
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
# re-reads just their dirty months and keeps the stored values of the others.
LARGE = ("tickets", "worklogs", "surveys")


def _digest(parts) -> str:
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=6).hexdigest()


def _stamp(alias: str = "") -> str:
    a = f"{alias}." if alias else ""
    return f"COUNT(*), MAX({a}id), MAX({a}source_updated_at), MAX({a}sync_run_id)"


def monthly() -> pd.DataFrame:
    """Per (client_id, mi): one hash column per monthly source table ('' when no rows)."""
    pieces = []
    for key, (model, column) in MONTHLY.items():
        mi = month_index(column)
        sql = f"""SELECT client_id, {mi}, COUNT(*), MAX(id) FROM {table(model)}
                  WHERE client_id IS NOT NULL GROUP BY client_id, {mi}"""
        df = frame(sql, [], ["client_id", "mi", "n", "max_id"])
        if key == "invoices":
            df = _fold(df, f"""SELECT i.client_id, {month_index('i.txn_date')}, COUNT(*), MAX(l.id)
                FROM {table(InvoiceLine)} l JOIN {table(Invoice)} i ON i.id = l.invoice_id
                WHERE i.client_id IS NOT NULL GROUP BY i.client_id, {month_index('i.txn_date')}""")
        elif key == "payments":
            df = _fold(df, f"""SELECT p.client_id, {month_index('p.txn_date')}, COUNT(*), MAX(a.id)
                FROM {table(PaymentApplication)} a JOIN {table(Payment)} p ON p.id = a.payment_id
                WHERE p.client_id IS NOT NULL GROUP BY p.client_id, {month_index('p.txn_date')}""")
        df["mi"] = df["mi"].fillna(-1).astype("int64")  # endpoints with no added_on date
        hashed = pd.Series(
            [_digest(row) for row in df.drop(columns=["client_id", "mi"]).itertuples(index=False)],
            index=pd.MultiIndex.from_arrays([df["client_id"].astype("int64"), df["mi"]], names=["client_id", "mi"]),
            name=key, dtype=object,
        )
        pieces.append(hashed)
    out = pd.concat(pieces, axis=1).fillna("")
    return out.sort_index()


def touched(after_run: int | None) -> dict[str, pd.MultiIndex]:
    """Per table, the (client_id, mi) written by sync runs after `after_run` (None: every
    row a sync ever wrote, the safe answer when no build recorded a watermark)."""
    out = {}
    for key, (model, column) in MONTHLY.items():
        mi = month_index(column)
        sql = f"""SELECT client_id, {mi}, COUNT(*) FROM {table(model)}
                  WHERE client_id IS NOT NULL AND sync_run_id > %s GROUP BY client_id, {mi}"""
        df = frame(sql, [after_run if after_run is not None else -1], ["client_id", "mi", "n"])
        df["mi"] = df["mi"].fillna(-1).astype("int64")
        out[key] = pd.MultiIndex.from_arrays([df["client_id"].astype("int64"), df["mi"]], names=["client_id", "mi"])
    return out


def watermark() -> int:
    """The highest sync run id below every run still in progress (0 when there is none)."""
    running = frame(f"SELECT MIN(id) FROM {table(SyncRun)} WHERE status = 'running'", [], ["id"])["id"].iloc[0]
    if running is not None and not pd.isna(running):
        return int(running) - 1
    latest = frame(f"SELECT MAX(id) FROM {table(SyncRun)}", [], ["id"])["id"].iloc[0]
    return 0 if latest is None or pd.isna(latest) else int(latest)


def _fold(df: pd.DataFrame, child_sql: str) -> pd.DataFrame:
    child = frame(child_sql, [], ["client_id", "mi", "child_n", "child_max"])
    return df.merge(child, on=["client_id", "mi"], how="outer")


def per_client() -> pd.Series:
    """client_id -> hash of the client row and its contracts."""
    clients = frame(
        f"SELECT id, status, onboarded_on, churned_on, source_updated_at, sync_run_id FROM {table(Client)}",
        [], ["client_id", "status", "onboarded_on", "churned_on", "upd", "run"],
    )
    contracts = frame(
        f"""SELECT client_id, {_stamp()}, SUM(billed_quantity), SUM(unit_price)
            FROM {table(Contract)} GROUP BY client_id""",
        [], ["client_id", "n", "max_id", "max_upd", "max_run", "qty", "price"],
    )
    merged = clients.merge(contracts, on="client_id", how="left")
    return pd.Series(
        [_digest(row) for row in merged.drop(columns=["client_id"]).itertuples(index=False)],
        index=merged["client_id"].astype("int64"), dtype=object,
    )


def technicians() -> str:
    """One hash for all technicians' burdened costs (they price every client's labour)."""
    df = frame(
        f"SELECT {_stamp()}, SUM(id * burdened_hourly_cost), COUNT(burdened_hourly_cost) FROM {table(Technician)}",
        [], ["n", "max_id", "max_upd", "max_run", "cost", "costed"],
    )
    return _digest(df.iloc[0].tolist())
