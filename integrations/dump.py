"""Reading a dump folder (integrations/PAYLOADS.md) and importing it: the tenant's
vocabularies (client stages, priorities) first, to seed the value maps; then every entity in
dependency order through `load_records`, customers linked to clients (and sub-customers to
their parent's client) right after they load, technicians given their QuickBooks employees'
cost once everything is loaded, and one SyncRun (trigger "dump") with the counts.

A page that cannot be read is skipped and named in the run's error (the run then fails);
a bad record is set aside and the load goes on (the run is then partial).
"""

from __future__ import annotations

import calendar
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone
from tqdm import tqdm

from clients.models import SyncRun
from clients.signals import announce_load

from .loader import ENTITIES, LOAD_ORDER, LoadCounts, load_records
from .loader.tenant import forget_tenant_maps, tenant_maps
from .matching import MatchCounts, link_customers_to_clients
from .subcustomers import link_sub_customers
from .superops.vocabulary import VOCABULARIES, seed_value_maps
from .technician_costs import CostReport, apply_technician_costs
from .tenant import TenantMaps


class DumpError(Exception):
    """The folder is not a dump at all (missing, or a file that is not JSON)."""


@dataclass
class DumpReport:
    """What `import_dump` did, attached to the returned run as `run.report`."""

    folder: Path
    as_of: date
    counts: dict[tuple[str, str], LoadCounts] = field(default_factory=dict)
    matching: MatchCounts | None = None
    costs: CostReport | None = None
    value_maps_seeded: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> LoadCounts:
        total = LoadCounts()
        for counts in self.counts.values():
            total.add(counts)
        return total

    @property
    def rows_per_second(self) -> float:
        return self.total.rows / self.seconds if self.seconds else 0.0


def read_page(path: Path) -> Any:
    try:
        # Decimal numbers: money in the dump never passes through float.
        return json.loads(path.read_bytes(), parse_float=Decimal)
    except (OSError, ValueError) as exc:
        raise DumpError(f"{path}: {exc}") from exc


def _records_of(source: str, list_key: str, query: str, body: Any, path: Path) -> list:
    try:
        if source == "superops":
            records = body["data"][query][list_key]
        elif source == "quickbooks":
            # QuickBooks leaves the entity key out of an empty answer.
            records = body["QueryResponse"].get(list_key, [])
        else:
            records = body[list_key]
    except (KeyError, TypeError) as exc:
        raise DumpError(f"{path}: not a {source} {query} page (missing {exc})") from None
    if not isinstance(records, list):
        raise DumpError(f"{path}: {list_key} is not a list")
    return records


def _pages(folder: Path, source: str, entity: str) -> list[Path]:
    return sorted((folder / source / entity).glob("page-*.json"))


def iter_dump(folder: str | Path, errors: list[str] | None = None) -> Iterator[tuple[str, str, Iterator[dict]]]:
    """(source, entity, records) in LOAD_ORDER; records stream page by page. A page that
    cannot be read is skipped and described in `errors` (raised when no list is given)."""
    folder = Path(folder)
    for source, entity in LOAD_ORDER:
        pages = _pages(folder, source, entity)
        if pages:
            yield source, entity, _stream(pages, source, entity, errors)


def _stream(pages: list[Path], source: str, entity: str, errors: list[str] | None) -> Iterator[dict]:
    list_key = ENTITIES[(source, entity)].list_key
    for path in pages:
        try:
            records = _records_of(source, list_key, entity, read_page(path), path)
        except DumpError as exc:
            if errors is None:
                raise
            errors.append(str(exc))
            continue
        yield from records


def _total_records(folder: Path) -> int | None:
    """Records in the dump, from each entity's first page (totalCount), for the progress bar."""
    total = 0
    for source, entity in LOAD_ORDER:
        pages = _pages(folder, source, entity)
        if not pages:
            continue
        try:
            body = read_page(pages[0])
            if source == "superops":
                count = body["data"][entity]["listInfo"]["totalCount"]
            elif source == "quickbooks":
                count = body["QueryResponse"]["totalCount"]
            else:
                count = len(body["interactions"]) * len(pages)
            total += int(count)
        except (DumpError, KeyError, TypeError, ValueError):
            return None
    return total


def dump_as_of(folder: Path) -> date:
    """The day the dump describes (manifest "end"; a month means its last day), else today."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        end = str(manifest["end"])
        if len(end) == 7:
            year, month = int(end[:4]), int(end[5:7])
            return date(year, month, calendar.monthrange(year, month)[1])
        return date.fromisoformat(end[:10])
    except (OSError, ValueError, KeyError, TypeError):
        return timezone.now().date()


def _linked_ids(records: Iterator[dict], found: dict[str, str], maps: TenantMaps) -> Iterator[dict]:
    """Pass client records through, noting SuperOps' own QuickBooks customer id when the
    tenant keeps it (the field map's client.quickbooks_customer_id)."""
    for record in records:
        if isinstance(record, dict):
            custom = record.get("customFields")
            linked = maps.custom(custom, "client.quickbooks_customer_id") if isinstance(custom, dict) else None
            if linked and isinstance(linked, (str, int)) and record.get("accountId"):
                found[str(linked)] = str(record["accountId"])
        yield record


def read_vocabularies(folder: Path, errors: list[str]) -> dict[str, list]:
    """The tenant vocabularies in the dump (superops/<query>/page-*.json, a plain list under
    data.<query>), for seeding the value maps."""
    found: dict[str, list] = {}
    for query in VOCABULARIES:
        for path in _pages(folder, "superops", query):
            try:
                entries = read_page(path)["data"][query]
                if not isinstance(entries, list):
                    raise DumpError(f"{path}: data.{query} is not a list")
            except (KeyError, TypeError):
                errors.append(f"{path}: not a superops {query} page")
                continue
            except DumpError as exc:
                errors.append(str(exc))
                continue
            found.setdefault(query, []).extend(entries)
    return found


def import_dump(folder: str | Path, trigger: str = "dump", progress: bool = True) -> SyncRun:
    """Load a dump folder; returns the SyncRun with `run.report` (a DumpReport)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DumpError(f"{folder} is not a folder")
    report = DumpReport(folder=folder, as_of=dump_as_of(folder))
    run = SyncRun.objects.create(source="dump", trigger=trigger, detail=str(folder)[:500])
    started = time.monotonic()
    show = progress and sys.stderr.isatty()
    bar = tqdm(total=_total_records(folder) if show else None, unit="rec", disable=not show, smoothing=0.1)
    linked: dict[str, str] = {}
    try:
        vocabularies = read_vocabularies(folder, report.errors)
        if vocabularies:
            report.value_maps_seeded = seed_value_maps(vocabularies)
            forget_tenant_maps(run)
        for source, entity, records in iter_dump(folder, report.errors):
            bar.set_description(f"{source} {entity}")
            if entity == "getClientList":
                records = _linked_ids(records, linked, tenant_maps(run))
            report.counts[(source, entity)] = load_records(source, entity, records, run, bar, today=report.as_of)
            if (source, entity) == ("quickbooks", "Customer"):
                report.matching = link_customers_to_clients(run, linked)
                link_sub_customers(run)
        if report.matching is None:
            report.matching = link_customers_to_clients(run, linked)
            link_sub_customers(run)
        # Technicians and employees (and time, the fallback) are all in: cost the technicians.
        report.costs = apply_technician_costs(run)
    except Exception as exc:
        report.errors.append(f"{type(exc).__name__}: {exc}")
        _finish(run, report, started)
        raise
    finally:
        bar.close()
    _finish(run, report, started)
    return run


def _finish(run: SyncRun, report: DumpReport, started: float) -> None:
    report.seconds = time.monotonic() - started
    total = report.total
    run.created, run.updated, run.unchanged = total.created, total.updated, total.unchanged
    run.set_aside = total.set_aside
    if report.errors:
        run.status = SyncRun.Status.FAILED
    elif total.set_aside:
        run.status = SyncRun.Status.PARTIAL
    else:
        run.status = SyncRun.Status.SUCCEEDED
    run.error = "\n".join(report.errors)
    run.finished_at = timezone.now()
    run.save()
    run.report = report
    announce_load(run)


def format_summary(run: SyncRun) -> str:
    """The human summary the command prints: counts per entity and model, records set
    aside with their first reasons, the customer links, wall time and speed."""
    report: DumpReport = run.report
    total = report.total
    lines = [
        f"Imported {report.folder} as of {report.as_of}: run #{run.pk} {run.get_status_display().lower()}",
        f"{'entity':<34}{'model':<20}{'created':>9}{'updated':>9}{'unchanged':>11}{'set aside':>11}",
    ]
    for (source, entity), counts in report.counts.items():
        name = f"{source}/{entity}"
        models = list(counts.by_model.items()) or [("-", LoadCounts())]
        for i, (model, mc) in enumerate(models):
            aside = counts.set_aside if i == 0 else ""
            lines.append(f"{name if i == 0 else '':<34}{model:<20}"
                         f"{mc.created:>9}{mc.updated:>9}{mc.unchanged:>11}{aside:>11}")
    lines.append(f"{'total':<54}{total.created:>9}{total.updated:>9}{total.unchanged:>11}{total.set_aside:>11}")
    if total.set_aside:
        lines.append(f"Set aside {total.set_aside} record(s) (see RejectedRecord in the admin):")
        for (source, entity), counts in report.counts.items():
            if counts.set_aside:
                lines.append(f"  {source}/{entity}: {counts.set_aside}")
                lines.extend(f"    {reason}" for reason in counts.reasons)
    if report.value_maps_seeded:
        lines.append(f"Value maps: {report.value_maps_seeded} tenant value(s) added with their default meaning "
                     "(edit them in the admin: Integrations > Value maps)")
    if report.matching:
        m = report.matching
        lines.append(f"Customers linked to clients: {m.linked} newly linked, {m.unlinked} unlinked, "
                     f"{m.unmatched} without a client; {m.copied} invoice/payment/expense rows re-pointed")
    if report.costs:
        lines.append(report.costs.summary())
    for error in report.errors:
        lines.append(f"ERROR {error}")
    lines.append(f"{total.rows} rows in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s)")
    return "\n".join(lines)
