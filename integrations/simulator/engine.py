"""Runs the simulated MSP month by month and streams every record to the dump folder.

Order within a month (why: each step sees what a real MSP would know at that moment):
1st of the month - onboard new clients, agreement events (renewals, escalators, true-ups,
seat changes), recurring invoices, the licence bill; during the month - staff (and the
client's user list) and endpoint changes, tickets, ticket and project worklogs; month end -
billing of the month's work, churn decisions, arrears/project/final invoices with rebilled
expenses (branch hardware to the branch's sub-customer), credit memos, overheads, QBRs and calls.
After the last month, the sales pipeline: clients signed but going live after the end (pipeline.py).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from . import accounts, priors, quickbooks, superops
from .agreements import Agreements
from .badrecords import BadRecords
from .churn import ChurnModel
from .credits import Credits
from .desk import Desk, Ticket
from .expenses import Expenses
from .invoicing import ClientMonth, Invoicing
from .leaks import LeakPlanner
from .people import People
from .pipeline import sign_pipeline
from .timeline import DAY, MonthDays, add_months, month_end, months_between, qb_ts
from .world import (
    Client,
    Ids,
    build_technicians,
    catalog,
    draw_users,
    new_client,
    sign_contracts,
    target_counts,
)
from .writer import (
    PagedList,
    local_list,
    prepare,
    quickbooks_list,
    superops_list,
    write_json,
    write_page,
)

GENERATOR = "superhack-simulator/1"


class Simulation:
    def __init__(self, clients: int, months: int, seed: int, leak_rate: float, churn_rate: float,
                 out_dir: Path, end_month: date, bad_records: int = 0, pipeline: bool = True):
        if clients < 1 or months < 1:
            raise ValueError("a world needs at least one client and one month")
        self.n_clients, self.n_months, self.seed = clients, months, seed
        self.leak_rate, self.churn_rate = leak_rate, churn_rate
        self.with_pipeline = pipeline  # off: the world as it was before pipelines (a test's baseline)
        self.months = [add_months(end_month.replace(day=1), i - months + 1) for i in range(months)]
        self.start, self.end = self.months[0], month_end(self.months[-1])
        self.now = self.end.toordinal() * DAY + DAY - 1
        self.rng = random.Random(seed)
        self.rng_accounts = random.Random(f"{seed}:accounts")
        self.ids = Ids()
        self.planner = LeakPlanner(leak_rate, seed)
        self.items = catalog(self.ids)
        self.agreements = Agreements(self.rng, self.ids, self.planner)
        self.invoicing = Invoicing(random.Random(f"{seed}:books"), self.ids, self.planner, self.items, self.end)
        self.credits = Credits(random.Random(f"{seed}:credits"), self.ids, self.planner, self.items)
        self.expenses = Expenses(random.Random(f"{seed}:expenses"), self.ids, self.planner, self.items)
        self.churn = ChurnModel(random.Random(f"{seed}:churn"), churn_rate)
        self.people = People(random.Random(f"{seed}:people"), self.ids)
        self.rng_books = random.Random(f"{seed}:quickbooks-admin")
        self.bad = BadRecords(seed, bad_records) if bad_records else None
        self.root = prepare(out_dir)
        time = qb_ts((self.end + timedelta(days=1)).toordinal() * DAY)
        self.lists: dict[str, PagedList] = {q: superops_list(self.root, q, k) for q, k in superops.QUERIES.items()}
        self.lists.update({e: quickbooks_list(self.root, e, time) for e in quickbooks.ENTITIES})
        self.lists["interactions"] = local_list(self.root, "interactions")
        self.churn_events: list[dict] = []
        self.client_months = 0
        self.pipeline: list[Client] = []

    # --- the opening book -----------------------------------------------------------------------
    def build(self) -> None:
        rng, ids = self.rng, self.ids
        n = self.n_clients
        sizes = [draw_users(rng) for _ in range(n)]
        existing = max(1, round(n * priors.EXISTING_SHARE)) if self.n_months > 1 else n
        self.onboarded_in_window = n - existing
        onboard = [0] * existing + sorted(rng.randrange(1, self.n_months) for _ in range(n - existing))
        est_endpoints = sum(s * 1.45 + 2 for s in sizes)
        self.techs = build_technicians(rng, ids, int(est_endpoints), n)
        managers = [t for t in self.techs if t.is_account_manager]
        taken: tuple[set, set] = (set(), set())
        self.taken = taken  # names and domains in use, for the pipeline's clients
        self.clients: list[Client] = []
        for i in range(n):
            if i < existing:
                tenure = rng.randint(*priors.EXISTING_TENURE_MONTHS)
                onboarded, idx = add_months(self.start, -tenure), -tenure
            else:
                idx = onboard[i]
                onboarded = self.months[idx]
            c = new_client(rng, ids, i, sizes[i], idx, onboarded, managers, self.techs, taken)
            c.customer_id = ids.next("customer")
            for site in c.sites[1:]:
                site.customer_id = ids.next("customer")  # each branch is a QuickBooks sub-customer
            self.people.sync(c)
            c.active = i < existing
            if c.active:
                years = months_between(onboarded, self.start) // 12
                baseline_day = add_months(onboarded, 12 * years)
                earliest = max(onboarded - timedelta(days=14), add_months(baseline_day, -48))
                accounts.enroll_initial(rng, ids, c, baseline_day, earliest)
                sign_contracts(rng, ids, c, onboarded, self.start)
                self.agreements.open_book(c, self.start)
            self.clients.append(c)
        self.desk = Desk(random.Random(f"{self.seed}:desk"), self.techs, self.now)

    # --- one month --------------------------------------------------------------------------------
    def run_month(self, m: int) -> None:
        rng, ids = self.rng, self.ids
        month = self.months[m]
        last = month_end(month)
        days = MonthDays(month)
        for c in self.clients:
            if c.onboard_idx == m and not c.active and c.churned_on is None:
                accounts.enroll_initial(rng, ids, c, month, month - timedelta(days=14))
                sign_contracts(rng, ids, c, month, self.start)
                self.agreements.onboard(c, month, m)
                c.active = True
        active = [c for c in self.clients if c.active]
        self.client_months += len(active)
        states: dict[str, ClientMonth] = {}
        for c in active:
            if c.onboard_idx < m:
                self.agreements.start_of_month(c, month, m)
            states[c.account_id] = ClientMonth()
            self.invoicing.recurring(c, month, m, states[c.account_id])
        per_user = {c.account_id for c in active if any(k.kind == "per_user" for k in c.contracts)}
        endpoints = {c.account_id: accounts.endpoint_count(c, month) for c in active}
        self.expenses.licenses(active, month, per_user, endpoints)
        self.expenses.client_extras(active, month, last)
        events = {}
        for c in active:
            events[c.account_id] = accounts.evolve(rng, ids, c, month, last)
            self.people.sync(c)
            for kind, day, asset in events[c.account_id]:
                if kind == "device":
                    self.expenses.hardware(c, asset.cls, asset.name, day, asset.site)

        by_client: dict[str, list[Ticket]] = {}
        tickets: list[Ticket] = []
        for c in active:
            projects = [k for k in c.contracts if k.kind == "project" and k.status == "ACTIVE" and k.start <= month
                        and k.project_hours > 0.5]
            by_client[c.account_id] = self.desk.client_month(c, m, days, events[c.account_id], projects)
            tickets.extend(by_client[c.account_id])
        tickets.sort(key=lambda t: (t.created, t.client.index))
        for t in tickets:
            # Project work is logged against the project (worklog module PROJECT), not a ticket.
            t.id = t.project.project_id if t.project is not None else ids.next("ticket")
        worklogs = [w for t in tickets for w in t.worklogs]
        worklogs.sort(key=lambda w: (w.start, int(w.ticket.id)))
        for w in worklogs:
            w.id = ids.next("worklog")

        for c in active:
            mine = by_client[c.account_id]
            self.invoicing.bill_work(c, mine, month, states[c.account_id])
            self._observe(c, [t for t in mine if t.project is None], endpoints[c.account_id] or 1)
        leaving = self.churn.decide(active, m, last)
        churned = {c.account_id for c, _, _ in leaving}
        interactions = []
        for c in active:
            state = states[c.account_id]
            self.invoicing.month_end(c, month, state, self.expenses.rebills(c, month), c.account_id in churned)
            self.credits.grant(c, month, by_client[c.account_id], state)
            self._lapse_leaks(c, month, state, by_client[c.account_id])
            interactions += accounts.touchpoints(self.rng_accounts, ids, c, month, last, m)
        for c, drivers, reason in leaving:
            self._leave(c, last, drivers, reason)
        for c in active:
            self.churn.drift(c)
        self.expenses.overheads(month, last, self.techs, sum(endpoints.values()))
        for w in worklogs:
            self.expenses.onsite_time(w)
        self._emit_month(tickets, worklogs, interactions)

    def sign_pipeline(self) -> None:
        """After the last month: the clients signed but not live yet (pipeline.py)."""
        per_month = self.onboarded_in_window / self.n_months
        self.pipeline = sign_pipeline(self.seed, self.ids, per_month, self.end, self.start, len(self.clients),
                                      self.techs, self.taken)
        self.clients.extend(self.pipeline)

    def _observe(self, c: Client, tickets: list[Ticket], endpoints: int) -> None:
        """What the month looked like from outside: the churn drivers' raw material."""
        reactive = [t for t in tickets if t.ttype == "INCIDENT"]
        c.tickets.append(len(tickets))
        c.violations.append(sum(1 for t in tickets if t.violated))
        c.reactive.append(len(reactive) / endpoints)
        c.csat.append([t.csat[0] for t in tickets if t.csat])

    def _lapse_leaks(self, c: Client, month: date, state: ClientMonth, tickets: list[Ticket]) -> None:
        for contract, amount in state.lapsed:
            covered = [w for t in tickets for w in t.worklogs if w.status == "UNDER_CONTRACT" and t.project is None]
            self.planner.record("expired_contract_work", c.account_id, month, amount, {
                "contract_id": contract.contract_id, "end_date": contract.end.isoformat(),
                "ticket_ids": [t.id for t in tickets if t.project is None][:25],
                "worklog_ids": [w.id for w in covered][:50]}, key=contract.contract_id)

    def _leave(self, c: Client, last: date, drivers: dict, reason: str) -> None:
        c.active, c.churned_on, c.churn_reason = False, last, reason
        self.agreements.cancel_all(c, last, reason)
        accounts.offboard_assets(c, last)
        self.expenses.drop_client(c)
        self.churn_events.append({"client_id": c.account_id, "name": c.name, "churned_on": last.isoformat(),
                                  "reason": reason, "drivers": drivers})

    # --- output -----------------------------------------------------------------------------------
    def emit(self, key: str, record: dict) -> None:
        lst = self.lists[key]
        lst.add(record)
        if self.bad is not None:
            bad = self.bad.after(key, record)
            if bad is not None:
                lst.add(bad)
                page, index = lst.position()
                self.bad.listed[-1].update(file=page, index=index)

    def _emit_month(self, tickets: list[Ticket], worklogs: list, interactions: list) -> None:
        items, emit = self.items, self.emit
        for t in tickets:
            if t.project is None:
                emit("getTicketList", superops.ticket(t))
        for w in worklogs:
            emit("getWorklogEntries", superops.worklog(w, items))
        for o in self.invoicing.offered:
            emit("getOfferedItems", superops.offered_item(o))
        for inv in self.invoicing.invoices:
            emit("Invoice", quickbooks.invoice(inv))
        for p in self.invoicing.payments:
            emit("Payment", quickbooks.payment(p))
        for memo in self.credits.memos:
            emit("CreditMemo", quickbooks.credit_memo(memo))
        self.expenses.close_month()
        for doc in self.expenses.docs:
            emit(doc.kind, quickbooks.bill(doc) if doc.kind == "Bill" else quickbooks.purchase(doc))
        for t in self.expenses.times:
            emit("TimeActivity", quickbooks.time_activity(t, items))
        for i in interactions:
            emit("interactions", i.payload())
        for t in tickets:
            t.worklogs = None  # break ticket <-> worklog cycles so memory is freed without the GC
        self.invoicing.offered, self.invoicing.invoices, self.invoicing.payments = [], [], []
        self.credits.memos = []
        self.expenses.docs, self.expenses.times = [], []

    def finish(self) -> Path:
        rng, emit, end = self.rng, self.emit, self.end
        next_bill = end + timedelta(days=1)
        for c in self.clients:
            updated = c.churned_on or end
            # A bookkeeper makes most departed clients inactive in QuickBooks once they owe
            # nothing (Intuit then renames them "... (deleted)"); the rest stay active.
            c.qb_deleted = (c.churned_on is not None and c.balance <= 0
                            and self.rng_books.random() < priors.QB_INACTIVATE_CHURNED)
            emit("getClientList", superops.client(c))
            if c.signed_on is not None:
                # Signed, not live: no QuickBooks customer until its first invoice (the PSA's
                # accounting sync creates the customer with it), no users or endpoints yet.
                continue
            for record in quickbooks.customers(c, updated):
                emit("Customer", record)
            for person in c.people:
                emit("getClientUserList", superops.client_user(person, c))
        for t in self.techs:
            emit("getTechnicianList", superops.technician(t))
            emit("Employee", quickbooks.employee(t, add_months(self.start, -24)))
        for item in self.items.values():
            if item.so_id:
                emit("getServiceItemList", superops.service_item(item))
            emit("Item", quickbooks.item(item, add_months(self.start, -120)))
        contracts = sorted((k for c in self.clients for k in c.contracts), key=lambda k: int(k.contract_id))
        for k in contracts:
            live = k.recurring and k.status == "ACTIVE"
            # A pipeline agreement's first bill is on its start (go-live) date.
            bill = max(next_bill, k.start) if live else None
            emit("getClientContractList", superops.contract(k, self.items, bill))
        assets = [(a, c) for c in self.clients for a in c.assets]
        assets.sort(key=lambda ac: int(ac[0].asset_id))
        for a, c in assets:
            emit("getAssetList", superops.asset(a, c, self.now - rng.randrange(600)))
        hashes = {}
        for query, body in superops.vocabularies(onboarding=bool(self.pipeline)).items():
            hashes[f"superops/{query}/page-0001.json"] = write_page(self.root, f"superops/{query}/page-0001.json",
                                                                    body)
        for lst in self.lists.values():
            hashes.update(lst.close())
        truth = self._truth()
        hashes["truth.json"] = write_json(self.root / "truth.json", truth)
        manifest = {
            "generator": GENERATOR, "seed": self.seed, "clients": self.n_clients, "months": self.n_months,
            "start": self.start.isoformat(), "end": end.isoformat(), "end_month": end.strftime("%Y-%m"),
            "leak_rate": self.leak_rate, "churn_rate": self.churn_rate,
            "bad_records": len(self.bad.listed) if self.bad else 0,
            "counts": {k: lst.count for k, lst in self.lists.items()},
            "files": dict(sorted(hashes.items())),
        }
        write_json(self.root / "manifest.json", manifest)
        return self.root

    def _truth(self) -> dict:
        leaks, summary = self.planner.truth()
        revenue = self.invoicing.revenue
        years = self.client_months / 12
        summary.update({
            "revenue_total": str(revenue),
            "revenue_by_item": {k: str(v) for k, v in sorted(self.invoicing.revenue_by_kind.items())},
            "expense_total": str(self.expenses.cost_total),
            "credit_memo_total": str(self.credits.total),
            "leak_share_of_revenue": round(float(Decimal(summary["leak_amount_total"]) / revenue), 4) if revenue else 0,
            "clients_total": self.n_clients, "clients_churned": len(self.churn_events),
            "annual_churn_rate_observed": round(len(self.churn_events) / years, 4) if years else 0,
        })
        return {
            "seed": self.seed, "generator": GENERATOR, "start": self.start.isoformat(), "end": self.end.isoformat(),
            "leaks": leaks, "adjustments": self.planner.adjustment_rows(), "churn": self.churn_events,
            # Signed, going live after the end: the known future onboardings.
            "pipeline": [{"client_id": c.account_id, "name": c.name, "signed_on": c.signed_on.isoformat(),
                          "go_live": c.onboarded.isoformat(), "users": c.users,
                          "contract_ids": [k.contract_id for k in c.contracts]} for c in self.pipeline],
            "bad_records": self.bad.listed if self.bad else [],
            "summary": summary,
            "technicians": [{"userId": t.user_id, "name": t.name, "tier": t.tier, "speed": t.speed,
                             "burdenedHourlyCost": str(t.cost)} for t in self.techs],
            "clients": {c.account_id: {"ticket_factor": round(c.ticket_factor, 3),
                                       "health_mean": round(c.health_mean, 3),
                                       "payer": c.payer, "users": c.users,
                                       "quickbooks_inactive": c.qb_deleted,
                                       # The answer a client matcher is judged against: a real
                                       # SuperOps client holds no QuickBooks id.
                                       "quickbooks_customer_id": c.customer_id or None,
                                       "endpoint_target": sum(target_counts(c).values())}
                        for c in self.clients},
        }

    def run(self) -> Path:
        self.build()
        for m in range(self.n_months):
            self.run_month(m)
        if self.with_pipeline:
            self.sign_pipeline()
        return self.finish()
