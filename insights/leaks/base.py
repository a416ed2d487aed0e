"""What every leak rule shares: the finding a rule proposes (`Candidate`), the rule registry,
and the small money and month helpers the rules and their recommendations use.

A rule is a function `(books) -> list[Candidate]` registered with `@rule(type, version)`; it
reads the database only (through `insights.leaks.books.Books`), never a simulator's answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")
SIXTY = Decimal(60)


@dataclass
class Candidate:
    """A finding as a rule proposes it; the runner writes it as a LeakFinding."""

    type: str
    client_id: int
    period: date  # first day of the month
    amount: Decimal
    confidence: float
    evidence: dict = field(default_factory=dict)
    recommendation: str = ""


@dataclass(frozen=True)
class Rule:
    name: str  # also the finding type it writes
    version: str
    detect: Callable


RULES: dict[str, Rule] = {}


def rule(name: str, version: str) -> Callable:
    """Register a rule that writes findings of type `name`."""

    def register(func: Callable) -> Callable:
        RULES[name] = Rule(name, version, func)
        return func

    return register


# --- money and months -----------------------------------------------------------------------
def money(x: Decimal) -> Decimal:
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def hours(minutes: int) -> Decimal:
    """Hours to the hundredth, as a worklog's quantity is shown and invoiced."""
    return (Decimal(minutes) / SIXTY).quantize(CENT, rounding=ROUND_HALF_UP)


def dollars(x: Decimal) -> str:
    return f"${money(x):,.2f}"


def qty(x: Decimal | int) -> str:
    """A quantity without trailing zeros: 14.5, 3, 0.75."""
    d = Decimal(x).normalize()
    return f"{d:f}" if d != d.to_integral_value() else f"{int(d)}"


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """First days of the months from `first`'s month to `last`'s month, inclusive."""
    out, m, end = [], month_of(first), month_of(last)
    while m <= end:
        out.append(m)
        m = add_months(m, 1)
    return out


def label(month: date) -> str:
    return month.strftime("%Y-%m")


def merge(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per (type, client, month): amounts add, evidence lists extend, the
    recommendations are joined and the confidence is the amount-weighted mean."""
    merged: dict[tuple, Candidate] = {}
    for c in candidates:
        key = (c.type, c.client_id, c.period)
        seen = merged.get(key)
        if seen is None:
            merged[key] = Candidate(c.type, c.client_id, c.period, c.amount, c.confidence, dict(c.evidence),
                                    c.recommendation)
            continue
        total = seen.amount + c.amount
        if total > 0:
            seen.confidence = float((Decimal(seen.confidence) * seen.amount + Decimal(c.confidence) * c.amount)
                                    / total)
        seen.amount = total
        for name, value in c.evidence.items():
            if isinstance(value, list):
                seen.evidence.setdefault(name, []).extend(value)
            elif name not in seen.evidence:
                seen.evidence[name] = value
        if c.recommendation and c.recommendation not in seen.recommendation:
            seen.recommendation = f"{seen.recommendation}; {c.recommendation}" if seen.recommendation else \
                c.recommendation
    return [c for c in merged.values() if c.amount > 0]
