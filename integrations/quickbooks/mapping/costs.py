"""What the MSP pays out: bills and purchases. Each becomes one Expense per line, because each
line can name a different customer; the line's account (or item) gives the category (licence,
hardware, subcontractor) and its billable status whether it is passed on to the client."""

from __future__ import annotations

import re

from clients.models import Expense

from ...parsing import obj, parse_choice, parse_date, parse_decimal, parse_id, parse_text
from ...records import Mapped
from .common import SOURCE, _client_via, _currency, _customer_ref, _exchange_rate, _lines, _updated_at

EXPENSE_BILLABLE = {"BILLABLE": "billable", "NOTBILLABLE": "not_billable", "HASBEENBILLED": "billed"}
EXPENSE_DETAILS = ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail")
EXPENSE_CATEGORY_RULES = [
    ("license", re.compile(r"licen[cs]", re.I)),
    ("hardware", re.compile(r"hardware", re.I)),
    ("subcontractor", re.compile(r"subcontract", re.I)),
]


def expense_category(account_name: str) -> str:
    for category, pattern in EXPENSE_CATEGORY_RULES:
        if pattern.search(account_name):
            return category
    return "other"


def _expenses(p: dict, txn_type: str, vendor_field: str) -> list[Mapped]:
    document_id = parse_id(p.get("Id"), "Id")
    txn_date = parse_date(p.get("TxnDate"), "TxnDate", required=True)
    vendor = parse_text(obj(p.get(vendor_field), vendor_field).get("name"), f"{vendor_field}.name")
    currency, rate, updated = _currency(p), _exchange_rate(p), _updated_at(p)
    rows = []
    for i, line in enumerate(_lines(p)):
        detail_type = line.get("DetailType")
        if detail_type not in EXPENSE_DETAILS:
            continue
        detail = obj(line.get(detail_type), f"Line[{i}].{detail_type}")
        if detail_type == "AccountBasedExpenseLineDetail":
            account = parse_text(obj(detail.get("AccountRef"), "AccountRef").get("name"), f"Line[{i}].AccountRef.name")
        else:
            account = parse_text(obj(detail.get("ItemRef"), "ItemRef").get("name"), f"Line[{i}].ItemRef.name")
        line_id = parse_id(line["Id"], f"Line[{i}].Id") if line.get("Id") not in (None, "") else str(i + 1)
        customer = _customer_ref(detail.get("CustomerRef"), f"Line[{i}].CustomerRef", required=False)
        fields = {
            "txn_type": txn_type,
            "document_id": document_id,
            "txn_date": txn_date,
            "vendor": vendor,
            "account": account,
            "category": expense_category(account),
            "description": parse_text(line.get("Description"), f"Line[{i}].Description"),
            "amount": parse_decimal(line.get("Amount"), f"Line[{i}].Amount", required=True),
            "currency": currency,
            "exchange_rate": rate,
            "billable_status": parse_choice(detail.get("BillableStatus"), f"Line[{i}].BillableStatus",
                                            EXPENSE_BILLABLE, default="not_billable"),
            "source_updated_at": updated,
        }
        refs = {"customer": customer, "client": _client_via(customer)}
        rows.append(Mapped(Expense, SOURCE, f"{txn_type}:{document_id}:{line_id}", fields, refs))
    return rows


def map_bill(p: dict) -> list[Mapped]:
    return _expenses(p, "Bill", "VendorRef")


def map_purchase(p: dict) -> list[Mapped]:
    return _expenses(p, "Purchase", "EntityRef")
