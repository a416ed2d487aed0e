"""django-q2 tasks of ml/. They take plain values (no model instances), are safe to run twice
(a second build finds nothing changed) and share their work with the management command."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from clients.tasks import queue_after_commit
from ml.features.build import build_features


def build_features_task(since: str | None = None) -> dict:
    """Rebuild KPIs and genomes; `since` is 'YYYY-MM' or an ISO date. Returns the report."""
    from ml.features.months import parse

    start = None
    if since:
        start = parse(since[:7])
    report = build_features(since=start, trigger="task")
    out = asdict(report)
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in out.items()}


def queue_build_features(since: str | None = None) -> None:
    """Queue build_features_task once the current transaction commits (call after a sync).
    A broker that cannot be reached is logged, not raised: the sync itself succeeded, and the
    next build catches up with everything."""
    queue_after_commit("ml.tasks.build_features_task", since, task_name="build_features")
