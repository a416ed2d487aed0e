"""Which requests an MSP treats as out of scope of its per-seat agreements, learnt from its own
billing, and the tickets of those kinds that were logged as covered anyway.

SuperOps keeps an agreement's scope as free text ("Out of scope: new installs, moves and
projects") that our loader does not read, and every MSP words it differently. What the books
do show is practice: under per-seat agreements most tickets are covered, and the kinds of
request (ticket category and subcategory) the MSP bills are the ones it considers out of
scope. A kind is out of scope when, among tickets worked under a per-seat agreement in force,
at least MIN_BILLED_SHARE of them were billed and at least MIN_BILLED_TICKETS were; a ticket
of such a kind whose worklogs were all logged as covered is then a leak.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q

from clients.models import Worklog

from .base import month_of
from .books import Agreement

MIN_BILLED_SHARE = 0.5
MIN_BILLED_TICKETS = 3
CHUNK = 500


@dataclass
class ScopedTicket:
    client_id: int
    month: date
    display_id: str
    kind: str
    agreement: Agreement
    billed_share: float
    confidence: float
    worklogs: list[tuple[int, bool]] = field(default_factory=list)  # (minutes, after hours)
    worklog_ids: list[str] = field(default_factory=list)


def _kind(category: str, subcategory: str) -> str:
    return " / ".join(x for x in (category.strip(), subcategory.strip()) if x) or "(uncategorised)"


def out_of_scope_tickets(per_seat: Callable[[int, date], Agreement | None]) -> list[ScopedTicket]:
    """Tickets of out-of-scope kinds logged as covered under a per-seat agreement in force."""
    rows = (Worklog.objects.labour().filter(ticket__isnull=False, ticket__deleted_at_source__isnull=True)
            .values("ticket_id")
            .annotate(billed=Count("pk", filter=Q(billable=True)),
                      covered=Count("pk", filter=Q(billable=False, billing_status="under_contract")))
            .values_list("ticket_id", "ticket__client_id", "ticket__created_at", "ticket__category",
                         "ticket__subcategory", "ticket__display_id", "billed", "covered"))
    billed, seen, suspects = Counter(), Counter(), []
    for ticket_id, client_id, created, category, subcategory, display, n_billed, n_covered in rows:
        month = month_of(created.date())
        agreement = per_seat(client_id, month)
        if agreement is None:
            continue
        kind = _kind(category, subcategory)
        seen[kind] += 1
        if n_billed:
            billed[kind] += 1
        elif n_covered:
            suspects.append((ticket_id, client_id, month, display, kind, agreement))
    share = {kind: billed[kind] / seen[kind] for kind in seen}
    out_of_scope = {k for k, s in share.items() if s >= MIN_BILLED_SHARE and billed[k] >= MIN_BILLED_TICKETS}
    found = {t[0]: ScopedTicket(t[1], t[2], t[3] or str(t[0]), t[4], t[5], share[t[4]], min(0.95, share[t[4]]))
             for t in suspects if t[4] in out_of_scope}
    ids = list(found)
    for i in range(0, len(ids), CHUNK):
        for ticket_id, ext, minutes, after in Worklog.objects.labour().filter(
                ticket_id__in=ids[i:i + CHUNK], billing_status="under_contract").values_list(
                "ticket_id", "external_id", "minutes", "after_hours").order_by("pk"):
            found[ticket_id].worklogs.append((minutes, after))
            found[ticket_id].worklog_ids.append(ext)
    return list(found.values())
