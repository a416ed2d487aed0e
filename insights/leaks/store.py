"""Writing one rule's candidates as findings, idempotently.

A finding is keyed on (type, client, month). Running a rule again:
- creates the findings it has not seen, each with a "detected" audit event;
- refreshes the estimate, evidence, confidence and recommendation of open and confirmed ones;
- never touches the verdict of a recovered or dismissed finding (status, recovered amount,
  reason and the estimate they were judged on stay); it only notes it was seen again;
- marks findings of its type it no longer finds as `still_detected = False` (never deletes:
  someone may be acting on one).
The caller wraps this in one transaction per rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from insights.models import LeakFinding, LeakFindingEvent

from .base import Candidate, Rule, money

LIVE = (LeakFinding.Status.OPEN, LeakFinding.Status.CONFIRMED)
REFRESHED = ("estimated_amount", "evidence", "confidence", "recommendation", "rule_version", "detector",
             "last_detected_at", "still_detected")
BATCH = 500


@dataclass
class Written:
    created: int = 0
    updated: int = 0  # open or confirmed findings whose estimate, evidence or wording changed
    unchanged_verdicts: int = 0  # recovered or dismissed findings seen again (left as judged)
    no_longer_detected: int = 0
    new_findings: list = field(default_factory=list)  # the LeakFinding rows this run created


def write_findings(rule: Rule, candidates: list[Candidate], now: datetime) -> Written:
    existing = {(f.client_id, f.period): f for f in LeakFinding.objects.filter(finding_type=rule.name)}
    written = Written()
    new, changed, seen_again = [], [], []
    found = set()
    for c in candidates:
        key = (c.client_id, c.period)
        if key in found:
            raise ValueError(f"rule {rule.name} proposed two findings for client {c.client_id} in {c.period:%Y-%m}")
        found.add(key)
        finding = existing.get(key)
        if finding is None:
            new.append(LeakFinding(
                finding_type=rule.name, client_id=c.client_id, period=c.period, evidence=c.evidence,
                estimated_amount=money(c.amount), confidence=round(float(c.confidence), 3),
                recommendation=c.recommendation, detector=rule.name, rule_version=rule.version,
                last_detected_at=now, still_detected=True))
        elif finding.status in LIVE:
            fresh = (money(c.amount), c.evidence, round(float(c.confidence), 3), c.recommendation, rule.version,
                     rule.name, True)
            if fresh == (finding.estimated_amount, finding.evidence, finding.confidence, finding.recommendation,
                         finding.rule_version, finding.detector, finding.still_detected):
                seen_again.append(finding.pk)
                continue
            (finding.estimated_amount, finding.evidence, finding.confidence, finding.recommendation,
             finding.rule_version, finding.detector, finding.still_detected) = fresh
            finding.last_detected_at = now
            changed.append(finding)
        else:
            seen_again.append(finding.pk)
            written.unchanged_verdicts += 1
    gone = [f for key, f in existing.items() if key not in found and f.still_detected]
    for f in gone:
        f.still_detected = False
    created = LeakFinding.objects.bulk_create(new, batch_size=BATCH)
    if any(f.pk is None for f in created):  # a backend that does not return keys: read them back
        keys = {(f.client_id, f.period) for f in new}
        created = [f for f in LeakFinding.objects.filter(finding_type=rule.name) if (f.client_id, f.period) in keys]
    LeakFindingEvent.objects.bulk_create(
        [LeakFindingEvent(finding_id=f.pk, from_status="", to_status=LeakFinding.Status.OPEN, at=now,
                          amount=f.estimated_amount, note=f"detected by {rule.name} v{rule.version}")
         for f in created], batch_size=BATCH)
    LeakFinding.objects.bulk_update(changed, REFRESHED, batch_size=BATCH)
    # Found again as it was (or judged already): only the time it was last seen moves, one
    # plain UPDATE per batch instead of a CASE per row.
    for i in range(0, len(seen_again), BATCH):
        LeakFinding.objects.filter(pk__in=seen_again[i:i + BATCH]).update(last_detected_at=now, still_detected=True)
    for i in range(0, len(gone), BATCH):
        LeakFinding.objects.filter(pk__in=[f.pk for f in gone[i:i + BATCH]]).update(still_detected=False)
    written.created, written.updated, written.no_longer_detected = len(created), len(changed), len(gone)
    written.new_findings = list(created)
    return written
