"""A worklog far longer than the usual one of its kind.

The kind of a worklog is its ticket's category (the tenant's own values: "Password reset",
"Server down") for ticket time, and its work module (project work) otherwise. The baseline
is the newest BASELINE_ROWS (1,000) service-desk worklogs of that kind from the last 180 days,
read newest first through the work_date index, so it costs the same on a big book.

Durations are right-skewed (most tickets take minutes, a few take a day), so the robust z is
taken on log(1 + minutes) around the kind's median with its MAD. A worklog is flagged when:
- z >= Z_FLAG (4): a log-normal kind puts a genuine worklog there about 3 times in 100,000;
- it is at least RATIO (3) times the kind's median: a tight kind (every reset 15 min) gets a
  large z from a 25-minute reset, which is not worth anyone's attention;
- it is at least MIN_MINUTES (120) long: a 40-minute worklog is never a billing problem.
The spread is floored at SPREAD_FLOOR (0.25 in log units, about +-28%) for the same reason.
Critical when z >= Z_CRITICAL (8) and the worklog is at least 8 hours (a day billed to a
ticket whose kind takes minutes is a timesheet or billing error to catch before invoicing).
Kinds with fewer than MIN_SAMPLE (30) worklogs have no pattern yet and are not scored.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.utils import timezone

from clients.models import Worklog

from ..conf import setting
from . import Committed, Finding
from .stats import log_amount, robust_z

Z_FLAG = 4.0
Z_CRITICAL = 8.0
RATIO = 3.0
MIN_MINUTES = 120
CRITICAL_MINUTES = 480
SPREAD_FLOOR = 0.25
MIN_SAMPLE = 30
BASELINE_ROWS = 1000
BASELINE_DAYS = 180


def _kind(row: dict) -> tuple[str, str]:
    if row["ticket_id"] and row["ticket__category"]:
        return "category", row["ticket__category"]
    return "module", row["work_module"] or ""


def _label(kind: tuple[str, str]) -> str:
    how, value = kind
    if how == "category":
        return f"“{value}”"
    return "project" if value.upper() == "PROJECT" else f"uncategorised {value.lower() or 'other'}".strip()


def detect(rows: Committed) -> list[Finding]:
    if rows.deleted:
        return []
    today = timezone.localdate(rows.now)
    recent = today - timedelta(days=setting("ALERT_RECENT_DAYS"))
    committed = list(Worklog.objects.labour().filter(pk__in=rows.ids, work_date__gte=recent, minutes__gte=MIN_MINUTES)
                     .values("pk", "client_id", "client__name", "minutes", "work_date", "ticket_id",
                             "ticket__category", "ticket__display_id", "work_module", "technician__name"))
    baselines: dict[tuple[str, str], list[float]] = {}
    found = []
    for row in committed:
        kind = _kind(row)
        if kind not in baselines:
            baselines[kind] = _baseline(kind, rows.ids, today)
        sample = baselines[kind]
        if len(sample) < MIN_SAMPLE:
            continue
        z, centre, _spread = robust_z(log_amount(row["minutes"]), sample, SPREAD_FLOOR)
        median_minutes = max(round(math.expm1(centre)), 1)
        if z < Z_FLAG or row["minutes"] < RATIO * median_minutes:
            continue
        critical = z >= Z_CRITICAL and row["minutes"] >= CRITICAL_MINUTES
        hours = row["minutes"] / 60
        ticket = f" on ticket #{row['ticket__display_id'] or row['ticket_id']}" if row["ticket_id"] else ""
        who = f" by {row['technician__name']}" if row["technician__name"] else ""
        found.append(Finding(
            kind="long_worklog", severity="critical" if critical else "warning", client_id=row["client_id"],
            title=f"{hours:.1f} h worklog{ticket} at {row['client__name'] or 'an unlinked client'}",
            message=(f"A worklog of {hours:.1f} h{who}{ticket} on {row['work_date']:%Y-%m-%d} is "
                     f"{row['minutes'] / median_minutes:.0f}x the usual {_label(kind)} worklog "
                     f"({median_minutes} min, the median of {len(sample)} in the last {BASELINE_DAYS} days; "
                     f"robust z {z:.1f})."),
            evidence={"worklog": row["pk"], "ticket": row["ticket_id"], "minutes": row["minutes"],
                      "kind_median_minutes": median_minutes, "sample": len(sample), "z": round(z, 2)},
            dedup_key=f"long_worklog:{row['pk']}",
        ))
    return found


def _baseline(kind: tuple[str, str], exclude: list[int], today) -> list[float]:
    how, value = kind
    rows = Worklog.objects.labour().filter(work_date__gte=today - timedelta(days=BASELINE_DAYS))
    if how == "category":
        rows = rows.filter(ticket__category=value)
    else:
        rows = rows.exclude(ticket__category__gt="", ticket__isnull=False).filter(work_module=value)
    minutes = rows.exclude(pk__in=exclude).order_by("-work_date").values_list("minutes", flat=True)[:BASELINE_ROWS]
    return [log_amount(m) for m in minutes]
