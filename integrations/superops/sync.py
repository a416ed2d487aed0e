"""Reading SuperOps into the database: every list of LOAD_ORDER, page by page.

Lists that carry updatedTime (clients, contracts, tickets) are read incrementally, filtered
on updatedTime after the watermark (less a small overlap, since the same second can hold
more changes than one page saw). The others have no modification time in the API and are
read in full each run; the loader only writes rows whose values changed. A full read is
also the only way SuperOps shows a deletion: rows it no longer lists are marked deleted.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from clients.models import SyncRun
from integrations.conf import setting
from integrations.loader import ENTITIES, LOAD_ORDER, record_id
from integrations.models import CustomerLink
from integrations.sync import engine
from integrations.timestamps import parse_time, so_time

from . import queries
from .client import SuperOpsClient

log = logging.getLogger(__name__)
SOURCE = "superops"
OVERLAP = timedelta(minutes=5)
LISTS = [name for source, name in LOAD_ORDER if source == SOURCE]


def sync(run: SyncRun, full: bool = False, progress=None, today: date | None = None,
         client: SuperOpsClient | None = None) -> None:
    client = client or SuperOpsClient()
    try:
        for query in LISTS:
            sync_list(client, run, query, full, progress, today)
    finally:
        client.close()


def sync_list(client: SuperOpsClient, run: SyncRun, query: str, full: bool, progress=None,
              today: date | None = None) -> None:
    spec = ENTITIES[(SOURCE, query)]

    def id_of(record: dict) -> str:
        return record_id(spec, record)

    state = engine.cursor(SOURCE, query)
    filterable = queries.LISTS[query][4]
    since = None
    newest = parse_time(state.watermark) if state.watermark else None
    if filterable and newest and not full:
        since = so_time(newest - OVERLAP)
    seen: set[str] = set()
    revive = engine.has_deleted_rows(SOURCE, query)
    bar = progress(f"SuperOps {query}", None) if progress else None
    pending: list = []
    pages = client.pages(query, updated_after=since, page_size=setting("SUPEROPS_PAGE_SIZE"))
    for page in engine.prefetched(pages):
        if bar is not None and page.total is not None and bar.total != page.total:
            bar.total = page.total
            bar.refresh()
        seen.update(id_of(r) for r in page.records if isinstance(r, dict))
        for record in page.records:
            stamp = record.get("updatedTime") if isinstance(record, dict) else None
            if stamp:
                try:
                    moment = parse_time(stamp)
                except ValueError:
                    continue  # the loader sets the record aside and says why
                newest = moment if newest is None or moment > newest else newest
        pending.extend(page.records)
        if page.has_more and len(pending) < engine.FLUSH_RECORDS:
            continue
        with transaction.atomic():
            counts = engine.load_page(run, SOURCE, query, pending, id_of, today, bar, revive)
            if query == "getClientList":
                remember_customer_links(pending)
            deleted = 0
            if not page.has_more:
                if since is None:
                    deleted = engine.mark_missing(run, SOURCE, query, seen)
                    state.last_full_at = timezone.now()
                if filterable and newest:
                    state.watermark = so_time(newest)
                state.last_run = run
                state.save()
            engine.add_counts(run, counts, deleted)
            engine.heartbeat(SOURCE, run)
        pending = []
    if bar is not None:
        bar.close()


def remember_customer_links(records: list[dict]) -> None:
    """SuperOps' own QuickBooks customer id on a client, kept for the exact-id match."""
    for record in records:
        custom = record.get("customFields") if isinstance(record, dict) else None
        if isinstance(custom, dict) and custom.get("quickbooksCustomerId") and record.get("accountId"):
            CustomerLink.objects.update_or_create(quickbooks_customer_id=str(custom["quickbooksCustomerId"]),
                                                  defaults={"account_id": str(record["accountId"])})
