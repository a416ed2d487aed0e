"""Recurring billing against the agreements: a month with no recurring invoice, seats above
the billed quantity, invoice prices below the agreement's, and escalators not applied.

Each rule walks the agreement-months of SuperOps' billing audit trail (books.charges) and the
recurring invoice lines of the same client and month (books.recurring_lines); see
docs/leaks.md for what each reads, keeps and ignores.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from .base import CENT, ZERO, Candidate, dollars, label, merge, money, qty, rule
from .books import SEAT_KINDS, Books, Charge

CHARGE_PENDING = ("pending", "approved")


def _seats_word(kind: str, n: int | Decimal) -> str:
    return f"{qty(n)} {'user' if kind == 'per_user' else 'seat'}{'s' if n != 1 else ''}"


@rule("missing_recurring_invoice", "1")
def missing_recurring_invoice(books: Books) -> list[Candidate]:
    """Agreement-months SuperOps charged (offered) with no recurring invoice line that month."""
    by_month: dict[tuple[int, date], list[Charge]] = defaultdict(list)
    for months in books.charges.values():
        for charge in months.values():
            if books.invoiced_line(charge) is None:
                by_month[(charge.agreement.client_id, charge.month)].append(charge)
    out = []
    for (client_id, month), charges in by_month.items():
        if (client_id, month) in books.recurring_invoice_months and all(
                c.status not in CHARGE_PENDING for c in charges):
            continue  # the month was invoiced; an item missing from it is not a missing invoice
        keep = books.keep(client_id, month)
        parts, total, unknown = [], ZERO, []
        for c in sorted(charges, key=lambda c: c.agreement.external_id):
            a = c.agreement
            seats = books.seats(a, month)
            if seats is None:
                seats, unknown = c.quantity, unknown + [a.external_id]
            price = books.expected_price(a, month) or c.price
            amount = seats * price
            total += amount
            parts.append(f"{a.name} x {qty(seats)} at {dollars(price)}" if a.kind in SEAT_KINDS
                         else f"{a.name} at {dollars(price)}")
        amount = money(total * keep)
        pending = all(c.status in CHARGE_PENDING for c in charges)
        discount = f", less the {qty(100 - keep * 100)}% discount" if keep < 1 else ""
        out.append(Candidate(
            "missing_recurring_invoice", client_id, month, amount, 0.95 if pending else 0.8,
            {"contract_ids": [c.agreement.external_id for c in charges],
             "offered_item_ids": [c.external_id for c in charges],
             "offered_status": sorted({c.status for c in charges}),
             "seats_from_billed_quantity": unknown},
            f"issue the recurring invoice for {label(month)}: {'; '.join(parts)}{discount}: {dollars(amount)}"
            + (" (the charges are still pending in SuperOps)" if pending else ""),
        ))
    return out


@rule("seat_underbilling", "1")
def seat_underbilling(books: Books) -> list[Candidate]:
    """Invoiced per-seat agreement-months billing fewer seats than the client had that day."""
    out = []
    for months in books.charges.values():
        for month, charge in months.items():
            a = charge.agreement
            if a.kind not in SEAT_KINDS:
                continue
            line = books.invoiced_line(charge)
            if line is None:
                continue  # no invoice at all: missing_recurring_invoice
            seats = books.seats(a, month)
            if seats is None or seats <= line.quantity:
                continue
            price = books.expected_price(a, month) or charge.price
            gap = seats - line.quantity
            amount = money(gap * price * books.keep(a.client_id, month))
            what = "users" if a.kind == "per_user" else f"{books.covered_class(a) or 'endpoint'}s"
            out.append(Candidate(
                "seat_underbilling", a.client_id, month, amount, 0.9 if a.kind == "per_device" else 0.85,
                {"contract_ids": [a.external_id], "invoice_ids": [line.invoice_id], "line_ids": [line.line_id],
                 "offered_item_ids": [charge.external_id], "billed_quantity": [str(line.quantity)],
                 "expected_quantity": [seats], "seat_basis": [what]},
                f"bill {_seats_word(a.kind, gap)} more on {a.name} for {label(month)} ({seats} {what} on the "
                f"1st, {qty(line.quantity)} billed on {line.doc_number or line.invoice_id}) at {dollars(price)}: "
                f"{dollars(amount)}, and record the seat change in SuperOps",
            ))
    return merge(out)


@rule("rate_below_contract", "1")
def rate_below_contract(books: Books) -> list[Candidate]:
    """Invoice lines priced below the price SuperOps charged for the agreement that month."""
    out = []
    for months in books.charges.values():
        for month, charge in months.items():
            line = books.invoiced_line(charge)
            if line is None or line.price >= charge.price:
                continue
            a = charge.agreement
            if (charge.discount_pct and line.invoice_pk not in books.discounted_invoices
                    and abs(line.price - charge.price * (100 - charge.discount_pct) / 100) < CENT):
                continue  # the agreement's documented discount, taken in the price instead of a discount line
            amount = money(line.quantity * (charge.price - line.price) * books.keep(a.client_id, month))
            if amount <= 0:
                continue
            out.append(Candidate(
                "rate_below_contract", a.client_id, month, amount, 0.9,
                {"contract_ids": [a.external_id], "invoice_ids": [line.invoice_id], "line_ids": [line.line_id],
                 "offered_item_ids": [charge.external_id], "invoiced_unit_price": [str(line.price)],
                 "contract_unit_price": [str(charge.price)]},
                f"{line.doc_number or line.invoice_id} billed {a.name} x {qty(line.quantity)} at "
                f"{dollars(line.price)} instead of the agreement's {dollars(charge.price)}: invoice the "
                f"difference of {dollars(amount)} and fix the invoice template",
            ))
    return merge(out)


@rule("missed_escalator", "1")
def missed_escalator(books: Books) -> list[Candidate]:
    """Invoiced agreement-months of a year whose anniversary did not raise the price by the
    agreement's escalator (books.escalations)."""
    out = []
    for pk, months in books.escalations.items():
        a = books.agreements[pk]
        for month, (due, anniversary) in months.items():
            charge = books.charges[pk][month]
            line = books.invoiced_line(charge)
            if line is None:
                continue  # no invoice at all: missing_recurring_invoice
            amount = money(line.quantity * (due - charge.price) * books.keep(a.client_id, month))
            if amount <= 0:
                continue
            out.append(Candidate(
                "missed_escalator", a.client_id, month, amount, 0.85,
                {"contract_ids": [a.external_id], "invoice_ids": [line.invoice_id], "line_ids": [line.line_id],
                 "offered_item_ids": [charge.external_id], "anniversary": anniversary.isoformat(),
                 "unit_price": [str(charge.price)], "expected_unit_price": [str(due)],
                 "escalator_pct": str(a.escalator_pct)},
                f"apply the {qty(a.escalator_pct)}% escalator due {anniversary.isoformat()} on {a.name}: "
                f"{dollars(charge.price)} -> {dollars(due)} x {qty(line.quantity)} for {label(month)}: "
                f"{dollars(amount)}",
            ))
    return merge(out)

