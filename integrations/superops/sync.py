"""Reading SuperOps into the database: the tenant's vocabularies (seeding the value maps),
then every SuperOps list of the entity table (integrations/entities.py), page by page.

Only lists whose type carries updatedTime in SuperOps' schema (tickets, offered items) are
read incrementally, filtered on updatedTime after the watermark (less a small overlap, since
the same second can hold more changes than one page saw). The others have no modification
time and are read in full each run; the loader only writes rows whose values changed.

A full read is the only way SuperOps shows a deletion: rows it no longer lists are marked
deleted. So an incremental list is read in full again once its last full read is older than
SUPEROPS_FULL_READ_HOURS (the nightly full read). SuperOps does not document the
`greaterThan` condition on updatedTime: when it refuses the condition, that list is read in
full and the run's detail says so.

Pages are sorted by id (see queries.py) and ids already seen in a read are dropped, so a
list that changes while it is paged neither skips nor repeats records. A full read marks
deletions only if it saw as many distinct records as SuperOps counts and the count held
still (a record deleted mid-read can shift another past a page boundary); otherwise the next
full read does it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from clients.models import RejectedRecord, SyncRun
from integrations import entities
from integrations.conf import setting
from integrations.loader import ENTITIES, record_id
from integrations.loader.tenant import tenant_maps
from integrations.models import CustomerLink, SyncCursor
from integrations.sync import engine
from integrations.tenant import TenantMaps
from integrations.timestamps import parse_time, so_time

from . import queries
from .client import Page, QueryRefused, SuperOpsClient
from .vocabulary import seed_from_superops

log = logging.getLogger(__name__)
SOURCE = "superops"
OVERLAP = timedelta(minutes=5)


def lists() -> list[str]:
    """The SuperOps lists to read, in load order: the entity table's, each with its document."""
    return [kind.name for kind in entities.of(SOURCE) if kind.name in queries.LISTS]


def sync(run: SyncRun, full: bool = False, progress=None, today: date | None = None,
         client: SuperOpsClient | None = None) -> None:
    client = client or SuperOpsClient()
    try:
        seed_vocabularies(client, run)
        for query in lists():
            sync_list(client, run, query, full, progress, today)
    finally:
        client.close()


def seed_vocabularies(client: SuperOpsClient, run: SyncRun) -> int:
    """Read the tenant's client stages and ticket priorities first, so the admin's value maps
    list every value with its default meaning (rows a person changed are never touched).
    A vocabulary SuperOps refuses is noted, not fatal: values keep their default meaning.
    Any other failure (token, subdomain, network) stops the run as a list's would."""
    added, refused = seed_from_superops(client, survivable=QueryRefused)
    for name in refused:
        note(run, f"{name}: refused, values keep their default meaning")
    return added


def note(run: SyncRun, text: str) -> None:
    """Add a line to the run's detail (what an operator reads in the admin)."""
    log.warning("SuperOps run %s: %s", run.pk, text)
    detail = f"{run.detail}; {text}" if run.detail else text
    run.detail = detail if len(detail) <= 500 else detail[:497] + "..."
    run.save(update_fields=["detail"])


def incremental_since(query: str, state: SyncCursor, full: bool) -> str | None:
    """The updatedTime to read changes after, or None for a full read."""
    if full or not queries.LISTS[query].incremental or not state.watermark:
        return None
    hours = setting("SUPEROPS_FULL_READ_HOURS")
    if state.last_full_at is None or (hours and timezone.now() - state.last_full_at >= timedelta(hours=hours)):
        return None  # time for the full read that finds deletions
    return so_time(parse_time(state.watermark) - OVERLAP)


def sync_list(client: SuperOpsClient, run: SyncRun, query: str, full: bool, progress=None,
              today: date | None = None) -> None:
    """Read one list: incrementally when it may be, sorted by id. SuperOps documents neither
    the updatedTime condition nor the sort attributes, so when a request is refused the list
    is read again without what may have caused it (condition first kept, sort dropped; then
    in full, sorted; then in full, unsorted), and the run's detail says how it was read."""
    state = engine.cursor(SOURCE, query)
    since = incremental_since(query, state, full)
    attempts = [(since, True), (since, False)] if since is not None else []
    attempts += [(None, True), (None, False)]
    refused: QueryRefused | None = None
    for number, (after, sort) in enumerate(attempts):
        try:
            read_list(client, run, query, state, after, progress, today, sort=sort)
        except QueryRefused as exc:
            refused = exc
            if number == len(attempts) - 1:
                raise
            continue
        if refused is not None:
            log.warning("SuperOps %s: %s", query, refused)
            note(run, f"{query}: {_refusal(since, after, sort)}")
        return


def _refusal(since: str | None, after: str | None, sort: bool) -> str:
    """What SuperOps refused and how the list was read, short: a run's detail holds 500
    characters and every list may need a line."""
    dropped_condition = since is not None and after is None
    what = " and ".join(w for w, dropped in (("updatedTime condition", dropped_condition), ("sort", not sort))
                        if dropped)
    how = "read" + (" in full" if dropped_condition else "") + ("" if sort else " unsorted")
    return f"{what} refused, {how}"


def _pages(client: SuperOpsClient, query: str, since: str | None, sort: bool) -> Iterator[tuple[str | None, Page]]:
    for module in queries.reads(query):
        for page in client.pages(query, updated_after=since, page_size=setting("SUPEROPS_PAGE_SIZE"), module=module,
                                 sort=sort):
            yield module, page


def read_list(client: SuperOpsClient, run: SyncRun, query: str, state: SyncCursor, since: str | None,
              progress=None, today: date | None = None, sort: bool = True) -> None:
    """One read of a list (every module of it), full when `since` is None."""
    spec = ENTITIES[(SOURCE, query)]

    def id_of(record: dict) -> str:
        return record_id(spec, record)

    modules = queries.reads(query)
    newest = parse_time(state.watermark) if state.watermark else None
    seen: set[str] = set()
    totals: dict[str | None, set] = {}  # module -> the totalCounts its pages reported
    distinct: dict[str | None, int] = {}  # module -> records seen once
    revive = engine.has_deleted_rows(SOURCE, query)
    bar = progress(f"SuperOps {query}", None) if progress else None
    pending: list = []
    troubled = 0  # records SuperOps could not serve in this read
    for module, page in engine.prefetched(_pages(client, query, since, sort)):
        last = not page.has_more and module == modules[-1]
        totals.setdefault(module, set()).add(page.total)
        if page.errors:
            troubled += set_aside_server_errors(run, query, module, page)
        if bar is not None and page.total is not None and len(modules) == 1 and bar.total != page.total:
            bar.total = page.total
            bar.refresh()
        for record in page.records:
            rid = id_of(record)
            if rid and rid in seen:
                continue  # served twice within this read: load it once
            if rid:
                seen.add(rid)
            distinct[module] = distinct.get(module, 0) + 1
            pending.append(record)
            stamp = record.get("updatedTime") if isinstance(record, dict) else None
            if stamp:
                try:
                    moment = parse_time(stamp)
                except (TypeError, ValueError):
                    continue  # the loader sets the record aside and says why
                newest = moment if newest is None or moment > newest else newest
        if not last and len(pending) < engine.FLUSH_RECORDS:
            continue
        with transaction.atomic():
            counts = engine.load_page(run, SOURCE, query, pending, id_of, today, bar, revive)
            if query == "getClientList":
                remember_customer_links(pending, tenant_maps(run))
            deleted = 0
            if last:
                if troubled:
                    note(run, f"{query}: {troubled} record(s) SuperOps could not serve set aside, deletions wait")
                elif since is None:
                    if complete(totals, distinct):
                        deleted = engine.mark_missing(run, SOURCE, query, seen)
                        state.last_full_at = timezone.now()
                    else:
                        note(run, f"{query}: changed while read, deletions wait")
                if queries.LISTS[query].incremental and newest:
                    state.watermark = so_time(newest)
                state.last_run = run
                state.save()
            engine.add_counts(run, counts, deleted)
            engine.heartbeat(SOURCE, run)
        pending = []
    if bar is not None:
        bar.close()


def complete(totals: dict[str | None, set], distinct: dict[str | None, int]) -> bool:
    """Whether a full read saw every record: each listing's totalCount stayed the same from
    page to page and as many distinct records came as it says. Only then may rows it did not
    see be marked deleted (a record that moved between pages of an unsorted read, or shifted
    past a page boundary by a deletion, was not seen but is not gone)."""
    for module, reported in totals.items():
        if len(reported) != 1:
            return False
        total = next(iter(reported))
        if total is not None and distinct.get(module, 0) != total:
            return False
    return True


def set_aside_server_errors(run: SyncRun, query: str, module: str | None, page: Page) -> int:
    """Keep each GraphQL error SuperOps raised on a record of this page as a set-aside
    record a person can see (the record itself was nulled in the answer, so the error and
    where it happened are all there is)."""
    for error in page.errors:
        path = ".".join(str(p) for p in error.get("path") or [])
        payload = {"page": page.number, "module": module, "error": error}
        RejectedRecord.objects.update_or_create(
            source=SOURCE, entity=query, payload_hash=RejectedRecord.hash_payload(payload),
            defaults={"payload": payload, "external_id": "", "last_run": run, "resolved": False,
                      "reason": f"SuperOps could not serve this record ({path}, page {page.number}): "
                                f"{error.get('message', '?')}"[:2000]})
    run.set_aside += len(page.errors)
    run.save(update_fields=["set_aside"])
    return len(page.errors)


def remember_customer_links(records: list[dict], maps: TenantMaps) -> None:
    """A QuickBooks customer id on a client, where the tenant keeps one in a custom field (the
    field map's client.quickbooks_customer_id), kept for the exact-id match."""
    for record in records:
        custom = record.get("customFields") if isinstance(record, dict) else None
        linked = maps.custom(custom, "client.quickbooks_customer_id") if isinstance(custom, dict) else None
        if linked and isinstance(linked, (str, int)) and record.get("accountId"):
            CustomerLink.objects.update_or_create(quickbooks_customer_id=str(linked),
                                                  defaults={"account_id": str(record["accountId"])})
