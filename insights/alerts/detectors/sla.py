"""A run of SLA breaches: the newest tickets of one client with a known SLA outcome all
breached (first response or resolution late).

RUN (5) consecutive breaches: a client whose tickets meet their SLA 90% of the time breaches
five in a row by chance about once in 100,000 tickets (0.1^5), and even at 80% attainment
once in 3,000, so five in a row says the service to that client is failing, not unlucky.
Critical at CRITICAL_RUN (10). A ticket's outcome is known once either SLA flag is set;
tickets with neither (still open, no response due yet) neither break nor extend a run.
Scored when a committed ticket of the last ALERT_RECENT_DAYS breached.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q

from clients.models import Client, Ticket

from ..conf import setting
from . import Committed, Finding

RUN = 5
CRITICAL_RUN = 10
LOOK_BACK = 30  # newest outcomes read per client: enough to measure a run up to this long
BREACHED = Q(resolution_violated=True) | Q(first_response_violated=True)
KNOWN = Q(resolution_violated__isnull=False) | Q(first_response_violated__isnull=False)


def detect(rows: Committed) -> list[Finding]:
    if rows.deleted:
        return []
    recent = rows.now - timedelta(days=setting("ALERT_RECENT_DAYS"))
    live = Ticket.objects.filter(deleted_at_source__isnull=True)
    clients = set(live.filter(BREACHED, pk__in=rows.ids, created_at__gte=recent)
                  .values_list("client_id", flat=True))
    found = []
    for client_id in sorted(clients):
        outcomes = list(live.filter(KNOWN, client_id=client_id).order_by("-created_at", "-pk")
                        .values_list("pk", "display_id", "resolution_violated", "first_response_violated")[:LOOK_BACK])
        run = 0
        for _pk, _display, resolution, response in outcomes:
            if not (resolution or response):
                break
            run += 1
        if run < RUN:
            continue
        breached = outcomes[:run]
        name = Client.objects.filter(pk=client_id).values_list("name", flat=True).first()
        numbers = ", ".join(f"#{display or pk}" for pk, display, *_ in breached[:10])
        longer = f" (the newest {LOOK_BACK} read)" if run == LOOK_BACK else ""
        found.append(Finding(
            kind="sla_breach_run", severity="critical" if run >= CRITICAL_RUN else "warning", client_id=client_id,
            title=f"{run} SLA breaches in a row at {name}",
            message=(f"The last {run} tickets of {name} with an SLA outcome{longer} all breached their SLA "
                     f"(first response or resolution late): {numbers}{' ...' if run > 10 else ''}."),
            evidence={"tickets": [pk for pk, *_ in breached], "run": run},
            dedup_key=f"sla_breach_run:{client_id}",
        ))
    return found
