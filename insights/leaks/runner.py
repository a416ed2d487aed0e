"""`detect_leaks()`: run every leak rule, each on its own, and record the run.

Each rule reads through one shared `Books` and writes its findings in a transaction of its
own (a savepoint when the caller already holds a transaction). A rule that raises is rolled
back and reported by name with its error; the rules after it still run and write. The
management command and the background task both call this function.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from insights.models import LeakDetectionRun

from .base import RULES, Rule
from .books import Books
from .store import write_findings

logger = logging.getLogger(__name__)


def _load_rules() -> None:
    # The rule modules register themselves on import.
    from . import agreements, anomaly, expenses, recurring, worklogs  # noqa: F401


def all_rules() -> dict[str, Rule]:
    _load_rules()
    return dict(RULES)


@dataclass
class RuleResult:
    name: str
    version: str
    ok: bool
    seconds: float
    findings: int = 0
    created: int = 0
    updated: int = 0
    no_longer_detected: int = 0
    amount: str = "0.00"
    error: str = ""

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "name"}


@dataclass
class DetectionReport:
    run_id: int
    results: list[RuleResult] = field(default_factory=list)

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.results if not r.ok]

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.results)


def detect_leaks(rules: list[str] | None = None, trigger: str = "command") -> DetectionReport:
    """Run the named rules (default: all) and write their findings; returns what each did."""
    known = all_rules()
    unknown = sorted(set(rules or ()) - set(known))
    if unknown:
        raise ValueError(f"unknown leak rule(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    selected = [known[name] for name in (rules or sorted(known))]
    run = LeakDetectionRun.objects.create(trigger=trigger, started_at=timezone.now())
    report = DetectionReport(run.pk)
    books = Books()
    for r in selected:
        report.results.append(_run_one(r, books))
    run.results = {r.name: r.as_dict() for r in report.results}
    run.status = (LeakDetectionRun.Status.SUCCEEDED if not report.failed else
                  LeakDetectionRun.Status.FAILED if len(report.failed) == len(report.results) else
                  LeakDetectionRun.Status.PARTIAL)
    run.finished_at = timezone.now()
    run.save(update_fields=["results", "status", "finished_at"])
    return report


def _announce(r: Rule, new_findings: list) -> None:
    """One alert per rule and run that found something new, pushed live like every alert: a
    first run over years of books finds thousands, and a toast each would bury the rest. The
    alert names the count, the recoverable total and the largest few; its evidence lists every
    new finding's id. A failure here is logged: the findings are already written."""
    if not new_findings:
        return
    from insights.alerts.services import raise_alert

    try:
        total = sum((f.estimated_amount for f in new_findings), 0)
        largest = sorted(new_findings, key=lambda f: f.estimated_amount, reverse=True)[:3]
        label = r.name.replace("_", " ")
        raise_alert(
            "leak_finding", "warning", largest[0].client_id if len(new_findings) == 1 else None,
            f"{len(new_findings)} new {label} finding{'s' if len(new_findings) != 1 else ''}: ${total:,.2f} to recover",
            " ".join(f.recommendation for f in largest),
            {"leak_findings": [f.pk for f in new_findings], "rule": r.name},
            f"leak:{r.name}:{min(f.pk for f in new_findings)}",
        )
    except Exception:
        logger.exception("Could not raise the alert for %s's new findings", r.name)


def _run_one(r: Rule, books: Books) -> RuleResult:
    started = time.perf_counter()
    try:
        with transaction.atomic():
            candidates = r.detect(books)
            written = write_findings(r, candidates, timezone.now())
    except Exception as exc:  # one rule's failure must not stop the others: report it by name
        logger.exception("Leak rule %s failed", r.name)
        return RuleResult(r.name, r.version, False, time.perf_counter() - started,
                          error=f"{type(exc).__name__}: {exc}")
    _announce(r, written.new_findings)
    total = sum((c.amount for c in candidates), 0)
    return RuleResult(r.name, r.version, True, time.perf_counter() - started, findings=len(candidates),
                      created=written.created, updated=written.updated,
                      no_longer_detected=written.no_longer_detected, amount=f"{total:.2f}")
