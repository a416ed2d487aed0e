"""The tenant's field map and value maps as the mapping functions take them, read from the
admin's tables once per run: every `load_records` call of one run (a dump import, a live sync)
maps with the same answers, and an edit applies from the next run on."""

from __future__ import annotations

from clients.models import ServiceItem, SyncRun

from ..models import FieldMap, ValueMap
from ..parsing import fold_name
from ..tenant import TenantMaps

_ATTRIBUTE = "_tenant_maps"
HOUR_TYPES = ("hours", "block_hours")


def read_tenant_maps() -> TenantMaps:
    """The maps as the tables hold them now (FieldMap over the defaults, every ValueMap row),
    and the SuperOps service items sold by the hour (with the prices of the hourly ones)."""
    fields = dict(FieldMap.objects.values_list("concept", "label"))
    values = list(ValueMap.objects.exclude(our_value="").values_list("kind", "source_value", "our_value"))
    items = list(ServiceItem.objects.filter(source="superops", quantity_type__in=HOUR_TYPES)
                 .values_list("external_id", "quantity_type", "unit_price", "after_hours_unit_price"))
    hour_items = frozenset(external_id for external_id, *_ in items)
    prices = {external_id: (price, after_hours) for external_id, kind, price, after_hours in items
              if kind == "hours"}
    return TenantMaps.build(fields, values, hour_items, prices)


def tenant_maps(run: SyncRun) -> TenantMaps:
    """The run's maps, read at its first load that needs them and kept on the run object."""
    maps = getattr(run, _ATTRIBUTE, None)
    if maps is None or _stale(maps):
        maps = read_tenant_maps()
        setattr(run, _ATTRIBUTE, maps)
    return maps


def _stale(maps: TenantMaps) -> bool:
    # Service items load earlier in the same run than the contracts that need them; a run
    # that read the maps before any were loaded reads them again once.
    return not maps.hour_items and ServiceItem.objects.filter(source="superops").exists()


def record_seen_values(maps: TenantMaps) -> int:
    """Add a ValueMap row (with the meaning it was given) for each tenant value the run mapped
    that no row names yet, so a person finds every status, priority and category in use in
    the admin, not only those SuperOps' lists name. Returns how many were added."""
    seen = [(kind, text) for (kind, text) in maps.seen_values() if text]
    if not seen:
        return 0
    known = {(kind, fold_name(value)) for kind, value in ValueMap.objects.values_list("kind", "source_value")}
    limit = ValueMap._meta.get_field("source_value").max_length
    new: dict[tuple[str, str], ValueMap] = {}
    for kind, text in seen:
        key = (kind, fold_name(text[:limit]))
        if key not in known and key not in new:
            new[key] = ValueMap(kind=kind, source_value=text[:limit], our_value=maps.value(kind, text), seeded=True)
    ValueMap.objects.bulk_create(list(new.values()), ignore_conflicts=True)
    return len(new)


def forget_tenant_maps(run: SyncRun) -> None:
    """Drop the run's maps (after seeding value maps mid-run), so the next load reads them."""
    if hasattr(run, _ATTRIBUTE):
        delattr(run, _ATTRIBUTE)
