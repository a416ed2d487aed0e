"""Money in: recurring invoices in advance (1st of the month, Net 30), time and rebilled
expenses in arrears (last day of the month), project invoices, a client's final invoice,
and the payments that follow - with the billing leaks of leaks.py planted on the way.

Every billable worklog and every recurring agreement-month is also "offered" for billing
(SuperOps getOfferedItems), so the audit trail shows what should have been invoiced.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from . import priors
from .agreements import expected_qty
from .desk import Ticket, Worklog
from .leaks import LeakPlanner
from .timeline import month_end
from .world import (
    CatalogItem,
    Client,
    Contract,
    Ids,
    Technician,
    last_anniversary,
    money,
)

SIXTY = Decimal(60)


@dataclass(slots=True)
class Line:
    item: CatalogItem
    description: str
    qty: Decimal
    price: Decimal
    amount: Decimal
    service_date: date
    taxable: bool = False  # resold goods carry sales tax; services do not
    customer_id: str = ""  # a branch's sub-customer when the line is for a branch, else the client


def tax_of(lines: list[Line]) -> Decimal:
    taxable = sum((x.amount for x in lines if x.taxable), Decimal(0))
    return money(taxable * priors.SALES_TAX_RATE / 100) if taxable else Decimal(0)


@dataclass(eq=False)
class Invoice:
    id: str
    client: Client
    txn_date: date
    due_date: date
    lines: list[Line]
    note: str
    kind: str
    customer_id: str = ""  # the client's QuickBooks customer, or a branch's sub-customer
    discount_pct: Decimal = Decimal(0)  # a discount line for the contract's discountRate
    paid_on: date | None = None
    voided: bool = False

    @property
    def subtotal(self) -> Decimal:
        return sum((x.amount for x in self.lines), Decimal(0))

    @property
    def discount(self) -> Decimal:
        return money(self.subtotal * self.discount_pct / 100) if self.discount_pct else Decimal(0)

    @property
    def tax(self) -> Decimal:
        return tax_of(self.lines)

    @property
    def net(self) -> Decimal:
        """Revenue: what the client is charged for, before sales tax (a liability)."""
        return Decimal(0) if self.voided else self.subtotal - self.discount

    @property
    def total(self) -> Decimal:
        return Decimal(0) if self.voided else self.subtotal - self.discount + self.tax


@dataclass(eq=False, slots=True)
class Payment:
    id: str
    client: Client
    txn_date: date
    amount: Decimal
    invoice_id: str
    ref: str
    customer_id: str = ""


@dataclass(eq=False, slots=True)
class Offered:
    id: str
    type: str
    bill_date: date
    status: str
    item: CatalogItem
    client: Client
    work_id: str
    module: str
    tech: Technician | None
    after_hours: bool
    price: Decimal
    qty: Decimal
    amount: Decimal
    discount: Decimal = Decimal(0)
    created: int = 0  # minute the item was offered (a worklog's end; 00:05 on a bill date)


@dataclass
class ClientMonth:
    """Billable lines waiting for the month-end invoices of one client."""

    arrears: list[Line] = field(default_factory=list)
    projects: dict[str, tuple[Contract, list[Line]]] = field(default_factory=dict)
    lapsed: list[tuple[Contract, Decimal]] = field(default_factory=list)
    recurring_net: Decimal = Decimal(0)  # this month's recurring invoice, after discount


def hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / SIXTY).quantize(Decimal("0.01"))


class Invoicing:
    def __init__(self, rng: random.Random, ids: Ids, planner: LeakPlanner, items: dict[str, CatalogItem],
                 window_end: date):
        self.rng, self.ids, self.planner, self.items = rng, ids, planner, items
        self.window_end = window_end
        self.invoices: list[Invoice] = []  # this month's, drained by the engine
        self.payments: list[Payment] = []
        self.offered: list[Offered] = []
        self.revenue = Decimal(0)
        self.revenue_by_kind: dict[str, Decimal] = {}

    # --- recurring, in advance ---------------------------------------------------------------
    def recurring(self, client: Client, month: date, m: int, state: ClientMonth) -> None:
        planner, period = self.planner, month
        label = month.strftime("%b %Y")
        lines, offered, leaks, expected_total, contracts = [], [], [], Decimal(0), []
        discount = max((k.discount for k in client.contracts if k.recurring and k.live(month)), default=Decimal(0))
        # A negotiated discount lowers what is due, so it lowers what a leak loses as well.
        keep = 1 - discount / 100
        for contract in client.contracts:
            if not contract.recurring or contract.start > month:
                continue
            e_qty = expected_qty(contract, month)
            if contract.lapse_until is not None:
                state.lapsed.append((contract, money(e_qty * contract.expected_price)))
                continue
            if contract.status != "ACTIVE":
                continue
            item = self.items[contract.item]
            c_qty = contract.billed_qty if contract.covers else 1
            s_price, e_price = contract.price, contract.expected_price
            c_price = s_price
            cut = contract.rate_cut
            if cut and cut[0] <= m <= cut[1] and s_price == e_price:
                c_price = money(s_price * (1 - cut[2]))
            o = self._offer("CONTRACT", month, "INVOICED", item, client, contract.contract_id, "CONTRACT", None,
                            False, s_price, Decimal(c_qty))
            o.discount = contract.discount
            offered.append(o)
            contracts.append(contract.contract_id)
            expected_total += money(e_qty * e_price)
            desc = f"{item.name} x {c_qty} ({label})" if contract.covers else f"{contract.name} ({label})"
            line = Line(item, desc, Decimal(c_qty), c_price, money(c_qty * c_price), month)
            lines.append(line)
            n = len(lines)
            base = {"contract_id": contract.contract_id, "line_id": str(n), "offered_item_id": o.id}
            if e_qty > c_qty:
                leaks.append(("seat_underbilling", money((e_qty - c_qty) * e_price * keep), dict(
                    base, billed_quantity=c_qty, expected_quantity=e_qty, asset_class=contract.covers)))
            if e_price > s_price:
                leaks.append(("missed_escalator", money(c_qty * (e_price - s_price) * keep), dict(
                    base, unit_price=str(s_price), expected_unit_price=str(e_price),
                    anniversary=last_anniversary(contract, month).isoformat())))
            if s_price > c_price:
                leaks.append(("rate_below_contract", money(c_qty * (s_price - c_price) * keep), dict(
                    base, invoiced_unit_price=str(c_price), contract_unit_price=str(s_price))))
        self.offered.extend(offered)
        if not lines:
            return
        if planner.plant("missing_recurring_invoice"):
            for o in offered:
                o.status = "PENDING"
            planner.record("missing_recurring_invoice", client.account_id, period, money(expected_total * keep),
                           {"contract_ids": contracts, "offered_item_ids": [o.id for o in offered]})
            return
        if self.rng.random() < priors.VOID_RATE:
            # A mistake voided and reissued the same day: QuickBooks keeps the void, zeroed.
            void = self._invoice(client, month, [Line(x.item, x.description, Decimal(0), x.price, Decimal(0),
                                                      x.service_date) for x in lines], "Voided", "recurring")
            void.voided = True
        invoice = self._issue(client, month, lines, f"Managed services {label}", "recurring", discount=discount)
        state.recurring_net = invoice.net
        if invoice.discount:
            planner.adjust("contract_discount", client.account_id, period, invoice.discount,
                           {"contract_ids": contracts, "discount_rate": str(discount), "invoice_ids": [invoice.id]},
                           key=",".join(contracts))
        for kind, amount, refs in leaks:
            planner.record(kind, client.account_id, period, amount, dict(refs, invoice_id=invoice.id),
                           key=refs["contract_id"])

    # --- time, in arrears ----------------------------------------------------------------------
    def bill_work(self, client: Client, tickets: list[Ticket], month: date, state: ClientMonth) -> None:
        """Decide, worklog by worklog, whether the agreement covers it; offer and invoice the
        rest (or, planted, leave it pending, bill it at the business-hours rate, or log it as
        covered when it was out of scope)."""
        planner = self.planner
        main = next((c for c in reversed(client.contracts) if c.kind != "project" and c.start <= month), None)
        live = main is not None and main.live(month)
        block_left = main.included_hours * 60 if live and main.kind == "block_hours" else 0
        worklogs = sorted((w for t in tickets for w in t.worklogs), key=lambda w: (w.start, w.id))
        unbilled: list[Worklog] = []
        cheap: list[tuple[Worklog, Decimal]] = []  # after-hours work at the business rate
        covered: dict[str, bool] = {}  # out-of-scope ticket -> planted as covered
        hidden: list[tuple[Worklog, Decimal]] = []
        for w in worklogs:
            t = w.ticket
            rate = None
            if t.project is not None:
                rate = t.project.price
            elif main is None:
                continue
            elif main.kind == "time_and_materials":
                rate = main.hourly_rate
            elif not live:
                pass  # lapsed or cancelled: technicians log it as covered
            elif main.kind == "block_hours" and block_left >= w.minutes:
                block_left -= w.minutes
            elif main.kind == "block_hours":
                rate = main.hourly_rate
            elif t.oos:
                if t.id not in covered:
                    covered[t.id] = planner.plant("out_of_scope_covered")
                rate = main.hourly_rate
                if covered[t.id]:
                    hidden.append((w, money(rate * priors.AFTER_HOURS_MULTIPLIER) if w.after_hours else rate))
                    w.status = "UNDER_CONTRACT"
                    continue
            if rate is None:
                w.status = "IGNORED" if self.rng.random() < priors.GOODWILL_SHARE else "UNDER_CONTRACT"
                continue
            w.billable = True
            full = money(rate * priors.AFTER_HOURS_MULTIPLIER) if w.after_hours and t.project is None else rate
            qty = hours(w.minutes)
            item = self.items[w.item]
            if planner.plant("unbilled_worklog"):
                w.price = full
                o = self._work_offer(w, client, full, qty)
                pending = planner.rng.random() < priors.PENDING_SHARE
                w.status = o.status = "PENDING" if pending else "APPROVED"
                unbilled.append(w)
                continue
            if full != rate and planner.plant("after_hours_underbilling"):
                cheap.append((w, full - rate))
                full = rate
            w.price = full
            self._work_offer(w, client, full, qty)
            w.status = "INVOICED"
            when = date.fromordinal(w.start // 1440)
            if t.project is not None:
                label = f"{t.project.name.removeprefix('Project: ')}: {w.tech.name} {when.isoformat()}"
                line = Line(item, f"{label} (worklog {w.id})", qty, full, money(qty * full), when)
                state.projects.setdefault(t.project.contract_id, (t.project, []))[1].append(line)
            else:
                line = Line(item, f"{t.display_id} {t.subject} - {w.tech.name} {when.isoformat()} (worklog {w.id})",
                            qty, full, money(qty * full), when)
                state.arrears.append(line)
        if live and main.kind == "block_hours":
            main.block_left = block_left
        if unbilled:
            refs = {"worklog_ids": [w.id for w in unbilled],
                    "ticket_ids": sorted({w.ticket.id for w in unbilled if w.ticket.project is None})}
            projects = sorted({w.ticket.id for w in unbilled if w.ticket.project is not None})
            if projects:
                refs["project_ids"] = projects
            planner.record("unbilled_worklog", client.account_id, month,
                           sum((money(hours(w.minutes) * w.price) for w in unbilled), Decimal(0)), refs)
        if cheap:
            planner.record("after_hours_underbilling", client.account_id, month,
                           sum((money(hours(w.minutes) * gap) for w, gap in cheap), Decimal(0)),
                           {"worklog_ids": [w.id for w, _ in cheap],
                            "ticket_ids": sorted({w.ticket.id for w, _ in cheap}),
                            "offered_item_ids": [w.offered_id for w, _ in cheap]})
        if hidden:
            planner.record("out_of_scope_covered", client.account_id, month,
                           sum((money(hours(w.minutes) * r) for w, r in hidden), Decimal(0)),
                           {"worklog_ids": [w.id for w, _ in hidden],
                            "ticket_ids": sorted({w.ticket.id for w, _ in hidden}),
                            "contract_id": main.contract_id, "hourly_rate": f"{main.hourly_rate:.2f}"})

    def _work_offer(self, w: Worklog, client: Client, rate: Decimal, qty: Decimal) -> Offered:
        t = w.ticket
        module = "PROJECT" if t.project is not None else "TICKET"
        o = self._offer("WORK", date.fromordinal(w.start // 1440), "INVOICED", self.items[w.item], client, t.id,
                        module, w.tech, w.after_hours, rate, qty)
        o.created = w.start + w.minutes
        self.offered.append(o)
        w.offered_id = o.id
        return o

    def month_end(self, client: Client, month: date, state: ClientMonth, rebills: list[Line],
                  final: bool) -> None:
        last = month_end(month)
        for project, lines in state.projects.values():
            self._issue(client, last, lines, f"{project.name} - {month.strftime('%b %Y')}", "project",
                        customer_id=project.site.customer_id if project.site else "")
        lines = state.arrears + [x for x in rebills if not x.customer_id]
        # Hardware for a branch is invoiced to the branch (a QuickBooks sub-customer).
        by_site: dict[str, list[Line]] = {}
        for x in rebills:
            if x.customer_id:
                by_site.setdefault(x.customer_id, []).append(x)
        for customer_id, site_lines in by_site.items():
            self._issue(client, last, site_lines, f"Expenses {month.strftime('%b %Y')} (site)", "arrears",
                        customer_id=customer_id)
        if final:
            item = self.items["offboard"]
            qty = Decimal(self.rng.choice((2, 3, 4, 6)))
            lines.append(Line(item, "Offboarding: documentation handover and credential transfer", qty,
                              client.hourly_rate, money(qty * client.hourly_rate), last))
        if lines:
            note = "Final invoice" if final else f"Time and expenses {month.strftime('%b %Y')}"
            self._issue(client, last, lines, note, "final" if final else "arrears")

    # --- documents ---------------------------------------------------------------------------
    def _offer(self, kind: str, when: date, status: str, item: CatalogItem, client: Client, work_id: str,
               module: str, tech: Technician | None, after_hours: bool, price: Decimal, qty: Decimal) -> Offered:
        return Offered(self.ids.next("offered"), kind, when, status, item, client, work_id, module, tech,
                       after_hours, price, qty, money(qty * price))

    def _invoice(self, client: Client, when: date, lines: list[Line], note: str, kind: str,
                 customer_id: str = "") -> Invoice:
        invoice = Invoice(self.ids.next("invoice"), client, when, when + timedelta(days=priors.NET_TERMS_DAYS),
                          lines, note, kind, customer_id or client.customer_id)
        self.invoices.append(invoice)
        return invoice

    def _issue(self, client: Client, when: date, lines: list[Line], note: str, kind: str,
               discount: Decimal = Decimal(0), customer_id: str = "") -> Invoice:
        invoice = self._invoice(client, when, lines, note, kind, customer_id)
        invoice.discount_pct = discount
        self.revenue += invoice.net
        for line in lines:
            key = line.item.key
            self.revenue_by_kind[key] = self.revenue_by_kind.get(key, Decimal(0)) + line.amount
        if invoice.discount:
            self.revenue_by_kind["discount"] = self.revenue_by_kind.get("discount", Decimal(0)) - invoice.discount
        self._pay(invoice, invoice.total, final=kind == "final")
        return invoice

    def _pay(self, invoice: Invoice, total: Decimal, final: bool) -> None:
        rng, client = self.rng, invoice.client
        bad = priors.BAD_DEBT_CHURNED if final else (
            priors.BAD_DEBT_RATE_POOR if client.health < -1.0 else priors.BAD_DEBT_RATE)
        paid = None
        if rng.random() >= bad:
            days = max(0.0, rng.gauss(client.payer_days, priors.PAYMENT_DAYS_SD)
                       - priors.PAYMENT_HEALTH_DAYS * client.health)
            paid = invoice.txn_date + timedelta(days=int(days))
        if paid is None or paid > self.window_end:
            client.payments.append((invoice.due_date, None))
            client.balance += total
            cid = invoice.customer_id
            client.balances[cid] = client.balances.get(cid, Decimal(0)) + total
            return
        client.payments.append((invoice.due_date, paid))
        invoice.paid_on = paid
        self.payments.append(Payment(self.ids.next("payment"), client, paid, total, invoice.id,
                                     str(rng.randrange(1000, 99999)), invoice.customer_id))
