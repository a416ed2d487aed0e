"""Reading QuickBooks Online into the database, per connected company and entity.

The first run (and --full) reads each entity with the query endpoint, 1,000 at a time, and
marks rows QuickBooks no longer has as deleted. Later runs use Change Data Capture from the
watermark, which is the server time QuickBooks reported when the previous read began. CDC
answers at most 1,000 objects, oldest first: a full answer is followed by another from its
newest change on. A watermark older than CDC's 30-day look-back falls back to a full read.
"""

from __future__ import annotations

import logging
from datetime import date

from django.db import transaction
from django.utils import timezone

from clients.models import SyncRun
from integrations.conf import setting
from integrations.loader import LOAD_ORDER
from integrations.matching_fuzzy import match_customers
from integrations.models import QuickBooksConnection
from integrations.sync import engine
from integrations.sync.errors import ChangedSinceTooOld, PermanentError
from integrations.timestamps import parse_time

from .client import QuickBooksClient

log = logging.getLogger(__name__)
SOURCE = "quickbooks"
ENTITIES = [name for source, name in LOAD_ORDER if source == SOURCE]


def _id(record: dict) -> str:
    return str(record.get("Id") or "") if isinstance(record, dict) else ""


def realms(realm_id: str | None = None) -> list[str]:
    found = list(QuickBooksConnection.objects.values_list("realm_id", flat=True))
    if realm_id:
        found = [r for r in found if r == realm_id]
    if not found:
        raise PermanentError("No QuickBooks company is connected: connect one in the admin "
                             "(Integrations > QuickBooks connections > Connect QuickBooks)")
    return found


def sync(run: SyncRun, full: bool = False, progress=None, today: date | None = None,
         realm_id: str | None = None, transport=None, entities: list[str] | None = None) -> None:
    for realm in realms(realm_id):
        client = QuickBooksClient(realm, transport=transport)
        try:
            for entity in entities or ENTITIES:
                sync_entity(client, run, entity, full, progress, today)
                if entity == "Customer":
                    # Time entries and expenses find their client through the customer's
                    # link, so link before loading them, as import_dump does.
                    match_customers(run)
        finally:
            client.close()


def sync_entity(client: QuickBooksClient, run: SyncRun, entity: str, full: bool, progress=None,
                today: date | None = None) -> None:
    state = engine.cursor(SOURCE, f"{client.realm_id}/{entity}")
    bar = progress(f"QuickBooks {entity}", None) if progress else None
    try:
        if state.watermark and not full:
            try:
                if read_changes(client, run, entity, state, bar, today):
                    return
            except ChangedSinceTooOld:
                log.info("QuickBooks %s: watermark %s is past CDC's 30 days; reading in full", entity, state.watermark)
        read_all(client, run, entity, state, bar, today)
    finally:
        if bar is not None:
            bar.close()


def read_all(client: QuickBooksClient, run: SyncRun, entity: str, state, bar, today) -> None:
    started: str | None = None
    seen: set[str] = set()
    revive = engine.has_deleted_rows(SOURCE, entity)
    for records, server_time in client.query_pages(entity):
        started = started or server_time
        seen.update(_id(r) for r in records)
        last = len(records) < min(setting("QUICKBOOKS_PAGE_SIZE"), 1000)
        with transaction.atomic():
            counts = engine.load_page(run, SOURCE, entity, records, _id, today, bar, revive)
            deleted = 0
            if last:
                deleted = engine.mark_missing(run, SOURCE, entity, seen - {""})
                state.watermark = started or ""
                state.last_full_at = timezone.now()
                state.last_run = run
                state.save()
            engine.add_counts(run, counts, deleted)
            engine.heartbeat(SOURCE, run)


def read_changes(client: QuickBooksClient, run: SyncRun, entity: str, state, bar, today) -> bool:
    """CDC from the watermark; False when it cannot make progress (a full read is needed)."""
    since = state.watermark
    started: str | None = None
    while True:
        records, server_time = client.cdc(entity, since)
        started = started or server_time
        live = [r for r in records if r.get("status") != "Deleted"]
        gone = [r for r in records if r.get("status") == "Deleted"]
        complete = len(records) < setting("QUICKBOOKS_CDC_LIMIT")
        with transaction.atomic():
            counts = engine.load_page(run, SOURCE, entity, live, _id, today, bar)
            deleted = 0
            for record in gone:
                stamp = (record.get("MetaData") or {}).get("LastUpdatedTime")
                deleted += engine.mark_deleted(run, SOURCE, entity, [_id(record)],
                                               parse_time(stamp) if stamp else None)
            if complete:
                state.watermark = started or since
                state.last_run = run
                state.save()
            engine.add_counts(run, counts, deleted)
            engine.heartbeat(SOURCE, run)
        if complete:
            return True
        newest = max(((r.get("MetaData") or {}).get("LastUpdatedTime") or since for r in records), key=parse_time)
        if parse_time(newest) <= parse_time(since):
            return False  # a thousand changes in one instant: only a full read gets them all
        since = newest
