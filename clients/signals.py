"""Signals other apps listen to, so data loaders never import what reads the data
(integrations -> clients <- ml, insights).

- `data_loaded`: a finished sync or dump import wrote rows (ml rebuilds KPIs and genomes).
- `rows_committed`: rows a sync page or a webhook wrote are committed (alerts score them at
  once). Sent only after the transaction that wrote them commits, so a page that rolled back
  is never scored and never pushed to anyone.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.dispatch import Signal

# Sent after a sync or dump import that wrote rows, with run_id (the SyncRun's pk).
# ml rebuilds the KPI snapshot and genomes in the background on it.
data_loaded = Signal()

# Sent on commit with sender=<the model class>, ids=[pks written], deleted=<bool: the rows were
# marked deleted at the source>, run_id=<SyncRun pk or None>, trigger=<the run's trigger or "">,
# previous={pk: {column: value before the write}} for the columns in WATCHED below.
rows_committed = Signal()

# Columns whose value *before* a write the receivers are told about: a balance going back up
# or a payment dropping to zero is a reversal only relative to what was stored. Kept to a few
# columns of two models so the extra read costs one small query per page of those entities.
WATCHED = {"clients.Invoice": ("balance", "total"), "clients.Payment": ("total",)}


def announce_load(run) -> None:
    """Send data_loaded for a finished run that changed something."""
    if run.status != "failed" and (run.created or run.updated or run.deleted):
        data_loaded.send(sender=type(run), run_id=run.pk)


def listened() -> bool:
    """Whether anyone receives rows_committed (else loaders skip the extra reads)."""
    return rows_committed.has_listeners()


def values_before(model, rows) -> dict:
    """{pk: {column: value}} of the WATCHED columns of `rows` (a queryset of `model`), read
    before a write; {} for a model nobody watches (no query then)."""
    columns = WATCHED.get(model._meta.label)
    if not columns or not listened():
        return {}
    return {row.pop("pk"): row for row in rows.values("pk", *columns)}


def announce_rows(model, rows, *, run=None, deleted: bool = False, previous: dict | None = None) -> int:
    """Send rows_committed for the pks of `rows` (a queryset of `model`) once the current
    transaction commits (at once outside one); returns the number of rows announced. The pks
    are read now, inside the transaction, so later writes cannot change which rows are meant."""
    if not listened():
        return 0
    ids = list(rows.values_list("pk", flat=True))
    if not ids:
        return 0
    before = {pk: previous[pk] for pk in ids if previous and pk in previous}
    transaction.on_commit(partial(
        rows_committed.send_robust, sender=model, ids=ids, deleted=deleted, previous=before,
        run_id=getattr(run, "pk", None), trigger=getattr(run, "trigger", "") or "",
    ), robust=True)
    return len(ids)
