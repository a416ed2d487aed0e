"""Portfolio-wide figures straight from the database: what the home page shows.

Each figure is one aggregate query over the whole table, never a query per client, so
the page costs the same for 10 clients or 1,000.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce

from .models import Client, Contract, Expense, Invoice, SyncRun, Worklog

ZERO = Decimal("0")
MONEY = DecimalField(max_digits=20, decimal_places=4)


def months_back(day: date, months: int) -> date:
    """The same day-of-month `months` earlier (clamped to the 28th to stay valid)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, 28))


@dataclass
class ClientFigures:
    client_id: int
    name: str
    revenue: Decimal = ZERO
    labour_cost: Decimal = ZERO
    direct_cost: Decimal = ZERO

    @property
    def gross_margin(self) -> Decimal:
        return self.revenue - self.labour_cost - self.direct_cost

    @property
    def margin_pct(self) -> Decimal | None:
        return (self.gross_margin / self.revenue * 100) if self.revenue else None


@dataclass
class PortfolioSummary:
    as_of: date
    period_start: date
    active_clients: int
    mrr: Decimal
    revenue_12m: Decimal
    labour_cost_12m: Decimal
    direct_cost_12m: Decimal
    labour_hours_12m: Decimal
    top_clients: list[ClientFigures] = field(default_factory=list)
    last_sync: SyncRun | None = None

    @property
    def gross_margin_12m(self) -> Decimal:
        return self.revenue_12m - self.labour_cost_12m - self.direct_cost_12m

    @property
    def margin_pct_12m(self) -> Decimal | None:
        return (self.gross_margin_12m / self.revenue_12m * 100) if self.revenue_12m else None

    @property
    def is_empty(self) -> bool:
        return self.active_clients == 0 and not self.revenue_12m


def _sum(expr) -> Coalesce:
    return Coalesce(Sum(expr, output_field=MONEY), ZERO, output_field=MONEY)


def invoice_revenue_home():
    """Invoice total converted to the home currency."""
    return ExpressionWrapper(F("total") * F("exchange_rate"), output_field=MONEY)


def worklog_labour_cost():
    """Minutes x the technician's burdened hourly cost / 60."""
    return ExpressionWrapper(F("minutes") * F("technician__burdened_hourly_cost") / 60, output_field=MONEY)


def contract_mrr():
    """Monthly recurring value of per-seat and block agreements."""
    return ExpressionWrapper(
        F("billed_quantity") * F("unit_price") / F("billing_frequency_months"), output_field=MONEY
    )


def portfolio_summary(as_of: date | None = None, top: int = 10) -> PortfolioSummary:
    as_of = as_of or date.today()
    start = months_back(as_of, 12)
    in_period = {"txn_date__gt": start, "txn_date__lte": as_of}
    invoices = Invoice.objects.filter(voided=False, deleted_at_source__isnull=True, **in_period)
    worklogs = Worklog.objects.labour().filter(work_date__gt=start, work_date__lte=as_of)
    # Rebilled expenses stay a cost: the revenue that recovers them is on an invoice line.
    expenses = Expense.objects.filter(client__isnull=False, deleted_at_source__isnull=True, **in_period)

    active_contracts = Contract.objects.filter(
        status=Contract.Status.ACTIVE, start_date__lte=as_of, deleted_at_source__isnull=True
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=as_of))
    per_seat = active_contracts.filter(kind__in=[Contract.Kind.PER_DEVICE, Contract.Kind.PER_USER])
    blocks = active_contracts.filter(kind=Contract.Kind.BLOCK_HOURS)
    mrr = per_seat.aggregate(v=_sum(contract_mrr()))["v"] + blocks.aggregate(
        v=_sum(ExpressionWrapper(F("unit_price") / F("billing_frequency_months"), output_field=MONEY))
    )["v"]

    summary = PortfolioSummary(
        as_of=as_of,
        period_start=start,
        active_clients=Client.objects.filter(status=Client.Status.ACTIVE, deleted_at_source__isnull=True).count(),
        mrr=mrr,
        revenue_12m=invoices.aggregate(v=_sum(invoice_revenue_home()))["v"],
        labour_cost_12m=worklogs.aggregate(v=_sum(worklog_labour_cost()))["v"],
        direct_cost_12m=expenses.aggregate(v=_sum(F("amount") * F("exchange_rate")))["v"],
        labour_hours_12m=worklogs.aggregate(v=_sum(F("minutes")))["v"] / 60,
        last_sync=SyncRun.objects.order_by("-started_at").first(),
    )
    summary.top_clients = _top_clients(invoices, worklogs, expenses, top)
    return summary


def _top_clients(invoices, worklogs, expenses, top: int) -> list[ClientFigures]:
    by_revenue = (
        invoices.filter(client__isnull=False)
        .values("client_id", "client__name")
        .annotate(v=_sum(invoice_revenue_home()))
        .order_by("-v", "client__name")[:top]
    )
    figures = {row["client_id"]: ClientFigures(row["client_id"], row["client__name"], row["v"]) for row in by_revenue}
    ids = list(figures)
    for row in worklogs.filter(client_id__in=ids).values("client_id").annotate(v=_sum(worklog_labour_cost())):
        figures[row["client_id"]].labour_cost = row["v"]
    direct = expenses.filter(client_id__in=ids).values("client_id").annotate(v=_sum(F("amount") * F("exchange_rate")))
    for row in direct:
        figures[row["client_id"]].direct_cost = row["v"]
    return list(figures.values())
