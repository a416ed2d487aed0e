"""Money out: vendor bills and card purchases, attributable to a client or MSP overhead,
the rebilling of billable ones on the client's month-end invoice ("Reimbursable ..."
lines, then HasBeenBilled) - or, planted, never - and QuickBooks time for onsite visits."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from . import priors
from .desk import Worklog
from .invoicing import Line
from .leaks import LeakPlanner
from .timeline import add_months
from .world import CatalogItem, Client, Ids, Site, Technician, money

VENDORS = {"Pax8": "12", "Ingram Micro": "13", "Metro Cabling Co": "14", "NinjaOne": "15",
           "Harbor Office Properties": "16", "Hartford Insurance": "17", "City Power & Water": "18",
           "SuperOps": "19", "Amazon Business": "20", "Shell": "21", "CompTIA": "22", "Local Eats": "23"}
ACCOUNTS = {"license": ("80", "Cost of Goods Sold:Licenses"), "hardware": ("81", "Cost of Goods Sold:Hardware"),
            "sub": ("82", "Cost of Goods Sold:Subcontractors"), "tools": ("83", "Cost of Goods Sold:Software Tools"),
            "Rent": ("60", "Rent or Lease"), "Insurance": ("61", "Insurance"), "Utilities": ("62", "Utilities"),
            "SuperOps PSA": ("83", "Cost of Goods Sold:Software Tools"), "Training": ("63", "Training"),
            "fuel": ("64", "Automobile:Fuel"), "meals": ("65", "Meals and Entertainment")}
OVERHEAD_VENDOR = {"Rent": "Harbor Office Properties", "Insurance": "Hartford Insurance",
                   "Utilities": "City Power & Water", "SuperOps PSA": "SuperOps", "Training": "CompTIA"}
REBILL_ITEM = {"license": "r_license", "hardware": "r_hardware", "sub": "r_sub"}


@dataclass(slots=True)
class ExpenseLine:
    line_id: str
    amount: Decimal
    description: str
    account: str  # key of ACCOUNTS
    billable: str  # Billable / NotBillable / HasBeenBilled
    client: Client | None = None
    site: Site | None = None  # the branch a hardware purchase is for
    seats: int = 0  # licences on the line (a distributor's per-seat bill), 0 for other costs
    unit: Decimal = Decimal(0)


@dataclass(eq=False)
class ExpenseDoc:
    kind: str  # Bill or Purchase
    id: str
    txn_date: date
    vendor: str
    lines: list[ExpenseLine] = field(default_factory=list)

    def add(self, amount: Decimal, description: str, account: str, billable: str = "NotBillable",
            client: Client | None = None) -> ExpenseLine:
        line = ExpenseLine(str(len(self.lines) + 1), money(amount), description, account, billable, client)
        self.lines.append(line)
        return line

    @property
    def total(self) -> Decimal:
        return sum((x.amount for x in self.lines), Decimal(0))


@dataclass(slots=True)
class TimeActivity:
    id: str
    when: date
    tech: Technician
    client: Client
    billable: str
    rate: Decimal
    minutes: int
    description: str


class Expenses:
    def __init__(self, rng: random.Random, ids: Ids, planner: LeakPlanner, items: dict[str, CatalogItem]):
        self.rng, self.ids, self.planner, self.items = rng, ids, planner, items
        self.docs: list[ExpenseDoc] = []  # this month's, drained by the engine
        self.times: list[TimeActivity] = []
        self.billable: dict[str, list[tuple[ExpenseDoc, ExpenseLine]]] = {}
        self.cost_total = Decimal(0)
        # client -> (licences rebilled, frozen until this month): a planted licence lag.
        self.license_lag: dict[str, tuple[int, date]] = {}
        self.license_billed: dict[str, int] = {}

    def _doc(self, kind: str, when: date, vendor: str) -> ExpenseDoc:
        doc = ExpenseDoc(kind, self.ids.next("bill" if kind == "Bill" else "purchase"), when, vendor)
        self.docs.append(doc)
        return doc

    def _line(self, doc: ExpenseDoc, amount: Decimal, description: str, account: str, client: Client | None,
              billable: bool) -> ExpenseLine:
        line = doc.add(amount, description, account, "Billable" if billable else "NotBillable", client)
        if billable and client is not None:
            self.billable.setdefault(client.account_id, []).append((doc, line))
        return line

    # --- what the month costs ------------------------------------------------------------------
    def licenses(self, clients: list[Client], month: date, per_user_clients: set[str],
                 endpoints: dict[str, int]) -> None:
        """Pax8's monthly bill: Microsoft 365 per user (rebilled unless the per-user price
        includes it) and EDR per endpoint (a cost of the service)."""
        doc = self._doc("Bill", month + timedelta(days=2), "Pax8")
        for client in clients:
            billable = client.account_id not in per_user_clients
            line = self._line(doc, client.license_price * client.users,
                              f"Microsoft 365 Business x {client.users} ({client.name})", "license", client, billable)
            line.seats, line.unit = client.users, client.license_price
            self._line(doc, priors.EDR_PER_ENDPOINT * endpoints[client.account_id],
                       f"EDR x {endpoints[client.account_id]} endpoints ({client.name})", "tools", client, False)

    def hardware(self, client: Client, cls: str, asset_name: str, day: date, site: Site | None = None) -> None:
        if self.rng.random() >= priors.HARDWARE_VIA_MSP:
            return
        lo, hi = priors.HARDWARE_COST[cls]
        doc = self._doc("Bill", max(day - timedelta(days=self.rng.randrange(1, 6)), day.replace(day=1)),
                        "Ingram Micro")
        amount = Decimal(self.rng.randrange(lo * 100, hi * 100)) / 100
        line = self._line(doc, amount, f"{cls} hardware for {asset_name}", "hardware", client, True)
        if site is not None and site.customer_id:
            line.site = site

    def client_extras(self, clients: list[Client], month: date, last: date) -> None:
        """Cabling jobs and small purchases for clients, before the month-end rebilling."""
        rng = self.rng
        days = (last - month).days + 1
        for client in clients:
            if rng.random() < priors.SUBCONTRACT_RATE_PER_YEAR / 12:
                doc = self._doc("Bill", month + timedelta(days=rng.randrange(days)), "Metro Cabling Co")
                self._line(doc, Decimal(rng.randrange(400, 3000)), f"Cabling job at {client.name}", "sub", client,
                           rng.random() < priors.SUBCONTRACT_BILLABLE)
            if rng.random() < priors.ACCESSORY_PURCHASE_RATE:
                doc = self._doc("Purchase", month + timedelta(days=rng.randrange(days)), "Amazon Business")
                self._line(doc, Decimal(rng.randrange(3000, 40000)) / 100, f"Accessories for {client.name}",
                           "hardware", client, rng.random() < priors.ACCESSORY_BILLABLE)

    def overheads(self, month: date, last: date, techs: list[Technician], endpoints_total: int) -> None:
        """The MSP's own costs, with no customer: rent, insurance, tools, fuel."""
        rng = self.rng
        days = (last - month).days + 1
        n = len(techs)
        for name, per_tech in priors.OVERHEAD_PER_TECH.items():
            doc = self._doc("Bill", month, OVERHEAD_VENDOR[name])
            doc.add(per_tech * n * Decimal(str(round(rng.uniform(0.95, 1.05), 3))), f"{name} {month:%b %Y}", name)
        doc = self._doc("Bill", month, "NinjaOne")
        doc.add(priors.RMM_PER_ENDPOINT * endpoints_total, f"RMM x {endpoints_total} endpoints", "tools")
        for _ in range(max(1, n // 3)):
            day = month + timedelta(days=rng.randrange(days))
            doc = self._doc("Purchase", day, rng.choice(("Shell", "Local Eats")))
            kind = "fuel" if doc.vendor == "Shell" else "meals"
            doc.add(Decimal(rng.randrange(4000, 25000)) / 100, kind.capitalize(), kind)

    # --- rebilling -----------------------------------------------------------------------------
    def rebills(self, client: Client, month: date) -> list[Line]:
        lines, leaked = [], []
        for doc, line in self.billable.pop(client.account_id, []):
            if self.planner.plant("unbilled_expense"):
                leaked.append((doc, line))
                continue
            line.billable = "HasBeenBilled"
            item = self.items[REBILL_ITEM[line.account]]
            description = f"{item.name}: {line.description} ({doc.kind} {doc.id} line {line.line_id})"
            if line.seats:
                seats = self._licences_billed(client, month, doc, line)
                lines.append(Line(item, description.replace(f" x {line.seats} ", f" x {seats} ", 1), Decimal(seats),
                                  line.unit, money(seats * line.unit), doc.txn_date))
            else:
                lines.append(Line(item, description, Decimal(1), line.amount, line.amount, doc.txn_date,
                                  taxable=line.account == "hardware",
                                  customer_id=line.site.customer_id if line.site else ""))
        if leaked:
            self.planner.record("unbilled_expense", client.account_id, month, sum((x.amount for _, x in leaked),
                                                                                    Decimal(0)),
                                {"expenses": [{"txn_type": d.kind, "id": d.id, "line_id": x.line_id}
                                              for d, x in leaked]})
        return lines

    def _licences_billed(self, client: Client, month: date, doc: ExpenseDoc, line: ExpenseLine) -> int:
        """Licences put on the client's invoice: all of them, unless (planted) the rebill kept
        last month's count when the client added licences, until someone notices."""
        cid, bought = client.account_id, line.seats
        before = self.license_billed.get(cid)
        lag = self.license_lag.get(cid)
        if lag is not None and month > lag[1]:
            del self.license_lag[cid]
            lag = None
        if lag is None and before is not None and bought > before and self.planner.plant("license_underbilling"):
            draw = self.planner.rng
            lag = (before, add_months(month, draw.randint(*priors.LICENSE_LAG_MONTHS) - 1))
            self.license_lag[cid] = lag
        billed = min(bought, lag[0]) if lag is not None else bought
        self.license_billed[cid] = billed if lag is not None else bought
        if billed < bought:
            self.planner.record("license_underbilling", client.account_id, month, money((bought - billed) * line.unit),
                                {"bill_id": doc.id, "line_id": line.line_id, "licences_bought": bought,
                                 "licences_billed": billed, "unit_price": str(line.unit)}, key=doc.id)
        return billed

    def drop_client(self, client: Client) -> None:
        self.billable.pop(client.account_id, None)

    def onsite_time(self, w: Worklog) -> None:
        """Half the onsite visits are also entered as QuickBooks time (payroll/billing)."""
        if not w.onsite or self.rng.random() >= priors.ONSITE_TIME_ACTIVITY_SHARE:
            return
        status = {"INVOICED": "HasBeenBilled", "PENDING": "Billable", "APPROVED": "Billable"}.get(w.status,
                                                                                                  "NotBillable")
        self.times.append(TimeActivity(self.ids.next("time"), date.fromordinal(w.start // 1440), w.tech,
                                       w.ticket.client, status, w.price or Decimal(0), w.minutes,
                                       f"Onsite: {w.ticket.display_id} {w.ticket.subject}"))

    def close_month(self) -> None:
        for doc in self.docs:
            self.cost_total += doc.total
