"""Revenue leaks planted in the world, and the truth about them for truth.json.

An *opportunity* is a moment where an MSP can get billing wrong; each is planted with
probability --leak-rate. Decisions and their details come from the planner's own random
stream, so the clients, endpoints and service desk of a world do not depend on the leak
rate until churn (which reads payment behaviour) makes the worlds drift apart:

- unbilled_worklog: every billable worklog (T&M, block overage, out-of-scope, project).
  Planted: it stays PENDING/APPROVED and never reaches an invoice.
- seat_underbilling: every seat INCREASE on a per-device or per-user agreement. Planted: the
  change is never recorded, so the billed quantity stays below the enrolled endpoints (or
  the client's users, getClientUserList) until the next anniversary true-up (a new BASELINE).
- license_underbilling: every month a client's licence count on the distributor's bill
  (Pax8, rebilled) rises. Planted: the rebill line keeps the old count for 1-6 months while
  the bill charges the MSP for every licence.
- after_hours_underbilling: every billable after-hours worklog. Planted: billed at the
  business-hours rate instead of the after-hours one (afterHours true, business unitPrice).
- out_of_scope_covered: every out-of-scope request worked under a per-seat agreement.
  Planted: logged UNDER_CONTRACT, as if the agreement covered it, and never billed.
- expired_contract_work: every agreement that does not auto-renew reaching its end date.
  Planted: it lapses for 1-4 months; SuperOps stops billing it while technicians keep
  logging work as covered, until it is re-signed as a new agreement.
- rate_below_contract: every recurring agreement-year. Planted: the invoice template
  undercuts the agreement's price by 5-20% for 1-6 months.
- missed_escalator: every anniversary of an agreement with an escalator, when the month
  before is inside the window (so the unchanged price is visible). Planted: nobody raises
  the price; it is caught up at the next anniversary.
- missing_recurring_invoice: every client-month with recurring lines. Planted: no invoice.
- unbilled_expense: every billable expense line. Planted: never rebilled, stays "Billable".

Sources (MSP_WORLD.md §7): seat mismatches are 85% under-billed (so missed seat and licence
increases, never decreases, are planted); 10-30% of hours go unbilled and ~15% of chargeable
hours (unbilled worklogs, out-of-scope work logged as covered); §2 After-hours: 1.5x
evenings (the rate an after-hours worklog should carry).

Legitimate adjustments are recorded beside the leaks (truth.json "adjustments") so a leak
detector that flags them is judged wrong: negotiated contract discounts (a discountRate and
a discount line), SLA service credits and goodwill credit memos.

Amounts decompose a recurring line exactly: expected = E_qty x E_price, charged = C_qty x
C_price; seat gap (E_qty - C_qty) x E_price, escalator C_qty x (E_price - SuperOps price),
rate C_qty x (SuperOps price - C_price). A missing invoice or a lapse takes the whole
expected amount for that month instead, so nothing is counted twice.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .world import money

TYPES = ("unbilled_worklog", "seat_underbilling", "expired_contract_work", "rate_below_contract",
         "missed_escalator", "missing_recurring_invoice", "unbilled_expense", "license_underbilling",
         "after_hours_underbilling", "out_of_scope_covered")
ADJUSTMENT_TYPES = ("contract_discount", "sla_credit", "goodwill_credit")


@dataclass
class Leak:
    type: str
    client_id: str
    period: str
    amount: Decimal
    refs: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"type": self.type, "client_id": self.client_id, "period": self.period,
                "amount": str(money(self.amount)), "refs": self.refs}


class LeakPlanner:
    def __init__(self, rate: float, seed: int):
        self.rate = rate
        self.rng = random.Random(f"{seed}:leaks")
        self.opportunities: Counter = Counter()
        self.entries: dict[tuple, Leak] = {}
        self.adjustments: dict[tuple, Leak] = {}

    def plant(self, kind: str) -> bool:
        self.opportunities[kind] += 1
        return self.rate > 0 and self.rng.random() < self.rate

    def record(self, kind: str, client_id: str, period: date, amount: Decimal, refs: dict,
               key: str = "") -> None:
        """Add a leak; entries of one (type, client, month, key) merge, list refs extend."""
        if amount <= 0:
            return
        ident = (kind, client_id, period.strftime("%Y-%m"), key)
        leak = self.entries.get(ident)
        if leak is None:
            self.entries[ident] = Leak(kind, client_id, ident[2], amount, dict(refs))
            return
        leak.amount += amount
        for name, value in refs.items():
            if isinstance(value, list):
                leak.refs.setdefault(name, []).extend(value)

    def adjust(self, kind: str, client_id: str, period: date, amount: Decimal, refs: dict, key: str = "") -> None:
        """A legitimate lower price (not a leak); entries of one (type, client, key) merge."""
        if amount <= 0:
            return
        ident = (kind, client_id, key)
        entry = self.adjustments.get(ident)
        if entry is None:
            self.adjustments[ident] = Leak(kind, client_id, period.strftime("%Y-%m"), amount, dict(refs))
            return
        entry.amount += amount
        for name, value in refs.items():
            if isinstance(value, list):
                entry.refs.setdefault(name, []).extend(value)

    def adjustment_rows(self) -> list[dict]:
        rows = [dict(a.as_dict(), legitimate=True) for a in self.adjustments.values()]
        return sorted(rows, key=lambda r: (r["type"], r["client_id"], r["period"], str(r["refs"])))

    def truth(self) -> tuple[list[dict], dict]:
        leaks = sorted(self.entries.values(), key=lambda x: (x.type, x.client_id, x.period, str(x.refs)))
        by_type = {t: Decimal("0.00") for t in TYPES}
        count = {t: 0 for t in TYPES}
        rows = []
        for leak in leaks:
            row = leak.as_dict()
            by_type[leak.type] += Decimal(row["amount"])
            count[leak.type] += 1
            rows.append(row)
        summary = {
            "leak_amount_by_type": {t: str(v) for t, v in by_type.items()},
            "leak_count_by_type": count,
            "leak_amount_total": str(sum(by_type.values(), Decimal("0.00"))),
            "opportunities_by_type": {t: self.opportunities.get(t, 0) for t in TYPES},
            "adjustment_amount_by_type": {t: str(sum((a.amount for a in self.adjustments.values() if a.type == t),
                                                     Decimal("0.00"))) for t in ADJUSTMENT_TYPES},
        }
        return rows, summary
