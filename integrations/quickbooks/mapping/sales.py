"""What the MSP sells and bills: items, invoices and credit memos. An invoice (or a credit
memo) carries its lines as `children`. QuickBooks items carry no billing model, so a line's
kind (recurring agreement, time, project, product, expense passed through) and an item's
quantity type are read from the item's name; a discount and the sales tax are lines of their
own, so neither counts as service revenue."""

from __future__ import annotations

import re

from clients.models import CreditMemo, Invoice, ServiceItem

from ...parsing import obj, parse_bool, parse_date, parse_decimal, parse_id, parse_int, parse_text, ref_id
from ...records import BadRecord, Mapped, Ref
from .common import SOURCE, ZERO, _client_via, _currency, _customer_ref, _exchange_rate, _lines, _updated_at

# Invoice line kind from the item's name, first match wins. QuickBooks items carry no
# billing model, so the MSP's naming is the evidence: block and per-seat items are the
# recurring agreement, labour items are time, named projects are project work, licences and
# hardware are products, "Reimbursable ..." items pass an expense through.
LINE_KIND_RULES: list[tuple[str, re.Pattern]] = [
    ("expense", re.compile(r"^\s*reimburs", re.I)),
    ("project", re.compile(r"\bproject|onboarding|migration|implementation|installation", re.I)),
    ("recurring", re.compile(r"\bblock\b|\bmanaged\b|\bper[- ](user|device|seat|endpoint)|\bseat|"
                             r"\bmonitoring\b|\bbackup\b|\bagreement\b|\bplan\b|\bsubscription\b", re.I)),
    ("time", re.compile(r"\blabou?r\b|\bsupport\b|\bhours?\b|\bhourly\b|\bon-?site\b|\bremote\b|"
                        r"\bafter[- ]hours\b|\bconsult|\bT&M\b|\btime\b", re.I)),
    ("product", re.compile(r"licen[cs]e|\bmicrosoft 365\b|\bm365\b|hardware|laptop|desktop|\bserver\b|"
                           r"firewall|switch|\bproduct\b|\bsoftware\b", re.I)),
]


def line_kind(item_name: str) -> str:
    for kind, pattern in LINE_KIND_RULES:
        if pattern.search(item_name):
            return kind
    return "other"


def map_item(p: dict) -> Mapped:
    name = parse_text(p.get("Name"), "Name", required=True)
    # QuickBooks items have no quantity type; labour is sold by the hour, a block by the block.
    if re.search(r"\bblock\b", name, re.I):
        quantity_type = "block_hours"
    elif line_kind(name) == "time" or re.search(r"labou?r|\bhours?\b|\bhourly\b", name, re.I):
        quantity_type = "hours"
    else:
        quantity_type = "units"
    fields = {
        "name": name,
        "description": parse_text(p.get("Description"), "Description"),
        "quantity_type": quantity_type,
        "unit_price": parse_decimal(p.get("UnitPrice"), "UnitPrice", default=ZERO),
        "cost_price": parse_decimal(p.get("PurchaseCost"), "PurchaseCost"),
        "active": parse_bool(p.get("Active"), "Active", default=True),
        "source_updated_at": _updated_at(p),
    }
    return Mapped(ServiceItem, SOURCE, parse_id(p.get("Id"), "Id"), fields)


def sale_lines(p: dict, *, service_dates: bool = True) -> list[dict]:
    """An invoice's (or credit memo's) lines as InvoiceLine values: sales lines by their item,
    a discount line as a negative "discount" line, and the document's sales tax
    (TxnTaxDetail.TotalTax) as one "tax" line, so neither counts as service revenue.
    Subtotal and description-only lines carry no money of their own and are left out."""
    children = []
    seen: set[str] = set()

    def line_id_of(line: dict, i: int, fallback: str) -> str:
        line_id = parse_id(line["Id"], f"Line[{i}].Id") if line.get("Id") not in (None, "") else fallback
        if line_id in seen:
            raise BadRecord(f"Line[{i}].Id {line_id!r} appears twice")
        seen.add(line_id)
        return line_id

    lines = _lines(p)
    for i, line in enumerate(lines):
        detail_type = line.get("DetailType")
        if detail_type == "DiscountLineDetail":
            amount = parse_decimal(line.get("Amount"), f"Line[{i}].Amount", required=True)
            detail = obj(line.get("DiscountLineDetail"), f"Line[{i}].DiscountLineDetail")
            percent = parse_decimal(detail.get("DiscountPercent"), f"Line[{i}].DiscountPercent")
            description = parse_text(line.get("Description"), f"Line[{i}].Description")
            if not description and percent is not None and parse_bool(detail.get("PercentBased"), "PercentBased"):
                description = f"Discount {percent}%"
            children.append({
                "line_id": line_id_of(line, i, f"D{i + 1}"),
                "line_num": parse_int(line.get("LineNum"), f"Line[{i}].LineNum", default=i + 1),
                "service_item_ref": None,
                "kind": "discount",
                "description": description or "Discount",
                "quantity": ZERO,
                "unit_price": ZERO,
                # QuickBooks writes the discount as a positive amount taken off the total.
                "amount": -abs(amount),
                **({"service_date": None} if service_dates else {}),
            })
            continue
        if detail_type != "SalesItemLineDetail":
            continue  # subtotal and description-only lines are not money of their own
        detail = obj(line.get("SalesItemLineDetail"), f"Line[{i}].SalesItemLineDetail")
        item = obj(detail.get("ItemRef"), f"Line[{i}].ItemRef")
        line_num = parse_int(line.get("LineNum"), f"Line[{i}].LineNum", default=i + 1)
        line_id = line_id_of(line, i, str(line_num))
        item_name = parse_text(item.get("name"), f"Line[{i}].ItemRef.name")
        description = parse_text(line.get("Description"), f"Line[{i}].Description")
        item_id = ref_id(item, "value", f"Line[{i}].ItemRef")
        row = {
            "line_id": line_id,
            "line_num": line_num,
            "service_item_ref": Ref(ServiceItem, SOURCE, item_id, required=False) if item_id else None,
            "kind": line_kind(item_name or description),
            "description": description,
            "quantity": parse_decimal(detail.get("Qty"), f"Line[{i}].Qty", default=ZERO),
            "unit_price": parse_decimal(detail.get("UnitPrice"), f"Line[{i}].UnitPrice", default=ZERO),
            "amount": parse_decimal(line.get("Amount"), f"Line[{i}].Amount", required=True),
        }
        if service_dates:
            row["service_date"] = parse_date(detail.get("ServiceDate"), f"Line[{i}].ServiceDate")
        children.append(row)
    tax = obj(p.get("TxnTaxDetail"), "TxnTaxDetail")
    total_tax = parse_decimal(tax.get("TotalTax"), "TxnTaxDetail.TotalTax", default=ZERO)
    if total_tax:
        code = parse_text(obj(tax.get("TxnTaxCodeRef"), "TxnTaxCodeRef").get("name"), "TxnTaxCodeRef.name")
        children.append({
            "line_id": line_id_of({}, len(lines), "TAX"),
            "line_num": len(lines) + 1,
            "service_item_ref": None,
            "kind": "tax",
            "description": f"Sales tax {code}".strip(),
            "quantity": ZERO,
            "unit_price": ZERO,
            "amount": total_tax,
            **({"service_date": None} if service_dates else {}),
        })
    return children


def map_invoice(p: dict) -> Mapped:
    total = parse_decimal(p.get("TotalAmt"), "TotalAmt", required=True)
    memo = parse_text(p.get("PrivateNote"), "PrivateNote")
    customer = _customer_ref(p.get("CustomerRef"), "CustomerRef")
    fields = {
        "doc_number": parse_text(p.get("DocNumber"), "DocNumber"),
        "txn_date": parse_date(p.get("TxnDate"), "TxnDate", required=True),
        "due_date": parse_date(p.get("DueDate"), "DueDate"),
        "total": total,
        "balance": parse_decimal(p.get("Balance"), "Balance", default=ZERO),
        "currency": _currency(p),
        "exchange_rate": _exchange_rate(p),
        "memo": memo,
        # QuickBooks keeps a voided invoice with its amounts zeroed and "Voided" in the memo.
        "voided": total == 0 and "void" in memo.lower(),
        "source_updated_at": _updated_at(p),
    }
    refs = {"customer": customer, "client": _client_via(customer)}
    return Mapped(Invoice, SOURCE, parse_id(p.get("Id"), "Id"), fields, refs, sale_lines(p))


def map_credit_memo(p: dict) -> Mapped:
    """A credit memo (money given back) with its lines; the reason is the private note, else
    the memo the customer saw."""
    customer = _customer_ref(p.get("CustomerRef"), "CustomerRef")
    reason = parse_text(p.get("PrivateNote"), "PrivateNote") or parse_text(
        obj(p.get("CustomerMemo"), "CustomerMemo").get("value"), "CustomerMemo.value")
    total = parse_decimal(p.get("TotalAmt"), "TotalAmt", required=True)
    if total < 0:
        raise BadRecord(f"TotalAmt {p.get('TotalAmt')!r} is negative")
    fields = {
        "doc_number": parse_text(p.get("DocNumber"), "DocNumber"),
        "txn_date": parse_date(p.get("TxnDate"), "TxnDate", required=True),
        "total": total,
        "remaining": parse_decimal(p.get("RemainingCredit"), "RemainingCredit", default=ZERO),
        "currency": _currency(p),
        "exchange_rate": _exchange_rate(p),
        "reason": reason,
        "source_updated_at": _updated_at(p),
    }
    refs = {"customer": customer, "client": _client_via(customer)}
    return Mapped(CreditMemo, SOURCE, parse_id(p.get("Id"), "Id"), fields, refs,
                  sale_lines(p, service_dates=False))
