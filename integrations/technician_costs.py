"""A technician's burdened hourly cost, from the MSP's books.

SuperOps has no technician cost (its Technician has no custom fields); QuickBooks has it: an
`Employee`'s CostRate is the hourly cost an MSP uses for job costing, and each TimeActivity
carries the CostRate it was costed at. Once technicians (SuperOps) and employees (QuickBooks)
are loaded, `apply_technician_costs`:

1. links each employee without a technician to the technician it is: same email, else the
   same name (accents, case and punctuation folded); an ambiguous key matches nobody, and an
   employee no technician matches (office staff) is kept unlinked. A link once made, by this
   or by a person in the admin, is kept.
2. sets each technician's `burdened_hourly_cost` from its employee's CostRate (the most
   recently updated employee when two companies both have one), else from the CostRate of
   its latest QuickBooks time. A cost a person set (`cost_set_locally`) is never replaced;
   a technician with no rate anywhere keeps the cost it has.

import_dump and the QuickBooks sync call it after loading, and the loader after SuperOps
technicians load (a technician added later gets its employee's cost on that load).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from clients.models import Employee, SyncRun, Technician, Worklog

from .quickbooks.mapping import TechnicianIndex, match_technician

log = logging.getLogger(__name__)
EPOCH = datetime.min


@dataclass
class CostReport:
    linked: int = 0  # employees newly linked to their technician
    unmatched: int = 0  # live employees no technician matches (kept, unlinked)
    costed: int = 0  # technicians whose cost changed
    from_time: int = 0  # of those, costed from QuickBooks time (no employee rate)
    kept_local: int = 0  # technicians whose cost a person set and QuickBooks differs from

    def summary(self) -> str:
        return (f"Technician costs: {self.costed} set from QuickBooks ({self.from_time} from time entries), "
                f"{self.kept_local} kept as set by a person; employees: {self.linked} newly linked to technicians, "
                f"{self.unmatched} without one")


def apply_technician_costs(run: SyncRun | None = None) -> CostReport:
    """Link employees to technicians, then set the technicians' costs; see the module."""
    report = CostReport()
    with transaction.atomic():
        link_employees(report)
        set_costs(report, run)
    if report.costed or report.linked:
        log.info("%s", report.summary())
    return report


def link_employees(report: CostReport) -> None:
    waiting = list(Employee.objects.filter(technician__isnull=True)
                   .values_list("pk", "email", "name", "given_name", "family_name", "deleted_at_source"))
    if not waiting:
        return
    index = TechnicianIndex.of(Technician.objects.values_list("pk", "email", "name"))
    found: dict[int, list[int]] = {}
    for pk, email, name, given, family, deleted in waiting:
        match = match_technician(email, name, index, given, family)
        if match is None:
            report.unmatched += deleted is None
            continue
        found.setdefault(match[0], []).append(pk)
    for technician_id, employee_ids in found.items():
        report.linked += Employee.objects.filter(pk__in=employee_ids, technician__isnull=True).update(
            technician_id=technician_id)


def employee_rates() -> dict[int, Decimal]:
    """technician pk -> CostRate of its most recently updated live employee that has one."""
    best: dict[int, tuple[tuple[datetime, int], Decimal]] = {}
    rows = Employee.objects.filter(technician__isnull=False, deleted_at_source__isnull=True, cost_rate__gt=0)
    for technician_id, rate, updated, pk in rows.values_list("technician_id", "cost_rate", "source_updated_at", "pk"):
        # Stored in UTC, so the zone can go; a row with no time loses to one with a time.
        newest = (updated.replace(tzinfo=None) if updated else EPOCH, pk)
        if technician_id not in best or newest > best[technician_id][0]:
            best[technician_id] = (newest, rate)
    return {technician_id: rate for technician_id, (_, rate) in best.items()}


def time_rates(technician_ids: set[int]) -> dict[int, Decimal]:
    """technician pk -> CostRate of its latest QuickBooks time entry that has one."""
    if not technician_ids:
        return {}
    rates: dict[int, Decimal] = {}
    rows = (Worklog.objects.filter(source="quickbooks", technician_id__in=technician_ids, cost_rate__gt=0,
                                   deleted_at_source__isnull=True)
            .order_by("technician_id", "-work_date", "-pk").values_list("technician_id", "cost_rate"))
    for technician_id, rate in rows.iterator(chunk_size=5000):
        rates.setdefault(technician_id, rate)
    return rates


def set_costs(report: CostReport, run: SyncRun | None) -> None:
    technicians = list(Technician.objects.values_list("pk", "burdened_hourly_cost", "cost_set_locally"))
    rates = employee_rates()
    from_time = time_rates({pk for pk, _, _ in technicians if pk not in rates})
    changed = []
    for pk, cost, set_locally in technicians:
        rate = rates.get(pk, from_time.get(pk))
        if rate is None or rate == cost:
            continue
        if set_locally:
            report.kept_local += 1
            continue
        changed.append(Technician(pk=pk, burdened_hourly_cost=rate, sync_run=run))
        report.from_time += pk not in rates
    if changed:
        columns = ["burdened_hourly_cost", "sync_run"] if run is not None else ["burdened_hourly_cost"]
        Technician.objects.bulk_update(changed, columns, batch_size=500)
    report.costed = len(changed)
