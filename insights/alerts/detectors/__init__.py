"""Real-time anomaly detectors: each module scores the rows a sync page or a webhook just
committed (clients.signals.rows_committed) against baselines read with indexed queries, and
returns Findings; `score()` turns them into alerts through services.raise_alert.

| module | rows | finds |
|---|---|---|
| `surge` | tickets | a client's tickets in the last 24 h or 7 days far above its own baseline |
| `sla` | tickets | a run of consecutive tickets breaching their SLA for one client |
| `worklogs` | worklogs | a worklog far longer than the usual one of its kind |
| `invoices` | invoices | an invoice far off the client's own pattern of amounts |
| `reversals` | payments, invoices | a payment deleted, voided or negative; an invoice's balance going back up |

Only rows dated within ALERT_RECENT_DAYS are scored (a first sync of two years is history,
not news); every threshold sits beside the reason it has that value in its module.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import import_module

from django.utils import timezone

log = logging.getLogger(__name__)

# model label -> detector modules, in the order they run
DETECTORS: dict[str, tuple[str, ...]] = {
    "clients.Ticket": ("surge", "sla"),
    "clients.Worklog": ("worklogs",),
    "clients.Invoice": ("invoices", "reversals"),
    "clients.Payment": ("reversals",),
}


@dataclass(frozen=True)
class Committed:
    """Rows of one model that one transaction committed."""

    model: type
    ids: list[int]
    deleted: bool = False  # marked deleted at the source
    previous: dict = field(default_factory=dict)  # pk -> {column: value before the write}
    now: datetime = field(default_factory=timezone.now)


@dataclass(frozen=True)
class Finding:
    """An anomaly in words, ready for services.raise_alert."""

    kind: str
    severity: str
    client_id: int | None
    title: str
    message: str
    evidence: dict
    dedup_key: str


def findings(rows: Committed) -> list[Finding]:
    found: list[Finding] = []
    for name in DETECTORS.get(rows.model._meta.label, ()):
        found += import_module(f"{__name__}.{name}").detect(rows)
    return found


def score(model: type, ids: list[int], *, deleted: bool = False, previous: dict | None = None,
          now: datetime | None = None) -> list:
    """Score committed rows and raise an alert for each finding; returns the alerts."""
    from ..services import raise_alert

    if not ids or model._meta.label not in DETECTORS:
        return []
    rows = Committed(model, list(ids), deleted, previous or {}, now or timezone.now())
    return [raise_alert(**asdict(finding)) for finding in findings(rows)]
