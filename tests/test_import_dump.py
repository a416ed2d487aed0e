"""`manage.py import_dump DIR` on a small hand-built dump folder in the exact page shapes of
PAYLOADS.md: every entity loads, a second run changes nothing, bad records are set aside
with reasons, a changed record updates exactly its row, and customers are linked."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

from clients.models import (
    Asset,
    Client,
    ClientUser,
    Contract,
    CreditMemo,
    CreditMemoLine,
    Customer,
    Expense,
    Interaction,
    Invoice,
    InvoiceLine,
    OfferedItem,
    Payment,
    PaymentApplication,
    RejectedRecord,
    SatisfactionSurvey,
    ServiceItem,
    SyncRun,
    Technician,
    Ticket,
    Worklog,
)
from integrations.models import ValueMap

from .test_mapping_quickbooks import BILL, CREDIT_MEMO, CUSTOMER, INTERACTION, INVOICE, ITEM, PAYMENT, TIME
from .test_mapping_superops import (
    ASSET,
    CLIENT,
    CLIENT_USER,
    CONTRACT,
    OFFERED_ITEM,
    SERVICE_ITEM,
    TECHNICIAN,
    TICKET,
    WORKLOG,
    variant,
)

pytestmark = pytest.mark.django_db

SUPEROPS_LIST_KEYS = {
    "getClientList": "clients", "getTechnicianList": "userList", "getServiceItemList": "items",
    "getClientContractList": "clientContracts", "getAssetList": "assets", "getTicketList": "tickets",
    "getWorklogEntries": "entries", "getClientUserList": "userList", "getOfferedItems": "items",
}


def client(account_id, name, domain, **custom):
    return variant(CLIENT, accountId=account_id, name=name, emailDomains=[domain],
                   **{f"customFields.{k}": v for k, v in custom.items()})


def ticket(ticket_id, account_id, created, csat=None, **changes):
    custom = {"reopenCount": "0", "escalated": False, "assetId": "3001" if account_id == "4001" else None}
    if csat:
        custom.update(csatScore=str(csat), csatComment=f"score {csat}", csatRespondedAt=created)
    return variant(TICKET, ticketId=ticket_id, displayId=f"T-{ticket_id}", client={"accountId": account_id},
                   createdTime=created, customFields=custom, **changes)


def worklog(item_id, ticket_id, account_id, qty):
    return variant(WORKLOG, itemId=item_id, qty=qty,
                   workItem={"workId": ticket_id, "module": "TICKET", "client": {"accountId": account_id}})


def sales_line(line_id, item_id, item_name, qty, price, amount):
    return {"Id": line_id, "LineNum": int(line_id), "Amount": amount, "Description": f"{item_name} x {qty}",
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": item_id, "name": item_name}, "Qty": qty,
                                    "UnitPrice": price, "ServiceDate": "2026-10-01"}}


def world() -> dict[tuple[str, str], list]:
    """Three clients and their books, plus four bad records (marked BAD below)."""
    return {
        ("superops", "getClientList"): [
            CLIENT,
            client("4002", "Birch & Sons Law", "birchlaw.com", industry="Legal", employeeCount="12"),
            client("4003", "Cedar Clinic", "cedarclinic.org", industry="Healthcare"),
            variant(CLIENT, accountId=None, name="Nameless"),  # BAD: missing id
        ],
        ("superops", "getTechnicianList"): [
            TECHNICIAN,
            variant(TECHNICIAN, userId="9002", name="Eli Park", email="eli@msp.example",
                    customFields={"burdenedHourlyCost": "62.00", "tier": "2"}),
        ],
        ("superops", "getServiceItemList"): [
            SERVICE_ITEM,
            variant(SERVICE_ITEM, itemId="7003", name="Remote support", quantityType="HOURS", unitPrice="150.00"),
        ],
        ("superops", "getClientContractList"): [
            CONTRACT,
            variant(CONTRACT, contractId="6002", client={"accountId": "4002"}, **{
                "contract.contractId": "6002", "contract.name": "Per-user support",
                "contract.billableContract.provisionRule": {"entity": "USER"},
                "contract.billableContract.changes": [
                    {"changeId": "1", "effectiveDate": "2025-01-01", "quantity": "12",
                     "quantityChangeOperation": "BASELINE"},
                    {"changeId": "2", "effectiveDate": "2026-12-15", "quantity": "4",
                     "quantityChangeOperation": "INCREASE"},
                ]}),
        ],
        ("superops", "getAssetList"): [
            ASSET,
            variant(ASSET, assetId="3002", name="ACME-WS-002", status="Decommissioned",
                    customFields={"retiredOn": "2026-06-30"}),
            variant(ASSET, assetId="3003", name="GHOST-01", client={"accountId": "4999"}),  # BAD: unknown client
        ],
        ("superops", "getTicketList"): [
            ticket("100001", "4001", "2026-10-05T09:12:00", csat=5),
            ticket("100002", "4001", "2026-10-06T10:00:00", priority="High"),
            ticket("100003", "4002", "2026-10-07T11:00:00", csat=2),
            ticket("100004", "4002", "2026-10-08T12:00:00", ticketType="SERVICE_REQUEST"),
            ticket("100005", "4003", "2026-10-09T13:00:00", csat=4),
            ticket("100006", "4003", "2026-10-10T14:00:00", resolutionTime="yesterday"),  # BAD: date
            ticket("100007", "4003", "2026-10-11T15:00:00"),
        ],
        ("superops", "getWorklogEntries"): [
            worklog("200001", "100001", "4001", "0.75"),
            worklog("200002", "100002", "4001", "1.50"),
            worklog("200003", "100003", "4002", "-0.25"),  # BAD: negative hours
            variant(worklog("200004", "100004", "4002", "2"), workItem={"workId": "100004", "module": "TICKET"}),
        ],
        ("quickbooks", "Customer"): [
            CUSTOMER,  # exact name "Acme Dental"
            variant(CUSTOMER, Id="59", DisplayName="Birch and Sons", CompanyName="",
                    PrimaryEmailAddr={"Address": "ap@birchlaw.com"}),  # by email domain
            variant(CUSTOMER, Id="60", DisplayName="Walk-in customer", CompanyName="",
                    PrimaryEmailAddr=None),  # nobody
        ],
        ("quickbooks", "Item"): [
            ITEM,
            variant(ITEM, Id="12", Name="Remote support", UnitPrice=150),
            variant(ITEM, Id="13", Name="Onsite labour", UnitPrice=175),
        ],
        ("quickbooks", "Invoice"): [
            INVOICE,
            variant(INVOICE, Id="1002", DocNumber="INV-1002", CustomerRef={"value": "59"}, TotalAmt="1350.00",
                    Balance="1350.00", Line=[sales_line("1", "12", "Remote support", "9", "150.00", "1350.00")]),
            variant(INVOICE, Id="1003", DocNumber="INV-1003", TotalAmt="1875.00", Balance="150.00", Line=[
                sales_line("1", "11", "Managed Workstation", "23", "75.00", "1725.00"),
                sales_line("2", "12", "Remote support", "1", "150.00", "150.00"),
            ]),
            variant(INVOICE, Id="1004", DocNumber="INV-1004", TotalAmt=0, Balance=0, PrivateNote="Voided", Line=[]),
        ],
        ("quickbooks", "Payment"): [
            PAYMENT,
            variant(PAYMENT, Id="3002", TotalAmt="1725.00", Line=[
                {"Amount": "1725.00", "LinkedTxn": [{"TxnId": "1003", "TxnType": "Invoice"}]}]),
        ],
        ("quickbooks", "Bill"): [
            variant(BILL, Line=BILL["Line"] + [{
                "Id": "2", "Amount": "90.00", "Description": "Cable run", "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {"AccountRef": {"name": "Subcontractors"},
                                                  "BillableStatus": "NotBillable"}}]),
        ],
        ("quickbooks", "Purchase"): [
            variant({k: v for k, v in BILL.items() if k != "VendorRef"}, Id="88", PaymentType="CreditCard",
                    EntityRef={"name": "Amazon"}),
        ],
        ("quickbooks", "TimeActivity"): [
            TIME,
            variant(TIME, Id="9002", CustomerRef={"value": "59"}, EmployeeRef={"name": "ELI PARK"}, Hours=1, Minutes=0),
        ],
        ("local", "interactions"): [
            INTERACTION,
            variant(INTERACTION, id="I-2", clientId="4002", kind="call", sentiment=1),
        ],
    }


GOOD_ROWS = {
    Client: 3, Technician: 2, ServiceItem: 5, Contract: 2, Asset: 2, Ticket: 6, SatisfactionSurvey: 3,
    Worklog: 5, Customer: 3, Invoice: 4, InvoiceLine: 4, Payment: 2, PaymentApplication: 2, Expense: 3,
    Interaction: 2,
}


def write_dump(folder: Path, data: dict[tuple[str, str], list], page_size: int = 3, end: str = "2026-11-30") -> Path:
    """Pages in exactly the bodies the APIs answer with (PAYLOADS.md "Dump folder layout")."""
    for (source, entity), records in data.items():
        pages = [records[i:i + page_size] for i in range(0, len(records), page_size)] or [[]]
        for number, page in enumerate(pages, start=1):
            more = number < len(pages)
            if source == "superops":
                key = SUPEROPS_LIST_KEYS[entity]
                body = {"data": {entity: {key: page, "listInfo": {
                    "page": number, "pageSize": page_size, "hasMore": more, "totalCount": len(records)}}}}
            elif source == "quickbooks":
                body = {"QueryResponse": {entity: page, "startPosition": 1 + (number - 1) * page_size,
                                          "maxResults": page_size, "totalCount": len(records)},
                        "time": "2026-11-01T00:00:00.000-07:00"}
            else:
                body = {"interactions": page, "page": number, "hasMore": more}
            path = folder / source / entity / f"page-{number:04d}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(body))
    (folder / "manifest.json").write_text(json.dumps({"generator": "hand", "seed": 0, "end": end}))
    return folder


def run_import(folder: Path) -> tuple[SyncRun, str]:
    out = StringIO()
    call_command("import_dump", str(folder), "--no-progress", stdout=out)
    return SyncRun.objects.order_by("-pk").first(), out.getvalue()


def snapshot() -> dict[str, list[dict]]:
    """Every row of every clients model (the reject bookkeeping of which run saw it aside)."""
    rows = {}
    for model in apps.get_app_config("clients").get_models():
        if model is SyncRun:
            continue
        values = list(model.objects.order_by("pk").values())
        if model is RejectedRecord:
            values = [{k: v for k, v in r.items() if k != "last_run_id"} for r in values]
        rows[model.__name__] = values
    return rows


@pytest.fixture
def dump(tmp_path) -> Path:
    return write_dump(tmp_path / "dump", world())


def test_second_run_writes_nothing_and_rows_are_identical(dump):
    first, _ = run_import(dump)
    assert (first.status, first.trigger, first.set_aside) == ("partial", "dump", 4)
    assert first.created == sum(n for model, n in GOOD_ROWS.items() if model not in (InvoiceLine, PaymentApplication))
    assert {model: model.objects.count() for model in GOOD_ROWS} == GOOD_ROWS
    before = snapshot()

    second, output = run_import(dump)
    assert (second.created, second.updated, second.set_aside) == (0, 0, 4)
    assert second.unchanged == first.created
    assert second.status == "partial"
    assert snapshot() == before
    assert RejectedRecord.objects.count() == 4
    assert set(RejectedRecord.objects.values_list("last_run", flat=True)) == {second.pk}
    # Rows keep the run that last wrote them.
    assert set(Ticket.objects.values_list("sync_run", flat=True)) == {first.pk}
    assert "0 newly linked" in output


def test_bad_records_are_set_aside_with_reasons_and_the_rest_loads(dump):
    run, output = run_import(dump)
    rejects = {(r.source, r.entity, r.external_id): r for r in RejectedRecord.objects.all()}
    assert {key: r.reason for key, r in rejects.items()} == {
        ("superops", "getClientList", ""): "accountId is missing",
        ("superops", "getAssetList", "3003"): "unknown client 4999",
        ("superops", "getTicketList", "100006"): "resolutionTime 'yesterday' is not a date and time",
        ("superops", "getWorklogEntries", "200003"): "qty '-0.25' is not positive",
    }
    assert rejects[("superops", "getWorklogEntries", "200003")].payload["qty"] == "-0.25"
    assert all(r.last_run_id == run.pk and not r.resolved for r in rejects.values())
    assert not Ticket.objects.filter(external_id="100006").exists()
    assert Ticket.objects.filter(external_id="100007").exists()  # same page as the bad one
    for needle in ["Set aside 4 record(s)", "superops/getWorklogEntries: 1", "200003: qty '-0.25' is not positive",
                   "3003: unknown client 4999", "100006: resolutionTime 'yesterday'", "(no id): accountId is missing"]:
        assert needle in output


def test_rows_carry_the_payload_values(dump):
    run_import(dump)
    acme = Client.objects.get(external_id="4001")
    assert (acme.name, acme.email_domain, acme.employee_count, acme.onboarded_on) == (
        "Acme Dental", "acmedental.com", 23, date(2024, 3, 1))
    # Seats as of the manifest's end (2026-11-30): the 2026-12-15 increase is not billed yet.
    per_user = Contract.objects.get(external_id="6002")
    assert (per_user.client.external_id, per_user.kind, per_user.billed_quantity) == ("4002", "per_user", Decimal("12"))
    assert Contract.objects.get(external_id="6001").service_item.name == "Managed Workstation"
    assert Asset.objects.get(external_id="3002").retired_on == date(2026, 6, 30)
    t1 = Ticket.objects.get(external_id="100001")
    assert (t1.client, t1.technician.name, t1.asset.name) == (acme, "Dana Wu", "ACME-WS-001")
    assert t1.created_at == datetime(2026, 10, 5, 9, 12, tzinfo=UTC)
    survey = SatisfactionSurvey.objects.get(external_id="100003")
    assert (survey.score, survey.ticket.external_id, survey.client.external_id) == (2, "100003", "4002")
    w4 = Worklog.objects.get(source="superops", external_id="200004")  # client through its ticket
    assert (w4.client.external_id, w4.minutes, w4.ticket.external_id) == ("4002", 120, "100004")
    assert Technician.objects.get(external_id="9002").burdened_hourly_cost == Decimal("62.00")

    inv = Invoice.objects.get(external_id="1003")
    assert (inv.total, inv.balance, inv.client, inv.customer.external_id) == (
        Decimal("1875.00"), Decimal("150.00"), acme, "58")
    lines = [(line.line_id, line.kind, line.quantity, line.amount, line.service_item.name) for line in inv.lines.all()]
    assert lines == [
        ("1", "recurring", Decimal("23"), Decimal("1725.00"), "Managed Workstation"),
        ("2", "time", Decimal("1"), Decimal("150.00"), "Remote support"),
    ]
    assert Invoice.objects.get(external_id="1004").voided is True
    application = PaymentApplication.objects.get(payment__external_id="3002")
    assert (application.invoice, application.amount, application.payment.client) == (inv, Decimal("1725.00"), acme)
    expenses = {e.external_id: e for e in Expense.objects.all()}
    assert set(expenses) == {"Bill:501:1", "Bill:501:2", "Purchase:88:1"}
    assert (expenses["Bill:501:1"].client, expenses["Bill:501:1"].billable_status) == (acme, "billable")
    assert (expenses["Bill:501:2"].client, expenses["Bill:501:2"].category) == (None, "subcontractor")
    assert expenses["Purchase:88:1"].vendor == "Amazon"
    qb_time = {w.external_id: w for w in Worklog.objects.filter(source="quickbooks")}
    assert (qb_time["9001"].client, qb_time["9001"].minutes, qb_time["9001"].technician.name) == (acme, 150, "Dana Wu")
    assert (qb_time["9002"].client.external_id, qb_time["9002"].technician.name) == ("4002", "Eli Park")
    assert Interaction.objects.get(external_id="I-2").client.external_id == "4002"


def test_customers_are_linked_by_name_then_email_domain(dump):
    run, output = run_import(dump)
    links = {c.external_id: (c.client.external_id if c.client else None, c.match_method, c.match_confidence)
             for c in Customer.objects.all()}
    assert links == {"58": ("4001", "name", 1.0), "59": ("4002", "email_domain", 0.9), "60": (None, "", None)}
    assert Invoice.objects.get(external_id="1002").client.external_id == "4002"
    assert "2 newly linked, 0 unlinked, 1 without a client" in output


def test_superops_link_to_a_quickbooks_customer_wins(tmp_path):
    data = world()
    # SuperOps' QuickBooks integration records the customer id on the client.
    data[("superops", "getClientList")][2]["customFields"]["quickbooksCustomerId"] = "60"
    run_import(write_dump(tmp_path / "d", data))
    walk_in = Customer.objects.get(external_id="60")
    assert (walk_in.client.external_id, walk_in.match_method, walk_in.match_confidence) == ("4003", "external_id", 1.0)


def test_manual_link_is_kept_and_copied_to_the_books(dump):
    run_import(dump)
    cedar = Client.objects.get(external_id="4003")
    # A person decides customer 58 is really Cedar Clinic.
    Customer.objects.filter(external_id="58").update(client=cedar, match_method="manual", match_confidence=None)
    second, output = run_import(dump)
    customer = Customer.objects.get(external_id="58")
    assert (customer.client, customer.match_method) == (cedar, "manual")
    assert set(Invoice.objects.filter(customer=customer).values_list("client", flat=True)) == {cedar.pk}
    assert set(Payment.objects.filter(customer=customer).values_list("client", flat=True)) == {cedar.pk}
    assert set(Expense.objects.filter(customer=customer).values_list("client", flat=True)) == {cedar.pk}
    # 3 invoices, 2 payments, 2 expense lines and the QuickBooks time entry of customer 58
    assert "8 invoice/payment/expense rows re-pointed" in output
    # QuickBooks time keeps its customer, so the link re-points it like the books: no load update.
    assert Worklog.objects.get(source="quickbooks", external_id="9001").client == cedar
    assert (second.created, second.updated) == (0, 0)


def test_changed_record_updates_exactly_that_row(tmp_path, dump):
    first, _ = run_import(dump)
    data = world()
    tickets = data[("superops", "getTicketList")]
    tickets[1] = variant(tickets[1], priority="Urgent", status="Resolved")
    invoices = data[("quickbooks", "Invoice")]
    invoices[2]["Line"][1]["Amount"] = "175.00"  # a line changed, the header did not
    before = snapshot()
    second, output = run_import(write_dump(tmp_path / "dump2", data))
    assert (second.created, second.updated) == (0, 2)
    changed = Ticket.objects.get(external_id="100002")
    assert (changed.priority, changed.status, changed.sync_run_id) == ("critical", "Resolved", second.pk)
    assert Invoice.objects.get(external_id="1003").sync_run_id == second.pk
    assert InvoiceLine.objects.get(invoice__external_id="1003", line_id="2").amount == Decimal("175.00")
    after = snapshot()
    # Everything else is exactly as it was.
    for model, rows in before.items():
        if model in ("Ticket", "Invoice", "InvoiceLine", "RejectedRecord", "RowChange"):
            continue
        assert after[model] == rows, model
    # The feature build finds the ticket by its new run stamp (rewritten where it stood, it is
    # not journalled); the changed invoice line journals its invoice's month, nothing else.
    invoice = Invoice.objects.get(external_id="1003")
    assert {(r["table_key"], r["client_id"], r["day"]) for r in after["RowChange"]} == {
        ("invoices", invoice.client_id, invoice.txn_date),
    }
    assert [r for r in after["Ticket"] if r["external_id"] != "100002"] == [
        r for r in before["Ticket"] if r["external_id"] != "100002"]
    assert InvoiceLine.objects.exclude(invoice__external_id="1003").count() == 2
    assert InvoiceLine.objects.get(invoice__external_id="1003", line_id="1").amount == Decimal("1725.00")


def test_locally_set_cost_survives_when_the_payload_has_none(tmp_path):
    data = world()
    techs = data[("superops", "getTechnicianList")]
    techs[0] = variant(techs[0], customFields={"tier": "1"})  # Dana: no cost in SuperOps
    run_import(write_dump(tmp_path / "d1", data))
    Technician.objects.filter(external_id="9001").update(burdened_hourly_cost=Decimal("55.00"))
    techs[1] = variant(techs[1], **{"customFields.burdenedHourlyCost": "64.00"})  # Eli's cost changes
    techs[0] = variant(techs[0], email="dana.wu@msp.example")  # and Dana's email
    second, _ = run_import(write_dump(tmp_path / "d2", data))
    costs = dict(Technician.objects.values_list("external_id", "burdened_hourly_cost"))
    assert costs == {"9001": Decimal("55.00"), "9002": Decimal("64.00")}
    assert Technician.objects.get(external_id="9001").email == "dana.wu@msp.example"
    assert second.updated == 2


def test_fixed_record_loads_and_its_reject_is_resolved(tmp_path, dump):
    run_import(dump)
    data = world()
    data[("superops", "getWorklogEntries")][2]["qty"] = "0.25"
    second, _ = run_import(write_dump(tmp_path / "dump2", data))
    assert Worklog.objects.get(source="superops", external_id="200003").minutes == 15
    assert RejectedRecord.objects.get(external_id="200003").resolved is True
    assert second.set_aside == 3


def test_unreadable_page_fails_the_run_but_loads_the_rest(dump):
    (dump / "superops" / "getTicketList" / "page-0002.json").write_text("{not json")
    out = StringIO()
    with pytest.raises(Exception, match="failed"):
        call_command("import_dump", str(dump), "--no-progress", stdout=out)
    run = SyncRun.objects.order_by("-pk").first()
    assert run.status == "failed"
    assert "page-0002.json" in run.error
    assert sorted(Ticket.objects.values_list("external_id", flat=True)) == ["100001", "100002", "100003", "100007"]
    assert Invoice.objects.count() == 4
    assert "ERROR" in out.getvalue()


def test_batches_smaller_than_the_world_give_the_same_rows(dump, monkeypatch):
    import integrations.loader as loader

    monkeypatch.setattr(loader, "BATCH_SIZE", 2)  # records of one page split over several transactions
    run, _ = run_import(dump)
    assert {model: model.objects.count() for model in GOOD_ROWS} == GOOD_ROWS
    assert run.set_aside == 4
    before = snapshot()
    again, _ = run_import(dump)
    assert (again.created, again.updated, again.unchanged) == (0, 0, run.created)
    assert snapshot() == before


def test_expense_id_too_long_for_the_column_is_set_aside(tmp_path):
    data = {key: [] for key in world()}
    data[("quickbooks", "Customer")] = [CUSTOMER]
    data[("quickbooks", "Bill")] = [BILL, variant(BILL, Id="7" * 60)]
    run, output = run_import(write_dump(tmp_path / "d", data))
    assert list(Expense.objects.values_list("external_id", flat=True)) == ["Bill:501:1"]
    assert RejectedRecord.objects.get().reason == f"id 'Bill:{'7' * 60}:1' is longer than 64 characters"


def test_duplicate_payloads_are_one_reject(tmp_path):
    data = {key: [] for key in world()}
    bad = variant(WORKLOG, qty="-1")
    data[("superops", "getClientList")] = [CLIENT]
    data[("superops", "getWorklogEntries")] = [bad, copy.deepcopy(bad)]
    run, _ = run_import(write_dump(tmp_path / "d", data))
    assert run.set_aside == 2
    assert RejectedRecord.objects.count() == 1


# -- simulated worlds (integrations/simulator) ------------------------------------------------

def payload_counts(folder: Path, skip: set[tuple[str, int]] = frozenset()) -> dict[str, int]:
    """Rows the payload files should give, counted straight from the pages, leaving out the
    records at `skip` ((file relative to the folder, index in its list))."""
    counts: dict[str, int] = {}

    def records(source, entity):
        for page in sorted((folder / source / entity).glob("page-*.json")):
            body = json.loads(page.read_text())
            if source == "superops":
                found = body["data"][entity][SUPEROPS_LIST_KEYS[entity]]
            else:
                found = body["QueryResponse"].get(entity, [])
            name = str(page.relative_to(folder))
            yield from (record for i, record in enumerate(found) if (name, i) not in skip)

    for entity in SUPEROPS_LIST_KEYS:
        counts[entity] = sum(1 for _ in records("superops", entity))
    counts["surveys"] = sum(1 for t in records("superops", "getTicketList")
                            if (t.get("customFields") or {}).get("csatScore"))
    for entity in ("Customer", "Item", "Invoice", "Payment", "CreditMemo", "TimeActivity"):
        counts[entity] = sum(1 for _ in records("quickbooks", entity))

    def money_lines(doc: dict) -> int:
        # Sales and discount lines, and one line for the document's sales tax.
        tax = (doc.get("TxnTaxDetail") or {}).get("TotalTax") or 0
        return sum(1 for line in doc["Line"]
                   if line["DetailType"] in ("SalesItemLineDetail", "DiscountLineDetail")) + (1 if tax else 0)

    counts["lines"] = sum(money_lines(inv) for inv in records("quickbooks", "Invoice"))
    counts["credit_lines"] = sum(money_lines(memo) for memo in records("quickbooks", "CreditMemo"))
    counts["applications"] = sum(1 for pay in records("quickbooks", "Payment") for line in pay["Line"]
                                 for txn in line.get("LinkedTxn", []) if txn["TxnType"] == "Invoice")
    counts["expenses"] = sum(1 for entity in ("Bill", "Purchase") for doc in records("quickbooks", entity)
                             for line in doc["Line"] if line["DetailType"].endswith("ExpenseLineDetail"))
    counts["interactions"] = sum(len(json.loads(p.read_text())["interactions"])
                                 for p in (folder / "local" / "interactions").glob("page-*.json"))
    return counts


def rows_by_payload() -> dict[str, int]:
    return {
        "getClientList": Client.objects.count(), "getTechnicianList": Technician.objects.count(),
        "getServiceItemList": ServiceItem.objects.filter(source="superops").count(),
        "getClientContractList": Contract.objects.count(), "getAssetList": Asset.objects.count(),
        "getTicketList": Ticket.objects.count(), "surveys": SatisfactionSurvey.objects.count(),
        "getWorklogEntries": Worklog.objects.filter(source="superops").count(),
        "getClientUserList": ClientUser.objects.count(), "getOfferedItems": OfferedItem.objects.count(),
        "CreditMemo": CreditMemo.objects.count(), "credit_lines": CreditMemoLine.objects.count(),
        "Customer": Customer.objects.count(), "Item": ServiceItem.objects.filter(source="quickbooks").count(),
        "Invoice": Invoice.objects.count(), "lines": InvoiceLine.objects.count(), "Payment": Payment.objects.count(),
        "applications": PaymentApplication.objects.count(), "expenses": Expense.objects.count(),
        "TimeActivity": Worklog.objects.filter(source="quickbooks").count(),
        "interactions": Interaction.objects.count(),
    }


def simulated(tmp_path, **kwargs) -> Path:
    from integrations.simulator import simulate

    return simulate(clients=6, months=4, seed=11, leak_rate=0.05, churn_rate=0.12, out_dir=tmp_path / "sim",
                    end_month=date(2026, 10, 1), **kwargs)


def test_simulated_world_loads_every_record(tmp_path):
    folder = simulated(tmp_path)
    run, output = run_import(folder)
    assert (run.status, run.set_aside, RejectedRecord.objects.count()) == ("succeeded", 0, 0)
    expected = payload_counts(folder)
    assert expected["getTicketList"] > 50 and expected["lines"] > 10  # a real, if tiny, world
    assert expected["getClientUserList"] > 0 and expected["getOfferedItems"] > 0
    assert rows_by_payload() == expected
    # Every QuickBooks customer of the simulated MSP is one of its clients.
    assert not Customer.objects.filter(client__isnull=True).exists()
    assert not Invoice.objects.filter(client__isnull=True).exists()
    again, _ = run_import(folder)
    assert (again.created, again.updated, again.set_aside) == (0, 0, 0)


def test_simulated_bad_records_are_exactly_the_ones_set_aside(tmp_path):
    folder = simulated(tmp_path, bad_records=7)
    planted = json.loads((folder / "truth.json").read_text())["bad_records"]
    assert len(planted) == 7
    run, output = run_import(folder)
    assert (run.status, run.set_aside) == ("partial", 7)
    rejects = {(r.source, r.entity, r.external_id): r.reason for r in RejectedRecord.objects.all()}
    assert set(rejects) == {(b["source"], b["entity"], b["id"] or "") for b in planted}
    expected_reason = {"missing id": "is missing", "unparseable date": "is not a date",
                       "negative hours": "is not positive", "unknown client": "unknown client 999999"}
    for bad in planted:
        assert expected_reason[bad["reason"]] in rejects[(bad["source"], bad["entity"], bad["id"] or "")]
    # Everything else loads: the bad copies (and a bad ticket's survey, a bad payment's
    # applications) are the only records missing from the tables.
    assert rows_by_payload() == payload_counts(folder, skip={(b["file"], b["index"]) for b in planted})
    assert payload_counts(folder)["getTicketList"] == Ticket.objects.count() + 3


# -- issue 10: client users, the billing audit trail, credit memos, sub-customers, vocabularies ------

def test_client_users_offered_items_and_credit_memos_load(tmp_path):
    data = world()
    data[("superops", "getClientUserList")] = [
        CLIENT_USER,
        variant(CLIENT_USER, userId="8102", name="Bo Diaz", email="bo@birchlaw.com", client={"accountId": "4002"}),
        variant(CLIENT_USER, userId="8103", client={"accountId": "4999"}),  # BAD: unknown client
    ]
    data[("superops", "getOfferedItems")] = [
        OFFERED_ITEM,
        variant(OFFERED_ITEM, itemId="300002", type="CONTRACT", status="UNDER_CONTRACT", workItem=None,
                technician=None, serviceItem={"itemId": "7001"}, qty="23", unitPrice="75.00", amount="1725.00"),
        variant(OFFERED_ITEM, itemId="300003", status="IGNORED", client=None,
                workItem={"workId": "P-1", "module": "PROJECT", "client": {"accountId": "4003"}}),
    ]
    data[("superops", "getWorklogEntries")].append(
        variant(WORKLOG, itemId="200009", workItem={"workId": "P-1", "module": "PROJECT",
                                                    "client": {"accountId": "4003"}}))
    data[("quickbooks", "CreditMemo")] = [CREDIT_MEMO]
    run, output = run_import(write_dump(tmp_path / "d", data))
    assert "superops/getClientUserList" in output and "quickbooks/CreditMemo" in output
    assert sorted(ClientUser.objects.values_list("external_id", "client__external_id", "email")) == [
        ("8101", "4001", "ann.lee@acmedental.com"), ("8102", "4002", "bo@birchlaw.com")]
    assert RejectedRecord.objects.filter(entity="getClientUserList", external_id="8103").exists()
    audit = {o.external_id: o for o in OfferedItem.objects.select_related("client", "ticket", "technician")}
    assert set(audit) == {"300001", "300002", "300003"}
    assert (audit["300001"].status, audit["300001"].ticket.external_id, audit["300001"].after_hours) == (
        "pending", "100001", True)
    assert (audit["300002"].kind, audit["300002"].amount, audit["300002"].ticket) == (
        "contract", Decimal("1725.00"), None)
    assert (audit["300003"].client.external_id, audit["300003"].work_module) == ("4003", "PROJECT")
    project = Worklog.objects.get(external_id="200009")
    assert (project.ticket, project.client.external_id, project.work_id) == (None, "4003", "P-1")
    memo = CreditMemo.objects.get()
    assert (memo.client.external_id, memo.total, memo.reason) == ("4001", Decimal("150.00"),
                                                                  "Goodwill: outage on Oct 12")
    assert list(memo.lines.values_list("kind", "amount")) == [("time", Decimal("150.00"))]
    again, _ = run_import(write_dump(tmp_path / "d", data))
    assert (again.created, again.updated) == (0, 0)


def test_sub_customers_bill_for_their_parents_client_and_deleted_names_match(tmp_path):
    data = world()
    data[("quickbooks", "Customer")] += [
        variant(CUSTOMER, Id="61", DisplayName="Eastside office", CompanyName="", PrimaryEmailAddr=None, Job=True,
                ParentRef={"value": "58"}),
        variant(CUSTOMER, Id="62", DisplayName="Eastside front desk", CompanyName="", PrimaryEmailAddr=None,
                Job=True, ParentRef={"value": "61"}),
        variant(CUSTOMER, Id="63", DisplayName="Cedar Clinic (deleted)", CompanyName="", PrimaryEmailAddr=None,
                Active=False),
    ]
    data[("quickbooks", "Invoice")].append(variant(INVOICE, Id="1009", DocNumber="INV-1009",
                                                   CustomerRef={"value": "62"}))
    run_import(write_dump(tmp_path / "d", data))
    acme = Client.objects.get(external_id="4001")
    site, desk = Customer.objects.get(external_id="61"), Customer.objects.get(external_id="62")
    assert (site.client, site.match_method, site.parent_external_id) == (acme, "parent", "58")
    assert (desk.client, desk.match_method) == (acme, "parent")  # two levels down
    assert Invoice.objects.get(external_id="1009").client == acme
    deleted = Customer.objects.get(external_id="63")
    assert (deleted.display_name, deleted.active, deleted.client.external_id) == ("Cedar Clinic", False, "4003")


def test_vocabularies_in_the_dump_seed_the_value_maps(tmp_path):
    data = world()
    data[("superops", "getClientList")][1]["stage"] = "Former Customer"
    data[("superops", "getTicketList")][1]["priority"] = "P1 - Site down"
    folder = write_dump(tmp_path / "d", data)
    stages = [{"stageId": "1", "name": "Customer", "constant": "CUSTOMER",
               "statuses": [{"statusId": "11", "name": "Active", "constant": "ACTIVE"},
                            {"statusId": "12", "name": "Inactive", "constant": "INACTIVE"}]},
              {"stageId": "2", "name": "Former Customer", "constant": None, "statuses": []}]
    priorities = [{"id": "1", "name": "P1 - Site down", "colorCode": "#f00"}, {"id": "2", "name": "Medium"}]
    for query, entries in (("getClientStageList", stages), ("getPriorityList", priorities)):
        page = folder / "superops" / query / "page-0001.json"
        page.parent.mkdir(parents=True)
        page.write_text(json.dumps({"data": {query: entries}}))
    run, output = run_import(folder)
    assert "Value maps: 6 tenant value(s) added" in output
    rows = set(ValueMap.objects.values_list("kind", "source_value", "our_value"))
    assert rows >= {
        ("client_stage", "Customer", "active"), ("client_stage", "Former Customer", "churned"),
        ("client_status", "Active", "active"), ("client_status", "Inactive", "churned"),
        ("ticket_priority", "P1 - Site down", "critical"), ("ticket_priority", "Medium", "medium"),
    }
    # Values the lists do not name but the records use are added as they are met.
    assert rows - {r for r in rows if r[0].startswith("client") or r[0] == "ticket_priority"} == {
        ("ticket_status", "Closed", "closed"), ("ticket_category", "Passwords", ""),
    }
    assert Client.objects.get(external_id="4002").status == "churned"
    assert Ticket.objects.get(external_id="100002").priority == "critical"
    _, again = run_import(folder)
    assert "Value maps" not in again  # nothing new to seed; existing rows are never touched


def test_a_churned_clients_date_is_the_day_its_last_agreement_ended(tmp_path):
    data = world()
    # Birch & Sons left: SuperOps shows it only as the status, its agreement inactive and ended.
    data[("superops", "getClientList")][1]["status"] = "Inactive"
    data[("superops", "getClientContractList")][1].update(contractStatus="INACTIVE", endDate="2026-06-30")
    data[("superops", "getClientContractList")].append(variant(
        CONTRACT, contractId="6003", client={"accountId": "4002"}, contractStatus="INACTIVE", endDate="2026-05-31",
        **{"contract.contractId": "6003"}))
    # Cedar Clinic is inactive too, but no agreement says when it ended: the date stays unknown.
    data[("superops", "getClientList")][2]["status"] = "Inactive"
    run_import(write_dump(tmp_path / "d", data))
    birch, cedar = Client.objects.get(external_id="4002"), Client.objects.get(external_id="4003")
    assert (birch.status, birch.churned_on, birch.churn_reason) == ("churned", date(2026, 6, 30), "")
    assert (cedar.status, cedar.churned_on) == ("churned", None)
    # A date a person corrects stays; the next load derives nothing over it.
    Client.objects.filter(pk=birch.pk).update(churned_on=date(2026, 7, 15))
    again, _ = run_import(write_dump(tmp_path / "d", data))
    assert Client.objects.get(pk=birch.pk).churned_on == date(2026, 7, 15)
    assert (again.created, again.updated) == (0, 0)


def test_simulated_churn_dates_come_from_what_the_tenant_shows(tmp_path):
    from integrations.simulator import simulate

    folder = simulate(clients=12, months=12, seed=3, leak_rate=0.05, churn_rate=0.5, out_dir=tmp_path / "sim",
                      end_month=date(2026, 10, 1))
    run_import(folder)
    truth = {c["client_id"]: date.fromisoformat(c["churned_on"])
             for c in json.loads((folder / "truth.json").read_text())["churn"]}
    derived = dict(Client.objects.filter(status="churned").values_list("external_id", "churned_on"))
    assert truth and set(derived) == set(truth)  # the status alone says who left
    dated = {k: v for k, v in derived.items() if v is not None}
    # The last agreement's end is never after the day the client left, and mostly is that day
    # (an agreement that ended earlier, with nothing after it, gives an earlier date).
    assert dated and all(dated[k] <= truth[k] for k in dated), (dated, truth)
    assert sum(dated[k] == truth[k] for k in dated) * 2 >= len(truth), (dated, truth)


def test_sales_tax_and_discounts_do_not_inflate_revenue(tmp_path):
    from ml.features.build import build_features
    from ml.models import ClientMonthKPI

    data = world()
    # Acme's October invoice: 1725.00 of seats, a 10% discount and 8.5% sales tax.
    data[("quickbooks", "Invoice")][0] = variant(INVOICE, TotalAmt="1684.80", Line=INVOICE["Line"] + [
        {"Amount": "172.50", "DetailType": "DiscountLineDetail",
         "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10}}],
        TxnTaxDetail={"TotalTax": "132.30", "TaxLine": []})
    run_import(write_dump(tmp_path / "d", data))
    lines = InvoiceLine.objects.filter(invoice__external_id="1001")
    assert sorted(lines.values_list("kind", "amount")) == [
        ("discount", Decimal("-172.50")), ("recurring", Decimal("1725.00")), ("tax", Decimal("132.30"))]
    build_features(trigger="test", with_genome=False)
    october = ClientMonthKPI.objects.get(client__external_id="4001", month=date(2026, 10, 1))
    # Acme's October: its other invoice (1003: 1725.00 + 150.00) and this one net of its discount.
    assert october.revenue_recurring == Decimal("3450.00")
    assert october.revenue_total == Decimal("1875.00") + Decimal("1725.00") - Decimal("172.50")


def test_an_agreements_covered_items_give_its_rates_when_it_states_none(tmp_path):
    data = world()
    data[("superops", "getServiceItemList")][1]["afterHoursUnitPrice"] = "225.00"  # 7003 Remote support, hourly
    data[("superops", "getClientContractList")].append(variant(
        CONTRACT, contractId="6004", client={"accountId": "4003"}, **{
            "contract.contractId": "6004", "contract.description": "Managed desktops",
            "contract.billableContract.includedItems": [{"itemId": "7003", "name": "Remote support"}]}))
    run_import(write_dump(tmp_path / "d", data))
    covered = Contract.objects.get(external_id="6004")
    assert covered.included_item_ids == ["7003"]
    assert (covered.hourly_rate, covered.after_hours_rate) == (Decimal("150.0000"), Decimal("225.0000"))
    assert Contract.objects.get(external_id="6001").hourly_rate == Decimal("150.0000")  # stated in its text


def test_the_row_change_journal_triggers_survive_the_migrations(db):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL keeps triggers when it alters a table")
    with connection.cursor() as cursor:
        cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        tables = {row[0] for row in cursor.fetchall()}
    # The tables 0006 and 0007 rebuilt (new columns) still journal their changes.
    assert {Ticket._meta.db_table, Worklog._meta.db_table, Invoice._meta.db_table} <= tables
