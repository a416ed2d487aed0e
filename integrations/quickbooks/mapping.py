"""QuickBooks Online entities -> rows of the clients app. Pure functions, no database.

Shapes are those of integrations/PAYLOADS.md (Accounting API, minor version 75). An
invoice carries its lines and a payment its applications as `children`; a Bill or a
Purchase becomes one Expense per line, because each line can name a different customer.
An Employee is matched to the technician it is by `match_technician` (email, then name).
`MAPPERS` maps an entity name to its mapper.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from clients.models import (
    CreditMemo,
    Customer,
    Employee,
    Expense,
    Invoice,
    Payment,
    ServiceItem,
    Technician,
    Worklog,
)

from ..parsing import (
    fold_name,
    obj,
    parse_bool,
    parse_choice,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_id,
    parse_int,
    parse_text,
    ref_id,
)
from ..records import BadRecord, Mapped, Ref

SOURCE = "quickbooks"
ZERO = Decimal("0")
ONE = Decimal("1")

EXPENSE_BILLABLE = {"BILLABLE": "billable", "NOTBILLABLE": "not_billable", "HASBEENBILLED": "billed"}
# QuickBooks time has no approval workflow: billable time is waiting to be billed until an
# invoice picks it up; not-billable time has no billing status.
TIME_BILLING = {"BILLABLE": "pending", "HASBEENBILLED": "invoiced", "NOTBILLABLE": ""}
EXPENSE_DETAILS = ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail")

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
EXPENSE_CATEGORY_RULES = [
    ("license", re.compile(r"licen[cs]", re.I)),
    ("hardware", re.compile(r"hardware", re.I)),
    ("subcontractor", re.compile(r"subcontract", re.I)),
]
TERMS_DAYS = re.compile(r"(\d+)")
# Intuit renames a deleted (made inactive) customer "<name> (deleted)"; the name without the
# suffix is the one that matches a client. It may carry a number when the name was reused.
DELETED_SUFFIX = re.compile(r"\s*\(deleted(?:[- ]?\d+)?\)\s*$", re.I)


def line_kind(item_name: str) -> str:
    for kind, pattern in LINE_KIND_RULES:
        if pattern.search(item_name):
            return kind
    return "other"


def expense_category(account_name: str) -> str:
    for category, pattern in EXPENSE_CATEGORY_RULES:
        if pattern.search(account_name):
            return category
    return "other"


def _updated_at(p: dict) -> Any:
    meta = obj(p.get("MetaData"), "MetaData")
    return parse_datetime(meta.get("LastUpdatedTime"), "MetaData.LastUpdatedTime")


def _currency(p: dict) -> str:
    return parse_text(obj(p.get("CurrencyRef"), "CurrencyRef").get("value"), "CurrencyRef.value").upper() or "USD"


def _exchange_rate(p: dict) -> Decimal:
    rate = parse_decimal(p.get("ExchangeRate"), "ExchangeRate", default=ONE)
    if rate <= 0:
        raise BadRecord(f"ExchangeRate {p.get('ExchangeRate')!r} is not positive")
    return rate


def _customer_ref(payload: Any, field: str, *, required: bool = True) -> Ref | None:
    customer_id = ref_id(payload, "value", field)
    if customer_id is None:
        if required:
            raise BadRecord(f"{field}.value is missing")
        return None
    return Ref(Customer, SOURCE, customer_id)


def _client_via(customer: Ref | None) -> Ref | None:
    # A QuickBooks row's client is whichever client its customer is linked to (matching.py).
    if customer is None:
        return None
    return Ref(Customer, SOURCE, customer.external_id, via="client")


def _lines(p: dict) -> list[dict]:
    lines = p.get("Line") or []
    if not isinstance(lines, list):
        raise BadRecord(f"Line {lines!r} is not a list")
    return [obj(line, f"Line[{i}]") for i, line in enumerate(lines)]


def customer_name(name: str, active: bool) -> str:
    """The name a person gave the customer: Intuit's " (deleted)" suffix of an inactive one
    removed, so a churned client still matches its customer."""
    return DELETED_SUFFIX.sub("", name) if not active else name


def map_customer(p: dict) -> Mapped:
    terms = parse_text(obj(p.get("SalesTermRef"), "SalesTermRef").get("name"), "SalesTermRef.name")
    days = TERMS_DAYS.search(terms)
    if days:
        terms_days = int(days.group(1))
    elif "receipt" in terms.lower():
        terms_days = 0
    else:
        terms_days = None
    active = parse_bool(p.get("Active"), "Active", default=True)
    display_name = customer_name(parse_text(p.get("DisplayName"), "DisplayName", required=True), active)
    if not display_name:
        raise BadRecord(f"DisplayName {p.get('DisplayName')!r} is only Intuit's deleted suffix")
    # A sub-customer (a site, a job: Job true with a ParentRef) bills for its parent's client;
    # the link is made after matching (integrations.subcustomers).
    parent = ref_id(p.get("ParentRef"), "value", "ParentRef")
    fields = {
        "display_name": display_name,
        "company_name": customer_name(parse_text(p.get("CompanyName"), "CompanyName"), active),
        "email": parse_text(obj(p.get("PrimaryEmailAddr"), "PrimaryEmailAddr").get("Address"),
                            "PrimaryEmailAddr.Address").lower(),
        "active": active,
        "currency": _currency(p),
        "balance": parse_decimal(p.get("Balance"), "Balance", default=ZERO),
        "payment_terms_days": terms_days,
        "parent_external_id": parent or "",
        "source_updated_at": _updated_at(p),
    }
    return Mapped(Customer, SOURCE, parse_id(p.get("Id"), "Id"), fields)


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


def _cost_rate(p: dict) -> Decimal | None:
    """CostRate (an hour's cost to the MSP); None when QuickBooks has none. Zero is how a
    company that does not cost its staff leaves it, so it means "not set" too."""
    rate = parse_decimal(p.get("CostRate"), "CostRate")
    if rate is not None and rate < 0:
        raise BadRecord(f"CostRate {p.get('CostRate')!r} is negative")
    return rate or None


def map_employee(p: dict) -> Mapped:
    """An employee (the MSP's own staff). The technician it is, is found after loading, by
    `match_technician` over the technicians that exist (integrations.technician_costs)."""
    given = parse_text(p.get("GivenName"), "GivenName")
    family = parse_text(p.get("FamilyName"), "FamilyName")
    name = parse_text(p.get("DisplayName"), "DisplayName") or " ".join(part for part in (given, family) if part)
    if not name:
        raise BadRecord("DisplayName is missing (and there is no GivenName or FamilyName)")
    fields = {
        "name": name[:200],
        "given_name": given[:100],
        "family_name": family[:100],
        "email": parse_text(obj(p.get("PrimaryEmailAddr"), "PrimaryEmailAddr").get("Address"),
                            "PrimaryEmailAddr.Address").lower()[:200],
        "employee_number": parse_text(p.get("EmployeeNumber"), "EmployeeNumber")[:100],
        "cost_rate": _cost_rate(p),
        "active": parse_bool(p.get("Active"), "Active", default=True),
        "hired_on": parse_date(p.get("HiredDate"), "HiredDate"),
        "released_on": parse_date(p.get("ReleasedDate"), "ReleasedDate"),
        "source_updated_at": _updated_at(p),
    }
    return Mapped(Employee, SOURCE, parse_id(p.get("Id"), "Id"), fields)


def person_key(name: str) -> str:
    """A person's name for matching across systems: accents, case and punctuation folded
    ("José O'Neil" and "jose o neil" are one key)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return fold_name(plain)


@dataclass
class TechnicianIndex:
    """The technicians that exist, by email and by name key, for `match_technician`. A key
    two technicians share is ambiguous and matches nobody (a guess would cost someone's
    labour at another person's rate)."""

    by_email: dict[str, Hashable] = field(default_factory=dict)
    by_name: dict[str, Hashable] = field(default_factory=dict)

    @classmethod
    def of(cls, technicians: Iterable[tuple[Hashable, str, str]]) -> TechnicianIndex:
        """From (id, email, name) triples."""
        index = cls()
        ambiguous = object()
        for tech_id, email, name in technicians:
            keys = ((index.by_email, (email or "").strip().lower()), (index.by_name, person_key(name or "")))
            for table, key in keys:
                if key:
                    table[key] = ambiguous if table.get(key, tech_id) != tech_id else tech_id
        for table in (index.by_email, index.by_name):
            for key in [k for k, v in table.items() if v is ambiguous]:
                del table[key]
        return index


def match_technician(email: str, name: str, index: TechnicianIndex, given_name: str = "",
                     family_name: str = "") -> tuple[Hashable, str] | None:
    """The technician an employee is, with how it was found ("email" or "name"), or None.
    Email first (it names one person in both systems); then the display name, then given
    and family name together (QuickBooks' DisplayName may read "Wu, Dana")."""
    email = (email or "").strip().lower()
    if email and email in index.by_email:
        return index.by_email[email], "email"
    for candidate in (name, f"{given_name} {family_name}"):
        key = person_key(candidate or "")
        if key and key in index.by_name:
            return index.by_name[key], "name"
    return None


def map_time_activity(p: dict) -> Mapped:
    hours = parse_int(p.get("Hours"), "Hours", default=0)
    minutes = parse_int(p.get("Minutes"), "Minutes", default=0)
    if hours < 0 or minutes < 0:
        raise BadRecord(f"Hours {p.get('Hours')!r} / Minutes {p.get('Minutes')!r} is negative")
    total = hours * 60 + minutes
    if total <= 0:
        raise BadRecord(f"Hours {p.get('Hours')!r} and Minutes {p.get('Minutes')!r} give no time")
    customer = _customer_ref(p.get("CustomerRef"), "CustomerRef")
    worker_field = "VendorRef" if p.get("NameOf") == "Vendor" else "EmployeeRef"
    worker = parse_text(obj(p.get(worker_field), worker_field).get("name"), f"{worker_field}.name")
    billable = parse_choice(p.get("BillableStatus"), "BillableStatus", TIME_BILLING, default="")
    item_id = ref_id(p.get("ItemRef"), "value", "ItemRef")
    fields = {
        "work_date": parse_date(p.get("TxnDate"), "TxnDate", required=True),
        "started_at": parse_datetime(p.get("StartTime"), "StartTime"),
        "minutes": total,
        "billable": billable in ("pending", "invoiced"),
        "after_hours": False,
        "unit_price": parse_decimal(p.get("HourlyRate"), "HourlyRate", default=ZERO),
        "cost_rate": _cost_rate(p),
        "currency": "USD",
        "billing_status": billable,
        "notes": parse_text(p.get("Description"), "Description"),
        "source_updated_at": _updated_at(p),
    }
    refs = {
        # Time for a customer not linked to a client yet is kept with its customer and no
        # client; the matcher fills the client when it links the customer.
        "customer": customer,
        "client": _client_via(customer),
        # QuickBooks employees are not SuperOps users; the name is the only shared key.
        "technician": Ref(Technician, "superops", worker, key="name", required=False) if worker else None,
        "service_item": Ref(ServiceItem, SOURCE, item_id, required=False) if item_id else None,
    }
    return Mapped(Worklog, SOURCE, parse_id(p.get("Id"), "Id"), fields, refs)


MAPPERS: dict[str, Callable[[dict], Mapped | list[Mapped]]] = {
    "Customer": map_customer,
    "Item": map_item,
    "Invoice": map_invoice,
    "Payment": map_payment,
    "CreditMemo": map_credit_memo,
    "Bill": map_bill,
    "Purchase": map_purchase,
    "TimeActivity": map_time_activity,
    "Employee": map_employee,
}
