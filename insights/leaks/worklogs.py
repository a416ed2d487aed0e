"""Logged work that was not billed, or billed short: billable worklogs never invoiced (and
QuickBooks time marked Billable that never was), after-hours work invoiced at the
business-hours rate, and out-of-scope requests logged as covered by a per-seat agreement.

See docs/leaks.md for what each rule reads, keeps and ignores.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from clients.models import Worklog

from .base import ZERO, Candidate, dollars, hours, merge, money, month_of, qty, rule
from .books import SEAT_KINDS, Agreement, Books
from .scope import out_of_scope_tickets

UNBILLED = ("pending", "approved", "ignored")
SHOWN = 5  # items named in a recommendation before "and N more"


def main_agreement(books: Books, client_id: int, month: date) -> Agreement | None:
    """The agreement a month's ticket work falls under: the latest non-project agreement
    started by the month (the one technicians log against)."""
    started = [a for a in books.agreements_by_client.get(client_id, ()) if a.kind != "project" and a.start <= month]
    return started[-1] if started else None


def _listing(parts: list[str]) -> str:
    if len(parts) <= SHOWN:
        return ", ".join(parts)
    return ", ".join(parts[:SHOWN]) + f" and {len(parts) - SHOWN} more"


@rule("unbilled_worklog", "1")
def unbilled_worklog(books: Books) -> list[Candidate]:
    """Billable service-desk worklogs left pending, approved or ignored (never invoiced), and
    QuickBooks time marked Billable that has no service-desk twin already counted."""
    unbilled = Worklog.objects.labour().filter(billable=True, billing_status__in=UNBILLED, client__isnull=False)
    rows = unbilled.values_list(
        "external_id", "client_id", "work_date", "minutes", "unit_price", "billing_status", "work_module", "work_id",
        "ticket__display_id", "after_hours")
    groups: dict[tuple[int, date], list] = defaultdict(list)
    twins: set[tuple[int, date, int]] = set()
    for ext, client_id, day, minutes, price, status, module, work_id, display, after in rows:
        rate = price or _rate(books, client_id, month_of(day), after)
        work = display or f"{module.lower()} {work_id}"
        groups[(client_id, month_of(day))].append((ext, minutes, rate, status, work))
        twins.add((client_id, day, minutes))
    qb_time = Worklog.objects.filter(source="quickbooks", billable=True, billing_status__in=UNBILLED,
                                     client__isnull=False, deleted_at_source__isnull=True).values_list(
        "external_id", "client_id", "work_date", "minutes", "unit_price", "after_hours")
    extra: dict[tuple[int, date], list[str]] = defaultdict(list)
    for ext, client_id, day, minutes, price, after in qb_time:
        if (client_id, day, minutes) in twins:
            extra[(client_id, month_of(day))].append(ext)  # the same visit, already counted
            continue
        rate = price or _rate(books, client_id, month_of(day), after)
        groups[(client_id, month_of(day))].append((f"qb:{ext}", minutes, rate, "billable", f"QuickBooks time {ext}"))
    out = []
    for (client_id, month), logs in groups.items():
        by_work: dict[str, list] = defaultdict(list)
        for log in logs:
            by_work[log[4]].append(log)
        parts, total = [], ZERO
        for work, items in sorted(by_work.items()):
            amount = sum((money(hours(m) * r) for _, m, r, _, _ in items), ZERO)
            total += amount
            h = sum((hours(m) for _, m, _, _, _ in items), ZERO)
            rates = {r for _, _, r, _, _ in items}
            at = f"at the contract rate of {dollars(rates.pop())}" if len(rates) == 1 else "at their rates"
            parts.append(f"{qty(h)} unbilled hours from {'ticket #' if work.startswith('T-') else ''}{work} {at} "
                         f"({dollars(amount)})")
        if total <= 0:
            continue
        statuses = sorted({s for _, _, _, s, _ in logs})
        ignored = statuses == ["ignored"]
        out.append(Candidate(
            "unbilled_worklog", client_id, month, total, 0.6 if ignored else 0.95,
            {"worklog_ids": [e for e, *_ in logs if not e.startswith("qb:")],
             "time_activity_ids": [e[3:] for e, *_ in logs if e.startswith("qb:")] + extra.get((client_id, month), []),
             "work_items": sorted(by_work), "billing_status": statuses},
            f"invoice {_listing(parts)}: {dollars(total)}" if len(parts) > 1 else
            f"invoice {parts[0].rsplit(' (', 1)[0]}: {dollars(total)}",
        ))
    return out


def _rate(books: Books, client_id: int, month: date, after_hours: bool) -> Decimal:
    """The agreement's rate for time that carries no price of its own."""
    a = main_agreement(books, client_id, month)
    if a is None:
        return ZERO
    if after_hours and a.after_hours_rate:
        return a.after_hours_rate
    return a.hourly_rate or ZERO


@rule("after_hours_underbilling", "1")
def after_hours_underbilling(books: Books) -> list[Candidate]:
    """After-hours ticket work invoiced below the agreement's after-hours rate."""
    rows = Worklog.objects.labour().filter(after_hours=True, billable=True, billing_status="invoiced",
                                           client__isnull=False, work_module="TICKET").values_list(
        "external_id", "client_id", "work_date", "minutes", "unit_price", "ticket__display_id",
        "service_item__after_hours_unit_price")
    groups: dict[tuple[int, date], list] = defaultdict(list)
    for ext, client_id, day, minutes, price, display, item_rate in rows:
        month = month_of(day)
        a = main_agreement(books, client_id, month)
        due = (a.after_hours_rate if a is not None and a.after_hours_rate else None) or item_rate
        if not due or price >= due:
            continue
        groups[(client_id, month)].append((ext, display, minutes, price, due))
    out = []
    for (client_id, month), logs in groups.items():
        total = sum((money(hours(m) * (due - price)) for _, _, m, price, due in logs), ZERO)
        if total <= 0:
            continue
        h = sum((hours(m) for _, _, m, _, _ in logs), ZERO)
        prices = sorted({(price, due) for *_, price, due in logs})
        rates = (f"at {dollars(prices[0][0])} instead of the after-hours rate of {dollars(prices[0][1])}"
                 if len(prices) == 1 else "below the after-hours rate")
        tickets = sorted({d for _, d, *_ in logs if d})
        out.append(Candidate(
            "after_hours_underbilling", client_id, month, total, 0.9,
            {"worklog_ids": [e for e, *_ in logs], "ticket_ids": tickets},
            f"{qty(h)} hours of after-hours work on {_listing(tickets)} were invoiced {rates}: invoice the "
            f"difference of {dollars(total)}",
        ))
    return out


@rule("out_of_scope_covered", "1")
def out_of_scope_covered(books: Books) -> list[Candidate]:
    """Requests of a kind the MSP bills under per-seat agreements, logged as covered."""
    def per_seat(client_id: int, month: date) -> Agreement | None:
        a = main_agreement(books, client_id, month)
        return a if a is not None and a.kind in SEAT_KINDS and a.in_force(month) else None

    out = []
    for t in out_of_scope_tickets(per_seat):
        a = t.agreement
        amount = ZERO
        for minutes, after in t.worklogs:
            rate = a.after_hours_rate if after and a.after_hours_rate else a.hourly_rate
            amount += money(hours(minutes) * rate)
        if amount <= 0:
            continue
        h = sum((hours(m) for m, _ in t.worklogs), ZERO)
        out.append(Candidate(
            "out_of_scope_covered", t.client_id, t.month, amount, t.confidence,
            {"ticket_ids": [t.display_id], "worklog_ids": t.worklog_ids, "contract_ids": [a.external_id],
             "request_kind": t.kind, "hourly_rate": str(a.hourly_rate)},
            f"{t.display_id} ({t.kind}) is work {a.name} does not cover ({t.billed_share:.0%} of such requests "
            f"are billed): invoice {qty(h)} hours at {dollars(a.hourly_rate)}: {dollars(amount)}",
        ))
    return merge(out)
