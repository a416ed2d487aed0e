"""Money spent for a client and not passed on: billable expenses never rebilled, and licences
on the distributor's bill rebilled for fewer than were bought.

Reads QuickBooks expense lines (Bill and Purchase lines with a customer and a billable
status) and the rebill lines of the client's invoices ("Reimbursable ..." items, kind
expense). See docs/leaks.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

from clients.models import Expense, InvoiceLine

from .base import ZERO, Candidate, dollars, label, merge, money, month_of, qty, rule
from .books import SEATS_IN_TEXT, Books

# A rebill line names the expense it passes on: "... (Bill 945 line 13)".
SOURCE_IN_TEXT = re.compile(r"\((Bill|Purchase)\s+(\S+)\s+line\s+(\S+)\)", re.I)


@rule("unbilled_expense", "1")
def unbilled_expense(books: Books) -> list[Candidate]:
    """Expense lines for a client still marked Billable (QuickBooks sets HasBeenBilled when an
    invoice passes them on)."""
    rows = Expense.objects.filter(billable_status=Expense.BillableStatus.BILLABLE, client__isnull=False,
                                  deleted_at_source__isnull=True).values_list(
        "external_id", "client_id", "txn_date", "vendor", "description", "amount", "exchange_rate", "txn_type",
        "document_id")
    groups: dict[tuple[int, date], list] = defaultdict(list)
    for row in rows:
        groups[(row[1], month_of(row[2]))].append(row)
    out = []
    for (client_id, month), lines in groups.items():
        total = sum((money(amount * (rate or 1)) for *_, amount, rate, _, _ in lines), ZERO)
        if total <= 0:
            continue
        parts = [f"{t} {doc} from {vendor or 'a vendor'} ({dollars(money(amount * (rate or 1)))})"
                 for _, _, _, vendor, _, amount, rate, t, doc in lines[:5]]
        more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
        # Passed by a billing run (an invoice dated on or after the newest of them): skipped,
        # not merely waiting for this month's invoice.
        passed = books.last_invoice_day.get(client_id, date.min) >= max(r[2] for r in lines)
        out.append(Candidate(
            "unbilled_expense", client_id, month, total, 0.9 if passed else 0.6,
            {"expense_ids": [r[0] for r in lines], "documents": sorted({f"{r[7]} {r[8]}" for r in lines}),
             "billing_run_since": passed},
            f"rebill {', '.join(parts)}{more} from {label(month)}, still marked Billable: {dollars(total)}",
        ))
    return out


def _rebill_lines() -> tuple[dict[tuple[str, str, str], tuple], dict[tuple[int, date], list[tuple]]]:
    """Expense-kind invoice lines: by the expense line they name, and by client and month."""
    by_source: dict[tuple[str, str, str], tuple] = {}
    by_month: dict[tuple[int, date], list[tuple]] = defaultdict(list)
    rows = InvoiceLine.objects.filter(kind=InvoiceLine.Kind.EXPENSE, invoice__voided=False,
                                      invoice__client__isnull=False).values_list(
        "invoice__external_id", "invoice__doc_number", "invoice__client_id", "invoice__txn_date", "line_id",
        "description", "quantity", "unit_price")
    for row in rows:
        found = SOURCE_IN_TEXT.search(row[5] or "")
        if found:
            by_source[(found.group(1).lower(), found.group(2), found.group(3))] = row
        by_month[(row[2], month_of(row[3]))].append(row)
    return by_source, by_month


@rule("license_underbilling", "1")
def license_underbilling(books: Books) -> list[Candidate]:
    """Licence lines of a distributor's bill passed on for fewer licences than were bought."""
    rows = Expense.objects.filter(category="license", billable_status=Expense.BillableStatus.BILLED,
                                  client__isnull=False, deleted_at_source__isnull=True).values_list(
        "external_id", "client_id", "txn_date", "txn_type", "document_id", "description", "amount")
    by_source, by_month = _rebill_lines()
    out = []
    for ext, client_id, day, txn_type, doc, text, amount in rows:
        found = SEATS_IN_TEXT.search(text or "")
        if not found or not int(found.group(1)):
            continue
        bought = int(found.group(1))
        unit = money(amount / bought)
        line_id = ext.rsplit(":", 1)[-1]
        rebill = by_source.get((txn_type.lower(), doc, line_id))
        confidence = 0.9
        if rebill is None:
            # No line names the bill: the client's licence rebill that month at the same price.
            same = [r for r in by_month.get((client_id, month_of(day)), ())
                    if "licen" in (r[5] or "").lower() and r[7] == unit]
            if len(same) != 1:
                continue
            rebill, confidence = same[0], 0.7
        billed = rebill[6]
        if billed >= bought:
            continue
        price = rebill[7] or unit
        total = money((bought - billed) * price)
        out.append(Candidate(
            "license_underbilling", client_id, month_of(day), total, confidence,
            {"expense_ids": [ext], "bill_ids": [doc], "invoice_ids": [rebill[0]], "invoice_line_ids": [rebill[4]],
             "licences_bought": [bought], "licences_billed": [str(billed)]},
            f"{txn_type} {doc} charged {bought} licences but {rebill[1] or rebill[0]} rebilled "
            f"{qty(billed)}: bill {qty(bought - billed)} more at {dollars(price)}: {dollars(total)}",
        ))
    return merge(out)

