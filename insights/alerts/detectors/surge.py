"""Ticket surge: a client's tickets in the last 24 hours or 7 days far above its own baseline.

The baseline is the client's daily ticket rate over the 90 days before the last week (its
own history, not the book's: a 400-seat client's quiet day is a 10-seat client's outage).
The count in each window is compared with a Poisson of that rate; a surge needs all three:
- a tail probability below SURGE_P (1e-4): across ~100 clients and two windows checked on a
  busy day's pages, chance alone then fires about once a month;
- at least SURGE_RATIO (3) times the expected count: real ticket counts are overdispersed
  (Mondays run 1.5-2x the average, a patch night brings a handful), which a Poisson alone
  takes for surprises; three times the usual is beyond an ordinary busy day;
- at least MIN_DAY (5) tickets in 24 h or MIN_WEEK (12) in 7 days, so a client that files a
  ticket a month does not "surge" on its second one.
Critical when the tail is below 1e-8 and the count at least 5x the expected one (an outage or
a security incident looks like that). Clients with under MIN_HISTORY_DAYS (28) of history
before the week have no pattern yet and are not scored. The rate is add-one smoothed (one
ticket more than seen in the baseline) so a silent client needs several tickets to surge.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Min, Q

from clients.models import Client, Ticket

from . import Committed, Finding
from .stats import poisson_tail

SURGE_P = 1e-4
CRITICAL_P = 1e-8
SURGE_RATIO = 3.0
CRITICAL_RATIO = 5.0
MIN_DAY = 5
MIN_WEEK = 12
BASELINE_DAYS = 90
MIN_HISTORY_DAYS = 28
WINDOWS = (("24 hours", timedelta(days=1), MIN_DAY), ("7 days", timedelta(days=7), MIN_WEEK))
EVIDENCE_LIMIT = 50


def detect(rows: Committed) -> list[Finding]:
    if rows.deleted:
        return []
    week_start = rows.now - timedelta(days=7)
    live = Ticket.objects.filter(deleted_at_source__isnull=True)
    clients = set(live.filter(pk__in=rows.ids, created_at__gte=week_start).values_list("client_id", flat=True))
    if not clients:
        return []
    baseline_start = week_start - timedelta(days=BASELINE_DAYS)
    counts = {r["client_id"]: r for r in live.filter(
        client_id__in=clients, created_at__gte=baseline_start, created_at__lte=rows.now,
    ).values("client_id").annotate(
        day=Count("pk", filter=Q(created_at__gte=rows.now - timedelta(days=1))),
        week=Count("pk", filter=Q(created_at__gte=week_start)),
        base=Count("pk", filter=Q(created_at__lt=week_start)),
    )}
    firsts = dict(live.filter(client_id__in=clients).values("client_id").annotate(first=Min("created_at"))
                  .values_list("client_id", "first"))
    found = []
    for client_id in sorted(clients):
        first, row = firsts.get(client_id), counts.get(client_id)
        if first is None or row is None:
            continue
        history_days = min(BASELINE_DAYS, (week_start - first).total_seconds() / 86400)
        if history_days < MIN_HISTORY_DAYS:
            continue
        daily = (row["base"] + 1) / history_days
        finding = _surge(rows, client_id, daily, {"24 hours": row["day"], "7 days": row["week"]}, history_days)
        if finding is not None:
            found.append(finding)
    return found


def _surge(rows: Committed, client_id: int, daily: float, seen: dict[str, int], history_days: float):
    worst = None
    for label, span, minimum in WINDOWS:
        count, expected = seen[label], daily * span.days
        if count < minimum or count < SURGE_RATIO * expected:
            continue
        p = poisson_tail(count, expected)
        if p <= SURGE_P and (worst is None or p < worst[1]):
            worst = (label, p, count, expected, span)
    if worst is None:
        return None
    label, p, count, expected, span = worst
    critical = p <= CRITICAL_P and count >= CRITICAL_RATIO * expected
    tickets = list(Ticket.objects.filter(client_id=client_id, deleted_at_source__isnull=True,
                                         created_at__gte=rows.now - span).order_by("-created_at")
                   .values_list("pk", flat=True)[:EVIDENCE_LIMIT])
    name = Client.objects.filter(pk=client_id).values_list("name", flat=True).first()
    return Finding(
        kind="ticket_surge", severity="critical" if critical else "warning", client_id=client_id,
        title=f"Ticket surge at {name}: {count} tickets in {label}",
        message=(f"{name} opened {count} tickets in the last {label}, against about {expected:.1f} expected from "
                 f"its own rate of {daily:.2f} a day over the previous {history_days:.0f} days "
                 f"({count / expected:.1f}x; a chance of {p:.1e} if nothing had changed)."),
        evidence={"tickets": tickets, "window": label, "count": count, "expected": round(expected, 2),
                  "p_value": p},
        dedup_key=f"ticket_surge:{client_id}",
    )
