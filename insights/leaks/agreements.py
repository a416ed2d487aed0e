"""Work under an agreement that had expired: the recurring fee stopped while technicians kept
logging the client's work as covered, until the agreement was signed again (or still now).

Reads agreements (end dates, status, successors), the service desk's worklogs after the end
(the evidence that the client was still being served as if covered) and, for the amount, the
seats of each lapsed month (books.seats) at the price the agreement was renewed at.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from clients.models import Worklog

from .base import ZERO, Candidate, add_months, dollars, label, merge, money, month_of, qty, rule
from .books import RECURRING_KINDS, Agreement, Books

COVERED = ("under_contract", "ignored")
EVIDENCE_LIMIT = 50


def _ended(a: Agreement) -> date | None:
    days = [d for d in (a.end, a.cancelled_on) if d]
    return min(days) if days else None


def _successor(a: Agreement, siblings: list[Agreement], end: date) -> Agreement | None:
    """The next agreement for the same service, signed after this one ended."""
    later = [b for b in siblings if b.pk != a.pk and b.kind in RECURRING_KINDS and b.start > end]
    same = [b for b in later if b.item == a.item] or [b for b in later if b.kind == a.kind]
    return min(same, key=lambda b: (b.start, b.external_id), default=None)


def _covered_elsewhere(a: Agreement, siblings: list[Agreement], month: date) -> bool:
    return any(b.pk != a.pk and b.item == a.item and b.in_force(month) for b in siblings)


@rule("expired_contract_work", "1")
def expired_contract_work(books: Books) -> list[Candidate]:
    out = []
    last_month = month_of(books.data_end)
    for client_id, siblings in books.agreements_by_client.items():
        for a in siblings:
            end = _ended(a)
            if a.kind not in RECURRING_KINDS or end is None or end >= books.data_end:
                continue
            first = month_of(end + timedelta(days=1))
            if first <= end:  # ended mid-month: the next full month is the first one unbilled
                first = add_months(first, 1)
            successor = _successor(a, siblings, end)
            if successor is not None:
                months = _months(first, add_months(month_of(successor.start), -1)
                                 if successor.start.day == 1 else month_of(successor.start))
                price = books.charges.get(successor.pk, {}).get(month_of(successor.start))
                price = price.price if price is not None else successor.unit_price
                confidence = 0.9
            else:
                served = _served_months(client_id, end, last_month)
                if not served:
                    continue  # nobody worked for the client after the end: it left
                months = _months(first, max(served))
                price = books.last_expected_price(a, first)
                confidence = 0.7
            months = [m for m in months if not _covered_elsewhere(a, siblings, m)]
            if not months:
                continue
            keep = 1 - (a.discount_pct or ZERO) / 100
            covered = _covered_worklogs(client_id, months[0], months[-1])
            for month in months:
                seats = books.seats(a, month)
                if seats is None:
                    continue
                amount = money(Decimal(seats) * price * keep)
                if amount <= 0:
                    continue
                logged = covered.get(month, [])
                renewed = (f"renewed on {successor.start.isoformat()} as {successor.external_id}"
                           if successor else "not renewed since")
                out.append(Candidate(
                    "expired_contract_work", client_id, month, amount, confidence,
                    {"contract_ids": [a.external_id], "end_date": end.isoformat(),
                     "successor_contract_id": successor.external_id if successor else None,
                     "worklog_ids": logged[:EVIDENCE_LIMIT], "covered_worklogs": len(logged)},
                    f"{a.name} ended {end.isoformat()} ({renewed}) while {len(logged)} worklogs in "
                    f"{label(month)} were logged as covered: bill {label(month)} at "
                    f"{qty(seats)} x {dollars(price)}: {dollars(amount)}",
                ))
    return merge(out)


def _months(first: date, last: date) -> list[date]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def _served_months(client_id: int, after: date, last_month: date) -> list[date]:
    """Months after `after` in which the client's tickets had service-desk worklogs."""
    days = Worklog.objects.labour().filter(client_id=client_id, work_date__gt=after).values_list(
        "work_date", flat=True).distinct()
    return sorted({month_of(d) for d in days if month_of(d) <= last_month})


def _covered_worklogs(client_id: int, first: date, last: date) -> dict[date, list[str]]:
    out: dict[date, list[str]] = {}
    rows = Worklog.objects.labour().filter(
        client_id=client_id, billing_status__in=COVERED, work_date__gte=first,
        work_date__lt=add_months(last, 1)).values_list("work_date", "external_id").order_by("work_date", "pk")
    for day, ext in rows:
        out.setdefault(month_of(day), []).append(ext)
    return out
