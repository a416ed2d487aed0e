"""Background tasks (django-q2) and their schedules. Tasks take plain values, are queued
after the transaction commits, and call the same functions as the management command."""

from __future__ import annotations

import logging

from django.db import transaction

from integrations.conf import setting

log = logging.getLogger(__name__)
SCHEDULE_SETTINGS = {"superops": "SYNC_SUPEROPS_EVERY_MINUTES", "quickbooks": "SYNC_QUICKBOOKS_EVERY_MINUTES"}
# Webhook events left unprocessed (a failed fetch, a dead worker, a queue that was down) are
# fetched again this often.
WEBHOOK_SWEEP_MINUTES = 10
WEBHOOK_SWEEP = "sweep quickbooks webhook events"


def source_configured(source: str) -> bool:
    """Whether the MSP has connected this source: a SuperOps token and subdomain, or a
    QuickBooks company that went through the OAuth flow."""
    if source == "superops":
        return bool(setting("SUPEROPS_API_TOKEN") and setting("SUPEROPS_SUBDOMAIN"))
    from integrations.models import QuickBooksConnection

    return QuickBooksConnection.objects.exists()


def sync_source_task(source: str, trigger: str = "schedule", full: bool = False) -> int | None:
    from integrations.sync.runs import sync_source

    # A schedule for a source nobody connected would only record a failed run every few
    # minutes (and bury the last good load on the home page); skip it quietly instead.
    if trigger == "schedule" and not source_configured(source):
        log.info("Scheduled %s sync skipped: the source is not connected", source)
        return None
    run = sync_source(source, trigger, full=full)
    return run.pk


def process_webhook_events(event_ids: list[int]) -> int | None:
    from integrations.quickbooks.webhooks import process

    run = process(event_ids)
    return run.pk if run else None


def sweep_webhook_events() -> int | None:
    """Fetch QuickBooks webhook events nobody processed (scheduled)."""
    from integrations.quickbooks.webhooks import sweep

    run = sweep()
    return run.pk if run else None


def _async(func: str, *args, **kwargs) -> None:
    from django_q.tasks import async_task

    async_task(func, *args, **kwargs)


def enqueue_sync(source: str, trigger: str = "admin", full: bool = False) -> None:
    transaction.on_commit(lambda: _async("integrations.tasks.sync_source_task", source, trigger, full))


def enqueue_webhook_events(event_ids: list[int]) -> None:
    try:
        _async("integrations.tasks.process_webhook_events", event_ids)
    except Exception:  # the events are stored: the sweep fetches them, and Intuit got its 200
        log.exception("Could not queue %d QuickBooks webhook event(s); the sweep will fetch them", len(event_ids))


def ensure_schedules(**_) -> None:
    """One django-q2 schedule per source, every SYNC_<SOURCE>_EVERY_MINUTES (0: none), and
    the webhook sweep."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=WEBHOOK_SWEEP,
        defaults={"func": "integrations.tasks.sweep_webhook_events", "schedule_type": Schedule.MINUTES,
                  "minutes": WEBHOOK_SWEEP_MINUTES, "repeats": -1})

    for source, name in SCHEDULE_SETTINGS.items():
        minutes = setting(name)
        label = f"sync {source}"
        if not minutes:
            Schedule.objects.filter(name=label).delete()
            continue
        Schedule.objects.update_or_create(
            name=label,
            defaults={"func": "integrations.tasks.sync_source_task", "args": repr(source),
                      "kwargs": "{'trigger': 'schedule'}", "schedule_type": Schedule.MINUTES, "minutes": minutes,
                      "repeats": -1})
