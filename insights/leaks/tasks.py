"""django-q2 task for leak detection: the same function as `manage.py detect_leaks`, queued
after a load commits. Idempotent (findings are keyed on type, client and month), so a run
queued twice only refreshes what the first one wrote."""

from __future__ import annotations

import logging

from clients.tasks import queue_after_commit

logger = logging.getLogger(__name__)


def detect_leaks_task(trigger: str = "task") -> dict:
    """Run every leak rule; returns {rule: result} as the run row records it."""
    from insights.leaks.runner import detect_leaks

    report = detect_leaks(trigger=trigger)
    for failed in report.failed:
        logger.error("Leak rule %s failed: %s", failed.name, failed.error)
    return {r.name: r.as_dict() for r in report.results}


def queue_detect_leaks(trigger: str = "task") -> None:
    """Queue detect_leaks_task once the current transaction commits (after a sync or a feature
    build). A broker that cannot be reached is logged, not raised: the load itself succeeded,
    and the next run finds everything again."""
    queue_after_commit("insights.leaks.tasks.detect_leaks_task", trigger, task_name="detect_leaks")
