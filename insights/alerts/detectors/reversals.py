"""Payment reversals: money the MSP counted as received that is not, any more.

- a payment marked deleted at the source (QuickBooks deleted it: a bounced cheque, a
  chargeback entered by deleting the payment);
- a payment whose amount dropped to zero (QuickBooks voids a payment by zeroing it), or that
  went down by REVERSAL_MIN or more;
- a payment with a negative amount (a refund keyed as a payment), dated within ALERT_RECENT_DAYS;
- an invoice whose open balance went back up by more than its own total did (a payment
  unapplied or reversed against it): only a change of balance seen across a write counts,
  which is why the loaders tell us the values before the write (clients.signals.WATCHED).
Anything below REVERSAL_MIN (1.00) is rounding, not a reversal. Critical from CRITICAL_AMOUNT
(1,000 in the home currency: about a small client's monthly fee, money someone must chase
today); a warning below.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from clients.models import Invoice, Payment

from ..conf import setting
from . import Committed, Finding

REVERSAL_MIN = Decimal("1.00")
CRITICAL_AMOUNT = Decimal("1000")


def detect(rows: Committed) -> list[Finding]:
    if rows.model is Payment:
        return _payments(rows)
    if rows.model is Invoice and not rows.deleted:
        return _invoices(rows)
    return []


def _finding(key: str, client_id, amount: Decimal, title: str, message: str, evidence: dict) -> Finding:
    return Finding(kind="payment_reversal", severity="critical" if amount >= CRITICAL_AMOUNT else "warning",
                   client_id=client_id, title=title, message=message, evidence=evidence, dedup_key=key)


def _payments(rows: Committed) -> list[Finding]:
    recent = timezone.localdate(rows.now) - timedelta(days=setting("ALERT_RECENT_DAYS"))
    money = settings.HOME_CURRENCY
    found = []
    for p in Payment.objects.filter(pk__in=rows.ids).values(
            "pk", "external_id", "client_id", "client__name", "customer__display_name", "txn_date", "total",
            "exchange_rate", "reference", "deleted_at_source"):
        before = rows.previous.get(p["pk"], {}).get("total")
        who = p["client__name"] or p["customer__display_name"]
        ref = f" (ref. {p['reference']})" if p["reference"] else ""
        name = f"Payment {p['external_id']}{ref} of {p['txn_date']:%Y-%m-%d}"
        if rows.deleted and p["deleted_at_source"] is not None:
            amount = (before if before is not None else p["total"]) * p["exchange_rate"]
            if amount < REVERSAL_MIN:
                continue
            what, verb = "deleted", f"was deleted in QuickBooks: {amount:,.2f} {money} from {who} is no longer received"
        elif before is not None and before - p["total"] >= REVERSAL_MIN and before > 0:
            amount = (before - p["total"]) * p["exchange_rate"]
            what = "voided" if p["total"] == 0 else "reduced"
            verb = (f"went from {before * p['exchange_rate']:,.2f} to {p['total'] * p['exchange_rate']:,.2f} {money}"
                    f" ({what}): {amount:,.2f} {money} from {who} is no longer received")
        elif p["total"] <= -REVERSAL_MIN and p["txn_date"] >= recent:
            amount = -p["total"] * p["exchange_rate"]
            what, verb = "negative", f"is negative ({-amount:,.2f} {money}): money paid back to {who}"
        else:
            continue
        found.append(_finding(
            f"payment_reversal:payment:{p['pk']}", p["client_id"], amount,
            f"Payment reversal at {who}: {amount:,.2f} {money} ({what})", f"{name} {verb}.",
            {"payment": p["pk"], "amount": float(amount), "how": what}))
    return found


def _invoices(rows: Committed) -> list[Finding]:
    if not rows.previous:
        return []
    money = settings.HOME_CURRENCY
    found = []
    for inv in Invoice.objects.filter(pk__in=list(rows.previous), deleted_at_source__isnull=True, voided=False).values(
            "pk", "doc_number", "client_id", "client__name", "customer__display_name", "balance", "total",
            "exchange_rate"):
        before = rows.previous[inv["pk"]]
        if before.get("balance") is None:
            continue
        # A larger invoice total raises the balance too (a line added): only the rise beyond it is a reversal.
        grown = max(inv["total"] - (before.get("total") or inv["total"]), Decimal(0))
        rise = inv["balance"] - before["balance"] - grown
        if rise < REVERSAL_MIN:
            continue
        amount = rise * inv["exchange_rate"]
        who = inv["client__name"] or inv["customer__display_name"]
        number = inv["doc_number"] or f"#{inv['pk']}"
        found.append(_finding(
            f"payment_reversal:invoice:{inv['pk']}", inv["client_id"], amount,
            f"Payment reversal at {who}: invoice {number} owes {amount:,.2f} {money} again",
            (f"The open balance of invoice {number} for {who} went back up from "
             f"{before['balance'] * inv['exchange_rate']:,.2f} to {inv['balance'] * inv['exchange_rate']:,.2f} "
             f"{money}: a payment of {amount:,.2f} {money} was reversed or unapplied."),
            {"invoice": inv["pk"], "amount": float(amount), "balance_before": float(before["balance"]),
             "balance": float(inv["balance"])}))
    return found
