"""The churn frame: one row per client per month end, features known at that month end (read
from the KPI store, `ml.ClientMonthKPI`, one definition per figure) and the label a real
tenant's data shows. Never the simulator's truth.json.

Label ("leaves within 90 days after the as-of month"): a client's departure date is, in this
order,

1. `Client.churned_on`: set by a person, or derived by the loader from the client's agreements
   (status churned, i.e. SuperOps status Inactive or a "Former Customer" stage, and the day its
   last agreement ended once none still runs: `integrations.loader.derived`);
2. a churned client without that date: the last end (or cancellation) date of its recurring
   agreements (per device, per user, block hours), once none still runs;
3. invoices stopping: a client, churned or not, whose last invoice (not voided) is dated three
   or more full months before the data's last month and who has no agreement in force
   (status active, no end date or an end date after the data's last month) left at the end of
   the month of that last invoice.

Signals read: Client.status, Client.churned_on, Contract.kind/status/end_date/cancelled_on,
Invoice.txn_date/voided. The horizon "90 days" is taken as the three calendar months after the
as-of month (89-92 days): departures are dated at month ends, and a day count would drop a
month-end departure 91 days out. A row is labelled 1 when the departure date D satisfies
month_end(M) < D <= month_end(M + 3). Rows whose month end is on or after D (the client has
left) are dropped. The last three as-of months have no known label; `labelled` is False on
them and they are scored, never trained on.

Features (trailing windows computed here from KPI columns, sums before ratios):
resolution and first-response SLA over 3 months (ticket-weighted), CSAT over 6 months
(survey-weighted), the KPI store's csat_trend, low-CSAT share over 6 months, reactive hours
per endpoint over 3 months and its trend against the 9 months before, tickets per endpoint,
late invoice share and average days late over 6 months, DSO, days since contact, QBRs in the
last 12 months, tenure, revenue growth (3 and 12 months), seat growth,
margin, MRR, interactions and their sentiment, escalations and reopen rate over 3 months.

Left out on purpose: months_to_renewal.
SuperOps writes an agreement cancelled early with its end date set to the day it was cancelled,
and the KPI store rebuilds past months from today's agreements, so a departed client's past
rows show "renewal in 2 months" pointing at the departure itself: the label leaking into the
feature (measured on seed 1: ROC-AUC 0.97 from that one column). Blanking those end dates does
not help: then "no renewal date" marks the departed (95% of churn rows blank, 25% of others).
Without a history of agreement edits, the renewal date a person saw at a past month end is not
known, so the model does without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from django.db.models import Max, Q

from clients.models import Client, Contract, Invoice
from ml.features import months as mo
from ml.models import ClientMonthKPI
from ml.registry import frame_hash

HORIZON_MONTHS = 3  # "within 90 days after the as-of month"
RECURRING_KINDS = ("per_device", "per_user", "block_hours")
INVOICE_SILENCE_MONTHS = 3

KPI_COLUMNS = (
    "tickets", "reactive_tickets", "reactive_minutes", "active_endpoints", "first_response_sla",
    "resolution_sla", "surveys", "low_csat_surveys", "csat_avg", "csat_trend", "invoices_due",
    "late_invoice_share", "invoices_paid", "avg_days_late", "dso_days", "days_since_contact",
    "qbr_last_12m", "tenure_months", "revenue_growth_3m", "revenue_growth_12m",
    "seat_growth_12m", "margin_pct", "mrr", "interactions", "interaction_sentiment", "escalations",
    "reopen_rate",
)

FEATURES = (
    "resolution_sla_3m", "first_response_sla_3m", "csat_6m", "csat_trend", "low_csat_share_6m",
    "rhem_3m", "reactive_trend", "tickets_per_endpoint_3m", "late_invoice_share_6m",
    "avg_days_late_6m", "dso_days", "days_since_contact", "qbr_last_12m",
    "tenure_months", "revenue_growth_3m", "revenue_growth_12m", "seat_growth_12m", "margin_pct",
    "mrr", "interactions_3m", "interaction_sentiment_3m", "escalations_3m", "reopen_rate_3m",
)


@dataclass
class ChurnFrame:
    """Rows (client_id, month, mi, features..., label, labelled, leaves_on) and the data hash."""

    rows: pd.DataFrame
    last_month: date | None

    @property
    def X(self) -> pd.DataFrame:
        return self.rows.loc[:, list(FEATURES)]

    def training(self) -> pd.DataFrame:
        return self.rows[self.rows["labelled"]]

    def hash(self) -> str:
        train = self.training()
        return frame_hash(train[["client_id", "mi", *FEATURES]].reset_index(drop=True),
                          train["label"].reset_index(drop=True))


def _end(day: date | None) -> date | None:
    return None if day is None else mo.month_end(mo.to_index(day))


def departures(last_month: date | None = None) -> dict[int, date]:
    """client_id -> departure date, by the rule in the module docstring."""
    if last_month is None:
        last_month = ClientMonthKPI.objects.aggregate(m=Max("month"))["m"]
    out: dict[int, date] = {}
    churned = dict(Client.objects.filter(status=Client.Status.CHURNED).values_list("pk", "churned_on"))
    out.update({pk: day for pk, day in Client.objects.filter(churned_on__isnull=False).values_list("pk", "churned_on")})
    waiting = [pk for pk, day in churned.items() if day is None]
    if waiting:
        agreements = (Contract.objects.filter(client_id__in=waiting, kind__in=RECURRING_KINDS,
                                              deleted_at_source__isnull=True)
                      .values("client_id")
                      .annotate(last_end=Max("end_date"), last_cancel=Max("cancelled_on"),
                                running=Max("pk", filter=Q(end_date__isnull=True, status=Contract.Status.ACTIVE))))
        for row in agreements:
            ends = [d for d in (row["last_end"], row["last_cancel"]) if d is not None]
            if ends and row["running"] is None:
                out[row["client_id"]] = max(ends)
    if last_month is None:
        return out
    # Invoices stopping: the last invoice long enough before the data's end, nothing in force.
    silent_before = mo.to_date(mo.to_index(last_month) - INVOICE_SILENCE_MONTHS + 1)
    last_invoice = dict(Invoice.objects.filter(voided=False, client__isnull=False, deleted_at_source__isnull=True)
                        .values("client_id").annotate(last=Max("txn_date")).values_list("client_id", "last"))
    in_force = set(Contract.objects.filter(status=Contract.Status.ACTIVE, deleted_at_source__isnull=True)
                   .filter(Q(end_date__isnull=True) | Q(end_date__gte=_end(last_month)))
                   .values_list("client_id", flat=True))
    for client_id, day in last_invoice.items():
        if client_id not in out and client_id not in in_force and day < silent_before:
            out[client_id] = _end(day)
    return out


def _kpi_frame() -> pd.DataFrame:
    rows = ClientMonthKPI.objects.order_by("client_id", "month").values_list("client_id", "month", *KPI_COLUMNS)
    frame = pd.DataFrame.from_records(list(rows), columns=["client_id", "month", *KPI_COLUMNS])
    for column in KPI_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["mi"] = [mo.to_index(m) for m in frame["month"]]
    return frame


def _trailing(frame: pd.DataFrame, column: str, window: int, shift: int = 0) -> pd.Series:
    """Sum over the `window` months ending `shift` months back, per client (missing as 0;
    fewer months of history sum what there is)."""
    grouped = frame.groupby("client_id", sort=False)[column]
    return grouped.transform(lambda s: s.fillna(0).shift(shift).rolling(window, min_periods=1).sum())


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype("float64")


def _features(k: pd.DataFrame) -> pd.DataFrame:
    k = k.copy()
    k["_res_met"] = k["resolution_sla"] * k["tickets"]
    k["_frt_met"] = k["first_response_sla"] * k["tickets"]
    k["_csat_sum"] = k["csat_avg"] * k["surveys"]
    k["_late"] = k["late_invoice_share"] * k["invoices_due"]
    k["_days_late"] = k["avg_days_late"] * k["invoices_paid"]
    k["_sentiment"] = k["interaction_sentiment"] * k["interactions"]
    k["_reopened"] = k["reopen_rate"] * k["tickets"]
    k["_reactive_hours"] = k["reactive_minutes"] / 60
    t = {name: _trailing(k, name, w) for name, w in (
        ("tickets", 3), ("_res_met", 3), ("_frt_met", 3), ("_reactive_hours", 3), ("active_endpoints", 3),
        ("interactions", 3), ("_sentiment", 3), ("escalations", 3), ("_reopened", 3))}
    six = {name: _trailing(k, name, 6) for name in ("surveys", "_csat_sum", "low_csat_surveys", "invoices_due", "_late",
                                                    "invoices_paid", "_days_late")}
    before_hours = _trailing(k, "_reactive_hours", 9, shift=3)
    before_endpoints = _trailing(k, "active_endpoints", 9, shift=3)
    rhem_3m = _ratio(t["_reactive_hours"], t["active_endpoints"])
    rhem_before = _ratio(before_hours, before_endpoints)
    out = pd.DataFrame({
        "client_id": k["client_id"].astype("int64"), "month": k["month"], "mi": k["mi"],
        "resolution_sla_3m": _ratio(t["_res_met"], t["tickets"]),
        "first_response_sla_3m": _ratio(t["_frt_met"], t["tickets"]),
        "csat_6m": _ratio(six["_csat_sum"], six["surveys"]),
        "csat_trend": k["csat_trend"],
        "low_csat_share_6m": _ratio(six["low_csat_surveys"], six["surveys"]),
        "rhem_3m": rhem_3m,
        "reactive_trend": _ratio(rhem_3m, rhem_before.where(rhem_before > 0.01)),
        "tickets_per_endpoint_3m": _ratio(t["tickets"], t["active_endpoints"]),
        "late_invoice_share_6m": _ratio(six["_late"], six["invoices_due"]),
        "avg_days_late_6m": _ratio(six["_days_late"], six["invoices_paid"]),
        "dso_days": k["dso_days"], "days_since_contact": k["days_since_contact"],
        "qbr_last_12m": k["qbr_last_12m"],
        "tenure_months": k["tenure_months"], "revenue_growth_3m": k["revenue_growth_3m"],
        "revenue_growth_12m": k["revenue_growth_12m"], "seat_growth_12m": k["seat_growth_12m"],
        "margin_pct": k["margin_pct"], "mrr": k["mrr"],
        "interactions_3m": t["interactions"],
        "interaction_sentiment_3m": _ratio(t["_sentiment"], t["interactions"]),
        "escalations_3m": t["escalations"],
        "reopen_rate_3m": _ratio(t["_reopened"], t["tickets"]),
    })
    return out.reset_index(drop=True)


def build_frame() -> ChurnFrame:
    """Every client-month of the KPI store, with features, label and whether it is known."""
    kpis = _kpi_frame()
    if kpis.empty:
        return ChurnFrame(pd.DataFrame(columns=["client_id", "month", "mi", *FEATURES, "label", "labelled",
                                                "leaves_on"]), None)
    last_month = max(kpis["month"])
    frame = _features(kpis)
    leaves = departures(last_month)
    leaves_on = frame["client_id"].map(leaves)
    end = frame["mi"].map(mo.month_end)
    gone = leaves_on.notna() & (end >= leaves_on.where(leaves_on.notna(), date.max))
    frame = frame.assign(leaves_on=leaves_on)
    horizon = frame["mi"].map(lambda i: mo.month_end(i + HORIZON_MONTHS))
    frame["label"] = (leaves_on.notna() & (leaves_on.where(leaves_on.notna(), date.min) <= horizon)).astype(int)
    frame = frame[~gone].reset_index(drop=True)
    frame["labelled"] = frame["mi"] <= mo.to_index(last_month) - HORIZON_MONTHS
    return ChurnFrame(frame, last_month)
