"""Payments: money received from a customer, with its applications to invoices as `children`
(one amount an invoice, summed over the lines that pay it). A line applied to several
invoices at once is a bad record: splitting its one amount would be a guess."""

from __future__ import annotations

from decimal import Decimal

from clients.models import Invoice, Payment

from ...parsing import obj, parse_date, parse_decimal, parse_id, parse_text
from ...records import BadRecord, Mapped, Ref
from .common import SOURCE, ZERO, _client_via, _currency, _customer_ref, _exchange_rate, _lines, _updated_at


def map_payment(p: dict) -> Mapped:
    customer = _customer_ref(p.get("CustomerRef"), "CustomerRef")
    fields = {
        "txn_date": parse_date(p.get("TxnDate"), "TxnDate", required=True),
        "total": parse_decimal(p.get("TotalAmt"), "TotalAmt", required=True),
        "unapplied": parse_decimal(p.get("UnappliedAmt"), "UnappliedAmt", default=ZERO),
        "currency": _currency(p),
        "exchange_rate": _exchange_rate(p),
        "reference": parse_text(p.get("PaymentRefNum"), "PaymentRefNum"),
        "source_updated_at": _updated_at(p),
    }
    applied: dict[str, Decimal] = {}
    for i, line in enumerate(_lines(p)):
        amount = parse_decimal(line.get("Amount"), f"Line[{i}].Amount", required=True)
        linked = line.get("LinkedTxn") or []
        if not isinstance(linked, list):
            raise BadRecord(f"Line[{i}].LinkedTxn {linked!r} is not a list")
        linked = [obj(txn, f"Line[{i}].LinkedTxn") for txn in linked]
        invoices = [txn for txn in linked if txn.get("TxnType") == "Invoice"]
        if len(invoices) > 1:
            # QuickBooks gives one amount per line; splitting it between invoices would be a guess.
            raise BadRecord(f"Line[{i}] applies {amount} to {len(invoices)} invoices at once")
        for txn in invoices:
            invoice_id = parse_id(txn.get("TxnId"), f"Line[{i}].LinkedTxn.TxnId")
            applied[invoice_id] = applied.get(invoice_id, ZERO) + amount
    children = [{"invoice_ref": Ref(Invoice, SOURCE, invoice_id), "amount": amount}
                for invoice_id, amount in applied.items()]
    refs = {"customer": customer, "client": _client_via(customer)}
    return Mapped(Payment, SOURCE, parse_id(p.get("Id"), "Id"), fields, refs, children)
