"""The one entry point for a sync, shared by the management command, the scheduled task,
the admin's "Sync now" and the benchmark: `sync_source(source, trigger, full=...)`."""

from __future__ import annotations

import logging
from datetime import date

from clients.models import SyncRun

from . import engine

log = logging.getLogger(__name__)
SOURCES = ("superops", "quickbooks")


def link_clients(run: SyncRun) -> None:
    """Link QuickBooks customers to SuperOps clients: exact steps, then fuzzy ones."""
    from integrations.matching_fuzzy import match_customers

    match_customers(run)


def sync_source(source: str, trigger: str = SyncRun.Trigger.COMMAND, full: bool = False, progress=None,
                today: date | None = None, **options) -> SyncRun:
    """Run one sync of a source and return its SyncRun (status, counts, error)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")
    run = engine.start_run(source, trigger, "full" if full else "incremental")

    def body() -> None:
        if source == "superops":
            from integrations.superops import sync as superops_sync

            superops_sync.sync(run, full=full, progress=progress, today=today, **options)
        else:
            from integrations.quickbooks import sync as quickbooks_sync

            quickbooks_sync.sync(run, full=full, progress=progress, today=today, **options)
        link_clients(run)

    return engine.execute(run, body)


def sync_all(trigger: str = SyncRun.Trigger.COMMAND, full: bool = False, progress=None,
             today: date | None = None) -> list[SyncRun]:
    """SuperOps first (clients and technicians), then QuickBooks, whose customers and time
    entries are linked to them."""
    return [sync_source(source, trigger, full, progress, today) for source in SOURCES]
