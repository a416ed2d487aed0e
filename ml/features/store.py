"""Reading and writing the ClientMonthKPI snapshot: which columns hold money (cents in the
frames, Decimal in the table), counts and ratios; loading the stored values a partial
rebuild keeps; and replacing a client's rows from a month on."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import connection, transaction

from ml.models import ClientMonthKPI

from . import months
from .sql import as_text, bytewise, fence, flag, float_frame, frame, in_clause, insert_rows, month_index, table

MONEY = (
    "revenue_recurring",
    "revenue_time",
    "revenue_project",
    "revenue_product",
    "revenue_expense",
    "revenue_other",
    "revenue_total",
    "invoiced_total",
    "labour_cost",
    "license_cost",
    "other_cost",
    "gross_margin",
    "effective_hourly_rate",
    "contribution_per_hour",
    "billable_value",
    "mrr",
    "open_ar",
)
COUNTS = (
    "labour_minutes",
    "invoices_due",
    "invoices_paid",
    "active_endpoints",
    "tickets",
    "reactive_tickets",
    "reactive_minutes",
    "escalations",
    "surveys",
    "low_csat_surveys",
    "qbr_count",
    "qbr_last_12m",
    "interactions",
)
NULLABLE_INTS = ("days_since_contact", "tenure_months", "months_to_renewal", "months_since_price_change")
QUANTITIES = ("billed_seats", "billed_devices")
RATIOS = (
    "margin_pct",
    "billing_efficiency",
    "revenue_growth_3m",
    "revenue_growth_12m",
    "dso_days",
    "late_invoice_share",
    "avg_days_late",
    "tickets_per_endpoint",
    "rhem",
    "avg_resolution_hours",
    "p90_resolution_hours",
    "first_response_sla",
    "resolution_sla",
    "reopen_rate",
    "after_hours_share",
    "technician_concentration",
    "csat_avg",
    "csat_trend",
    "survey_response_rate",
    "interaction_sentiment",
    "seat_growth_12m",
    "billed_vs_active",
)
KPI_COLUMNS = MONEY + COUNTS + NULLABLE_INTS + QUANTITIES + RATIOS


def stored_state() -> pd.DataFrame:
    """(client_id, mi) -> features_version and the per-table fingerprint hashes of every row.

    A build writes a client's rows from its first rebuilt month on with one fingerprint, so
    normally each client holds an unbroken run of months sharing version and hashes: one
    grouped query then describes them all (1,000 rows instead of 27,000). A client whose rows
    differ (an interrupted history, a build of an older version) is read row by row.

    Each row's fingerprint is cast to text once (fenced subquery) and compared bytewise: only
    "all the same" matters here, and the JSON casts and collation-aware comparisons were half
    of this query's time."""
    agg = frame(
        f"SELECT client_id, {month_index('MIN(month)')}, {month_index('MAX(month)')}, COUNT(*), "
        f"MIN(features_version), MAX(features_version), MIN({bytewise('fp')}), MAX({bytewise('fp')}) "
        f"FROM (SELECT client_id, month, features_version, {as_text('source_fingerprint')} AS fp "
        f"FROM {table(ClientMonthKPI)}{fence()}) s GROUP BY client_id",
        [],
        ["client_id", "lo", "hi", "n", "v_min", "v_max", "fp_min", "fp_max"],
    )
    if agg.empty:
        return pd.DataFrame(
            columns=["features_version"], index=pd.MultiIndex.from_arrays([[], []], names=["client_id", "mi"])
        )
    uniform = (
        (agg["n"] == agg["hi"] - agg["lo"] + 1) & (agg["v_min"] == agg["v_max"]) & (agg["fp_min"] == agg["fp_max"])
    )
    if not uniform.all():
        return _stored_rows()
    agg = agg.sort_values("client_id", ignore_index=True)
    lengths = agg["n"].to_numpy(dtype="int64")
    # Decoded per client, then spread over its months.
    hashes = _hashes(agg["fp_min"])
    rows = {
        "client_id": np.repeat(agg["client_id"].to_numpy(dtype="int64"), lengths),
        "mi": months.runs(agg["lo"].to_numpy(dtype="int64"), lengths),
        "features_version": np.repeat(agg["v_min"].to_numpy(), lengths),
        **{name: np.repeat(hashes[name].to_numpy(), lengths) for name in hashes.columns},
    }
    return pd.DataFrame(rows).set_index(["client_id", "mi"])


def _stored_rows() -> pd.DataFrame:
    """stored_state() read row by row."""
    df = frame(
        f"SELECT client_id, {month_index('month')}, features_version, {as_text('source_fingerprint')} "
        f"FROM {table(ClientMonthKPI)}",
        [],
        ["client_id", "mi", "features_version", "fp"],
    )
    df = pd.concat([df.drop(columns="fp"), _hashes(df["fp"])], axis=1)
    return df.set_index(["client_id", "mi"]).sort_index()


def _hashes(texts: pd.Series) -> pd.DataFrame:
    """Fingerprint JSON texts -> one column per hash ("" where a text lacks it), on the
    texts' positions. Rows share their texts: each distinct one is decoded once."""
    codes, distinct = pd.factorize(texts)
    decoded = pd.DataFrame.from_records([json.loads(t) for t in distinct]).fillna("")
    return decoded.take(codes).reset_index(drop=True)


def stored_columns(
    client_ids, columns: tuple[str, ...], from_mi: int | None = None, before_mi: int | None = None
) -> pd.DataFrame:
    """Stored values (money as cents) of `columns` for the given clients (from a month on,
    before another), by (client_id, mi), read with plain SQL: Django's per-value Decimal
    converters cost seconds at this size."""
    who, params = in_clause("client_id", None if client_ids is None else list(client_ids))
    if from_mi is not None:
        who, params = who + " AND month >= %s", [*params, months.to_date(from_mi).isoformat()]
    if before_mi is not None:
        who, params = who + " AND month < %s", [*params, months.to_date(before_mi).isoformat()]
    df = float_frame(
        [
            ("client_id", "client_id"),
            ("mi", month_index("month")),
            # The one note a partial build needs back (labour priced at the median cost).
            ("median_cost", flag(f"{as_text('quality_notes')} LIKE '%%labour_at_median_cost%%'")),
            *((c, c) for c in columns),
        ],
        f"FROM {table(ClientMonthKPI)} WHERE 1 = 1{who}",
        params,
        integers=("client_id", "mi"),
    )
    for column in columns:
        if column in MONEY:
            df[column] = np.rint(df[column] * 100)
    return df.set_index(["client_id", "mi"])


@transaction.atomic
def replace_rows(
    frame: pd.DataFrame, rebuild_from: pd.Series, stale: list[tuple[int, int]], version: int, now: datetime
) -> tuple[int, int]:
    """Delete each rebuilt client's rows from its first rebuilt month (and stale rows), then
    insert the frame's rows from that month on (its _fingerprint and _notes already JSON).
    Returns (written, deleted)."""
    deleted = 0
    for start_mi, clients in rebuild_from.groupby(rebuild_from).groups.items():
        ids = list(clients)
        for i in range(0, len(ids), 900):
            deleted += ClientMonthKPI.objects.filter(
                client_id__in=ids[i : i + 900], month__gte=months.to_date(int(start_mi))
            ).delete()[0]
    for client_id, mi in stale:
        deleted += ClientMonthKPI.objects.filter(client_id=client_id, month=months.to_date(mi)).delete()[0]

    client_level = frame.index.get_level_values(0)
    keep = frame.index.get_level_values(1) >= client_level.map(rebuild_from).to_numpy()
    rows = frame[keep]
    columns = [c for c in KPI_COLUMNS if c in rows.columns]
    converted = [_column_values(c, rows[c]) for c in columns]
    fingerprints = rows["_fingerprint"].tolist()  # already JSON (build._fingerprint_json)
    notes = rows["_notes"].tolist()  # already JSON (build._notes)
    partial = [bool(p) for p in rows["_partial"]]
    now = connection.ops.adapt_datetimefield_value(now)
    day = {m: months.to_date(int(m)) for m in rows.index.get_level_values(1).unique()}
    # Columns to rows with zip (C), not one generator per row: 75 values x 27k rows.
    values = list(zip(*converted, strict=True)) if converted else [()] * len(rows)
    out = [
        (int(client_id), day[mi], version, now, fp, note, p, *kpis)
        for (client_id, mi), fp, note, p, kpis in zip(
            rows.index.tolist(), fingerprints, notes, partial, values, strict=True
        )
    ]
    head = [
        "client",
        "month",
        "features_version",
        "computed_at",
        "source_fingerprint",
        "quality_notes",
        "partial_month",
    ]
    return insert_rows(ClientMonthKPI, head + columns, out), deleted


def _column_values(column: str, series: pd.Series) -> list:
    """A frame column as the Python values the table takes (None for missing), converted
    column-wise rather than per element."""
    floats = pd.to_numeric(series, errors="coerce").astype("float64").tolist()
    if column in MONEY:
        return [None if x != x else _cents_text(int(round(x))) for x in floats]
    if column in QUANTITIES:
        return [None if x != x else Decimal(str(round(x, 2))) for x in floats]
    if column in COUNTS or column in NULLABLE_INTS:
        return [None if x != x else int(round(x)) for x in floats]
    return [None if x != x else x for x in floats]


def _cents_text(cents: int) -> str:
    """Cents as the decimal text both databases store for a money column ("-12.05"): what
    Django sends for a Decimal, built with integer arithmetic (a Decimal per value cost more
    than the rest of the write)."""
    whole, part = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{part:02d}"
