"""Values derived from loaded rows rather than read from one payload, run by `load_records`
after the entity they depend on, so a dump import and a live sync derive the same.

churned_on: a real tenant records no churn date (no churnedOn custom field); a client that
left shows as its status (Inactive, a "Former Customer" stage) and its agreements ending. A
churned client with no date yet gets the day its last agreement ended, once none still runs.
A date already there (derived earlier, or set by a person) is never changed.

burdened_hourly_cost: after SuperOps technicians load, each gets its QuickBooks employee's
cost (integrations.technician_costs), so a technician added after the employees were read
is costed on this load rather than the next QuickBooks one.
"""

from __future__ import annotations

from django.db.models import Count, Max, Q

from clients.models import Client, Contract, SyncRun

from ..technician_costs import apply_technician_costs

CHUNK = 2000


def derive_churn_dates(run: SyncRun) -> int:
    """Fill churned_on of churned clients from their agreements; returns how many were set."""
    waiting = list(Client.objects.filter(source="superops", status=Client.Status.CHURNED, churned_on__isnull=True,
                                         deleted_at_source__isnull=True).values_list("pk", flat=True))
    changed = []
    for start in range(0, len(waiting), CHUNK):
        ends = (Contract.objects.filter(client_id__in=waiting[start:start + CHUNK], deleted_at_source__isnull=True)
                .values("client_id")
                .annotate(last_end=Max("end_date"),
                          running=Count("pk", filter=Q(end_date__isnull=True, status=Contract.Status.ACTIVE))))
        changed += [Client(pk=row["client_id"], churned_on=row["last_end"], sync_run=run)
                    for row in ends if row["last_end"] is not None and not row["running"]]
    if changed:
        Client.objects.bulk_update(changed, ["churned_on", "sync_run"], batch_size=1000)
    return len(changed)


# (source, entity) -> what to derive once its records are loaded.
AFTER_LOAD = {
    ("superops", "getClientContractList"): derive_churn_dates,
    ("superops", "getTechnicianList"): apply_technician_costs,
}
