"""Runs: one SyncRun row per run with its trigger, counts, status and error; the lease that
keeps two runs of a source apart (and notices a run killed mid-way); cursors; and marking
rows the source deleted.

Each page is written in one transaction together with the run's counts and, on the last
page of an entity, its new watermark. A run killed at any moment leaves the watermark at
the start of the entity it was reading; the next run reads that entity again, and because
every write is an upsert on (source, realm, external_id), it ends with the database a clean
run would have produced. `realm` is the QuickBooks company a page came from ("" for SuperOps):
loading, deleting and reconciling stay inside it, so one company never touches another's rows.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import TypeVar

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from clients.models import SyncRun
from clients.signals import announce_load, announce_rows, values_before
from integrations import entities
from integrations.loader import LoadCounts, load_records
from integrations.models import SyncCursor, SyncLease

from .errors import PermanentError, SyncBusy, SyncError, TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")
# Records written per transaction: pages are gathered up to this many, so small pages do
# not each pay for a transaction and the loader's per-batch queries.
FLUSH_RECORDS = 2000
LEASE_STALE = timedelta(minutes=30)  # a lease of another host not renewed this long is dead

# (source, entity) -> the models whose rows it writes, with the column that holds the
# payload's id and any fixed filter, from the one entity table.
ROWS: dict[tuple[str, str], list[tuple[type, str, dict]]] = {
    kind.key: [(apps.get_model(rows.model), rows.id_column, dict(rows.where)) for rows in kind.rows]
    for kind in entities.TABLE if kind.provider != "local"
}


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _owner_alive(owner: str, heartbeat_at) -> bool:
    host, pid, *_ = (owner.split(":") + ["", ""])[:3]
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return bool(heartbeat_at and heartbeat_at > timezone.now() - LEASE_STALE)


@contextmanager
def lease(source: str, run: SyncRun):
    """Hold the source's lease for the run; a lease left by a dead process is taken over and
    that process's run marked interrupted."""
    me = _me()
    SyncLease.objects.get_or_create(source=source)
    current = SyncLease.objects.get(source=source)
    if current.owner and _owner_alive(current.owner, current.heartbeat_at):
        raise SyncBusy(f"another {source} sync is running ({current.owner.rsplit(':', 1)[0]}, run {current.run_id})")
    taken = SyncLease.objects.filter(source=source, owner=current.owner).update(
        owner=me, run=run, heartbeat_at=timezone.now())
    if not taken:
        raise SyncBusy(f"another {source} sync started at the same moment")
    if current.owner and current.run_id:
        SyncRun.objects.filter(pk=current.run_id, status=SyncRun.Status.RUNNING).update(
            status=SyncRun.Status.FAILED, finished_at=timezone.now(),
            error="Interrupted: the process stopped before the run finished; the next run picked up from the last "
                  "committed page.")
    try:
        yield
    finally:
        SyncLease.objects.filter(source=source, owner=me).update(owner="", heartbeat_at=timezone.now())


def heartbeat(source: str, run: SyncRun) -> None:
    SyncLease.objects.filter(source=source, run=run).update(heartbeat_at=timezone.now())


def cursor(source: str, entity: str) -> SyncCursor:
    found, _ = SyncCursor.objects.get_or_create(source=source, entity=entity)
    return found


def add_counts(run: SyncRun, counts: LoadCounts, deleted: int = 0) -> None:
    run.created += counts.created
    run.updated += counts.updated
    run.unchanged += counts.unchanged
    run.set_aside += counts.set_aside
    run.deleted += deleted
    run.save(update_fields=["created", "updated", "unchanged", "set_aside", "deleted"])


def load_page(run: SyncRun, source: str, entity: str, records: list[dict], id_of: Callable[[dict], str],
              today: date | None, progress=None, revive: bool = True, *, realm: str = "") -> LoadCounts:
    """Write one page; call inside the page's transaction. Rows the source had deleted and
    now sends again are live again (skipped with revive=False when none is marked). The rows
    the page wrote are announced (clients.signals.rows_committed) once the transaction commits."""
    page_ids = list({id_of(r) for r in records if isinstance(r, dict) and id_of(r)})
    page = [(model, model.objects.filter(source=source, realm=realm, **extra, **{f"{column}__in": page_ids}))
            for model, column, extra in ROWS[(source, entity)]]
    before = {model: values_before(model, rows) for model, rows in page}
    counts = load_records(source, entity, records, run, progress, today=today, realm=realm)
    for model, rows in page:
        if revive and page_ids:
            rows.filter(deleted_at_source__isnull=False).update(deleted_at_source=None, sync_run=run)
        if counts.by_model.get(model.__name__, LoadCounts()).written:
            announce_rows(model, rows.filter(sync_run=run), run=run, previous=before[model])
    return counts


def mark_deleted(run: SyncRun, source: str, entity: str, ids: Iterable[str], when=None, *, realm: str = "") -> int:
    """Mark the rows of these payload ids deleted at the source (kept, for history)."""
    ids = list(set(ids))
    when = when or timezone.now()
    marked = 0
    for model, column, extra in ROWS[(source, entity)]:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = model.objects.filter(source=source, realm=realm, **extra, **{f"{column}__in": chunk})
            before = values_before(model, rows.filter(deleted_at_source__isnull=True))
            newly = rows.filter(deleted_at_source__isnull=True).update(deleted_at_source=when, sync_run=run)
            if newly:
                announce_rows(model, rows.filter(deleted_at_source=when, sync_run=run), run=run, deleted=True,
                              previous=before)
            marked += newly
    return marked


def live_ids(source: str, entity: str, *, realm: str = "") -> set[str]:
    """Payload ids of this entity's rows not marked deleted, in one realm."""
    model, column, extra = ROWS[(source, entity)][0]
    return set(model.objects.filter(source=source, realm=realm, deleted_at_source__isnull=True, **extra)
               .values_list(column, flat=True))


def mark_missing(run: SyncRun, source: str, entity: str, seen: set[str], *, realm: str = "") -> int:
    """After a complete listing of one company (realm): rows of this entity it no longer
    lists are deleted. Another company's rows are not in its listing and are left alone."""
    return mark_deleted(run, source, entity, live_ids(source, entity, realm=realm) - seen, realm=realm)


def adopt_rows(source: str, realm: str) -> int:
    """Give this realm the source's rows that carry none: rows loaded before rows carried
    their company, or by import_dump from files that name none. Only the caller knows the
    realm is unambiguous (one company connected). A row whose id the realm already has stays
    as it is (the unique key allows no second one)."""
    adopted = 0
    models = {model for (src, _), targets in ROWS.items() if src == source for model, _, _ in targets}
    for model in sorted(models, key=lambda m: m.__name__):
        taken = model.objects.filter(source=source, realm=realm).values("external_id")
        adopted += model.objects.filter(source=source, realm="").exclude(external_id__in=taken).update(realm=realm)
    return adopted


def note_error(run: SyncRun, message: str) -> None:
    """Record a failure that did not stop the run (one QuickBooks company of several): the
    run ends partial, with the message."""
    run.error = "\n".join(filter(None, [run.error, message]))[:4000]
    run.save(update_fields=["error"])


def start_run(source: str, trigger: str, detail: str = "") -> SyncRun:
    return SyncRun.objects.create(source=source, trigger=trigger, detail=detail[:500])


def finish(run: SyncRun, error: BaseException | None = None) -> SyncRun:
    run.finished_at = timezone.now()
    if error is None:
        run.status = SyncRun.Status.PARTIAL if run.set_aside or run.error else SyncRun.Status.SUCCEEDED
    else:
        run.status = SyncRun.Status.FAILED
        if isinstance(error, PermanentError):
            run.error = str(error)
        elif isinstance(error, TransientError):
            run.error = f"Gave up after repeated transient failures: {error}"
        elif isinstance(error, SyncError):
            run.error = str(error)
        else:
            run.error = f"Unexpected error: {error.__class__.__name__}: {error}"
    run.save()
    announce_load(run)
    return run


def execute(run: SyncRun, body: Callable[[], None]) -> SyncRun:
    """Run body() under the source's lease and record how it ended."""
    try:
        with lease(run.source, run):
            body()
    except Exception as exc:  # the run row must say how it ended, whatever happened
        if not isinstance(exc, SyncError):
            log.exception("%s sync run %s failed", run.source, run.pk)
        else:
            log.warning("%s sync run %s failed: %s", run.source, run.pk, exc)
        run.refresh_from_db(fields=["created", "updated", "unchanged", "set_aside", "deleted"])
        return finish(run, exc)
    return finish(run)


atomic = transaction.atomic


def prefetched(pages: Iterator[T], depth: int = 2) -> Iterator[T]:
    """The same items, fetched by a background thread up to `depth` ahead, so the next
    page travels over HTTP while this one is written. The thread does HTTP only, never
    touches the database; its exceptions are raised here, in order."""
    box: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def fetch() -> None:
        try:
            for item in pages:
                while not stop.is_set():
                    try:
                        box.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put((done, None))
        except BaseException as exc:  # handed to the consumer, raised there
            box.put((done, exc))

    worker = threading.Thread(target=fetch, name="sync-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = box.get()
            if item is done:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def has_deleted_rows(source: str, entity: str, *, realm: str = "") -> bool:
    """Whether any row of this entity (of this realm) is marked deleted (else there is
    nothing to revive)."""
    return any(model.objects.filter(source=source, realm=realm, deleted_at_source__isnull=False, **extra).exists()
               for model, _, extra in ROWS[(source, entity)])
