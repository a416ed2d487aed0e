"""Legitimate credits: service credits when an urgent ticket missed its resolution target,
goodwill credits after a very unhappy survey. QuickBooks CreditMemos with the reason in the
memo; truth.json lists them as adjustments (not leaks), so a leak detector that flags a
credited invoice is judged wrong."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from . import priors
from .desk import Ticket
from .invoicing import ClientMonth, Line
from .leaks import LeakPlanner
from .timeline import month_end
from .world import CatalogItem, Client, Ids, money


@dataclass(eq=False)
class CreditMemo:
    """A credit the MSP grants (SLA credit, goodwill): lowers what the client owes."""

    id: str
    client: Client
    txn_date: date
    lines: list[Line]
    reason: str
    customer_id: str

    @property
    def total(self) -> Decimal:
        return sum((x.amount for x in self.lines), Decimal(0))


class Credits:
    def __init__(self, rng: random.Random, ids: Ids, planner: LeakPlanner, items: dict[str, CatalogItem]):
        self.rng, self.ids, self.planner, self.items = rng, ids, planner, items
        self.memos: list[CreditMemo] = []  # this month's, drained by the engine
        self.total = Decimal(0)

    def grant(self, client: Client, month: date, tickets: list[Ticket], state: ClientMonth) -> None:
        """Month-end credits: a share of the month's recurring fee when an urgent ticket missed
        its resolution target, a goodwill hour after a survey scored 1 or 2."""
        rng, last = self.rng, month_end(month)
        missed = [t for t in tickets if t.project is None and t.priority == "Urgent" and t.res_viol]
        if missed and state.recurring_net > 0 and rng.random() < priors.SLA_CREDIT_SHARE:
            amount = money(state.recurring_net * priors.SLA_CREDIT_SHARE_OF_FEE)
            memo = self._memo(client, last, amount, f"SLA credit: resolution target missed on "
                              f"{missed[0].display_id} ({month.strftime('%b %Y')})")
            self.planner.adjust("sla_credit", client.account_id, month, amount,
                                {"credit_memo_ids": [memo.id], "ticket_ids": [t.id for t in missed]}, key=memo.id)
        unhappy = [t for t in tickets if t.project is None and t.csat and t.csat[0] <= 2]
        if unhappy and rng.random() < priors.GOODWILL_CREDIT_SHARE:
            amount = money(client.hourly_rate * priors.GOODWILL_CREDIT_HOURS)
            memo = self._memo(client, last, amount, f"Goodwill credit: {unhappy[0].display_id} {unhappy[0].subject}")
            self.planner.adjust("goodwill_credit", client.account_id, month, amount,
                                {"credit_memo_ids": [memo.id], "ticket_ids": [unhappy[0].id]}, key=memo.id)

    def _memo(self, client: Client, when: date, amount: Decimal, reason: str) -> CreditMemo:
        item = self.items["credit"]
        memo = CreditMemo(self.ids.next("credit"), client, when, [Line(item, reason, Decimal(1), amount, amount, when)],
                          reason, client.customer_id)
        self.memos.append(memo)
        self.total += amount
        # Left unapplied (RemainingCredit): it lowers the customer's open balance.
        client.balance -= amount
        client.balances[memo.customer_id] = client.balances.get(memo.customer_id, Decimal(0)) - amount
        return memo
