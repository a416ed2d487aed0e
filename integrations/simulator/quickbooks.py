"""The books as QuickBooks Online entities (Accounting API, minor version 75), in the
shapes of integrations/PAYLOADS.md. Amounts are JSON numbers, as Intuit sends them; each
is written from a two-place Decimal, so its shortest repr is exactly that decimal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from integrations import entities

from . import priors
from .credits import CreditMemo
from .expenses import ACCOUNTS, VENDORS, ExpenseDoc, TimeActivity
from .invoicing import Invoice, Line, Payment
from .names import ascii_local
from .timeline import DAY, qb_ts
from .world import CatalogItem, Client, Site, Technician

ENTITIES = tuple(kind.name for kind in entities.of("quickbooks"))
USD = {"value": "USD", "name": "United States Dollar"}
NET30 = {"value": "3", "name": "Net 30"}
# The company's sales tax: one tax code and rate (QuickBooks' automated sales tax names them so).
TAX_CODE = {"value": "2"}
TAX_RATE = {"value": "3", "name": "CA State and Local"}
DISCOUNT_ACCOUNT = {"value": "86", "name": "Discounts given"}
DELETED = " (deleted)"  # Intuit's suffix on an inactive ("deleted") name


def num(x: Decimal) -> float | int:
    # A whole amount stays an int (QuickBooks writes 2 rather than 2.0 for hours).
    return int(x) if x == x.to_integral_value() and abs(x) < 10**15 else float(x)


def meta(created: date, updated: date, hour: int = 9) -> dict:
    return {"CreateTime": qb_ts(created.toordinal() * DAY + hour * 60),
            "LastUpdatedTime": qb_ts(updated.toordinal() * DAY + hour * 60 + 30)}


def customer_ref(c: Client) -> dict:
    return {"value": c.customer_id, "name": c.name}


def site_name(c: Client, site: Site) -> str:
    return f"{c.name} - {site.name.removeprefix('Branch - ')}"


def ref_for(c: Client, customer_id: str) -> dict:
    """CustomerRef of a document: the client, or one of its branches (a sub-customer)."""
    if customer_id == c.customer_id:
        return customer_ref(c)
    site = next(x for x in c.sites if x.customer_id == customer_id)
    return {"value": customer_id, "name": site_name(c, site)}


def customers(c: Client, updated: date) -> list[dict]:
    """The client's QuickBooks customer and a sub-customer (Job) per branch. A client made
    inactive is renamed by Intuit with " (deleted)", its sub-customers with it."""
    suffix = DELETED if c.qb_deleted else ""
    name = c.name + suffix
    own = c.balances.get(c.customer_id, 0)
    parent = {
        "Id": c.customer_id, "DisplayName": name, "FullyQualifiedName": name, "CompanyName": c.name,
        "PrimaryEmailAddr": {"Address": f"billing@{c.domain}"}, "Active": not c.qb_deleted, "Job": False,
        "BillWithParent": False, "Level": 0, "Taxable": True, "CurrencyRef": USD, "Balance": num(money2(own)),
        "BalanceWithJobs": num(money2(sum(c.balances.values(), Decimal(0)))), "SalesTermRef": NET30,
        "MetaData": meta(c.onboarded, updated),
    }
    out = [parent]
    for site in c.sites[1:]:
        child = site_name(c, site) + suffix
        balance = num(money2(c.balances.get(site.customer_id, 0)))
        out.append({
            "Id": site.customer_id, "DisplayName": child, "FullyQualifiedName": f"{name}:{child}",
            "CompanyName": c.name, "Active": not c.qb_deleted, "Job": True, "BillWithParent": False,
            "ParentRef": {"value": c.customer_id, "name": name}, "Level": 1, "Taxable": True,
            "CurrencyRef": USD, "Balance": balance, "BalanceWithJobs": balance, "SalesTermRef": NET30,
            "MetaData": meta(c.onboarded, updated),
        })
    return out


def money2(x) -> Decimal:
    return Decimal(x).quantize(Decimal("0.01"))


def item(i: CatalogItem, created: date) -> dict:
    return {
        "Id": i.qb_id, "Name": i.name, "Description": i.description, "Type": i.qb_type,
        "UnitPrice": num(i.price), "PurchaseCost": num(i.cost) if i.cost is not None else None,
        "Active": True, "MetaData": meta(created, created),
    }


def _sales_lines(lines: list[Line], taxed: bool) -> list[dict]:
    out = []
    for n, x in enumerate(lines, 1):
        detail = {"ItemRef": {"value": x.item.qb_id, "name": x.item.name}, "Qty": num(x.qty),
                  "UnitPrice": num(x.price), "ServiceDate": x.service_date.isoformat()}
        if taxed:
            detail["TaxCodeRef"] = {"value": "TAX" if x.taxable else "NON"}
        out.append({"Id": str(n), "LineNum": n, "Amount": num(x.amount), "Description": x.description,
                    "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail})
    return out


def _tax_detail(lines: list[Line], tax: Decimal) -> dict:
    taxable = sum((x.amount for x in lines if x.taxable), Decimal(0))
    return {"TxnTaxCodeRef": TAX_CODE, "TotalTax": num(tax), "TaxLine": [{
        "Amount": num(tax), "DetailType": "TaxLineDetail",
        "TaxLineDetail": {"TaxRateRef": TAX_RATE, "PercentBased": True, "TaxPercent": num(priors.SALES_TAX_RATE),
                          "NetAmountTaxable": num(taxable)}}]}


def invoice(inv: Invoice) -> dict:
    tax = Decimal(0) if inv.voided else inv.tax
    lines = _sales_lines(inv.lines, tax > 0)
    lines.append({"Amount": num(inv.subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    if inv.discount_pct and not inv.voided:
        lines.append({"Amount": num(inv.discount), "DetailType": "DiscountLineDetail",
                      "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": num(inv.discount_pct),
                                             "DiscountAccountRef": DISCOUNT_ACCOUNT}})
    total = inv.total
    balance = Decimal(0) if inv.voided or inv.paid_on else total
    updated = inv.paid_on or inv.txn_date
    body = {
        "Id": inv.id, "DocNumber": f"INV-{inv.id}", "TxnDate": inv.txn_date.isoformat(),
        "DueDate": inv.due_date.isoformat(), "CustomerRef": ref_for(inv.client, inv.customer_id), "CurrencyRef": USD,
        "ExchangeRate": 1, "SalesTermRef": NET30, "TotalAmt": num(total), "Balance": num(balance),
        "PrivateNote": inv.note, "Line": lines,
        "MetaData": meta(inv.txn_date, updated, 7),
    }
    if tax:
        body["TxnTaxDetail"] = _tax_detail(inv.lines, tax)
    return body


def credit_memo(memo: CreditMemo) -> dict:
    lines = _sales_lines(memo.lines, False)
    total = memo.total
    lines.append({"Amount": num(total), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    return {
        "Id": memo.id, "DocNumber": f"CM-{memo.id}", "TxnDate": memo.txn_date.isoformat(),
        "CustomerRef": ref_for(memo.client, memo.customer_id), "CurrencyRef": USD, "ExchangeRate": 1,
        "TotalAmt": num(total), "RemainingCredit": num(total), "Balance": num(total),
        "CustomerMemo": {"value": memo.reason}, "PrivateNote": memo.reason, "Line": lines,
        "MetaData": meta(memo.txn_date, memo.txn_date, 16),
    }


def payment(p: Payment) -> dict:
    return {
        "Id": p.id, "TxnDate": p.txn_date.isoformat(), "CustomerRef": ref_for(p.client, p.customer_id),
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


def employee(t: Technician, hired: date) -> dict:
    """A technician as a QuickBooks employee. The labour cost an MSP uses for job costing is
    the employee's CostRate (Intuit's field; SuperOps has no technician cost): here the
    burdened hourly cost."""
    return {
        "Id": t.employee_id, "DisplayName": t.name, "GivenName": t.first, "FamilyName": t.last,
        "PrimaryEmailAddr": {"Address": ascii_local(f"{t.first}.{t.last}") + "@msp.example"}, "Active": True,
        "EmployeeNumber": f"E-{t.employee_id}", "BillableTime": True, "CostRate": num(t.cost),
        "HiredDate": hired.isoformat(), "MetaData": meta(hired, hired),
    }


def time_activity(t: TimeActivity, items: dict[str, CatalogItem]) -> dict:
    onsite = items["onsite"]
    return {
        "Id": t.id, "TxnDate": t.when.isoformat(), "NameOf": "Employee",
        "EmployeeRef": {"value": t.tech.employee_id, "name": t.tech.name}, "CustomerRef": customer_ref(t.client),
        "ItemRef": {"value": onsite.qb_id, "name": onsite.name}, "BillableStatus": t.billable,
        "HourlyRate": num(t.rate), "CostRate": num(t.tech.cost), "Hours": t.minutes // 60, "Minutes": t.minutes % 60,
        "Description": t.description, "MetaData": meta(t.when, t.when, 17),
    }
