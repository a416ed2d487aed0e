"""The books as QuickBooks Online entities (Accounting API, minor version 75), in the
shapes of integrations/PAYLOADS.md. Amounts are JSON numbers, as Intuit sends them; each
is written from a two-place Decimal, so its shortest repr is exactly that decimal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from .expenses import ACCOUNTS, VENDORS, ExpenseDoc, TimeActivity
from .invoicing import Invoice, Payment
from .timeline import DAY, qb_ts
from .world import CatalogItem, Client

ENTITIES = ("Customer", "Item", "Invoice", "Payment", "Bill", "Purchase", "TimeActivity")
USD = {"value": "USD", "name": "United States Dollar"}
NET30 = {"value": "3", "name": "Net 30"}


def num(x: Decimal) -> float | int:
    # A whole amount stays an int (QuickBooks writes 2 rather than 2.0 for hours).
    return int(x) if x == x.to_integral_value() and abs(x) < 10**15 else float(x)


def meta(created: date, updated: date, hour: int = 9) -> dict:
    return {"CreateTime": qb_ts(created.toordinal() * DAY + hour * 60),
            "LastUpdatedTime": qb_ts(updated.toordinal() * DAY + hour * 60 + 30)}


def customer_ref(c: Client) -> dict:
    return {"value": c.customer_id, "name": c.name}


def customer(c: Client, updated: date) -> dict:
    return {
        "Id": c.customer_id, "DisplayName": c.name, "CompanyName": c.name,
        "PrimaryEmailAddr": {"Address": f"billing@{c.domain}"}, "Active": c.active, "CurrencyRef": USD,
        "Balance": num(c.balance), "SalesTermRef": NET30, "MetaData": meta(c.onboarded, updated),
    }


def item(i: CatalogItem, created: date) -> dict:
    return {
        "Id": i.qb_id, "Name": i.name, "Description": i.description, "Type": i.qb_type,
        "UnitPrice": num(i.price), "PurchaseCost": num(i.cost) if i.cost is not None else None,
        "Active": True, "MetaData": meta(created, created),
    }


def invoice(inv: Invoice) -> dict:
    lines = []
    for n, x in enumerate(inv.lines, 1):
        lines.append({
            "Id": str(n), "LineNum": n, "Amount": num(x.amount), "Description": x.description,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": x.item.qb_id, "name": x.item.name}, "Qty": num(x.qty),
                                    "UnitPrice": num(x.price), "ServiceDate": x.service_date.isoformat()},
        })
    total = inv.total
    lines.append({"Amount": num(total), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    balance = Decimal(0) if inv.voided or inv.paid_on else total
    updated = inv.paid_on or inv.txn_date
    return {
        "Id": inv.id, "DocNumber": f"INV-{inv.id}", "TxnDate": inv.txn_date.isoformat(),
        "DueDate": inv.due_date.isoformat(), "CustomerRef": customer_ref(inv.client), "CurrencyRef": USD,
        "ExchangeRate": 1, "SalesTermRef": NET30, "TotalAmt": num(total), "Balance": num(balance),
        "PrivateNote": inv.note, "Line": lines,
        "MetaData": meta(inv.txn_date, updated, 7),
    }


def payment(p: Payment) -> dict:
    return {
        "Id": p.id, "TxnDate": p.txn_date.isoformat(), "CustomerRef": customer_ref(p.client),
        "TotalAmt": num(p.amount), "UnappliedAmt": 0, "CurrencyRef": USD, "ExchangeRate": 1,
        "PaymentRefNum": p.ref,
        "Line": [{"Amount": num(p.amount), "LinkedTxn": [{"TxnId": p.invoice_id, "TxnType": "Invoice"}]}],
        "MetaData": meta(p.txn_date, p.txn_date, 11),
    }


def _expense_lines(doc: ExpenseDoc) -> list[dict]:
    out = []
    for x in doc.lines:
        account_id, account_name = ACCOUNTS[x.account]
        detail = {"AccountRef": {"value": account_id, "name": account_name}, "BillableStatus": x.billable}
        if x.client is not None:
            detail["CustomerRef"] = customer_ref(x.client)
        out.append({"Id": x.line_id, "Amount": num(x.amount), "Description": x.description,
                    "DetailType": "AccountBasedExpenseLineDetail", "AccountBasedExpenseLineDetail": detail})
    return out


def bill(doc: ExpenseDoc, terms_days: int = 30) -> dict:
    return {
        "Id": doc.id, "TxnDate": doc.txn_date.isoformat(),
        "DueDate": (doc.txn_date + timedelta(days=terms_days)).isoformat(),
        "VendorRef": {"value": VENDORS[doc.vendor], "name": doc.vendor}, "TotalAmt": num(doc.total),
        "CurrencyRef": USD, "Line": _expense_lines(doc), "MetaData": meta(doc.txn_date, doc.txn_date, 10),
    }


def purchase(doc: ExpenseDoc) -> dict:
    return {
        "Id": doc.id, "TxnDate": doc.txn_date.isoformat(), "PaymentType": "CreditCard",
        "AccountRef": {"value": "41", "name": "Amex Business"},
        "EntityRef": {"value": VENDORS[doc.vendor], "name": doc.vendor, "type": "Vendor"},
        "TotalAmt": num(doc.total), "CurrencyRef": USD, "Line": _expense_lines(doc),
        "MetaData": meta(doc.txn_date, doc.txn_date, 10),
    }


def time_activity(t: TimeActivity, items: dict[str, CatalogItem]) -> dict:
    onsite = items["onsite"]
    return {
        "Id": t.id, "TxnDate": t.when.isoformat(), "NameOf": "Employee",
        "EmployeeRef": {"value": t.tech.employee_id, "name": t.tech.name}, "CustomerRef": customer_ref(t.client),
        "ItemRef": {"value": onsite.qb_id, "name": onsite.name}, "BillableStatus": t.billable,
        "HourlyRate": num(t.rate), "Hours": t.minutes // 60, "Minutes": t.minutes % 60,
        "Description": t.description, "MetaData": meta(t.when, t.when, 17),
    }
