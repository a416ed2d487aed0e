"""A client's own life month to month: staff joining and leaving, endpoints enrolled,
refreshed and retired, and the account manager's touchpoints (QBRs, calls, emails, visits)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from . import names, priors
from .desk import poisson
from .timeline import minute, ts
from .world import Client, Ids, add_asset, target_counts

CLASSES = ("Workstation", "Server", "Network Device")


def _day_in(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def enroll_initial(rng: random.Random, ids: Ids, client: Client, before: date, earliest: date) -> None:
    """The endpoints a client already has: enrolled between `earliest` and the day before
    `before` (at onboarding, during the two weeks of set-up)."""
    span = max(1, (before - earliest).days)
    for cls, count in target_counts(client).items():
        for _ in range(count):
            add_asset(rng, ids, client, cls, earliest + timedelta(days=rng.randrange(span)))
    client.assets.sort(key=lambda a: (a.added, a.asset_id))


def evolve(rng: random.Random, ids: Ids, client: Client, first: date, last: date) -> list[tuple]:
    """Hires, leavers, device adds, refreshes and retirements dated inside the month.
    Returns desk events: (kind, day, asset or None)."""
    events = []
    leavers = min(client.users - 1, poisson(rng, client.users * priors.USER_LEAVE_RATE))
    hires = poisson(rng, client.users * max(0.0, priors.USER_LEAVE_RATE + client.growth))
    client.users += hires - leavers
    events += [("leaver", _day_in(rng, first, last), None) for _ in range(leavers)]
    events += [("hire", _day_in(rng, first, last), None) for _ in range(hires)]
    targets = target_counts(client)
    for cls in CLASSES:
        live = [a for a in client.assets if a.cls == cls and a.retired is None]
        delta = targets[cls] - len(live)
        if cls == "Server" and not live:
            delta = 0  # a client without a server room does not grow one
        if delta > 0:
            for _ in range(delta):
                day = _day_in(rng, first, last)
                events.append(("device", day, add_asset(rng, ids, client, cls, day)))
        elif delta < 0:
            for asset in rng.sample(live, -delta):
                asset.retired = _day_in(rng, max(first, asset.added), last)
                live.remove(asset)
        if cls == "Workstation":
            for asset in live:
                if rng.random() < priors.REFRESH_RATE and asset.added < first:
                    day = _day_in(rng, first, last)
                    asset.retired = day
                    events.append(("device", day, add_asset(rng, ids, client, cls, day)))
    return events


def offboard_assets(client: Client, when: date) -> None:
    for asset in client.assets:
        if asset.retired is None:
            asset.retired = max(when, asset.added)


@dataclass(slots=True)
class Interaction:
    id: str
    client: Client
    kind: str
    at: int
    owner: str
    summary: str
    sentiment: int

    def payload(self) -> dict:
        return {"id": self.id, "clientId": self.client.account_id, "kind": self.kind, "occurredAt": ts(self.at),
                "owner": self.owner, "summary": self.summary, "sentiment": self.sentiment}


def touchpoints(rng: random.Random, ids: Ids, client: Client, first: date, last: date, m: int) -> list[Interaction]:
    """QBRs at the client's cadence (skipped more often when the relationship is poor),
    plus calls, emails and, for larger clients, site visits."""
    out = []
    h = client.health
    due_from = client.last_qbr_idx if client.last_qbr_idx is not None else min(client.onboard_idx, 0) - rng.randrange(
        client.qbr_cadence)
    kinds = []
    if m - due_from >= client.qbr_cadence:
        a, b = priors.QBR_SKIP
        skip = 1 / (1 + math.exp(a + b * h))
        if rng.random() >= skip:
            kinds.append("qbr")
            client.last_qbr_idx = m
        elif client.last_qbr_idx is None:
            client.last_qbr_idx = due_from
    kinds += ["call"] * poisson(rng, priors.CALLS + (priors.CALLS_UNHAPPY if h < 0 else 0.0))
    kinds += ["email"] * poisson(rng, priors.EMAILS)
    if client.users >= priors.SITE_VISIT_USERS:
        kinds += ["onsite"] * poisson(rng, priors.SITE_VISITS)
    for kind in kinds:
        day = _day_in(rng, first, last)
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        if day < first:
            day += timedelta(days=3)
        s = h + rng.gauss(0, 0.7)
        sentiment = 1 if s > 0.5 else -1 if s < -0.5 else 0
        owner = client.account_manager.name if kind in ("qbr", "call") else client.techs[2].name
        out.append(Interaction("I-" + ids.next("interaction"), client, kind, minute(day, 9) + rng.randrange(8 * 60),
                               owner, names.INTERACTION_SUMMARIES[kind][sentiment], sentiment))
    return out


def endpoint_count(client: Client, on: date) -> int:
    return sum(1 for a in client.assets if a.added <= on and (a.retired is None or a.retired >= on))
