"""Agreements over time: signing, seat changes, anniversaries (escalators and true-ups),
renewals and lapses, projects, and cancellation when a client leaves.

Everything happens on the first of a month, before that month's recurring invoice, so the
invoice dated the 1st sees the quantity and price in force that day.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from . import priors
from .leaks import LeakPlanner
from .timeline import add_months, month_end
from .world import (
    Change,
    Client,
    Contract,
    Ids,
    last_anniversary,
    money,
    pick,
    price_step,
)


def expected_qty(contract: Contract, on: date) -> int:
    """The seats the agreement should bill on `on`: users, or endpoints of the covered class
    enrolled before that day."""
    client = contract.client
    if contract.covers == "users":
        return client.users
    if contract.covers:
        return len(client.active_assets(contract.covers, on))
    return 1


def baseline(contract: Contract, when: date, qty: int) -> None:
    contract.changes.append(Change(str(len(contract.changes) + 1), when, qty, "BASELINE"))
    contract.billed_qty = contract.tracked = qty
    contract.missed_seats = 0


class Agreements:
    def __init__(self, rng: random.Random, ids: Ids, planner: LeakPlanner):
        self.rng = rng
        self.ids = ids
        self.planner = planner

    # --- signing ----------------------------------------------------------------------------
    def open_book(self, client: Client, window_start: date) -> None:
        """Seat baselines of a client signed before the window: trued up at the last
        anniversary, with every endpoint enrolled before it."""
        for contract in client.contracts:
            if contract.covers:
                when = last_anniversary(contract, window_start)
                baseline(contract, when, expected_qty(contract, window_start))
            self._plan_rate_cut(contract, 0)

    def onboard(self, client: Client, month: date, m: int) -> None:
        for contract in client.contracts:
            if contract.covers:
                baseline(contract, month, expected_qty(contract, month))
            self._plan_rate_cut(contract, m)
        base, per_user = priors.ONBOARDING_HOURS
        hours = (base + client.users * per_user) * self.rng.uniform(0.8, 1.3)
        self.start_project(client, month, "Onboarding", hours, months=1 if client.users < 30 else 2)

    def start_project(self, client: Client, month: date, name: str, hours: float, months: int) -> Contract:
        lo, hi = priors.PROJECT_RATE
        rate = price_step(self.rng, lo, hi)
        project = Contract(
            contract_id=self.ids.next("contract"), client=client, kind="project", name=f"Project: {name}",
            item="project", start=month, end=month_end(add_months(month, months - 1)), term_years=0,
            auto_renew=False, escalator=0, price=rate, expected_price=rate, hourly_rate=rate,
        )
        project.project_hours = hours
        project.project_id = self.ids.next("project")
        if len(client.sites) > 1 and name in priors.SITE_PROJECTS and self.rng.random() < 0.5:
            project.site = self.rng.choice(client.sites[1:])  # work at a branch, billed to its sub-customer
        client.contracts.append(project)
        return project

    # --- the first of each month --------------------------------------------------------------
    def start_of_month(self, client: Client, month: date, m: int) -> None:
        for contract in list(client.contracts):
            if contract.kind == "project":
                if contract.status == "ACTIVE" and contract.end < month:
                    contract.status, contract.updated = "INACTIVE", contract.end
                continue
            if contract.kind == "time_and_materials":
                continue
            if contract.lapse_until is not None:
                if m >= contract.lapse_until:
                    self._resign(contract, month, m)
                continue
            if contract.status != "ACTIVE" or contract.start >= month:
                continue
            if contract.end < month and not self._renew(contract, month, m):
                continue
            if contract.anniversary(month):
                self._anniversary(contract, month, m)
            self.sync_seats(contract, month)
        self._maybe_project(client, month)

    def _renew(self, contract: Contract, month: date, m: int) -> bool:
        """Term ended yesterday: auto-renew for a year, re-sign, or (planted) lapse."""
        if contract.auto_renew:
            contract.end = add_months(month, 12) - timedelta(days=1)
        elif self.planner.plant("expired_contract_work"):
            contract.lapse_until = m + self.planner.rng.randint(*priors.LAPSE_MONTHS)
            contract.status, contract.updated = "INACTIVE", contract.end
            for sibling in contract.client.contracts:
                # The servers agreement was signed with the workstations one: it lapses too.
                if sibling is not contract and sibling.recurring and sibling.status == "ACTIVE" \
                        and sibling.end == contract.end:
                    sibling.lapse_until, sibling.status, sibling.updated = contract.lapse_until, "INACTIVE", sibling.end
            return False
        else:
            contract.end = add_months(month, 12 * contract.term_years) - timedelta(days=1)
        contract.updated = month
        return True

    def _resign(self, old: Contract, month: date, m: int) -> None:
        """The MSP notices the lapse and the client signs a new agreement at today's price."""
        old.lapse_until = None
        new = Contract(
            contract_id=self.ids.next("contract"), client=old.client, kind=old.kind, name=old.name,
            item=old.item, start=month, end=add_months(month, 12 * old.term_years) - timedelta(days=1),
            term_years=old.term_years, auto_renew=old.auto_renew, escalator=old.escalator,
            price=old.expected_price, expected_price=old.expected_price, hourly_rate=old.hourly_rate,
            covers=old.covers, included_hours=old.included_hours, discount=old.discount,
        )
        if new.covers:
            baseline(new, month, expected_qty(new, month))
        self._plan_rate_cut(new, m)
        new.updated = month
        old.client.contracts.append(new)

    def _anniversary(self, contract: Contract, month: date, m: int) -> None:
        if contract.escalator:
            previous = contract.expected_price
            contract.expected_price = money(previous * (100 + contract.escalator) / 100)
            if contract.price < previous:
                contract.price = contract.expected_price  # a missed year is caught up now
            elif m >= 1 and self.planner.plant("missed_escalator"):
                pass  # nobody raised the price
            else:
                contract.price = contract.expected_price
            contract.updated = month
        if contract.covers:
            baseline(contract, month, expected_qty(contract, month))  # the yearly true-up
        self._plan_rate_cut(contract, m)

    def _plan_rate_cut(self, contract: Contract, m: int) -> None:
        if contract.recurring and self.planner.plant("rate_below_contract"):
            draw = self.planner.rng  # leak details from the leak stream: the world stays the same
            start = m + draw.randrange(12)
            contract.rate_cut = (start, start + draw.randint(*priors.RATE_CUT_MONTHS) - 1,
                                 draw.choice(priors.RATE_CUT_CHOICES))

    def sync_seats(self, contract: Contract, month: date) -> None:
        """Record last month's seat changes, effective today (the next billing cycle)."""
        if not contract.covers:
            return
        qty = expected_qty(contract, month)
        delta = qty - contract.tracked
        if delta == 0:
            return
        contract.tracked = qty
        if delta > 0 and self.planner.plant("seat_underbilling"):
            contract.missed_seats += delta
            return
        billed = max(0, qty - contract.missed_seats)
        contract.missed_seats = qty - billed
        change = billed - contract.billed_qty
        if change:
            op = "INCREASE" if change > 0 else "DECREASE"
            contract.changes.append(Change(str(len(contract.changes) + 1), month, abs(change), op))
            contract.billed_qty = billed
            contract.updated = month

    def _maybe_project(self, client: Client, month: date) -> None:
        rng = self.rng
        if any(c.kind == "project" and c.status == "ACTIVE" for c in client.contracts):
            return
        chance = priors.PROJECT_RATE_PER_YEAR / 12 * math.sqrt(client.users / 20)
        if rng.random() < chance:
            name = rng.choice(priors.PROJECT_NAMES)
            base, per_user = priors.PROJECT_HOURS
            hours = (base + client.users * per_user) * rng.uniform(0.6, 1.6)
            self.start_project(client, month, name, hours, months=pick(rng, [(1, 40), (2, 40), (3, 20)]))

    # --- leaving ------------------------------------------------------------------------------
    def cancel_all(self, client: Client, when: date, reason: str) -> None:
        for contract in client.contracts:
            if contract.status == "ACTIVE":
                contract.status, contract.cancelled_on = "INACTIVE", when
                contract.cancellation_reason, contract.updated = reason, when
            contract.lapse_until = None
