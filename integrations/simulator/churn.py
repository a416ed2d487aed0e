"""Why clients leave: a hidden health that drifts, observable drivers it moves (SLA misses,
CSAT, reactive load, late payment, skipped QBRs) plus renewal timing and noise, and a
logistic monthly hazard calibrated each month so the book loses --churn-rate a year."""

from __future__ import annotations

import math
import random
from datetime import date

from . import priors
from .timeline import add_months
from .world import Client


def _sigmoid(x: float) -> float:
    if x < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


class ChurnModel:
    def __init__(self, rng: random.Random, churn_rate: float):
        self.rng = rng
        self.monthly = 1 - (1 - churn_rate) ** (1 / 12) if churn_rate > 0 else 0.0

    def drift(self, client: Client) -> None:
        rng = self.rng
        h = client.health
        h += priors.HEALTH_REVERSION * (client.health_mean - h) + rng.gauss(0, priors.HEALTH_SD)
        if rng.random() < priors.HEALTH_SHOCK_RATE:
            h += priors.HEALTH_SHOCK
        client.health = max(-3.0, min(3.0, h))

    def drivers(self, client: Client, m: int, last: date) -> dict:
        """What an observer of the payloads could measure at the end of month m."""
        tickets = sum(client.tickets[-3:])
        sla = sum(client.violations[-3:]) / tickets if tickets else 0.08
        scores = [s for month in client.csat[-6:] for s in month]
        csat = sum(scores) / len(scores) if scores else 4.5
        recent = client.reactive[-3:]
        earlier = client.reactive[-12:-3] or client.reactive[:3]
        base = sum(earlier) / len(earlier) if earlier else 0.0
        trend = (sum(recent) / len(recent)) / base if recent and base > 0 else 1.0
        horizon = last.toordinal() - 183
        late = [max(0, ((paid or last) - due).days) for due, paid in client.payments
                if horizon <= due.toordinal() <= last.toordinal()]
        late_days = sum(late) / len(late) if late else 0.0
        since = m - (client.last_qbr_idx if client.last_qbr_idx is not None else min(client.onboard_idx, 0))
        qbr_overdue = max(0, since - client.qbr_cadence)
        soon = add_months(last.replace(day=1), 3)
        renewal = any(c.recurring and c.end is not None and (c.lapse_until is not None or
                      (c.status == "ACTIVE" and c.end < soon)) for c in client.contracts)
        return {"sla_violation_rate_3m": round(sla, 4), "csat_avg_6m": round(csat, 3),
                "reactive_trend": round(trend, 3), "avg_days_late_6m": round(late_days, 1),
                "months_since_qbr": since, "qbr_overdue_months": qbr_overdue, "renewal_due": renewal,
                "health": round(client.health, 3)}

    def _score(self, d: dict) -> dict[str, float]:
        w = priors.HAZARD_WEIGHTS
        return {
            "sla": w["sla"] * (d["sla_violation_rate_3m"] - 0.08) / 0.05,
            "csat": w["csat"] * (4.5 - d["csat_avg_6m"]) / 0.4,
            "reactive": w["reactive"] * (d["reactive_trend"] - 1.0) / 0.3,
            "late": w["late"] * d["avg_days_late_6m"] / 15,
            "qbr": w["qbr"] * min(d["qbr_overdue_months"], 6) / 3,
            "renewal": w["renewal"] * (1.0 if d["renewal_due"] else 0.0),
            "noise": w["noise"] * self.rng.gauss(0, 1),
        }

    def decide(self, clients: list[Client], m: int, last: date) -> list[tuple[Client, dict, str]]:
        """Which clients leave at the end of month m, with the drivers and main reason."""
        if not self.monthly:
            return []
        scored = []
        for client in clients:
            if m - client.onboard_idx < priors.NEW_CLIENT_GRACE_MONTHS:
                continue
            drivers = self.drivers(client, m, last)
            parts = self._score(drivers)
            scored.append((client, drivers, parts, sum(parts.values())))
        if not scored:
            return []
        target = min(len(clients) * self.monthly, 0.9 * len(scored))
        lo, hi = -30.0, 10.0
        for _ in range(50):
            mid = (lo + hi) / 2
            if sum(_sigmoid(mid + z) for *_, z in scored) > target:
                hi = mid
            else:
                lo = mid
        out = []
        for client, drivers, parts, z in scored:
            hazard = _sigmoid(lo + z)
            if self.rng.random() < hazard:
                reason = priors.CHURN_REASONS[max(parts, key=parts.get)]
                out.append((client, dict(drivers, hazard=round(hazard, 4)), reason))
        return out
