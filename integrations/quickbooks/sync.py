"""Reading QuickBooks Online into the database, per connected company (realm) and entity.

Rows carry the realm they came from, and every load, deletion and reconciliation stays inside
that realm: two companies number their records independently and never touch each other's
rows. One company failing (a revoked refresh token, say) is recorded on the run, and the
others are still read.

- A first run (and --full) reads each entity with the query endpoint, 1,000 at a time in Id
  order, inactive Customers and Items included (`Active IN (true, false)`: without it Intuit
  lists active ones only, and a churned client's customer would look deleted). Rows the
  company no longer lists are asked for by Id once more, and only those QuickBooks does not
  return are marked deleted.
- Later runs use Change Data Capture from the watermark, the server time QuickBooks reported
  when the previous read began. CDC looks back 30 days at most: the watermark's age is
  measured against QuickBooks' own clock (with a margin) before asking, and an older one
  means a full read. CDC answers at most QUICKBOOKS_CDC_LIMIT objects and Intuit does not say
  which changes a full answer left out, so after loading a full answer the entity is read in
  full (which also finds its deletions) instead of guessing a later watermark.
- TimeActivity is not served by CDC: it is read with the query endpoint by
  MetaData.LastUpdatedTime after the watermark (less a small overlap), and its deletions are
  found by a full read when its last one is older than QUICKBOOKS_FULL_READ_HOURS.
- Once the companies are read, technicians get their employees' cost (CostRate), as
  import_dump does (integrations.technician_costs).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from clients.models import SyncRun
from integrations import entities
from integrations.conf import setting
from integrations.matching_fuzzy import match_customers
from integrations.models import QuickBooksConnection
from integrations.sync import engine
from integrations.sync.errors import PermanentError, SyncError
from integrations.technician_costs import apply_technician_costs
from integrations.timestamps import parse_time

from .client import MAX_RESULTS, QuickBooksClient

log = logging.getLogger(__name__)
SOURCE = "quickbooks"
ENTITIES = [kind.name for kind in entities.of(SOURCE)]
# Entities CDC does not serve (Intuit's CDC entity list has no TimeActivity): read by
# MetaData.LastUpdatedTime instead.
NOT_IN_CDC = frozenset(kind.name for kind in entities.of(SOURCE) if kind.reading == entities.Reading.LAST_UPDATED)
CDC_LOOKBACK = timedelta(days=30)
# A watermark this close to CDC's limit is read in full: the request takes time, and our
# notion of QuickBooks' clock is the time of an earlier answer.
CDC_MARGIN = timedelta(hours=12)
# A changed-since query starts this much before the watermark, for records whose
# LastUpdatedTime was stamped just before QuickBooks reported the time of the last read.
QUERY_OVERLAP = timedelta(minutes=5)


def _id(record: dict) -> str:
    return str(record.get("Id") or "") if isinstance(record, dict) else ""


def realms(realm_id: str | None = None) -> list[str]:
    found = list(QuickBooksConnection.objects.order_by("realm_id").values_list("realm_id", flat=True))
    if realm_id:
        found = [r for r in found if r == realm_id]
    if not found:
        raise PermanentError("No QuickBooks company is connected: connect one in the admin "
                             "(Integrations > QuickBooks connections > Connect QuickBooks)")
    return found


def sync(run: SyncRun, full: bool = False, progress=None, today: date | None = None,
         realm_id: str | None = None, transport=None, entities: list[str] | None = None) -> None:
    """Read every connected company. A company that fails is named in the run's error and
    the others go on; the run fails only when every company failed."""
    found = realms(realm_id)
    connected = realms()
    if len(connected) == 1:
        # Rows from before rows carried their company, or from import_dump, belong to the one
        # company connected; with several, which one is unknown and they are left alone.
        adopted = engine.adopt_rows(SOURCE, connected[0])
        if adopted:
            log.info("QuickBooks: %d rows without a company given to company %s", adopted, connected[0])
    failures: list[tuple[str, SyncError]] = []
    for realm in found:
        try:
            sync_realm(run, realm, full, progress, today, transport, entities)
        except SyncError as exc:
            log.warning("QuickBooks company %s was not read: %s", realm, exc)
            failures.append((realm, exc))
            record_realm_error(realm, str(exc))
        else:
            record_realm_error(realm, "")
    if len(failures) < len(found):
        # Employees and time are in: cost the technicians (SuperOps loads them; a person's
        # cost in the admin is kept).
        apply_technician_costs(run)
    if not failures:
        return
    text = "; ".join(f"QuickBooks company {realm}: {exc}" for realm, exc in failures)
    if len(failures) == len(found):
        if len(failures) == 1:
            raise failures[0][1]
        raise PermanentError(text)
    engine.note_error(run, text)


def record_realm_error(realm: str, error: str) -> None:
    """The company's last error for the admin ("" once it is read again)."""
    QuickBooksConnection.objects.filter(realm_id=realm).exclude(last_error=error).update(last_error=error[:2000])


def sync_realm(run: SyncRun, realm: str, full: bool = False, progress=None, today: date | None = None,
               transport=None, entities: list[str] | None = None) -> None:
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
    bar = progress(f"QuickBooks {entity} ({client.realm_id})", None) if progress else None
    try:
        if state.watermark and not full and not full_read_due(entity, state):
            if entity in NOT_IN_CDC:
                read_since(client, run, entity, state, bar, today)
                return
            if within_cdc(client, entity, state.watermark):
                if read_changes(client, run, entity, state, bar, today):
                    return
                log.info("QuickBooks %s (%s): a full CDC answer may have left changes out; reading in full",
                         entity, client.realm_id)
            else:
                log.info("QuickBooks %s (%s): watermark %s is too old for CDC; reading in full",
                         entity, client.realm_id, state.watermark)
        read_all(client, run, entity, state, bar, today)
    finally:
        if bar is not None:
            bar.close()


def full_read_due(entity: str, state) -> bool:
    """Entities read without CDC learn of deletions only from a full read, done this often."""
    hours = setting("QUICKBOOKS_FULL_READ_HOURS")
    if entity not in NOT_IN_CDC or not hours:
        return False
    return state.last_full_at is None or state.last_full_at < timezone.now() - timedelta(hours=hours)


def within_cdc(client: QuickBooksClient, entity: str, watermark: str) -> bool:
    """Whether CDC still covers the watermark, by QuickBooks' clock (not ours, not the text
    of an error message)."""
    try:
        since, now = parse_time(watermark), parse_time(client.current_time(entity))
    except ValueError:
        return False  # a watermark we cannot read: start again from a full read
    return since > now - (CDC_LOOKBACK - CDC_MARGIN)


def _page_size() -> int:
    return min(setting("QUICKBOOKS_PAGE_SIZE"), MAX_RESULTS)


def read_all(client: QuickBooksClient, run: SyncRun, entity: str, state, bar, today) -> None:
    realm = client.realm_id
    started: str | None = None
    seen: set[str] = set()
    revive = engine.has_deleted_rows(SOURCE, entity, realm=realm)
    for records, server_time in client.query_pages(entity):
        started = started or server_time
        seen.update(_id(r) for r in records)
        last = len(records) < _page_size()
        confirmed: list[dict] = []
        if last:
            # A record deleted while the pages were read shifts the rest back by one, so a
            # live record can fall between two pages: ask for the unseen ones by Id before
            # calling them deleted.
            unseen = sorted(engine.live_ids(SOURCE, entity, realm=realm) - seen)
            confirmed = client.by_ids(entity, unseen) if unseen else []
            seen.update(_id(r) for r in confirmed)
        with transaction.atomic():
            counts = engine.load_page(run, SOURCE, entity, records + confirmed, _id, today, bar, revive, realm=realm)
            deleted = 0
            if last:
                deleted = engine.mark_missing(run, SOURCE, entity, seen - {""}, realm=realm)
                state.watermark = started or ""
                state.last_full_at = timezone.now()
                state.last_run = run
                state.save()
            engine.add_counts(run, counts, deleted)
            engine.heartbeat(SOURCE, run)


def read_since(client: QuickBooksClient, run: SyncRun, entity: str, state, bar, today) -> None:
    """Records changed after the watermark, by the query endpoint (for entities CDC does not
    serve). Deletions are not seen here; full_read_due schedules the read that finds them."""
    realm = client.realm_id
    try:
        since = (parse_time(state.watermark) - QUERY_OVERLAP).isoformat(timespec="seconds")
    except ValueError:
        read_all(client, run, entity, state, bar, today)
        return
    started: str | None = None
    for records, server_time in client.query_pages(entity, updated_after=since):
        started = started or server_time
        last = len(records) < _page_size()
        with transaction.atomic():
            counts = engine.load_page(run, SOURCE, entity, records, _id, today, bar, realm=realm)
            if last:
                state.watermark = started or state.watermark
                state.last_run = run
                state.save()
            engine.add_counts(run, counts)
            engine.heartbeat(SOURCE, run)


def read_changes(client: QuickBooksClient, run: SyncRun, entity: str, state, bar, today) -> bool:
    """One CDC answer from the watermark, loaded. True when it was complete (the watermark
    moves to the server time of the answer); False when it was full: then the watermark
    stays and the caller reads the entity in full. CDC is not asked again from a guessed
    later point, because a truncated answer need not hold the oldest changes, so nothing
    here can loop."""
    realm = client.realm_id
    since = state.watermark
    records, server_time = client.cdc(entity, since)
    live = [r for r in records if r.get("status") != "Deleted"]
    gone = [r for r in records if r.get("status") == "Deleted"]
    complete = len(records) < setting("QUICKBOOKS_CDC_LIMIT")
    with transaction.atomic():
        counts = engine.load_page(run, SOURCE, entity, live, _id, today, bar, realm=realm)
        deleted = 0
        for record in gone:
            stamp = (record.get("MetaData") or {}).get("LastUpdatedTime")
            try:
                when = parse_time(stamp) if stamp else None
            except ValueError:
                when = None
            deleted += engine.mark_deleted(run, SOURCE, entity, [_id(record)], when, realm=realm)
        if complete:
            state.watermark = server_time or since
            state.last_run = run
            state.save()
        engine.add_counts(run, counts, deleted)
        engine.heartbeat(SOURCE, run)
    return complete
