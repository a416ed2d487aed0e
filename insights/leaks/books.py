"""The rows several leak rules read, fetched once per detection run and shared.

`Books` reads lazily: a rule asks for what it needs and the first rule to ask pays for the
query. A read that fails raises in the rule that asked (and again in the next one: a failed
read is not cached), so one broken source fails the rules that need it and no others.

Recurring billing is reconciled per agreement and month from two sides:
- SuperOps' billing audit trail (`OfferedItem` of kind contract, `work_id` = the agreement):
  what the agreement charged that month (price in force, billed quantity, discount rate) and
  whether it was invoiced or is still pending;
- the QuickBooks invoices: the recurring lines of the client's non-voided invoices dated in
  the month, matched to the agreement by the item's name (SuperOps' charge item and the
  QuickBooks item carry the same catalogue name).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property

from django.db.models import Max

from clients.models import Asset, ClientUser, Contract, Expense, Invoice, InvoiceLine, OfferedItem, Worklog

from .base import ZERO, add_months, money, month_of

RECURRING_KINDS = ("per_device", "per_user", "block_hours")
SEAT_KINDS = ("per_device", "per_user")
# "Microsoft 365 Business x 23 (Acme Dental)": the licence count on a distributor's bill line.
SEATS_IN_TEXT = re.compile(r"\bx\s*(\d+)\b", re.I)


def fold(name: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", " ", (name or "").lower()).strip()


@dataclass(frozen=True)
class Agreement:
    pk: int
    external_id: str
    client_id: int
    name: str
    kind: str
    status: str
    start: date
    end: date | None
    auto_renew: bool
    cancelled_on: date | None
    unit_price: Decimal
    hourly_rate: Decimal
    after_hours_rate: Decimal | None
    escalator_pct: Decimal
    discount_pct: Decimal | None
    item: str  # folded name of the charge item

    def in_force(self, month: date) -> bool:
        """Started by the month's first day and not ended before it."""
        if self.start > month:
            return False
        end = min(d for d in (self.end, self.cancelled_on) if d) if (self.end or self.cancelled_on) else None
        return end is None or end >= month or (self.auto_renew and self.cancelled_on is None)

    def anniversary(self, month: date) -> bool:
        return month.month == self.start.month and month.year > self.start.year


@dataclass(frozen=True)
class Charge:
    """One agreement-month of SuperOps' audit trail (an offered contract item)."""

    pk: int
    external_id: str
    agreement: Agreement
    month: date
    status: str
    price: Decimal
    quantity: Decimal
    discount_pct: Decimal


@dataclass(frozen=True)
class Line:
    """A recurring invoice line."""

    invoice_pk: int
    invoice_id: str
    doc_number: str
    line_id: str
    quantity: Decimal
    price: Decimal
    amount: Decimal


class Books:
    """Shared, lazily read rows of one detection run (see the module docstring)."""

    # --- the calendar --------------------------------------------------------------------------
    @cached_property
    def data_end(self) -> date:
        """The last day the data speaks for: the latest invoice, worklog or charge."""
        days = [Invoice.objects.aggregate(d=Max("txn_date"))["d"],
                Worklog.objects.aggregate(d=Max("work_date"))["d"],
                OfferedItem.objects.aggregate(d=Max("bill_date"))["d"]]
        days = [d for d in days if d]
        return max(days) if days else date.today()

    @cached_property
    def last_invoice_day(self) -> dict[int, date]:
        """Client pk -> the date of its latest invoice (its last billing run)."""
        return dict(Invoice.objects.filter(client__isnull=False, voided=False).values_list("client_id")
                    .annotate(d=Max("txn_date")).values_list("client_id", "d"))

    # --- agreements and their monthly charges ------------------------------------------------------
    @cached_property
    def agreements(self) -> dict[int, Agreement]:
        rows = Contract.objects.filter(deleted_at_source__isnull=True).values_list(
            "pk", "external_id", "client_id", "name", "kind", "status", "start_date", "end_date", "auto_renew",
            "cancelled_on", "unit_price", "hourly_rate", "after_hours_rate", "annual_escalator_pct", "discount_pct",
            "service_item__name")
        return {r[0]: Agreement(*r[:15], fold(r[15] or r[3])) for r in rows}

    @cached_property
    def agreements_by_client(self) -> dict[int, list[Agreement]]:
        out: dict[int, list[Agreement]] = defaultdict(list)
        for a in sorted(self.agreements.values(), key=lambda a: (a.start, a.external_id)):
            out[a.client_id].append(a)
        return out

    @cached_property
    def charges(self) -> dict[int, dict[date, Charge]]:
        """Agreement pk -> month -> its offered contract item."""
        by_external = {(a.client_id, a.external_id): a for a in self.agreements.values()}
        out: dict[int, dict[date, Charge]] = defaultdict(dict)
        rows = OfferedItem.objects.filter(kind=OfferedItem.Kind.CONTRACT, deleted_at_source__isnull=True).values_list(
            "pk", "external_id", "client_id", "work_id", "bill_date", "status", "unit_price", "quantity",
            "discount_rate")
        for pk, ext, client_id, work_id, day, status, price, quantity, discount in rows:
            agreement = by_external.get((client_id, work_id))
            if agreement is None or agreement.kind not in RECURRING_KINDS:
                continue
            month = month_of(day)
            out[agreement.pk][month] = Charge(pk, ext, agreement, month, status, price, quantity, discount or ZERO)
        return out

    def discount_pct(self, client_id: int, month: date) -> Decimal:
        """The negotiated discount on the client's recurring invoice that month: the largest
        discount rate among its agreements' charges (an invoice carries one discount line)."""
        rates = [c.discount_pct for a in self.agreements_by_client.get(client_id, ())
                 for c in (self.charges.get(a.pk, {}).get(month),) if c is not None]
        if not rates:
            rates = [a.discount_pct or ZERO for a in self.agreements_by_client.get(client_id, ())
                     if a.kind in RECURRING_KINDS and a.in_force(month)]
        return max(rates, default=ZERO)

    def keep(self, client_id: int, month: date) -> Decimal:
        """Share of a recurring charge the client pays after its negotiated discount."""
        return 1 - self.discount_pct(client_id, month) / 100

    # --- recurring invoice lines --------------------------------------------------------------------
    @cached_property
    def recurring_lines(self) -> dict[tuple[int, date, str], list[Line]]:
        """(client pk, month, folded item name) -> recurring lines of non-voided invoices.

        The month is the line's service date when it has one, else the invoice's date, so a
        catch-up invoice issued later for a missed month counts for that month."""
        out: dict[tuple, list[Line]] = defaultdict(list)
        rows = InvoiceLine.objects.filter(
            kind=InvoiceLine.Kind.RECURRING, invoice__voided=False, invoice__client__isnull=False,
            invoice__deleted_at_source__isnull=True,
        ).values_list("invoice_id", "invoice__external_id", "invoice__doc_number", "invoice__client_id",
                      "invoice__txn_date", "service_date", "line_id", "quantity", "unit_price", "amount",
                      "service_item__name", "description")
        for inv, ext, doc, client_id, day, served, line_id, quantity, price, amount, item, text in rows:
            name = fold(item) or fold(text.split(" x ")[0] if text else "")
            out[(client_id, month_of(served or day), name)].append(
                Line(inv, ext, doc, line_id, quantity, price, amount))
        return out

    @cached_property
    def discounted_invoices(self) -> set[int]:
        """Invoices that carry a discount line (the negotiated discount, taken once per invoice)."""
        return set(InvoiceLine.objects.filter(kind=InvoiceLine.Kind.DISCOUNT).values_list("invoice_id", flat=True))

    @cached_property
    def recurring_invoice_months(self) -> set[tuple[int, date]]:
        return {(client_id, month) for client_id, month, _ in self.recurring_lines}

    def invoiced_line(self, charge: Charge) -> Line | None:
        """The invoice line that billed an agreement-month, if there is one."""
        lines = self.recurring_lines.get((charge.agreement.client_id, charge.month, charge.agreement.item))
        if not lines:
            return None
        # Two lines of one item in a month (a correction): the one closest to the charge's quantity.
        return min(lines, key=lambda x: abs(x.quantity - charge.quantity))

    # --- prices: what the agreement should charge -----------------------------------------------------
    @cached_property
    def escalations(self) -> dict[int, dict[date, tuple[Decimal, date]]]:
        """Agreement pk -> month -> (price the escalator called for, anniversary) for the months
        of an agreement-year whose anniversary did not raise the price.

        At an anniversary the agreement's price should be last month's price raised by its
        escalator; when the month's charge is below that (but not below last month's: a lower
        price is an amendment), every month of that agreement-year charged below it is short
        (until the price is raised or the year ends)."""
        out: dict[int, dict[date, tuple[Decimal, date]]] = {}
        for pk, months in self.charges.items():
            agreement = self.agreements[pk]
            if not agreement.escalator_pct or agreement.escalator_pct <= 0:
                continue
            for month in sorted(months):
                if not agreement.anniversary(month):
                    continue
                before = months.get(add_months(month, -1))
                if before is None:
                    continue  # the price before the anniversary is not visible
                due = money(before.price * (100 + agreement.escalator_pct) / 100)
                price = months[month].price
                if price >= due or price < before.price:
                    # Raised as agreed; or lowered, which is an amendment (a renegotiated
                    # price), not a forgotten escalator.
                    continue
                year = out.setdefault(pk, {})
                for k in range(12):
                    m = add_months(month, k)
                    charge = months.get(m)
                    if charge is not None and charge.price < due:
                        year[m] = (due, month)
        return out

    def expected_price(self, agreement: Agreement, month: date) -> Decimal | None:
        """The price the agreement should charge that month: the escalated price in a year
        whose escalator was missed, else the price SuperOps charged."""
        missed = self.escalations.get(agreement.pk, {}).get(month)
        if missed is not None:
            return missed[0]
        charge = self.charges.get(agreement.pk, {}).get(month)
        return charge.price if charge is not None else None

    def last_expected_price(self, agreement: Agreement, before: date) -> Decimal:
        """The agreement's expected price in its last charged month before `before` (its own
        price when it never charged)."""
        months = [m for m in self.charges.get(agreement.pk, {}) if m < before]
        if not months:
            return agreement.unit_price
        return self.expected_price(agreement, max(months)) or agreement.unit_price

    # --- seats: what a per-seat agreement should bill ---------------------------------------------------
    @cached_property
    def endpoints(self) -> dict[int, list[tuple[str, date, date | None]]]:
        out: dict[int, list] = defaultdict(list)
        rows = Asset.objects.filter(deleted_at_source__isnull=True, added_on__isnull=False).values_list(
            "client_id", "asset_class", "added_on", "retired_on")
        for client_id, cls, added, retired in rows:
            out[client_id].append((fold(cls), added, retired))
        return out

    @cached_property
    def licence_counts(self) -> dict[tuple[int, date], int]:
        """(client pk, month) -> licences on the distributor's bill that month (the client's
        users as the books see them month by month)."""
        out: dict[tuple[int, date], int] = {}
        rows = Expense.objects.filter(category="license", client__isnull=False,
                                      deleted_at_source__isnull=True).values_list("client_id", "txn_date",
                                                                                  "description")
        for client_id, day, text in rows:
            found = SEATS_IN_TEXT.search(text or "")
            if found:
                key = (client_id, month_of(day))
                out[key] = max(out.get(key, 0), int(found.group(1)))
        return out

    @cached_property
    def licensed(self) -> set[int]:
        """Clients whose licences appear on a distributor's bill."""
        return {client_id for client_id, _ in self.licence_counts}

    @cached_property
    def users_now(self) -> dict[int, int]:
        out: dict[int, int] = defaultdict(int)
        for client_id in ClientUser.objects.filter(deleted_at_source__isnull=True, active=True).values_list(
                "client_id", flat=True):
            out[client_id] += 1
        return out

    def covered_class(self, agreement: Agreement) -> str | None:
        """The endpoint class a per-device agreement bills: the class its item or name names
        ("Managed Workstation" -> workstation); None when it names none (all endpoints)."""
        classes = {cls for cls, _, _ in self.endpoints.get(agreement.client_id, ())}
        text = f"{agreement.item} {fold(agreement.name)}"
        for cls in sorted(classes, key=len, reverse=True):
            stem = cls.rstrip("s")
            if stem and stem in text:
                return cls
        return None

    def seats(self, agreement: Agreement, month: date) -> int | None:
        """Seats the agreement should bill on the month's first day (bills are in advance):
        endpoints of its class enrolled before that day and not retired before it, or the
        client's users (licences on the distributor's bill that month; today's client users
        for the month in progress when no bill names the client). None when unknown."""
        if agreement.kind == "per_device":
            cls = self.covered_class(agreement)
            return sum(1 for c, added, retired in self.endpoints.get(agreement.client_id, ())
                       if (cls is None or c == cls) and added < month and (retired is None or retired >= month))
        if agreement.kind == "per_user":
            count = self.licence_counts.get((agreement.client_id, month))
            if count is None and month == month_of(self.data_end) and agreement.client_id not in self.licensed:
                count = self.users_now.get(agreement.client_id)
            return count
        return 1
