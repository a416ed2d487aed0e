"""The grouped queries: one per source table, each returning per-(client, month) (or per
invoice / per endpoint cohort) aggregates as a DataFrame. Nothing here runs per client.

Every query leaves out rows the source reported deleted (deleted_at_source), rows without a
client (QuickBooks records not yet matched to a client), and voided invoices.

The three large tables (tickets, worklogs, surveys) take a month range and an optional client
list so an incremental build reads only the months that changed; the smaller tables (invoices,
payments, expenses, endpoints, interactions, contracts) are always read whole for the clients
being rebuilt because their KPIs are cumulative (open AR, active endpoints, last contact).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from clients.models import (
    Asset,
    Client,
    Contract,
    Expense,
    Interaction,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentApplication,
    SatisfactionSurvey,
    Technician,
    Ticket,
    Worklog,
)
from clients.models.service_desk import LABOUR_SOURCE

from . import months
from .sql import cents, days_between, flag, frame, hours_between, in_clause, month_index, real, table, ten_thousandths

Clients = Sequence[int] | None


def _range(column: str, lo: int | None, hi: int | None) -> tuple[str, list]:
    """' AND lo <= column < hi+1' on month indexes, as date bounds the indexes can use."""
    sql, params = "", []
    if lo is not None:
        sql += f" AND {column} >= %s"
        params.append(months.to_date(lo).isoformat())
    if hi is not None:
        sql += f" AND {column} < %s"
        params.append(months.to_date(hi + 1).isoformat())
    return sql, params


FEW_MONTHS = 3  # up to this many months are read by key look-ups rather than joins


def worklogs(lo: int | None = None, hi: int | None = None, clients: Clients = None) -> pd.DataFrame:
    """Per (client, month, technician): minutes, billable minutes and their value, reactive
    and after-hours minutes, from the service desk's worklogs only (LABOUR_SOURCE): MSPs key
    onsite time into QuickBooks as well to bill it, so TimeActivity would count it twice.
    Billable = billable flag and not covered by the agreement (billing status under_contract)
    nor written off (ignored)."""
    rng, p1 = _range("w.work_date", lo, hi)
    who, p2 = in_clause("w.client_id", clients)
    billable = "w.billable AND COALESCE(w.billing_status, '') NOT IN ('under_contract', 'ignored')"
    if lo is not None and hi is not None and hi - lo < FEW_MONTHS:
        # A few months' worklogs: look each ticket up by its key. As a join, PostgreSQL's
        # default costs pick a hash join that reads every ticket ever opened.
        reactive, joined = f"(SELECT t.is_reactive FROM {table(Ticket)} t WHERE t.id = w.ticket_id)", ""
    else:
        reactive, joined = "t.is_reactive", f" LEFT JOIN {table(Ticket)} t ON t.id = w.ticket_id"
    sql = f"""
        SELECT w.client_id, {month_index("w.work_date")} AS mi, w.technician_id,
               CAST(SUM(w.minutes) AS BIGINT),
               CAST(SUM(CASE WHEN {billable} THEN w.minutes ELSE 0 END) AS BIGINT),
               CAST(SUM(CASE WHEN {billable} THEN w.minutes * {ten_thousandths("w.unit_price")} ELSE 0 END) AS BIGINT),
               CAST(SUM(CASE WHEN {reactive} THEN w.minutes ELSE 0 END) AS BIGINT),
               CAST(SUM(CASE WHEN w.after_hours THEN w.minutes ELSE 0 END) AS BIGINT)
        FROM {table(Worklog)} w{joined}
        WHERE w.deleted_at_source IS NULL AND w.source = %s{rng}{who}
        GROUP BY w.client_id, {month_index("w.work_date")}, w.technician_id"""
    return frame(
        sql,
        [LABOUR_SOURCE, *p1, *p2],
        [
            "client_id",
            "mi",
            "technician_id",
            "minutes",
            "billable_minutes",
            "billable_value_e4min",
            "reactive_minutes",
            "after_hours_minutes",
        ],
    )


def tickets(lo: int | None = None, hi: int | None = None, clients: Clients = None) -> pd.DataFrame:
    """Per (client, month created): counts, resolution hours (sum and nearest-rank p90, in one
    pass with a window function), SLA met/measured, reopened, escalated.

    A resolution time below zero (resolved before created: bad source data) is treated as
    missing. An SLA is measured when SuperOps set its violated flag, or else when both the due
    and the actual time are known."""
    rng, p1 = _range("created_at", lo, hi)
    who, p2 = in_clause("client_id", clients)
    res = hours_between("created_at", "resolved_at")
    fr_measured = (
        "(first_response_violated IS NOT NULL OR (first_response_due_at IS NOT NULL AND first_response_at IS NOT NULL))"
    )
    fr_met = (
        "(CASE WHEN first_response_violated IS NOT NULL THEN (CASE WHEN first_response_violated THEN 0 ELSE 1 END)"
        " WHEN first_response_due_at IS NOT NULL AND first_response_at IS NOT NULL"
        " THEN (CASE WHEN first_response_at <= first_response_due_at THEN 1 ELSE 0 END) ELSE 0 END)"
    )
    res_measured = "(resolution_violated IS NOT NULL OR (resolution_due_at IS NOT NULL AND resolved_at IS NOT NULL))"
    res_met = (
        "(CASE WHEN resolution_violated IS NOT NULL THEN (CASE WHEN resolution_violated THEN 0 ELSE 1 END)"
        " WHEN resolution_due_at IS NOT NULL AND resolved_at IS NOT NULL"
        " THEN (CASE WHEN resolved_at <= resolution_due_at THEN 1 ELSE 0 END) ELSE 0 END)"
    )
    inner = f"""
        SELECT client_id, {month_index("created_at")} AS mi,
               {flag("is_reactive")} AS reactive,
               CASE WHEN resolved_at IS NOT NULL AND resolved_at >= created_at THEN {real(res)} END AS res_h,
               {flag(fr_measured)} AS fr_n, {fr_met} AS fr_ok,
               {flag(res_measured)} AS res_n, {res_met} AS res_ok,
               {flag("reopen_count > 0")} AS reopened, {flag("escalated")} AS esc
        FROM {table(Ticket)}
        WHERE deleted_at_source IS NULL{rng}{who}"""
    # Resolved tickets sort first on both databases (they order NULLs differently), so the
    # row number of the p90 ticket is ceil(0.9 * resolved) = (9 * n + 9) / 10 in integers.
    ranked = f"""
        SELECT x.*,
               ROW_NUMBER() OVER (PARTITION BY client_id, mi
                                  ORDER BY CASE WHEN res_h IS NULL THEN 1 ELSE 0 END, res_h) AS rn,
               COUNT(res_h) OVER (PARTITION BY client_id, mi) AS n_res
        FROM ({inner}) x"""
    sql = f"""
        SELECT client_id, mi, COUNT(*), SUM(reactive), COUNT(res_h), SUM(res_h),
               MAX(CASE WHEN rn = (9 * n_res + 9) / 10 THEN res_h END),
               SUM(fr_n), SUM(fr_ok), SUM(res_n), SUM(res_ok), SUM(reopened), SUM(esc)
        FROM ({ranked}) r
        GROUP BY client_id, mi"""
    return frame(
        sql,
        p1 + p2,
        [
            "client_id",
            "mi",
            "tickets",
            "reactive_tickets",
            "resolved",
            "res_hours_sum",
            "p90_res",
            "fr_n",
            "fr_ok",
            "res_n",
            "res_ok",
            "reopened",
            "escalations",
        ],
    )


def surveys(lo: int | None = None, hi: int | None = None, clients: Clients = None) -> pd.DataFrame:
    rng, p1 = _range("responded_at", lo, hi)
    who, p2 = in_clause("client_id", clients)
    sql = f"""
        SELECT client_id, {month_index("responded_at")} AS mi, COUNT(*), SUM(score), SUM({flag("score <= 2")})
        FROM {table(SatisfactionSurvey)}
        WHERE deleted_at_source IS NULL AND score BETWEEN 1 AND 5{rng}{who}
        GROUP BY client_id, {month_index("responded_at")}"""
    return frame(sql, p1 + p2, ["client_id", "mi", "surveys", "score_sum", "low_csat_surveys"])


def invoice_lines(clients: Clients = None) -> pd.DataFrame:
    """Per (client, invoice month, line kind, item): home-currency cents, quantity and the
    highest/lowest unit price (for seat counts and the last price change). Sales tax lines
    are the state's money, not revenue, and are left out; discount lines stay (revenue is net
    of them)."""
    who, params = in_clause("i.client_id", clients)
    sql = f"""
        SELECT i.client_id, {month_index("i.txn_date")} AS mi, l.kind, l.service_item_id,
               CAST(SUM({cents("l.amount * i.exchange_rate")}) AS BIGINT),
               {real("SUM(l.quantity)")},
               MAX({ten_thousandths("l.unit_price")}), MIN({ten_thousandths("l.unit_price")})
        FROM {table(InvoiceLine)} l JOIN {table(Invoice)} i ON i.id = l.invoice_id
        WHERE NOT i.voided AND i.client_id IS NOT NULL AND i.deleted_at_source IS NULL AND l.kind <> 'tax'{who}
        GROUP BY i.client_id, {month_index("i.txn_date")}, l.kind, l.service_item_id"""
    return frame(sql, params, ["client_id", "mi", "kind", "item_id", "cents", "quantity", "price_max", "price_min"])


def invoices(clients: Clients = None) -> pd.DataFrame:
    """One row per (non-voided) invoice with what was applied to it, in total and by its due
    date, and the date of the last payment. Invoices number in the tens of thousands, so
    per-invoice rows are fine; applications are summed in SQL."""
    who, params = in_clause("i.client_id", clients)
    applied = f"""
        SELECT a.invoice_id, a.amount, p.txn_date
        FROM {table(PaymentApplication)} a JOIN {table(Payment)} p ON p.id = a.payment_id
        WHERE p.deleted_at_source IS NULL"""
    due = "COALESCE(i.due_date, i.txn_date)"
    sql = f"""
        SELECT i.id, i.client_id, {month_index("i.txn_date")}, i.txn_date, {due},
               {month_index(due)}, {cents("i.total * i.exchange_rate")}, {cents("i.balance * i.exchange_rate")},
               {real("i.exchange_rate")},
               CAST(COALESCE(SUM({cents("ap.amount * i.exchange_rate")}), 0) AS BIGINT),
               CAST(COALESCE(SUM(CASE WHEN ap.txn_date <= {due}
                                      THEN {cents("ap.amount * i.exchange_rate")} END), 0) AS BIGINT),
               MAX(ap.txn_date),
               MAX({days_between(due, "ap.txn_date")})
        FROM {table(Invoice)} i LEFT JOIN ({applied}) ap ON ap.invoice_id = i.id
        WHERE NOT i.voided AND i.client_id IS NOT NULL AND i.deleted_at_source IS NULL{who}
        GROUP BY i.id, i.client_id, i.txn_date, i.due_date, i.total, i.balance, i.exchange_rate"""
    return frame(
        sql,
        params,
        [
            "invoice_id",
            "client_id",
            "mi",
            "txn_date",
            "due_date",
            "due_mi",
            "total_cents",
            "balance_cents",
            "rate",
            "applied_cents",
            "applied_by_due_cents",
            "last_payment",
            "days_to_last_payment",
        ],
    )


def applications(clients: Clients = None) -> pd.DataFrame:
    """Per (client, payment month): home-currency cents applied to the client's invoices, at
    each invoice's own rate so open AR carries no exchange gains or losses."""
    who, params = in_clause("i.client_id", clients)
    sql = f"""
        SELECT i.client_id, {month_index("p.txn_date")} AS mi,
               CAST(SUM({cents("a.amount * i.exchange_rate")}) AS BIGINT)
        FROM {table(PaymentApplication)} a
        JOIN {table(Payment)} p ON p.id = a.payment_id
        JOIN {table(Invoice)} i ON i.id = a.invoice_id
        WHERE p.deleted_at_source IS NULL AND NOT i.voided AND i.client_id IS NOT NULL
              AND i.deleted_at_source IS NULL{who}
        GROUP BY i.client_id, {month_index("p.txn_date")}"""
    return frame(sql, params, ["client_id", "mi", "applied_cents"])


def expenses(clients: Clients = None) -> pd.DataFrame:
    who, params = in_clause("client_id", clients)
    sql = f"""
        SELECT client_id, {month_index("txn_date")} AS mi, category,
               CAST(SUM({cents("amount * exchange_rate")}) AS BIGINT)
        FROM {table(Expense)}
        WHERE client_id IS NOT NULL AND deleted_at_source IS NULL{who}
        GROUP BY client_id, {month_index("txn_date")}, category"""
    return frame(sql, params, ["client_id", "mi", "category", "cents"])


def endpoints(clients: Clients = None) -> pd.DataFrame:
    """Endpoints per (client, month added, month retired); either month may be NULL."""
    who, params = in_clause("client_id", clients)
    added, retired = month_index("added_on"), month_index("retired_on")
    sql = f"""
        SELECT client_id, {added}, {retired}, COUNT(*)
        FROM {table(Asset)}
        WHERE deleted_at_source IS NULL{who}
        GROUP BY client_id, {added}, {retired}"""
    return frame(sql, params, ["client_id", "added_mi", "retired_mi", "endpoints"])


def interactions(clients: Clients = None) -> pd.DataFrame:
    who, params = in_clause("client_id", clients)
    sql = f"""
        SELECT client_id, {month_index("occurred_at")} AS mi, COUNT(*), SUM({flag("kind = 'qbr'")}),
               SUM(COALESCE(sentiment, 0)), COUNT(sentiment), MAX(occurred_at)
        FROM {table(Interaction)}
        WHERE deleted_at_source IS NULL{who}
        GROUP BY client_id, {month_index("occurred_at")}"""
    return frame(
        sql, params, ["client_id", "mi", "interactions", "qbr_count", "sentiment_sum", "sentiment_n", "last_at"]
    )


# Contract field -> frame column; the frame names "frequency" what the model spells out.
CONTRACT_COLUMNS = {
    "client_id": "client_id",
    "kind": "kind",
    "status": "status",
    "start_date": "start_date",
    "end_date": "end_date",
    "cancelled_on": "cancelled_on",
    "billed_quantity": "billed_quantity",
    "unit_price": "unit_price",
    "billing_frequency_months": "frequency",
    "currency": "currency",
    "auto_renew": "auto_renew",
}


def contracts(clients: Clients = None) -> pd.DataFrame:
    qs = Contract.objects.filter(deleted_at_source__isnull=True)
    if clients is not None:
        qs = qs.filter(client_id__in=list(clients))
    rows = qs.values_list(*CONTRACT_COLUMNS)
    return pd.DataFrame.from_records(list(rows), columns=list(CONTRACT_COLUMNS.values()))


def client_rows(clients: Clients = None) -> pd.DataFrame:
    qs = Client.objects.all()
    if clients is not None:
        qs = qs.filter(id__in=list(clients))
    rows = qs.values_list("id", "status", "onboarded_on", "churned_on", "currency", "employee_count")
    return pd.DataFrame.from_records(
        list(rows), columns=["client_id", "status", "onboarded_on", "churned_on", "currency", "employee_count"]
    )


def technician_costs() -> dict[int, int]:
    """Burdened hourly cost x 10,000 per technician that has one set (0 means not set)."""
    return {
        pk: int(round(cost * 10000))
        for pk, cost in Technician.objects.filter(burdened_hourly_cost__gt=0).values_list("id", "burdened_hourly_cost")
    }
