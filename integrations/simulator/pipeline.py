"""The sales pipeline at the world's end: clients that signed in the window's last weeks and
go live after it, so the tenant shows known future onboardings.

Signings arrive as a Poisson process at the world's own onboarding rate (new clients a month
in the simulated months), each with a notice (signing to go-live) of priors.PIPELINE_NOTICE_DAYS.
A client is in the pipeline when it signed on or before the last day and goes live after it;
any number, zero included, can be. Everything here draws from its own random stream and takes
ids only after the last month is done, so every record of the world without it is unchanged.

What a tenant holds for such a client: the client (stage Customer, status "Onboarding", the
go-live date as onboardedOn, its HQ site) and its agreements, in force from the go-live date
(contractStatus ACTIVE: signed, not a DRAFT; the first bill that day), seats as a BASELINE
change dated that day. No tickets, worklogs, users, endpoints or invoices yet, and no
QuickBooks customer: bookkeeping starts with the first invoice (see `engine.finish`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from . import priors
from .agreements import baseline
from .timeline import months_between
from .world import Client, Ids, Technician, draw_users, new_client, sign_contracts, target_counts

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Signing:
    signed_on: date
    go_live: date


def signings(rng: random.Random, per_month: float, last_day: date) -> list[Signing]:
    """The clients signed on or before `last_day` that go live after it, oldest first.

    Only a signing within the longest notice of the end can still be waiting, so the process
    is walked over those days alone: inter-arrival gaps are exponential at the daily rate, and
    each signing draws its notice (which favours the longer notices among those still
    waiting, as a real pipeline does)."""
    if per_month <= 0:
        return []
    lo, hi = priors.PIPELINE_NOTICE_DAYS
    per_day = per_month / DAYS_PER_MONTH
    first_day = last_day - timedelta(days=hi - 1)
    found, t = [], rng.expovariate(per_day)
    while t < hi:
        signed = first_day + timedelta(days=int(t))
        go_live = signed + timedelta(days=rng.randint(lo, hi))
        if go_live > last_day:
            found.append(Signing(signed, go_live))
        t += rng.expovariate(per_day)
    return found


def term_end(start: date, years: int) -> date:
    """The day before the `years`th anniversary (a 29 February start: the day before 1 March)."""
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:
        anniversary = date(start.year + years, 3, 1)
    return anniversary - timedelta(days=1)


def sign_pipeline(seed: int, ids: Ids, per_month: float, last_day: date, window_start: date, first_index: int,
                  techs: list[Technician], taken: tuple[set, set]) -> list[Client]:
    """Pipeline clients, sized and contracted like the others (same draws), with their
    agreements starting on the go-live date. `taken` holds the names and domains in use."""
    rng = random.Random(f"{seed}:pipeline")
    managers = [t for t in techs if t.is_account_manager]
    clients = []
    for n, signing in enumerate(signings(rng, per_month, last_day)):
        users = draw_users(rng)
        idx = months_between(window_start, signing.go_live)  # past the window's last month
        c = new_client(rng, ids, first_index + n, users, idx, signing.go_live, managers, techs, taken)
        c.active, c.signed_on = False, signing.signed_on
        sign_contracts(rng, ids, c, signing.go_live, window_start)
        targets = target_counts(c)
        for contract in c.contracts:
            if contract.end is not None:
                # sign_contracts' terms run from a 1st of the month; this one from go-live.
                contract.end = term_end(signing.go_live, contract.term_years)
            if contract.covers:
                # The quoted seats: users, or the endpoints the discovery counted.
                qty = c.users if contract.covers == "users" else targets[contract.covers]
                baseline(contract, signing.go_live, qty)
        clients.append(c)
    return clients
