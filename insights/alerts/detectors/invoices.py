"""An invoice far off the client's own pattern of invoice amounts.

The pattern is the client's last HISTORY (48) live, non-voided invoices of the two years
before this one (by the client, or by the QuickBooks customer while it is not linked to a
client yet), read through the (client, txn_date) index, in the home currency. An MSP bills
most clients the same recurring amount every month, with project and hardware invoices now
and then, so on log amounts:
- |robust z| >= Z_FLAG (4) around the median, with the spread floored at SPREAD_FLOOR (0.15,
  about +-16%): a client billed the same $4,000 every month has a MAD of 0, and seat growth
  or a price rise (+10-30%) must stay quiet while a tenfold invoice or one at a tenth must not;
- and at least HIGH_RATIO (2.5) times or at most LOW_RATIO (0.4) times the median: on a
  client whose invoices vary widely, z alone would flag a merely large project invoice.
Too high is a dispute waiting to happen (a wrong quantity or a price typo); too low is money
left unbilled. Critical at 5x or below 0.2x. Clients with fewer than MIN_HISTORY (6) earlier
invoices have no pattern yet. Too low is judged on the month's billing, not the one invoice:
a small T&M or expense invoice beside the month's usual recurring bill is an add-on, not a
shortfall (the demo MSP's first sync raised 23 "1% of the usual" alerts on such add-ons), so
the client's other invoices of the same month dated up to this one count with it.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from clients.models import Invoice

from ..conf import setting
from . import Committed, Finding
from .stats import log_amount, robust_z

Z_FLAG = 4.0
SPREAD_FLOOR = 0.15
HIGH_RATIO, LOW_RATIO = 2.5, 0.4
CRITICAL_HIGH, CRITICAL_LOW = 5.0, 0.2
MIN_HISTORY = 6
HISTORY = 48
HISTORY_DAYS = 730


def detect(rows: Committed) -> list[Finding]:
    if rows.deleted:
        return []
    recent = timezone.localdate(rows.now) - timedelta(days=setting("ALERT_RECENT_DAYS"))
    live = Invoice.objects.filter(deleted_at_source__isnull=True, voided=False)
    committed = list(live.filter(pk__in=rows.ids, txn_date__gte=recent).values(
        "pk", "client_id", "client__name", "customer_id", "customer__display_name", "doc_number", "txn_date",
        "total", "exchange_rate"))
    found = []
    for row in committed:
        owner = {"client_id": row["client_id"]} if row["client_id"] else {"customer_id": row["customer_id"]}
        history = [float(total * rate) for total, rate in live.filter(
            **owner, txn_date__lte=row["txn_date"], txn_date__gte=row["txn_date"] - timedelta(days=HISTORY_DAYS),
        ).exclude(pk__in=rows.ids).order_by("-txn_date").values_list("total", "exchange_rate")[:HISTORY]]
        if len(history) < MIN_HISTORY:
            continue
        amount = float(row["total"] * row["exchange_rate"])
        z, centre, _spread = robust_z(log_amount(amount), [log_amount(a) for a in history], SPREAD_FLOOR)
        usual = math.expm1(centre)
        ratio = amount / usual if usual > 0 else math.inf
        if abs(z) < Z_FLAG or LOW_RATIO < ratio < HIGH_RATIO:
            continue
        if ratio <= LOW_RATIO:
            month = live.filter(**owner, txn_date__gte=row["txn_date"].replace(day=1),
                                txn_date__lte=row["txn_date"]).exclude(pk=row["pk"])
            billed = amount + sum(float(t * r) for t, r in month.values_list("total", "exchange_rate"))
            if billed / usual > LOW_RATIO:
                continue  # an add-on beside the month's usual bill
        critical = ratio >= CRITICAL_HIGH or ratio <= CRITICAL_LOW
        who = row["client__name"] or row["customer__display_name"]
        number = row["doc_number"] or f"#{row['pk']}"
        direction = f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.0%} of"
        money = settings.HOME_CURRENCY
        found.append(Finding(
            kind="invoice_off_pattern", severity="critical" if critical else "warning", client_id=row["client_id"],
            title=f"Invoice {number} for {who}: {amount:,.2f} {money}, {direction} the usual",
            message=(f"Invoice {number} of {row['txn_date']:%Y-%m-%d} for {who} comes to {amount:,.2f} {money}, "
                     f"{direction} the usual {usual:,.2f} {money} (the median of its last {len(history)} invoices; "
                     f"robust z {z:+.1f}). "
                     + ("Check the quantities and prices before it is sent or disputed." if ratio >= 1 else
                        "Check for missing lines: money may be left unbilled.")),
            evidence={"invoice": row["pk"], "amount": round(amount, 2), "usual": round(usual, 2),
                      "history": len(history), "z": round(z, 2)},
            dedup_key=f"invoice_off_pattern:{row['pk']}",
        ))
    return found
