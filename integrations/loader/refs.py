"""Resolving `Ref`s to primary keys through an in-memory map, one query per batch and
referenced model (never one per row).

The map lives for one `load_records` call: refs to rows written earlier in the call are
served from memory, and a later call (after customers were linked, say) starts fresh, so
nothing stale survives between entities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ..parsing import fold_name
from ..records import Ref
from .insert import pairs_by_key

MISSING = object()
CacheKey = tuple  # (model, source, key, via)


class RefMap:
    """(model, source, key, via) -> {external id (or folded name): pk or the via column}."""

    def __init__(self, realms: dict[str, str] | None = None) -> None:
        self._maps: dict[CacheKey, dict[str, Any]] = {}
        # source -> the QuickBooks realm its rows are looked up in (others: "").
        self._realms = realms or {}

    def clear(self) -> None:
        self._maps.clear()

    def prefetch(self, refs: Iterable[Ref]) -> None:
        """Fill the map for every ref not already in it: one query per referenced model."""
        wanted: dict[CacheKey, set[str]] = defaultdict(set)
        maps = self._maps
        for ref in refs:
            key = (ref.model, ref.source, ref.key, ref.via)
            known = maps.get(key)
            if known is None or (ref.key != "name" and ref.external_id not in known):
                wanted[key].add(ref.external_id)
        for key, ids in wanted.items():
            self._fetch(key, ids)

    def _fetch(self, key: CacheKey, ids: set[str]) -> None:
        model, source, column, via = key
        target = model._meta.get_field(via).attname if via else "pk"
        known = self._maps.setdefault(key, {})
        if column == "name":
            # Matched by name: the whole (small) table, folded; an ambiguous name matches nobody.
            seen: dict[str, Any] = {}
            for name, value in model.objects.filter(source=source, realm=self._realms.get(source, "")).values_list(
                    "name", target):
                folded = fold_name(name)
                seen[folded] = MISSING if folded in seen else value
            known.update({name: value for name, value in seen.items() if value is not MISSING})
            return
        id_list = sorted(ids)
        found = pairs_by_key(model, source, column, id_list, via or "pk", self._realms.get(source, ""))
        for external_id in id_list:
            known[external_id] = found.get(external_id, MISSING)

    def get(self, ref: Ref) -> Any:
        """The pk (or via column value), MISSING when no such row exists."""
        known = self._maps.get((ref.model, ref.source, ref.key, ref.via))
        if known is None:
            return MISSING
        if ref.key == "external_id":
            return known.get(ref.external_id, MISSING)
        return known.get(fold_name(ref.external_id), MISSING)

    def remember(self, model, source: str, external_id: str, pk: Any, values: dict[str, Any]) -> None:
        """Record a row just written, for refs later in the same call."""
        for (m, s, column, via), known in self._maps.items():
            if m is not model or s != source or column != "external_id":
                continue
            if via is None:
                known[external_id] = pk
            else:
                attname = model._meta.get_field(via).attname
                if attname in values:
                    known[external_id] = values[attname]
                else:
                    known.pop(external_id, None)
