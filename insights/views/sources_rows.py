"""The source rows behind one client's KPI for one month: the invoice lines behind revenue, the
worklogs behind labour, the expenses behind licence and other costs, the tickets, the invoices
open at month end. Rows are chosen by the rules the KPI store computes each figure with
(ml/features/sources.py, financial.py, payments.py; docs/kpis.md), and money is converted and
rounded to the cent by the same SQL (ml.features.sql.cents), so the rows' total is the KPI.

Each figure reads one client's month through indexed queries (client, date); nothing here
runs over the whole portfolio.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models.expressions import RawSQL

from clients.models import Client, Expense, Invoice, InvoiceLine, Payment, PaymentApplication, Ticket, Worklog
from ml.models.querysets import months_before

CENT = Decimal("0.01")
REVENUE_KINDS = ("recurring", "time", "project", "product", "expense")  # the rest (discounts too) is "other"


@dataclass(frozen=True)
class Figure:
    code: str  # the URL's name of the figure
    kpi: str  # the ClientMonthKPI column it explains
    title: str
    source: str  # which row reader (and template) shows it
    unit: str = "money"  # money | minutes | count
    option: str | None = None  # the reader's filter: a revenue kind, licence or not, reactive only


FIGURES = {f.code: f for f in (
    Figure("revenue", "revenue_total", "Revenue (invoice lines net of tax)", "invoice_lines"),
    Figure("revenue_recurring", "revenue_recurring", "Recurring revenue", "invoice_lines", option="recurring"),
    Figure("revenue_time", "revenue_time", "Time and materials revenue", "invoice_lines", option="time"),
    Figure("revenue_project", "revenue_project", "Project revenue", "invoice_lines", option="project"),
    Figure("revenue_product", "revenue_product", "Product and licence revenue", "invoice_lines", option="product"),
    Figure("revenue_expense", "revenue_expense", "Rebilled expenses", "invoice_lines", option="expense"),
    Figure("revenue_other", "revenue_other", "Other revenue (discounts included)", "invoice_lines", option="other"),
    Figure("invoiced", "invoiced_total", "Invoiced, tax included", "invoices"),
    Figure("labour_cost", "labour_cost", "Labour cost", "worklogs"),
    Figure("labour_hours", "labour_minutes", "Labour time", "worklogs", unit="minutes"),
    Figure("license_cost", "license_cost", "Licence cost", "expenses", option="license"),
    Figure("other_cost", "other_cost", "Other attributable costs", "expenses", option="other"),
    Figure("tickets", "tickets", "Tickets created", "tickets", unit="count"),
    Figure("reactive_tickets", "reactive_tickets", "Reactive tickets created", "tickets", unit="count",
           option="reactive"),
    Figure("open_ar", "open_ar", "Open receivables at month end", "open_ar"),
    Figure("gross_margin", "gross_margin", "Gross margin", "margin"),
)}


@dataclass
class Drill:
    figure: Figure
    client: Client
    month: date
    rows: list = field(default_factory=list)
    total: Decimal | int = 0
    parts: list = field(default_factory=list)  # gross margin: its four figures, each from its rows
    excluded: list = field(default_factory=list)  # rows shown for context that the KPI leaves out


def month_bounds(month: date) -> tuple[date, date]:
    return month, months_before(month, -1)


def source_rows(client: Client, month: date, code: str) -> Drill:
    """The rows behind `code` (a key of FIGURES) for the client's month, with their total."""
    figure = FIGURES[code]
    drill = Drill(figure, client, month)
    READERS[figure.source](drill)
    return drill


def _cents(expr: str) -> RawSQL:
    from ml.features.sql import cents

    return RawSQL(cents(expr), [])


def _col(model, column: str) -> str:
    from ml.features.sql import table

    return f"{table(model)}.{column}"


def _money(cents: int) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(CENT)


# --- revenue and invoices --------------------------------------------------------------------
def _invoice_lines(drill: Drill) -> None:
    """Lines of the client's non-voided invoices dated in the month, tax lines left out (the
    state's money), discount lines kept (revenue is net of them), at the invoice's rate."""
    first, after = month_bounds(drill.month)
    lines = (InvoiceLine.objects.filter(invoice__client=drill.client, invoice__voided=False,
                                        invoice__deleted_at_source__isnull=True, invoice__txn_date__gte=first,
                                        invoice__txn_date__lt=after)
             .select_related("invoice", "service_item")
             .annotate(home_cents=_cents(f"{_col(InvoiceLine, 'amount')} * {_col(Invoice, 'exchange_rate')}"))
             .order_by("invoice__txn_date", "invoice__doc_number", "invoice_id", "line_num"))
    kind = drill.figure.option
    for line in lines:
        if line.kind == InvoiceLine.Kind.TAX:
            if kind is None:
                drill.excluded.append(line)
            continue
        counted_as = line.kind if line.kind in REVENUE_KINDS else "other"
        if kind is None or counted_as == kind:
            line.home_amount = _money(line.home_cents)
            line.counted_as = counted_as
            drill.rows.append(line)
    drill.total = _money(sum(line.home_cents for line in drill.rows))


def _invoices(drill: Drill) -> None:
    first, after = month_bounds(drill.month)
    invoices = (Invoice.objects.filter(client=drill.client, voided=False, deleted_at_source__isnull=True,
                                       txn_date__gte=first, txn_date__lt=after)
                .annotate(home_cents=_cents(f"{_col(Invoice, 'total')} * {_col(Invoice, 'exchange_rate')}"))
                .order_by("txn_date", "doc_number", "pk"))
    for invoice in invoices:
        invoice.home_amount = _money(invoice.home_cents)
        drill.rows.append(invoice)
    drill.total = _money(sum(i.home_cents for i in drill.rows))


def _open_ar(drill: Drill) -> None:
    """Invoices with money outstanding at month end: what each added to open AR (dated by then)
    less what payments dated by then applied to it, less the remainder of an invoice QuickBooks
    settled by something we cannot see (a credit memo or write-off), counted on its due date
    (ml/features/payments.py). An invoice paid in advance of its date counts too, negative."""
    from ml.features.payments import CENT_TOLERANCE

    month_end = months_before(drill.month, -1)
    invoices = list(
        Invoice.objects.filter(client=drill.client, voided=False, deleted_at_source__isnull=True)
        .annotate(total_cents=_cents(f"{_col(Invoice, 'total')} * {_col(Invoice, 'exchange_rate')}"),
                  balance_cents=_cents(f"{_col(Invoice, 'balance')} * {_col(Invoice, 'exchange_rate')}"))
        .order_by("txn_date", "doc_number", "pk"))
    applications = (
        # Filtering through the invoice joins it, so the invoice's rate is in reach of the SQL.
        PaymentApplication.objects.filter(invoice__client=drill.client, invoice__voided=False,
                                          invoice__deleted_at_source__isnull=True,
                                          payment__deleted_at_source__isnull=True)
        .select_related("payment")
        .annotate(home_cents=_cents(f"{_col(PaymentApplication, 'amount')} * {_col(Invoice, 'exchange_rate')}"))
        .order_by("payment__txn_date", "pk"))
    by_invoice: dict[int, list] = {}
    for a in applications:
        by_invoice.setdefault(a.invoice_id, []).append(a)
    for invoice in invoices:
        applied = by_invoice.get(invoice.pk, [])
        applied_all = sum(a.home_cents for a in applied)
        settled_elsewhere = invoice.balance_cents <= 0 and applied_all < invoice.total_cents - CENT_TOLERANCE
        due = invoice.due_date or invoice.txn_date
        invoiced = invoice.total_cents if invoice.txn_date < month_end else 0
        by_then = [a for a in applied if a.payment.txn_date < month_end]
        paid = sum(a.home_cents for a in by_then)
        other = invoice.total_cents - applied_all if settled_elsewhere and due < month_end else 0
        outstanding = invoiced - paid - other
        if outstanding == 0:
            continue
        invoice.home_total = _money(invoiced)
        invoice.paid_by_month_end = _money(paid)
        invoice.settled_elsewhere = _money(other)
        invoice.outstanding_cents = outstanding
        invoice.home_amount = _money(outstanding)
        invoice.payments_by_then = by_then
        drill.rows.append(invoice)
    drill.total = _money(sum(i.outstanding_cents for i in drill.rows))
    drill.excluded = list(Payment.objects.filter(client=drill.client, deleted_at_source__isnull=True,
                                                 txn_date__gte=drill.month, txn_date__lt=month_end)
                          .order_by("txn_date", "pk"))


# --- labour ------------------------------------------------------------------------------------
def _worklogs(drill: Drill) -> None:
    """The service desk's worklogs dated in the month (QuickBooks time is not labour: MSPs key
    onsite hours in again to bill them), each at its technician's burdened hourly cost, or the
    median of the costed technicians when it has none. The total is rounded once, as the KPI."""
    from ml.features.financial import median_cost
    from ml.features.sources import technician_costs

    first, after = month_bounds(drill.month)
    costs = technician_costs()  # cost x 10,000 per technician that has one
    fallback = median_cost(costs)
    rows = (Worklog.objects.labour().filter(client=drill.client, work_date__gte=first, work_date__lt=after)
            .select_related("technician", "ticket").order_by("work_date", "pk"))
    cost_e4min = 0
    for w in rows:
        rate = costs.get(w.technician_id)
        w.at_median_cost = rate is None
        rate = fallback if rate is None else rate
        w.cost_rate_used = Decimal(rate) / 10000
        w.labour_cost = (Decimal(w.minutes * rate) / 600000).quantize(CENT)
        cost_e4min += w.minutes * rate
        drill.rows.append(w)
    if drill.figure.unit == "minutes":
        drill.total = sum(w.minutes for w in drill.rows)
    else:
        # minutes x (cost x 10,000) / 60 / 100 = cents, rounded half to even once (numpy's rint)
        drill.total = (Decimal(cost_e4min) / 6000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) / 100
        drill.total = drill.total.quantize(CENT)


# --- costs -------------------------------------------------------------------------------------
def _expenses(drill: Drill) -> None:
    """Expense lines attributed to the client dated in the month, at their own rate: category
    "license" (any case) is licence cost, every other category other cost."""
    first, after = month_bounds(drill.month)
    rows = (Expense.objects.filter(client=drill.client, deleted_at_source__isnull=True, txn_date__gte=first,
                                   txn_date__lt=after)
            .annotate(home_cents=_cents(f"{_col(Expense, 'amount')} * {_col(Expense, 'exchange_rate')}"))
            .order_by("txn_date", "pk"))
    want_license = drill.figure.option == "license"
    for e in rows:
        if ((e.category or "").lower() == "license") == want_license:
            e.home_amount = _money(e.home_cents)
            drill.rows.append(e)
    drill.total = _money(sum(e.home_cents for e in drill.rows))


# --- the service desk --------------------------------------------------------------------------
def _tickets(drill: Drill) -> None:
    """Tickets created in the month (UTC), not deleted at source; reactive = incidents."""
    first, after = month_bounds(drill.month)
    rows = Ticket.objects.filter(client=drill.client, deleted_at_source__isnull=True,
                                 created_at__gte=datetime(first.year, first.month, 1, tzinfo=UTC),
                                 created_at__lt=datetime(after.year, after.month, 1, tzinfo=UTC))
    if drill.figure.option == "reactive":
        rows = rows.filter(is_reactive=True)
    drill.rows = list(rows.select_related("technician").order_by("created_at", "pk"))
    drill.total = len(drill.rows)


# --- gross margin: its four parts, each from its own rows --------------------------------------
def _margin(drill: Drill) -> None:
    revenue = source_rows(drill.client, drill.month, "revenue")
    labour = source_rows(drill.client, drill.month, "labour_cost")
    licence = source_rows(drill.client, drill.month, "license_cost")
    other = source_rows(drill.client, drill.month, "other_cost")
    drill.parts = [(revenue, 1), (labour, -1), (licence, -1), (other, -1)]
    drill.total = revenue.total - labour.total - licence.total - other.total


READERS = {
    "invoice_lines": _invoice_lines,
    "invoices": _invoices,
    "open_ar": _open_ar,
    "worklogs": _worklogs,
    "expenses": _expenses,
    "tickets": _tickets,
    "margin": _margin,
}


# --- a leak finding's evidence -----------------------------------------------------------------
@dataclass
class EvidenceSection:
    key: str  # the evidence list it reads (worklog_ids, expense_ids, ...)
    title: str
    template: str  # templates/insights/sources/_<template>.html shows its rows
    rows: list
    total: Decimal | None = None  # the money the rows carry, where it means something
    missing: list = field(default_factory=list)  # ids named in the evidence and not found


def source_rows_for_finding(finding) -> list[EvidenceSection]:
    """The records a leak finding's evidence names (insights/models/leaks.py: SuperOps worklog,
    ticket, agreement and offered-item ids, QuickBooks invoice, line, time and expense ids),
    read for the finding's client only, one query per kind of record named. A rule's
    recommendation says how its amount follows from these rows."""
    from clients.models import Contract, OfferedItem

    evidence = finding.evidence or {}
    client = finding.client_id
    sections: list[EvidenceSection] = []

    def ids(*keys: str) -> list[str]:
        found: list[str] = []
        for key in keys:
            value = evidence.get(key)
            if isinstance(value, list):
                found.extend(str(v) for v in value if v is not None)
        return list(dict.fromkeys(found))

    def add(key, title, template, queryset, id_field, wanted, total=None):
        rows = list(queryset)
        have = {str(getattr(r, id_field)) for r in rows}
        sections.append(EvidenceSection(key, title, template, rows, total(rows) if total and rows else None,
                                        [i for i in wanted if i not in have]))

    def billed_at_price(rows) -> Decimal:
        # hours to the hundredth x the hourly price: how a worklog is invoiced (insights.leaks.base)
        from insights.leaks.base import hours, money

        total = Decimal(0)
        for w in rows:
            w.hours_billed = hours(w.minutes)
            w.value = money(w.hours_billed * (w.unit_price or 0))
            total += w.value
        return total

    wanted = ids("worklog_ids")
    if wanted:
        add("worklog_ids", "Worklogs", "worklogs",
            Worklog.objects.labour().filter(client_id=client, external_id__in=wanted)
            .select_related("technician", "ticket").order_by("work_date", "pk"), "external_id", wanted, billed_at_price)
    wanted = ids("time_activity_ids")
    if wanted:
        add("time_activity_ids", "QuickBooks time", "worklogs",
            Worklog.objects.filter(source="quickbooks", client_id=client, external_id__in=wanted)
            .select_related("technician", "ticket").order_by("work_date", "pk"), "external_id", wanted, billed_at_price)
    wanted = ids("ticket_ids")
    if wanted:
        add("ticket_ids", "Tickets", "tickets",
            Ticket.objects.filter(client_id=client, display_id__in=wanted).select_related("technician")
            .order_by("created_at", "pk"), "display_id", wanted)
    wanted = ids("contract_ids", "successor_contract_id") + (
        [str(evidence["successor_contract_id"])] if evidence.get("successor_contract_id") else [])
    wanted = list(dict.fromkeys(wanted))
    if wanted:
        add("contract_ids", "Agreements", "contracts",
            Contract.objects.filter(client_id=client, external_id__in=wanted).order_by("start_date", "pk"),
            "external_id", wanted)
    wanted = ids("offered_item_ids")
    if wanted:
        add("offered_item_ids", "SuperOps billing entries", "offered_items",
            OfferedItem.objects.filter(client_id=client, external_id__in=wanted).select_related("service_item")
            .order_by("bill_date", "pk"), "external_id", wanted, lambda rows: sum((r.amount for r in rows), Decimal(0)))
    wanted = ids("invoice_ids")
    if wanted:
        invoices = list(Invoice.objects.filter(client_id=client, external_id__in=wanted).order_by("txn_date", "pk"))
        add("invoice_ids", "Invoices", "invoices", invoices, "external_id", wanted)
        line_ids = ids("line_ids", "invoice_line_ids")
        if line_ids:
            add("line_ids", "Invoice lines", "invoice_lines",
                InvoiceLine.objects.filter(invoice__in=invoices, line_id__in=line_ids)
                .select_related("invoice", "service_item").order_by("invoice__txn_date", "line_num"),
                "line_id", line_ids, lambda rows: sum((r.amount for r in rows), Decimal(0)))
    wanted = ids("expense_ids")
    if wanted:
        def at_home_rate(rows) -> Decimal:
            from insights.leaks.base import money

            for e in rows:
                e.home_amount = money(e.amount * (e.exchange_rate or 1))
            return sum((e.home_amount for e in rows), Decimal(0))

        add("expense_ids", "Expenses", "expenses",
            Expense.objects.filter(client_id=client, external_id__in=wanted).order_by("txn_date", "pk"),
            "external_id", wanted, at_home_rate)
    return sections
