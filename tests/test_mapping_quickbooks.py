"""QuickBooks Online payloads (the PAYLOADS.md examples and variations) and local
interactions map to exactly the row values a person would expect; bad ones are refused
with a reason naming the field. Sub-customers keep their parent, deleted customers lose
Intuit's suffix, and tax and discount lines never count as service revenue."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from clients.models import (
    Client,
    CreditMemo,
    Customer,
    Expense,
    Interaction,
    Invoice,
    Payment,
    ServiceItem,
    Technician,
    Worklog,
)
from integrations import entities
from integrations.local.mapping import map_interaction
from integrations.quickbooks.mapping import (
    MAPPERS,
    line_kind,
    map_bill,
    map_credit_memo,
    map_customer,
    map_invoice,
    map_item,
    map_payment,
    map_purchase,
    map_time_activity,
)
from integrations.records import BadRecord, Ref

from .test_mapping_superops import variant

CUSTOMER = {
    "Id": "58", "DisplayName": "Acme Dental", "CompanyName": "Acme Dental Inc.",
    "PrimaryEmailAddr": {"Address": "Billing@AcmeDental.com"}, "Active": True,
    "CurrencyRef": {"value": "USD", "name": "United States Dollar"}, "Balance": 1234.50,
    "SalesTermRef": {"value": "3", "name": "Net 30"},
    "MetaData": {"CreateTime": "2024-03-01T09:00:00-08:00", "LastUpdatedTime": "2026-10-31T09:00:00-07:00"},
}
ITEM = {"Id": "11", "Name": "Managed Workstation", "Description": "Per device, per month", "Type": "Service",
        "UnitPrice": 75, "PurchaseCost": 0, "Active": True,
        "MetaData": {"CreateTime": "2024-01-01T09:00:00-08:00", "LastUpdatedTime": "2025-01-02T09:00:00-08:00"}}
INVOICE = {
    "Id": "1001", "DocNumber": "INV-1001", "TxnDate": "2026-10-01", "DueDate": "2026-10-31",
    "CustomerRef": {"value": "58", "name": "Acme Dental"}, "CurrencyRef": {"value": "USD"}, "ExchangeRate": 1,
    "TotalAmt": 1725.00, "Balance": 0, "PrivateNote": "",
    "Line": [
        {"Id": "1", "LineNum": 1, "Amount": 1725.00, "Description": "Managed Workstation x 23 (Oct 2026)",
         "DetailType": "SalesItemLineDetail",
         "SalesItemLineDetail": {"ItemRef": {"value": "11", "name": "Managed Workstation"},
                                 "Qty": 23, "UnitPrice": 75.00, "ServiceDate": "2026-10-01"}},
        {"Amount": 1725.00, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
    ],
    "MetaData": {"CreateTime": "2026-10-01T01:00:00-07:00", "LastUpdatedTime": "2026-10-01T01:00:00-07:00"},
}
PAYMENT = {"Id": "3001", "TxnDate": "2026-11-12", "CustomerRef": {"value": "58"}, "TotalAmt": 1725.00,
           "UnappliedAmt": 0, "CurrencyRef": {"value": "USD"}, "ExchangeRate": 1, "PaymentRefNum": "4432",
           "Line": [{"Amount": 1725.00, "LinkedTxn": [{"TxnId": "1001", "TxnType": "Invoice"}]}]}
BILL = {
    "Id": "501", "TxnDate": "2026-10-03", "DueDate": "2026-11-02", "VendorRef": {"value": "12", "name": "Pax8"},
    "TotalAmt": 230.00, "CurrencyRef": {"value": "USD"},
    "Line": [{"Id": "1", "Amount": 230.00, "Description": "Microsoft 365 Business Premium x 10",
              "DetailType": "AccountBasedExpenseLineDetail",
              "AccountBasedExpenseLineDetail": {
                  "AccountRef": {"value": "80", "name": "Cost of Goods Sold:Licenses"},
                  "BillableStatus": "Billable", "CustomerRef": {"value": "58", "name": "Acme Dental"}}}],
}
TIME = {"Id": "9001", "TxnDate": "2026-10-07", "NameOf": "Employee", "EmployeeRef": {"value": "55", "name": "Dana Wu"},
        "CustomerRef": {"value": "58"}, "ItemRef": {"value": "13", "name": "Onsite labour"},
        "BillableStatus": "Billable", "HourlyRate": 150, "Hours": 2, "Minutes": 30, "Description": "Server move"}
INTERACTION = {"id": "I-1", "clientId": "4001", "kind": "qbr", "occurredAt": "2026-09-15T15:00:00Z",
               "owner": "Dana Wu", "summary": "Reviewed roadmap; worried about cost", "sentiment": -1}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def decimals(payload: dict) -> dict:
    """The payload as a dump file reads it (json with parse_float=Decimal)."""
    return json.loads(json.dumps(payload), parse_float=Decimal)


def test_customer_maps_every_field():
    row = map_customer(CUSTOMER)
    assert (row.model, row.source, row.external_id, row.refs) == (Customer, "quickbooks", "58", {})
    assert row.fields == {
        "display_name": "Acme Dental", "company_name": "Acme Dental Inc.", "email": "billing@acmedental.com",
        "active": True, "currency": "USD", "balance": Decimal("1234.5"), "payment_terms_days": 30,
        "parent_external_id": "", "source_updated_at": utc(2026, 10, 31, 16, 0),
    }
    assert map_customer(decimals(CUSTOMER)).fields["balance"] == Decimal("1234.50")
    assert map_customer(variant(CUSTOMER, SalesTermRef={"name": "Due on receipt"})).fields["payment_terms_days"] == 0
    assert map_customer(variant(CUSTOMER, SalesTermRef=None)).fields["payment_terms_days"] is None


def test_sub_customer_keeps_its_parent():
    site = map_customer(variant(CUSTOMER, Id="61", DisplayName="Acme Dental - Eastside", Job=True,
                                ParentRef={"value": "58"}, FullyQualifiedName="Acme Dental:Acme Dental - Eastside",
                                Level=1))
    assert (site.fields["display_name"], site.fields["parent_external_id"]) == ("Acme Dental - Eastside", "58")


@pytest.mark.parametrize("name, active, kept", [
    ("Birch & Sons Law (deleted)", False, "Birch & Sons Law"),
    ("Birch & Sons Law (deleted-2)", False, "Birch & Sons Law"),
    ("Cedar Clinic (Deleted)", False, "Cedar Clinic"),
    ("Birch & Sons Law (deleted)", True, "Birch & Sons Law (deleted)"),  # an active one named so on purpose
    ("Walk-in (deleted) customer", False, "Walk-in (deleted) customer"),
])
def test_deleted_customer_keeps_its_name_without_intuits_suffix(name, active, kept):
    fields = map_customer(variant(CUSTOMER, DisplayName=name, CompanyName=name, Active=active)).fields
    assert (fields["display_name"], fields["company_name"], fields["active"]) == (kept, kept, active)


def test_bad_customer():
    with pytest.raises(BadRecord, match="Id is missing"):
        map_customer(variant(CUSTOMER, Id=None))
    with pytest.raises(BadRecord, match="Balance 'lots' is not a number"):
        map_customer(variant(CUSTOMER, Balance="lots"))
    with pytest.raises(BadRecord, match="MetaData.LastUpdatedTime '31/10/2026' is not a date"):
        map_customer(variant(CUSTOMER, **{"MetaData.LastUpdatedTime": "31/10/2026"}))


def test_item_maps_every_field():
    row = map_item(ITEM)
    assert (row.model, row.source, row.external_id) == (ServiceItem, "quickbooks", "11")
    assert row.fields == {
        "name": "Managed Workstation", "description": "Per device, per month", "quantity_type": "units",
        "unit_price": Decimal("75"), "cost_price": Decimal("0"), "active": True,
        "source_updated_at": utc(2025, 1, 2, 17, 0),
    }
    assert map_item(variant(ITEM, Name="Remote support", PurchaseCost=None)).fields["quantity_type"] == "hours"
    assert map_item(variant(ITEM, Name="Remote support", PurchaseCost=None)).fields["cost_price"] is None
    assert map_item(variant(ITEM, Name="Block hours (10)")).fields["quantity_type"] == "block_hours"
    assert map_item(variant(ITEM, Name="Project Labour")).fields["quantity_type"] == "hours"
    assert map_item(variant(ITEM, Name="Reimbursable Hardware")).fields["quantity_type"] == "units"


def test_invoice_maps_every_field_and_sales_lines_only():
    row = map_invoice(decimals(INVOICE))
    assert (row.model, row.source, row.external_id) == (Invoice, "quickbooks", "1001")
    assert row.refs == {"customer": Ref(Customer, "quickbooks", "58"),
                        "client": Ref(Customer, "quickbooks", "58", via="client")}
    assert row.fields == {
        "doc_number": "INV-1001", "txn_date": date(2026, 10, 1), "due_date": date(2026, 10, 31),
        "total": Decimal("1725.00"), "balance": Decimal("0"), "currency": "USD", "exchange_rate": Decimal("1"),
        "memo": "", "voided": False, "source_updated_at": utc(2026, 10, 1, 8, 0),
    }
    # Read from the file's text, the amount keeps the cents it was written with.
    text = json.dumps(variant(INVOICE, Line=[])).replace('"TotalAmt": 1725.0', '"TotalAmt": 1725.00')
    assert str(map_invoice(json.loads(text, parse_float=Decimal)).fields["total"]) == "1725.00"
    assert row.children == [{
        "line_id": "1", "line_num": 1, "service_item_ref": Ref(ServiceItem, "quickbooks", "11", required=False),
        "kind": "recurring", "description": "Managed Workstation x 23 (Oct 2026)", "quantity": Decimal("23"),
        "unit_price": Decimal("75.00"), "amount": Decimal("1725.00"), "service_date": date(2026, 10, 1),
    }]


def test_tax_and_discount_lines_are_kept_apart_from_service_revenue():
    payload = decimals(variant(INVOICE, TotalAmt=1684.80, Line=INVOICE["Line"] + [
        {"Amount": 172.50, "DetailType": "DiscountLineDetail",
         "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10,
                                "DiscountAccountRef": {"value": "86", "name": "Discounts given"}}},
    ], TxnTaxDetail={"TxnTaxCodeRef": {"value": "3", "name": "King County"}, "TotalTax": 132.30,
                     "TaxLine": [{"Amount": 132.30, "DetailType": "TaxLineDetail",
                                  "TaxLineDetail": {"TaxRateRef": {"value": "4"}, "PercentBased": True,
                                                    "TaxPercent": 8.5, "NetAmountTaxable": 1552.50}}]}))
    lines = map_invoice(payload).children
    by_kind = {line["kind"]: line for line in lines}
    assert [line["kind"] for line in lines] == ["recurring", "discount", "tax"]
    assert by_kind["recurring"]["amount"] == Decimal("1725.00")  # the service line is what it was
    assert (by_kind["discount"]["amount"], by_kind["discount"]["description"]) == (Decimal("-172.50"), "Discount 10%")
    assert (by_kind["tax"]["amount"], by_kind["tax"]["description"]) == (Decimal("132.30"), "Sales tax King County")
    assert by_kind["tax"]["service_item_ref"] is None and by_kind["discount"]["service_item_ref"] is None
    # Service lines plus the discount plus the tax are the invoice's total.
    assert sum(line["amount"] for line in lines) == Decimal("1684.80")
    assert len({line["line_id"] for line in lines}) == 3
    no_tax = map_invoice(variant(INVOICE, TxnTaxDetail={"TotalTax": 0})).children
    assert [line["kind"] for line in no_tax] == ["recurring"]


CREDIT_MEMO = {
    "Id": "7001", "DocNumber": "CM-1001", "TxnDate": "2026-10-20",
    "CustomerRef": {"value": "58", "name": "Acme Dental"},
    "CurrencyRef": {"value": "USD"}, "TotalAmt": 150.00, "RemainingCredit": 150.00,
    "PrivateNote": "Goodwill: outage on Oct 12", "CustomerMemo": {"value": "Sorry for the trouble"},
    "Line": [{"Id": "1", "LineNum": 1, "Amount": 150.00, "Description": "Credit: Remote support",
              "DetailType": "SalesItemLineDetail",
              "SalesItemLineDetail": {"ItemRef": {"value": "12", "name": "Remote support"}, "Qty": 1,
                                      "UnitPrice": 150.00}},
             {"Amount": 150.00, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}],
    "MetaData": {"CreateTime": "2026-10-20T09:00:00-07:00", "LastUpdatedTime": "2026-10-20T09:00:00-07:00"},
}


def test_credit_memo_maps_every_field_and_its_lines():
    row = map_credit_memo(decimals(CREDIT_MEMO))
    assert (row.model, row.source, row.external_id) == (CreditMemo, "quickbooks", "7001")
    assert row.refs == {"customer": Ref(Customer, "quickbooks", "58"),
                        "client": Ref(Customer, "quickbooks", "58", via="client")}
    assert row.fields == {
        "doc_number": "CM-1001", "txn_date": date(2026, 10, 20), "total": Decimal("150.00"),
        "remaining": Decimal("150.00"), "currency": "USD", "exchange_rate": Decimal("1"),
        "reason": "Goodwill: outage on Oct 12", "source_updated_at": utc(2026, 10, 20, 16, 0),
    }
    assert row.children == [{
        "line_id": "1", "line_num": 1, "service_item_ref": Ref(ServiceItem, "quickbooks", "12", required=False),
        "kind": "time", "description": "Credit: Remote support", "quantity": Decimal("1"),
        "unit_price": Decimal("150.00"), "amount": Decimal("150.00"),
    }]
    assert map_credit_memo(variant(CREDIT_MEMO, PrivateNote=None)).fields["reason"] == "Sorry for the trouble"
    with pytest.raises(BadRecord, match="CustomerRef.value is missing"):
        map_credit_memo(variant(CREDIT_MEMO, CustomerRef=None))
    with pytest.raises(BadRecord, match="TotalAmt '-5' is negative"):
        map_credit_memo(variant(CREDIT_MEMO, TotalAmt="-5"))


def sales_line(line_id, item, amount, qty="1", price=None):
    return {"Id": line_id, "LineNum": int(line_id), "Amount": amount, "Description": f"{item}",
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": line_id, "name": item}, "Qty": qty,
                                    "UnitPrice": price or amount}}


@pytest.mark.parametrize("item, kind", [
    ("Managed Workstation", "recurring"), ("Managed Server", "recurring"), ("Per-user support plan", "recurring"),
    ("Block hours (10)", "recurring"), ("Backup per device", "recurring"),
    ("Remote support", "time"), ("Onsite labour", "time"), ("After-hours support", "time"),
    ("Project: Office 365 migration", "project"), ("Onboarding fee", "project"),
    ("Microsoft 365 Business Premium", "product"), ("Hardware: Dell Latitude laptop", "product"),
    ("Reimbursable travel", "expense"), ("Reimbursable hardware", "expense"),
    ("Late fee", "other"),
    # The simulator's catalogue.
    ("Managed User", "recurring"), ("Block Hours", "recurring"), ("Onsite Support", "time"),
    ("Project Labour", "project"), ("Offboarding Labour", "time"), ("Reimbursable License", "expense"),
    ("Reimbursable Subcontractor", "expense"),
])
def test_invoice_line_kind_from_item(item, kind):
    assert line_kind(item) == kind
    invoice = variant(INVOICE, Line=[sales_line("7", item, "10.00")])
    assert map_invoice(invoice).children[0]["kind"] == kind


def test_voided_invoice_and_foreign_currency():
    voided = map_invoice(variant(INVOICE, TotalAmt=0, Balance=0, PrivateNote="Voided", Line=[]))
    assert (voided.fields["voided"], voided.fields["total"], voided.children) == (True, Decimal("0"), [])
    assert map_invoice(variant(INVOICE, PrivateNote="Voided")).fields["voided"] is False  # still has a total
    eur = map_invoice(variant(INVOICE, CurrencyRef={"value": "EUR"}, ExchangeRate="1.0825")).fields
    assert (eur["currency"], eur["exchange_rate"]) == ("EUR", Decimal("1.0825"))


@pytest.mark.parametrize("changes, reason", [
    ({"Id": ""}, "Id is missing"),
    ({"TxnDate": "2026-10-32"}, "TxnDate '2026-10-32' is not a date"),
    ({"TotalAmt": None}, "TotalAmt is missing"),
    ({"CustomerRef": None}, "CustomerRef.value is missing"),
    ({"ExchangeRate": 0}, "ExchangeRate 0 is not positive"),
    ({"Line": [sales_line("1", "A", "1.00"), sales_line("1", "B", "2.00")]}, r"Line\[1\].Id '1' appears twice"),
    ({"Line": [variant(sales_line("1", "A", "1.00"), **{"SalesItemLineDetail.Qty": "two"})]},
     r"Line\[0\].Qty 'two' is not a number"),
])
def test_bad_invoice_names_field_and_value(changes, reason):
    with pytest.raises(BadRecord, match=reason):
        map_invoice(variant(INVOICE, **changes))


def test_payment_maps_every_field_and_applications():
    payment = variant(PAYMENT, TotalAmt="2000.00", UnappliedAmt="25.00", Line=[
        {"Amount": "1725.00", "LinkedTxn": [{"TxnId": "1001", "TxnType": "Invoice"}]},
        {"Amount": "250.00", "LinkedTxn": [{"TxnId": "1002", "TxnType": "Invoice"}]},
        {"Amount": "10.00", "LinkedTxn": [{"TxnId": "1002", "TxnType": "Invoice"}]},
        {"Amount": "5.00", "LinkedTxn": [{"TxnId": "77", "TxnType": "CreditMemo"}]},
    ])
    row = map_payment(payment)
    assert (row.model, row.source, row.external_id) == (Payment, "quickbooks", "3001")
    assert row.refs == {"customer": Ref(Customer, "quickbooks", "58"),
                        "client": Ref(Customer, "quickbooks", "58", via="client")}
    assert row.fields == {
        "txn_date": date(2026, 11, 12), "total": Decimal("2000.00"), "unapplied": Decimal("25.00"),
        "currency": "USD", "exchange_rate": Decimal("1"), "reference": "4432", "source_updated_at": None,
    }
    assert row.children == [
        {"invoice_ref": Ref(Invoice, "quickbooks", "1001"), "amount": Decimal("1725.00")},
        {"invoice_ref": Ref(Invoice, "quickbooks", "1002"), "amount": Decimal("260.00")},
    ]
    with pytest.raises(BadRecord, match="TxnDate 'Nov 12' is not a date"):
        map_payment(variant(PAYMENT, TxnDate="Nov 12"))


def test_bill_is_one_expense_per_line():
    bill = variant(BILL, Line=BILL["Line"] + [
        {"Id": "2", "Amount": "1200.00", "Description": "Dell Latitude",
         "DetailType": "AccountBasedExpenseLineDetail",
         "AccountBasedExpenseLineDetail": {"AccountRef": {"name": "Cost of Goods Sold:Hardware"},
                                           "BillableStatus": "HasBeenBilled", "CustomerRef": {"value": "61"}}},
        {"Id": "3", "Amount": "15.00", "Description": "Office coffee", "DetailType": "AccountBasedExpenseLineDetail",
         "AccountBasedExpenseLineDetail": {"AccountRef": {"name": "Office expenses"}, "BillableStatus": "NotBillable"}},
        {"Id": "4", "Amount": "400.00", "DetailType": "AccountBasedExpenseLineDetail",
         "AccountBasedExpenseLineDetail": {"AccountRef": {"name": "Subcontractors"}}},
    ])
    rows = map_bill(decimals(bill))
    assert [r.external_id for r in rows] == ["Bill:501:1", "Bill:501:2", "Bill:501:3", "Bill:501:4"]
    first = rows[0]
    assert (first.model, first.source) == (Expense, "quickbooks")
    assert first.refs == {"customer": Ref(Customer, "quickbooks", "58"),
                          "client": Ref(Customer, "quickbooks", "58", via="client")}
    assert first.fields == {
        "txn_type": "Bill", "document_id": "501", "txn_date": date(2026, 10, 3), "vendor": "Pax8",
        "account": "Cost of Goods Sold:Licenses", "category": "license",
        "description": "Microsoft 365 Business Premium x 10", "amount": Decimal("230.00"), "currency": "USD",
        "exchange_rate": Decimal("1"), "billable_status": "billable", "source_updated_at": None,
    }
    assert [(r.fields["category"], r.fields["billable_status"]) for r in rows] == [
        ("license", "billable"), ("hardware", "billed"), ("other", "not_billable"), ("subcontractor", "not_billable")]
    assert rows[2].refs == {"customer": None, "client": None}
    with pytest.raises(BadRecord, match=r"Line\[0\].BillableStatus 'Maybe' is not one of"):
        line = variant(BILL["Line"][0], **{"AccountBasedExpenseLineDetail.BillableStatus": "Maybe"})
        map_bill(variant(BILL, Line=[line]))


def test_purchase_uses_entity_ref_as_vendor():
    purchase = variant(BILL, Id="88", PaymentType="CreditCard", EntityRef={"value": "14", "name": "Amazon"})
    del purchase["VendorRef"]
    rows = map_purchase(purchase)
    assert [r.external_id for r in rows] == ["Purchase:88:1"]
    assert (rows[0].fields["txn_type"], rows[0].fields["vendor"], rows[0].fields["document_id"]) == (
        "Purchase", "Amazon", "88")


def test_time_activity_maps_every_field():
    row = map_time_activity(TIME)
    assert (row.model, row.source, row.external_id) == (Worklog, "quickbooks", "9001")
    assert row.refs == {
        "customer": Ref(Customer, "quickbooks", "58"),
        "client": Ref(Customer, "quickbooks", "58", via="client"),
        "technician": Ref(Technician, "superops", "Dana Wu", key="name", required=False),
        "service_item": Ref(ServiceItem, "quickbooks", "13", required=False),
    }
    assert row.fields == {
        "work_date": date(2026, 10, 7), "started_at": None, "minutes": 150, "billable": True, "after_hours": False,
        "unit_price": Decimal("150"), "cost_rate": None, "currency": "USD", "billing_status": "pending",
        "notes": "Server move", "source_updated_at": None,
    }
    assert map_time_activity(variant(TIME, CostRate="48.25")).fields["cost_rate"] == Decimal("48.25")
    billed = map_time_activity(variant(TIME, BillableStatus="HasBeenBilled", Hours=0, Minutes=45,
                                       StartTime="2026-10-07T09:00:00-07:00")).fields
    assert (billed["billing_status"], billed["billable"], billed["minutes"]) == ("invoiced", True, 45)
    assert billed["started_at"] == utc(2026, 10, 7, 16, 0)
    free = map_time_activity(variant(TIME, BillableStatus="NotBillable")).fields
    assert (free["billing_status"], free["billable"]) == ("", False)


@pytest.mark.parametrize("changes, reason", [
    ({"Hours": -1}, "is negative"),
    ({"Hours": 0, "Minutes": 0}, "give no time"),
    ({"Hours": "two"}, "Hours 'two' is not a number"),
    ({"CustomerRef": None}, "CustomerRef.value is missing"),
    ({"TxnDate": None}, "TxnDate is missing"),
])
def test_bad_time_activity(changes, reason):
    with pytest.raises(BadRecord, match=reason):
        map_time_activity(variant(TIME, **changes))


def test_interaction_maps_every_field():
    row = map_interaction(INTERACTION)
    assert (row.model, row.source, row.external_id) == (Interaction, "local", "I-1")
    assert row.refs == {"client": Ref(Client, "superops", "4001")}
    assert row.fields == {"kind": "qbr", "occurred_at": utc(2026, 9, 15, 15, 0), "owner": "Dana Wu",
                          "summary": "Reviewed roadmap; worried about cost", "sentiment": -1}
    with pytest.raises(BadRecord, match="sentiment 3 is not -1, 0 or 1"):
        map_interaction(variant(INTERACTION, sentiment=3))
    with pytest.raises(BadRecord, match="kind 'lunch' is not one of"):
        map_interaction(variant(INTERACTION, kind="lunch"))


def test_mappers_table_covers_every_entity():
    assert set(MAPPERS) == {kind.name for kind in entities.of("quickbooks")}
