"""Loading payload records into the clients app: the one write path shared by `import_dump`
and the live sync.

`load_records(source, entity, records, run)` maps each record with the entity's mapper (given
the tenant's field and value maps when it takes `maps`), sets bad ones aside as
RejectedRecord (with the reason naming the field and value), resolves refs through an
in-memory map, inserts new rows, updates only rows whose values changed, writes each batch in
one transaction, and then derives what depends on the entity (`derived.AFTER_LOAD`: a churned
client's date from its agreements). `LOAD_ORDER` lists the entities so every ref points at
rows loaded before it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from itertools import islice
from typing import Any

from clients.models import SyncRun

from .. import entities
from ..local import mapping as local_mapping
from ..quickbooks import mapping as qb_mapping
from ..superops import mapping as so_mapping
from .batch import BatchLoader
from .counts import LoadCounts
from .derived import AFTER_LOAD
from .insert import tune_connection
from .tenant import record_seen_values, tenant_maps

__all__ = ["BATCH_SIZE", "ENTITIES", "LOAD_ORDER", "Entity", "LoadCounts", "load_records", "record_id"]

# A few thousand rows per transaction: big enough that per-statement overhead vanishes,
# small enough that memory stays flat and a failing batch costs little to retry.
BATCH_SIZE = 5000


@dataclass(frozen=True)
class Entity:
    source: str
    name: str  # SuperOps list query, QuickBooks entity, or local file kind
    list_key: str  # where the records sit in a response body
    id_path: tuple[str, ...]  # the record's own id, for the set-aside row
    mapper: Callable[..., Any]


_MAPPERS: dict[str, dict[str, Callable[..., Any]]] = {
    "superops": so_mapping.MAPPERS, "quickbooks": qb_mapping.MAPPERS, "local": local_mapping.MAPPERS}
# The one entity table (integrations/entities.py) with each entity's mapper, in load order.
_ENTITY_LIST = [Entity(kind.provider, kind.name, kind.list_key, (kind.id_key,), _MAPPERS[kind.provider][kind.name])
                for kind in entities.TABLE]
ENTITIES: dict[tuple[str, str], Entity] = {(e.source, e.name): e for e in _ENTITY_LIST}
LOAD_ORDER: list[tuple[str, str]] = [(e.source, e.name) for e in _ENTITY_LIST]


def record_id(entity: Entity, payload: Any) -> str:
    """The record's id as the source wrote it, or "" (it may be exactly what is missing)."""
    if not isinstance(payload, dict):
        return ""
    value = payload
    for key in entity.id_path:
        value = value.get(key) if isinstance(value, dict) else None
    if value in (None, "") and entity.name == "getClientContractList":
        value = (payload.get("contract") or {}).get("contractId") if isinstance(payload.get("contract"), dict) else None
    return "" if value is None or isinstance(value, (dict, list)) else str(value)[:64]


def _batches(records: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def load_records(
    source: str,
    entity: str,
    records: Iterable[dict],
    run: SyncRun,
    progress: Any = None,
    *,
    today: date | None = None,
    batch_size: int | None = None,
    realm: str = "",
) -> LoadCounts:
    """Load one entity's payload records; returns the counts (with `by_model` detail).

    `today` is the day seat counts are taken at (contract quantity changes effective on or
    before it); a dump passes its own end date so an old or future world loads as it was.
    `progress` is anything with `update(n)` (a tqdm bar). `realm` is the QuickBooks company
    the records came from: rows of `source` are written with it, and looked up (existing
    rows, refs between them) within it only; rows of other sources are referenced as "".
    """
    spec = ENTITIES.get((source, entity))
    if spec is None:
        raise KeyError(f"no mapper for {source}/{entity}; known: {', '.join(f'{s}/{e}' for s, e in LOAD_ORDER)}")
    mapper = spec.mapper
    parameters = inspect.signature(mapper).parameters
    if "today" in parameters:
        mapper = partial(mapper, today=today)
    maps = None
    if "maps" in parameters:
        # The tenant's field and value maps, read once per run (a person's edit in the admin
        # applies from the next run on).
        maps = tenant_maps(run)
        mapper = partial(mapper, maps=maps)
    tune_connection()
    loader = BatchLoader(source, entity, mapper, partial(record_id, spec), run, realm=realm)
    for batch in _batches(records, batch_size or BATCH_SIZE):
        loader.load(batch)
        if progress is not None:
            progress.update(len(batch))
    if maps is not None:
        record_seen_values(maps)
    derive = AFTER_LOAD.get((source, entity))
    if derive is not None:
        derive(run)
    return loader.counts
