"""The MSP's book as plain Python objects: technicians, the service catalogue, clients with
their sites, endpoints and agreements. `build_world` signs the opening book; the engine
then moves it month by month (endpoint adds and retirements live here too)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

from . import names, priors
from .timeline import add_months, months_between

CENT = Decimal("0.01")


def money(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def pick(rng: random.Random, weighted: list) -> object:
    values = [v for v, _ in weighted]
    return rng.choices(values, weights=[w for _, w in weighted])[0]


def price_step(rng: random.Random, lo: float, hi: float, step: int = 5) -> Decimal:
    return Decimal(round(rng.uniform(lo, hi) / step) * step)


class Ids:
    """Per-entity id counters: ids are handed out in creation order, so the same seed gives
    the same ids."""

    START: ClassVar[dict[str, int]] = {"client": 40001, "site": 50001, "contract": 60001, "change": 1, "asset": 300001,
             "tech": 9001, "ticket": 100001, "worklog": 2000001, "offered": 8000001, "customer": 58,
             "invoice": 1001, "payment": 3001, "bill": 501, "purchase": 20001, "time": 9001,
             "employee": 55, "interaction": 1, "person": 700001, "project": 80001, "credit": 6001}

    def __init__(self) -> None:
        self.counters = dict(self.START)

    def next(self, kind: str) -> str:
        value = self.counters[kind]
        self.counters[kind] = value + 1
        return str(value)


@dataclass(eq=False, slots=True)
class Technician:
    user_id: str
    first: str
    last: str
    tier: int
    speed: float
    cost: Decimal
    designation: str
    team: str
    employee_id: str
    is_account_manager: bool = False
    load: float = 0.0  # users of the clients it is primary for (balances assignment)

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(eq=False, slots=True)
class CatalogItem:
    key: str
    so_id: str | None
    qb_id: str
    name: str
    quantity_type: str
    price: Decimal
    after_hours: Decimal | None
    category: str
    qb_type: str
    cost: Decimal | None
    description: str


@dataclass(eq=False, slots=True)
class Site:
    id: str
    name: str
    customer_id: str = ""  # the QuickBooks sub-customer of a branch (HQ bills to the parent)


@dataclass(eq=False, slots=True)
class Person:
    """A client user (SuperOps getClientUserList): the seats a per-user agreement counts."""

    user_id: str
    first: str
    last: str
    email: str
    site: Site
    role: str  # "Client Admin" for the primary contact, else "Employee"


@dataclass(eq=False, slots=True)
class Asset:
    asset_id: str
    name: str
    cls: str
    platform: str
    site: Site
    added: date
    retired: date | None = None


@dataclass(eq=False, slots=True)
class Change:
    change_id: str
    effective: date
    qty: int
    op: str


@dataclass(eq=False)
class Contract:
    contract_id: str
    client: Client
    kind: str  # per_user, per_device, block_hours, time_and_materials, project
    name: str
    item: str  # catalogue key
    start: date
    end: date | None
    term_years: int
    auto_renew: bool
    escalator: int
    price: Decimal  # what SuperOps has (and offers for billing)
    hourly_rate: Decimal
    covers: str | None = None  # "users", or an asset class for per-device
    included_hours: int = 0
    expected_price: Decimal = Decimal(0)  # what the agreement says it should be now
    changes: list[Change] = field(default_factory=list)
    billed_qty: int = 0  # what the recorded changes add up to
    tracked: int = 0  # the seat count the MSP last saw (billed + missed)
    missed_seats: int = 0
    status: str = "ACTIVE"
    cancelled_on: date | None = None
    cancellation_reason: str | None = None
    lapse_until: int | None = None  # window month index the lapse ends (renewal), if lapsed
    rate_cut: tuple[int, int, Decimal] | None = None  # (from month idx, to idx, fraction)
    project_hours: float = 0.0
    project_id: str = ""  # the SuperOps project a project agreement's work is logged against
    site: Site | None = None  # a project at a branch is invoiced to the branch's sub-customer
    block_left: int = 0  # minutes of the month's block hours not used (blockItemsInfo balance)
    discount: Decimal = Decimal(0)  # negotiated discount rate in percent (billableContract.discountRate)
    updated: date | None = None

    @property
    def recurring(self) -> bool:
        return self.kind in ("per_user", "per_device", "block_hours")

    @property
    def after_hours_rate(self) -> Decimal:
        return money(self.hourly_rate * priors.AFTER_HOURS_MULTIPLIER)

    def anniversary(self, month: date) -> bool:
        return month.month == self.start.month and month.year > self.start.year

    def live(self, month: date) -> bool:
        """Billing this month: active, started, and not lapsed."""
        return self.status == "ACTIVE" and self.start <= month and self.lapse_until is None


@dataclass(eq=False)
class Client:
    index: int
    account_id: str
    name: str
    domain: str
    industry: str
    users: int
    ws_ratio: float
    growth: float
    hq: Site
    sites: list[Site]
    account_manager: Technician
    techs: dict[int, Technician]  # primary technician per tier
    onboarded: date
    onboard_idx: int  # window month index of onboarding (negative: before the window)
    ticket_factor: float
    health: float
    health_mean: float
    payer: str
    payer_days: float
    license_price: Decimal
    hourly_rate: Decimal
    qbr_cadence: int
    customer_id: str = ""
    assets: list[Asset] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    active: bool = True
    churned_on: date | None = None
    churn_reason: str | None = None
    asset_seq: dict[str, int] = field(default_factory=dict)
    # Observed history for churn drivers: one entry per month of service.
    tickets: list[int] = field(default_factory=list)
    violations: list[int] = field(default_factory=list)
    reactive: list[float] = field(default_factory=list)
    csat: list[list[int]] = field(default_factory=list)
    payments: list[tuple[date, date | None]] = field(default_factory=list)  # (due, paid)
    last_qbr_idx: int | None = None
    balance: Decimal = Decimal(0)
    balances: dict[str, Decimal] = field(default_factory=dict)  # open balance per QuickBooks customer
    people: list[Person] = field(default_factory=list)
    qb_deleted: bool = False  # made inactive in QuickBooks (DisplayName gets " (deleted)")
    updated: date | None = None
    signed_on: date | None = None  # a pipeline client: signed, going live after the window

    def active_assets(self, cls: str | None, on: date) -> list[Asset]:
        """Endpoints enrolled before `on` and not retired before it (what a bill dated `on`
        should count)."""
        return [a for a in self.assets if a.added < on and (a.retired is None or a.retired >= on)
                and (cls is None or a.cls == cls)]

    def endpoints(self, on: date) -> int:
        return sum(1 for a in self.assets if a.added <= on and (a.retired is None or a.retired > on))


def build_technicians(rng: random.Random, ids: Ids, endpoints: int, n_clients: int) -> list[Technician]:
    lo, hi = priors.ENDPOINTS_PER_TECH
    count = max(priors.MIN_TECHNICIANS, round(endpoints / rng.uniform(lo, hi)))
    managers = max(1, round(n_clients / priors.CLIENTS_PER_ACCOUNT_MANAGER))
    # Every desk needs each tier; the senior ones double as account managers (vCIO).
    tiers = [1, 2, 3] + [pick(rng, priors.TIER_SHARES) for _ in range(count - 3)]
    while tiers.count(3) < managers:
        tiers.append(3)
    techs, used = [], set()
    for tier in sorted(tiers):
        while True:
            first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
            if (first, last) not in used:
                used.add((first, last))
                break
        lo_c, hi_c = priors.BURDENED_COST[tier]
        techs.append(Technician(
            user_id=ids.next("tech"), first=first, last=last, tier=tier,
            speed=round(math.exp(rng.gauss(0, priors.TECH_SPEED_SIGMA)), 3),
            cost=money(Decimal(str(rng.uniform(lo_c, hi_c)))),
            designation={1: "Service Desk L1", 2: "Systems Engineer L2", 3: "Senior Engineer L3"}[tier],
            team={1: "Service Desk", 2: "Engineering", 3: "Engineering"}[tier],
            employee_id=ids.next("employee"),
        ))
    for tech in [t for t in techs if t.tier == 3][:managers]:
        tech.is_account_manager = True
        tech.designation = "vCIO / Account Manager"
    return techs


def catalog(ids: Ids) -> dict[str, CatalogItem]:
    """The service catalogue (SuperOps service items) and the matching QuickBooks items."""
    d = Decimal
    rows = [
        # key, in SuperOps, name, quantity type, list price, after hours, category, QB type, cost
        ("ws", True, "Managed Workstation", "UNITS", d("75.00"), None, "Managed services", "Service", None),
        ("srv", True, "Managed Server", "UNITS", d("175.00"), None, "Managed services", "Service", None),
        ("user", True, "Managed User", "UNITS", d("175.00"), None, "Managed services", "Service", None),
        ("block", True, "Block Hours", "BLOCK_HOURS", d("125.00"), None, "Managed services", "Service", None),
        ("remote", True, "Remote Support", "HOURS", d("150.00"), d("225.00"), "Labour", "Service", None),
        ("onsite", True, "Onsite Support", "HOURS", d("165.00"), d("247.50"), "Labour", "Service", None),
        ("project", True, "Project Labour", "HOURS", d("225.00"), None, "Projects", "Service", None),
        ("offboard", True, "Offboarding Labour", "HOURS", d("150.00"), None, "Labour", "Service", None),
        ("r_license", False, "Reimbursable License", "UNITS", d("0"), None, "", "NonInventory", d("0")),
        ("r_hardware", False, "Reimbursable Hardware", "UNITS", d("0"), None, "", "NonInventory", d("0")),
        ("r_sub", False, "Reimbursable Subcontractor", "UNITS", d("0"), None, "", "NonInventory", d("0")),
        ("r_expense", False, "Reimbursable Expense", "UNITS", d("0"), None, "", "NonInventory", d("0")),
        ("credit", False, "Service Credit", "UNITS", d("0"), None, "", "Service", None),
    ]
    items, so_id, qb_id = {}, 7001, 1
    for key, in_so, name, qtype, price, after, category, qb_type, cost in rows:
        items[key] = CatalogItem(key, str(so_id) if in_so else None, str(qb_id), name, qtype, price, after,
                                 category, qb_type, cost, f"{name} ({qtype.lower().replace('_', ' ')})")
        so_id += 1 if in_so else 0
        qb_id += 1
    return items


def draw_users(rng: random.Random) -> int:
    # Inverse CDF of a Pareto(alpha) truncated at USERS_MAX, then a soft floor.
    a, lo, hi = priors.USERS_PARETO_ALPHA, priors.USERS_MIN, priors.USERS_MAX
    u = rng.random()
    tail = (lo / hi) ** a
    users = lo / (1 - u * (1 - tail)) ** (1 / a)
    if users < lo + 1 and rng.random() < 0.5:
        users = rng.uniform(priors.USERS_SMALLEST, lo)
    return max(priors.USERS_SMALLEST, int(users))


def target_counts(client: Client) -> dict[str, int]:
    users = client.users
    servers = 0 if users < priors.SERVER_MIN_USERS else max(1, round(users * priors.SERVERS_PER_USER))
    base, per = priors.NETWORK_DEVICES
    return {"Workstation": max(1, round(users * client.ws_ratio)), "Server": servers,
            "Network Device": base + int(users * per)}


PLATFORMS = {"Workstation": [("Windows", 85), ("macOS", 15)], "Server": [("Windows", 80), ("Linux", 20)],
             "Network Device": [("Network", 1)]}
CLASS_CODE = {"Workstation": "WS", "Server": "SRV", "Network Device": "NET"}


def add_asset(rng: random.Random, ids: Ids, client: Client, cls: str, added: date) -> Asset:
    n = client.asset_seq.get(cls, 0) + 1
    client.asset_seq[cls] = n
    site = client.hq if len(client.sites) == 1 or rng.random() < 0.7 else rng.choice(client.sites[1:])
    asset = Asset(ids.next("asset"), f"{names.asset_prefix(client.name)}-{CLASS_CODE[cls]}-{n:03d}", cls,
                  pick(rng, PLATFORMS[cls]), site, added)
    client.assets.append(asset)
    return asset


def new_client(rng: random.Random, ids: Ids, index: int, users: int, onboard_idx: int, onboarded: date,
               managers: list[Technician], techs: list[Technician], taken: tuple[set, set]) -> Client:
    industry = pick(rng, priors.INDUSTRIES)
    name = names.company_name(rng, industry, taken[0])
    hq = Site(ids.next("site"), "HQ")
    sites = [hq]
    if users > priors.BRANCH_SITE_USERS:
        for city in rng.sample(names.CITIES, rng.randint(1, 3)):
            sites.append(Site(ids.next("site"), f"Branch - {city}"))
    payer = pick(rng, [((n, m), s) for n, s, m in priors.PAYER_PROFILES])
    tier_pool = {t: [x for x in techs if x.tier == t and not x.is_account_manager] or
                 [x for x in techs if x.tier == t] for t in (1, 2, 3)}
    lo_h, hi_h = priors.HOURLY_RATE
    h_mean = rng.gauss(*priors.HEALTH_MEAN)
    cadence = next(c for floor, c in priors.QBR_CADENCE if users >= floor)
    return Client(
        index=index, account_id=ids.next("client"), name=name, domain=names.domain_for(name, taken[1]),
        industry=industry, users=users, ws_ratio=rng.uniform(*priors.WORKSTATIONS_PER_USER),
        growth=rng.gauss(priors.USER_GROWTH_MEAN, priors.USER_GROWTH_SD), hq=hq, sites=sites,
        account_manager=managers[index % len(managers)],
        techs={t: _least_loaded(pool, users) for t, pool in tier_pool.items()},
        onboarded=onboarded, onboard_idx=onboard_idx,
        ticket_factor=math.exp(rng.gauss(0, priors.CLIENT_TICKET_SIGMA) - priors.CLIENT_TICKET_SIGMA ** 2 / 2),
        health=h_mean + rng.gauss(0, 0.3), health_mean=h_mean, payer=payer[0], payer_days=payer[1],
        license_price=pick(rng, priors.LICENSE_PER_USER), hourly_rate=price_step(rng, lo_h, hi_h),
        qbr_cadence=cadence,
    )


def _least_loaded(pool: list[Technician], users: int) -> Technician:
    """The service manager gives a new client's primary to whoever carries least."""
    tech = min(pool, key=lambda t: t.load)
    tech.load += users
    return tech


def sign_contracts(rng: random.Random, ids: Ids, client: Client, start: date, window_start: date) -> None:
    """The client's agreement, priced from the published ranges. For a client signed before
    the window, the term is rolled forward (auto-renewals, re-signs) to the one running when
    the window opens, and the seat count is trued up at the last anniversary."""
    small = client.users < 10
    mix = priors.CONTRACT_MIX_SMALL if small else priors.CONTRACT_MIX_LARGE
    kind = rng.choices(["per_user", "per_device", "block_hours", "time_and_materials"], weights=mix)[0]
    term = pick(rng, priors.TERMS_YEARS)
    auto = rng.random() < priors.AUTO_RENEW_SHARE
    escalator = pick(rng, priors.ESCALATORS) if kind != "time_and_materials" else 0
    negotiated = Decimal(0)  # percent off a per-seat fee (a block's discount is in its price)
    share, rates = priors.DISCOUNTS.get(client.industry, (0.0, ()))
    if term == 3 and not rates:
        share, rates = priors.MULTI_YEAR_DISCOUNT
    if kind in ("per_user", "per_device") and rng.random() < share:
        negotiated = Decimal(rng.choice(rates))
    end = add_months(start, 12 * term) - timedelta(days=1)
    while end < window_start:
        end = add_months(end + timedelta(days=1), 12 * (1 if auto else term)) - timedelta(days=1)
    specs = []
    if kind == "per_user":
        specs.append(("Managed Users", "user", "users", price_band(rng)))
    elif kind == "per_device":
        specs.append(("Managed Workstations", "ws", "Workstation", price_step(rng, *priors.WORKSTATION_PRICE)))
        if target_counts(client)["Server"]:
            lo, hi = priors.SERVER_PRICE
            specs.append(("Managed Servers", "srv", "Server",
                          Decimal(int(rng.triangular(lo, hi, priors.SERVER_PRICE_MODE) / 5) * 5)))
    elif kind == "block_hours":
        hours = pick(rng, priors.BLOCK_HOURS_CHOICES)
        discount = Decimal(str(round(rng.uniform(*priors.BLOCK_DISCOUNT), 2)))
        block_price = Decimal(int(hours * client.hourly_rate * (1 - discount) / 5) * 5)
        specs.append((f"Block Hours ({hours} h/month)", "block", None, block_price))
    else:
        specs.append(("Time and Materials", "remote", None, client.hourly_rate))
    for name, item, covers, price in specs:
        contract = Contract(
            contract_id=ids.next("contract"), client=client, kind=kind, name=name, item=item, start=start,
            end=None if kind == "time_and_materials" else end, term_years=term, auto_renew=auto,
            escalator=escalator, price=price, expected_price=price, hourly_rate=client.hourly_rate,
            covers=covers, included_hours=hours if kind == "block_hours" else 0, discount=negotiated,
        )
        client.contracts.append(contract)


def price_band(rng: random.Random) -> Decimal:
    lo, hi = pick(rng, priors.PER_USER_PRICE_BANDS)
    return price_step(rng, lo, hi)


def last_anniversary(contract: Contract, on: date) -> date:
    years = max(0, months_between(contract.start, on) // 12)
    return add_months(contract.start, 12 * years)
