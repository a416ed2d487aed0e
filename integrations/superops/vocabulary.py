"""Seeding the value maps from the tenant's own vocabularies: its client stages (each with its
statuses), ticket priorities, and, when read, ticket statuses and categories.

Every value the tenant defines gets a ValueMap row with its default meaning, so a person sees
the whole list in the admin and changes only what the defaults get wrong. Rows that exist are
never touched: a person's choice outlives every later seeding.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from ..models import ValueMap
from ..sync.errors import SyncError
from ..tenant import (
    CLIENT_STAGE,
    CLIENT_STATUS,
    TICKET_CATEGORY,
    TICKET_PRIORITY,
    TICKET_STATUS,
    default_value,
)

log = logging.getLogger(__name__)
# The SuperOps queries whose entries become value-map rows; the live sync reads the first two.
VOCABULARIES = ("getClientStageList", "getPriorityList", "getStatusList", "getCategoryList")
LIVE_VOCABULARIES = ("getClientStageList", "getPriorityList")


class VocabularySource(Protocol):
    def vocabulary(self, name: str) -> list[dict]: ...
MAX_VALUE = ValueMap._meta.get_field("source_value").max_length


def _name(entry: Any) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        return ""
    return entry["name"].strip()[:MAX_VALUE]


def _hint(entry: dict) -> str:
    # A stage's constant ("FORMER_CUSTOMER") says more than a renamed label.
    constant = entry.get("constant") if isinstance(entry, dict) else None
    return f"{_name(entry)} {constant.replace('_', ' ')}" if isinstance(constant, str) else _name(entry)


def value_pairs(records_by_list: Mapping[str, Iterable[Any]]) -> list[tuple[str, str, str]]:
    """(kind, source value, default meaning) for every value of the vocabularies given."""
    pairs: dict[tuple[str, str], str] = {}

    def add(kind: str, entry: Any) -> None:
        name = _name(entry)
        if name and (kind, name) not in pairs:
            pairs[(kind, name)] = default_value(kind, _hint(entry))

    for stage in records_by_list.get("getClientStageList") or []:
        add(CLIENT_STAGE, stage)
        for status in (stage.get("statuses") or []) if isinstance(stage, dict) else []:
            add(CLIENT_STATUS, status)
    for priority in records_by_list.get("getPriorityList") or []:
        add(TICKET_PRIORITY, priority)
    for status in records_by_list.get("getStatusList") or []:
        add(TICKET_STATUS, status)
    for category in records_by_list.get("getCategoryList") or []:
        add(TICKET_CATEGORY, category)
    return [(kind, name, ours) for (kind, name), ours in pairs.items()]


def seed_value_maps(records_by_list: Mapping[str, Iterable[Any]]) -> int:
    """Add a ValueMap row for each vocabulary value that has none; returns how many were added.

    `records_by_list` maps a vocabulary query (getClientStageList, getPriorityList, and
    optionally getStatusList, getCategoryList) to its entries as SuperOps answers them.
    """
    pairs = value_pairs(records_by_list)
    existing = set(ValueMap.objects.values_list("kind", "source_value"))
    new = [ValueMap(kind=kind, source_value=name, our_value=ours, seeded=True)
           for kind, name, ours in pairs if (kind, name) not in existing]
    ValueMap.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def seed_from_superops(client: VocabularySource, names: Iterable[str] = LIVE_VOCABULARIES,
                       survivable: type[Exception] | tuple[type[Exception], ...] = SyncError,
                       ) -> tuple[int, list[str]]:
    """Read the tenant's vocabularies with the live client and seed the value maps; returns
    (rows added, the names that could not be read). A `survivable` error is reported, not
    fatal: the records still load, their values with the default meaning; any other error
    propagates (the sync lets only a refusal pass, so a bad token stops it at once)."""
    found: dict[str, list] = {}
    problems: list[str] = []
    for name in names:
        try:
            found[name] = client.vocabulary(name)
        except survivable as exc:
            log.warning("SuperOps %s could not be read: %s", name, exc)
            problems.append(name)
    return seed_value_maps(found), problems
