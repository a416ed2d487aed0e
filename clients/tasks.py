"""Queueing a django-q2 task once the current transaction commits, for the apps that react to
a load (ml's feature build, insights' leak detection): the task never sees rows that were
rolled back, and a broker that cannot be reached is logged, not raised, because the load
itself succeeded and the next run catches up with everything."""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def queue_after_commit(func: str, *args, task_name: str) -> None:
    """Queue `func` (a dotted path) with `args` when the current transaction commits."""

    def enqueue() -> None:
        from django_q.tasks import async_task

        try:
            async_task(func, *args, task_name=task_name)
        except Exception:  # the broker is outside our control (Redis down, ORM table locked)
            logger.warning("Could not queue %s", func, exc_info=True)

    transaction.on_commit(enqueue)
