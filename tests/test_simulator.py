"""The simulated MSP: reproducible bytes, API-shaped pages, a truth.json that the payloads
bear out, and a world whose figures look like a real MSP's (MSP_WORLD.md)."""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import statistics
from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from integrations.quickbooks.mapping import MAPPERS as QB_MAPPERS
from integrations.records import BadRecord
from integrations.simulator import simulate
from integrations.superops.mapping import MAPPERS as SO_MAPPERS

SO_LISTS = {"getClientList": "clients", "getTechnicianList": "userList", "getServiceItemList": "items",
            "getClientContractList": "clientContracts", "getAssetList": "assets", "getTicketList": "tickets",
            "getWorklogEntries": "entries", "getOfferedItems": "items", "getClientUserList": "userList"}
QB_ENTITIES = ["Customer", "Item", "Invoice", "Payment", "Bill", "Purchase", "TimeActivity", "CreditMemo", "Employee"]
RECURRING_ITEMS = {"Managed Workstation": "Workstation", "Managed Server": "Server", "Managed User": None,
                   "Block Hours": None}

# Every field integrations/PAYLOADS.md names, per list (dotted = nested).
REQUIRED = {
    "getClientList": ["accountId", "name", "stage", "status", "emailDomains", "accountManager.userId",
                      "accountManager.name", "primaryContact.userId", "hqSite.id", "hqSite.name",
                      "customFields.industry", "customFields.employeeCount", "customFields.onboardedOn",
                      "customFields.currency"],
    "getTechnicianList": ["userId", "firstName", "lastName", "name", "email", "designation.designationId",
                          "designation.name", "team.teamId", "team.name", "role.roleId", "role.name"],
    "getClientUserList": ["userId", "firstName", "lastName", "name", "email", "contactNumber", "reportingManager",
                          "site.id", "site.name", "role.roleId", "role.name", "client.accountId", "client.name",
                          "customFields"],
    "getServiceItemList": ["itemId", "name", "description", "quantityType", "unitPrice", "businessHoursUnitPrice",
                           "afterHoursUnitPrice", "category.categoryId", "category.name"],
    "getClientContractList": [
        "contractId", "client.accountId", "client.name", "startDate", "endDate", "contractStatus",
        "contract.contractId", "contract.name", "contract.description", "contract.contractType",
        "contract.billableContract.contractId", "contract.billableContract.billableSiteType",
        "contract.billableContract.discountRate", "contract.billableContract.includedItems",
        "contract.billableContract.project",
        "contract.billableContract.chargeItem", "contract.billableContract.quantityCalculationType",
        "contract.billableContract.sellingPriceCalculationType", "contract.billableContract.provisionRule",
        "contract.billableContract.sellingPriceOverridden", "contract.billableContract.sellingPrice.model",
        "contract.billableContract.sellingPrice.details", "contract.billableContract.frequencyType",
        "contract.billableContract.recurringContract", "contract.billableContract.perpetualContract",
        "contract.billableContract.redeemableContract", "contract.billableContract.blockItemsInfo",
        "contract.billableContract.changes"],
    "getAssetList": ["assetId", "name", "assetClass.classId", "assetClass.name", "client.accountId", "client.name",
                     "site.id", "site.name", "requester.userId", "requester.name", "platform", "status",
                     "purchasedDate", "lastCommunicatedTime",
                     "customFields.retiredOn"],
    "getTicketList": [
        "ticketId", "displayId", "subject", "ticketType", "requestType", "source", "client.accountId", "client.name",
        "technician.userId", "technician.name", "status", "priority", "category", "subcategory", "sla.id", "sla.name",
        "createdTime", "updatedTime", "firstResponseDueTime", "firstResponseTime", "firstResponseViolated",
        "resolutionDueTime", "resolutionTime", "resolutionViolated", "worklogTimespent", "customFields.reopenCount",
        "customFields.escalated", "customFields.assetId", "customFields.csatScore", "customFields.csatComment",
        "customFields.csatRespondedAt", "customFields.description"],
    "getWorklogEntries": ["itemId", "status", "serviceItem.itemId", "serviceItem.name", "billable", "afterHours", "qty",
                          "unitPrice", "billDateTime", "technician.userId", "technician.name", "notes",
                          "workItem.workId", "workItem.module", "workItem.client.accountId"],
    "getOfferedItems": ["itemId", "type", "billDate", "status", "serviceItem", "client", "workItem", "technician",
                        "afterHours", "unitPrice", "qty", "amount"],
    "Customer": ["Id", "DisplayName", "FullyQualifiedName", "CompanyName", "Active", "Job", "CurrencyRef.value",
                 "Balance", "BalanceWithJobs", "SalesTermRef.name", "MetaData.CreateTime", "MetaData.LastUpdatedTime"],
    "CreditMemo": ["Id", "DocNumber", "TxnDate", "CustomerRef.value", "CustomerRef.name", "CurrencyRef.value",
                   "TotalAmt", "RemainingCredit", "CustomerMemo.value", "PrivateNote", "Line", "MetaData.CreateTime"],
    "Item": ["Id", "Name", "Description", "Type", "UnitPrice", "PurchaseCost", "Active", "MetaData"],
    "Invoice": ["Id", "DocNumber", "TxnDate", "DueDate", "CustomerRef.value", "CustomerRef.name", "CurrencyRef.value",
                "ExchangeRate", "TotalAmt", "Balance", "PrivateNote", "Line", "MetaData.CreateTime",
                "MetaData.LastUpdatedTime"],
    "Payment": ["Id", "TxnDate", "CustomerRef.value", "TotalAmt", "UnappliedAmt", "CurrencyRef.value", "ExchangeRate",
                "PaymentRefNum", "Line"],
    "Bill": ["Id", "TxnDate", "DueDate", "VendorRef.value", "VendorRef.name", "TotalAmt", "CurrencyRef.value", "Line"],
    "Purchase": ["Id", "TxnDate", "PaymentType", "EntityRef.value", "EntityRef.name", "TotalAmt", "CurrencyRef.value",
                 "Line"],
    "TimeActivity": ["Id", "TxnDate", "NameOf", "EmployeeRef.value", "EmployeeRef.name", "CustomerRef.value",
                     "ItemRef.value", "ItemRef.name", "BillableStatus", "HourlyRate", "Hours", "Minutes",
                     "Description"],
    "interactions": ["id", "clientId", "kind", "occurredAt", "owner", "summary", "sentiment"],
}
INVOICE_LINE = ["Id", "LineNum", "Amount", "Description", "DetailType", "SalesItemLineDetail.ItemRef.value",
                "SalesItemLineDetail.ItemRef.name", "SalesItemLineDetail.Qty", "SalesItemLineDetail.UnitPrice",
                "SalesItemLineDetail.ServiceDate"]
EXPENSE_LINE = ["Id", "Amount", "Description", "DetailType", "AccountBasedExpenseLineDetail.AccountRef.value",
                "AccountBasedExpenseLineDetail.AccountRef.name", "AccountBasedExpenseLineDetail.BillableStatus"]


def has(record: dict, dotted: str) -> bool:
    node = record
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def D(x) -> Decimal:
    return Decimal(str(x))


class Dump:
    """A dump folder read back the way a client of the APIs would see it."""

    def __init__(self, root: Path):
        self.root = root
        self.manifest = json.loads((root / "manifest.json").read_text())
        self.truth = json.loads((root / "truth.json").read_text())
        self.pages: dict[str, list[tuple[Path, dict]]] = {}
        self.records: dict[str, list[dict]] = {}
        for query, key in SO_LISTS.items():
            self._load(query, sorted((root / "superops" / query).glob("page-*.json")),
                       lambda b, q=query, k=key: b["data"][q][k])
        for entity in QB_ENTITIES:
            self._load(entity, sorted((root / "quickbooks" / entity).glob("page-*.json")),
                       lambda b, e=entity: b["QueryResponse"][e])
        self._load("interactions", sorted((root / "local" / "interactions").glob("page-*.json")),
                   lambda b: b["interactions"])
        bad = {(b["entity"], b["file"], b["index"]) for b in self.truth["bad_records"]}
        self.bad = bad
        self.clean = {name: [r for i, r in self._indexed(name) if i not in bad] for name in self.records}

    def _load(self, name, files, extract):
        self.pages[name] = [(f, json.loads(f.read_text())) for f in files]
        self.records[name] = [r for _, body in self.pages[name] for r in extract(body)]
        self._positions = getattr(self, "_positions", {})
        self._positions[name] = [(name, str(f.relative_to(self.root)), i)
                                 for f, body in self.pages[name] for i, _ in enumerate(extract(body))]

    def _indexed(self, name):
        return zip(self._positions[name], self.records[name], strict=True)

    def by_id(self, name: str, key: str) -> dict:
        return {r[key]: r for r in self.clean[name] if key in r}


def month_bounds(period: str) -> tuple[str, str]:
    y, m = map(int, period.split("-"))
    return f"{period}-01", f"{period}-{calendar.monthrange(y, m)[1]:02d}"


def active_in(asset: dict, start: str, end: str) -> bool:
    retired = asset["customFields"]["retiredOn"]
    return asset["purchasedDate"] <= end and (retired is None or retired >= start)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return simulate(clients=8, months=6, seed=7, leak_rate=0.05, churn_rate=0.12,
                    out_dir=tmp_path_factory.mktemp("tiny"), end_month=date(2025, 6, 1))


@pytest.fixture(scope="module")
def leaky(tmp_path_factory) -> Dump:
    """A small world with many leaks, churn and broken records, for truth checks."""
    root = simulate(clients=30, months=15, seed=11, leak_rate=0.4, churn_rate=0.35,
                    out_dir=tmp_path_factory.mktemp("leaky"), end_month=date(2025, 12, 1), bad_records=7)
    return Dump(root)


@pytest.fixture(scope="module")
def honest(tmp_path_factory) -> Dump:
    root = simulate(clients=14, months=14, seed=5, leak_rate=0.0, churn_rate=0.12,
                    out_dir=tmp_path_factory.mktemp("honest"), end_month=date(2025, 12, 1))
    return Dump(root)


@pytest.fixture(scope="module")
def medium(tmp_path_factory) -> Dump:
    root = simulate(clients=60, months=24, seed=3, leak_rate=0.05, churn_rate=0.12,
                    out_dir=tmp_path_factory.mktemp("medium"), end_month=date(2025, 12, 1))
    return Dump(root)


# --- reproducibility --------------------------------------------------------------------------

def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.json"))}


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(tiny, tmp_path):
    again = simulate(clients=8, months=6, seed=7, leak_rate=0.05, churn_rate=0.12, out_dir=tmp_path / "again",
                     end_month=date(2025, 6, 1))
    first, second = _files(tiny), _files(again)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    other = _files(simulate(clients=8, months=6, seed=8, leak_rate=0.05, churn_rate=0.12, out_dir=tmp_path / "other",
                            end_month=date(2025, 6, 1)))
    assert other["superops/getTicketList/page-0001.json"] != first["superops/getTicketList/page-0001.json"]
    assert other["superops/getClientList/page-0001.json"] != first["superops/getClientList/page-0001.json"]


def test_the_leak_rate_changes_the_billing_not_the_service_desk(tmp_path):
    worlds = [_files(simulate(clients=10, months=6, seed=4, leak_rate=rate, churn_rate=0.0,
                              out_dir=tmp_path / str(rate), end_month=date(2025, 6, 1))) for rate in (0.0, 0.3)]
    for name in worlds[0]:
        if name.startswith(("superops/getTicketList", "superops/getAssetList", "superops/getClientList",
                            "superops/getTechnicianList", "local/")):
            assert worlds[0][name] == worlds[1][name], name
    assert worlds[0]["quickbooks/Invoice/page-0001.json"] != worlds[1]["quickbooks/Invoice/page-0001.json"]


def test_manifest_describes_the_world_and_hashes_every_file(tiny):
    manifest = json.loads((tiny / "manifest.json").read_text())
    assert (manifest["seed"], manifest["clients"], manifest["months"]) == (7, 8, 6)
    assert (manifest["start"], manifest["end"]) == ("2025-01-01", "2025-06-30")
    assert (manifest["leak_rate"], manifest["churn_rate"]) == (0.05, 0.12)
    on_disk = {str(p.relative_to(tiny)) for p in tiny.rglob("*.json")} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((tiny / name).read_bytes()).hexdigest() == digest, name


# --- API shapes ----------------------------------------------------------------------------------

def test_superops_pages_are_graphql_bodies_with_consistent_paging(leaky):
    for query, key in SO_LISTS.items():
        pages = leaky.pages[query]
        total = len(leaky.records[query])
        assert pages, query
        for n, (path, body) in enumerate(pages, 1):
            assert path.name == f"page-{n:04d}.json"
            assert list(body) == ["data"] and list(body["data"]) == [query]
            page = body["data"][query]
            assert list(page) == [key, "listInfo"]
            last = n == len(pages)
            assert page["listInfo"] == {"page": n, "pageSize": 100, "hasMore": not last, "totalCount": total}
            assert len(page[key]) == 100 or last
    assert leaky.manifest["counts"]["getTicketList"] == len(leaky.records["getTicketList"]) > 1000


def test_quickbooks_pages_are_query_responses_with_consistent_positions(leaky):
    for entity in QB_ENTITIES:
        pages = leaky.pages[entity]
        total = len(leaky.records[entity])
        for n, (path, body) in enumerate(pages, 1):
            assert path.name == f"page-{n:04d}.json"
            response = body["QueryResponse"]
            assert set(body) == {"QueryResponse", "time"}
            assert response["startPosition"] == (n - 1) * 1000 + 1
            assert response["maxResults"] == len(response[entity])
            assert response["totalCount"] == total
            assert len(response[entity]) == 1000 or n == len(pages)
    interactions = leaky.pages["interactions"]
    assert [body["page"] for _, body in interactions] == list(range(1, len(interactions) + 1))
    assert interactions[-1][1]["hasMore"] is False


def test_every_record_carries_the_fields_the_contract_names(leaky):
    for name, fields in REQUIRED.items():
        records = leaky.clean[name]
        assert records or name == "TimeActivity", name
        for record in records:
            missing = [f for f in fields if not has(record, f)]
            assert missing == [], (name, record.get("Id") or record.get("id"), missing)
    for invoice in leaky.clean["Invoice"]:
        for line in invoice["Line"]:
            if line["DetailType"] == "SalesItemLineDetail":
                assert [f for f in INVOICE_LINE if not has(line, f)] == []
    for entity in ("Bill", "Purchase"):
        for doc in leaky.clean[entity]:
            for line in doc["Line"]:
                assert [f for f in EXPENSE_LINE if not has(line, f)] == []
    customers = {c["Id"]: c for c in leaky.clean["Customer"]}
    for client in leaky.clean["getClientList"]:
        customer = customers[leaky.truth["clients"][client["accountId"]]["quickbooks_customer_id"]]
        assert customer["DisplayName"].removesuffix(" (deleted)") == client["name"]
        assert customer["PrimaryEmailAddr"]["Address"].endswith("@" + client["emailDomains"][0])
    for customer in customers.values():
        if customer["Job"]:  # a branch: a sub-customer of its client
            parent = customers[customer["ParentRef"]["value"]]
            assert customer["FullyQualifiedName"] == f"{parent['DisplayName']}:{customer['DisplayName']}"


def test_every_clean_record_maps_and_every_broken_one_is_rejected(leaky):
    rejected = Counter()
    for name, mapper in SO_MAPPERS.items():
        for position, record in leaky._indexed(name):
            try:
                mapper(record)
            except BadRecord:
                assert position in leaky.bad, (name, position)
                rejected[name] += 1
    for name, mapper in QB_MAPPERS.items():
        for position, record in leaky._indexed(name):
            try:
                mapper(record)
            except BadRecord:
                assert position in leaky.bad, (name, position)
                rejected[name] += 1
    listed = leaky.truth["bad_records"]
    assert len(listed) == 7
    unknown = [b for b in listed if b["reason"] == "unknown client"]
    # Broken ids, dates and hours fail in the mapper; an unknown client fails when its
    # reference is resolved.
    assert sum(rejected.values()) == len(listed) - len(unknown)
    clients = {c["accountId"] for c in leaky.clean["getClientList"]}
    for b in unknown:
        positions = [p[1:] for p in leaky._positions[b["entity"]]]
        record = leaky.records[b["entity"]][positions.index((b["file"], b["index"]))]
        account = (record.get("client") or record["workItem"].get("client"))["accountId"]
        assert account not in clients


def test_ticket_times_tell_one_story(leaky):
    """SLA flags are exactly "time past due", work happens between response and resolution,
    and the ticket's time spent is the sum of its worklogs."""
    window_end = leaky.manifest["end"] + "T23:59:00"
    work = defaultdict(list)
    for w in leaky.clean["getWorklogEntries"]:
        work[w["workItem"]["workId"]].append(w)
    for t in leaky.clean["getTicketList"]:
        created, first, resolved = t["createdTime"], t["firstResponseTime"], t["resolutionTime"]
        assert t["firstResponseViolated"] == ((first or window_end) > t["firstResponseDueTime"])
        assert t["resolutionViolated"] == ((resolved or window_end) > t["resolutionDueTime"])
        assert created <= (first or window_end) <= (resolved or window_end)
        assert (resolved is None) == (t["status"] in ("Open", "In Progress"))
        if t["customFields"]["csatScore"]:
            assert t["status"] == "Closed" and t["customFields"]["csatRespondedAt"] >= resolved
        entries = work[t["ticketId"]]
        assert entries and sum(D(w["qty"]) for w in entries) == D(t["worklogTimespent"])
        for w in entries:
            assert created <= w["billDateTime"] <= (resolved or window_end)
            assert w["workItem"]["client"]["accountId"] == t["client"]["accountId"]


def test_the_books_add_up(leaky):
    cent = Decimal("0.01")
    invoices = leaky.by_id("Invoice", "Id")
    open_balance = defaultdict(Decimal)
    for inv in invoices.values():
        sales = [x for x in inv["Line"] if x["DetailType"] == "SalesItemLineDetail"]
        for x in sales:
            detail = x["SalesItemLineDetail"]
            assert D(x["Amount"]) == (D(detail["Qty"]) * D(detail["UnitPrice"])).quantize(cent, ROUND_HALF_UP)
        discount = sum((D(x["Amount"]) for x in inv["Line"] if x["DetailType"] == "DiscountLineDetail"), Decimal(0))
        tax = D(inv.get("TxnTaxDetail", {}).get("TotalTax", 0))
        if tax:
            taxable = sum((D(x["Amount"]) for x in sales if x["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "TAX"),
                          Decimal(0))
            assert tax == (taxable * Decimal("0.0825")).quantize(cent, ROUND_HALF_UP) > 0
        assert D(inv["TotalAmt"]) == sum((D(x["Amount"]) for x in sales), Decimal(0)) - discount + tax
        assert D(inv["Balance"]) in (Decimal(0), D(inv["TotalAmt"]))
        assert inv["DueDate"] > inv["TxnDate"]
        open_balance[inv["CustomerRef"]["value"]] += D(inv["Balance"])
    paid = set()
    for p in leaky.clean["Payment"]:
        (line,) = p["Line"]
        invoice = invoices[line["LinkedTxn"][0]["TxnId"]]
        assert D(p["TotalAmt"]) == D(line["Amount"]) == D(invoice["TotalAmt"]) and D(invoice["Balance"]) == 0
        assert p["CustomerRef"]["value"] == invoice["CustomerRef"]["value"] and p["TxnDate"] >= invoice["TxnDate"]
        assert p["TxnDate"] <= leaky.manifest["end"]
        paid.add(invoice["Id"])
    assert all(D(inv["Balance"]) == 0 or inv["Id"] not in paid for inv in invoices.values())
    for memo in leaky.clean["CreditMemo"]:  # unapplied credits lower what a customer owes
        assert D(memo["TotalAmt"]) == sum((D(x["Amount"]) for x in memo["Line"]
                                           if x["DetailType"] == "SalesItemLineDetail"), Decimal(0)) > 0
        open_balance[memo["CustomerRef"]["value"]] -= D(memo["RemainingCredit"])
    customers = {c["Id"]: c for c in leaky.clean["Customer"]}
    for customer in customers.values():
        assert D(customer["Balance"]) == open_balance[customer["Id"]]
        jobs = [c for c in customers.values() if c.get("ParentRef", {}).get("value") == customer["Id"]]
        assert D(customer["BalanceWithJobs"]) == D(customer["Balance"]) + sum((D(j["Balance"]) for j in jobs),
                                                                               Decimal(0))
    for entity in ("Bill", "Purchase"):
        for doc in leaky.clean[entity]:
            assert D(doc["TotalAmt"]) == sum((D(x["Amount"]) for x in doc["Line"]), Decimal(0))


# --- truth.json against the payloads ------------------------------------------------------------------

class Books:
    def __init__(self, dump: Dump):
        self.dump = dump
        self.clients = dump.by_id("getClientList", "accountId")
        self.customer = {cid: dump.truth["clients"][cid]["quickbooks_customer_id"] for cid in self.clients}
        self.invoices = dump.by_id("Invoice", "Id")
        self.invoices_of = defaultdict(list)
        for inv in dump.clean["Invoice"]:
            self.invoices_of[inv["CustomerRef"]["value"]].append(inv)
        self.worklogs = dump.by_id("getWorklogEntries", "itemId")
        self.tickets = dump.by_id("getTicketList", "ticketId")
        self.contracts = dump.by_id("getClientContractList", "contractId")
        self.offered = dump.by_id("getOfferedItems", "itemId")
        self.descriptions = "\n".join(line.get("Description", "") for inv in dump.clean["Invoice"]
                                      for line in inv["Line"])

    def recurring_invoices(self, client_id: str, period: str) -> list[dict]:
        return [inv for inv in self.invoices_of[self.customer[client_id]]
                if inv["TxnDate"] == f"{period}-01" and inv["PrivateNote"] != "Voided"
                and any(line.get("SalesItemLineDetail", {}).get("ItemRef", {}).get("name") in RECURRING_ITEMS
                        for line in inv["Line"])]

    def line(self, invoice_id: str, line_id: str) -> dict:
        return next(x for x in self.invoices[invoice_id]["Line"] if x.get("Id") == line_id)


def test_every_leak_type_is_planted_and_amounts_add_up(leaky):
    leaks = leaky.truth["leaks"]
    summary = leaky.truth["summary"]
    assert {leak["type"] for leak in leaks} == set(summary["leak_amount_by_type"])
    totals = defaultdict(Decimal)
    for leak in leaks:
        assert re.fullmatch(r"\d+\.\d\d", leak["amount"]) and Decimal(leak["amount"]) > 0
        assert re.fullmatch(r"\d{4}-\d\d", leak["period"])
        totals[leak["type"]] += Decimal(leak["amount"])
    assert {t: str(v) for t, v in totals.items()} == summary["leak_amount_by_type"]
    assert sum(totals.values()) == Decimal(summary["leak_amount_total"])


def test_unbilled_worklogs_are_billable_pending_and_on_no_invoice(leaky):
    books = Books(leaky)
    leaks = [x for x in leaky.truth["leaks"] if x["type"] == "unbilled_worklog"]
    assert leaks
    for leak in leaks:
        amount = Decimal(0)
        for wid in leak["refs"]["worklog_ids"]:
            w = books.worklogs[wid]
            assert w["billable"] is True and w["status"] in ("PENDING", "APPROVED")
            assert w["workItem"]["client"]["accountId"] == leak["client_id"]
            assert w["billDateTime"][:7] == leak["period"]
            assert f"(worklog {wid})" not in books.descriptions
            amount += (D(w["qty"]) * D(w["unitPrice"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert amount == Decimal(leak["amount"])


def test_seat_underbilling_bills_fewer_seats_than_active_endpoints(leaky):
    books = Books(leaky)
    assets = defaultdict(list)
    for a in leaky.clean["getAssetList"]:
        assets[a["client"]["accountId"]].append(a)
    leaks = [x for x in leaky.truth["leaks"] if x["type"] == "seat_underbilling"]
    assert {leak["refs"]["asset_class"] == "users" for leak in leaks} == {True, False}  # per user and per device
    for leak in leaks:
        refs = leak["refs"]
        line = books.line(refs["invoice_id"], refs["line_id"])["SalesItemLineDetail"]
        assert books.invoices[refs["invoice_id"]]["CustomerRef"]["value"] == books.customer[leak["client_id"]]
        rule = books.contracts[refs["contract_id"]]["contract"]["billableContract"]["provisionRule"]["entity"]
        assert line["Qty"] == refs["billed_quantity"] < refs["expected_quantity"]
        if refs["asset_class"] == "users":  # seats billed vs the client's users
            assert rule == "USER"
            continue
        start, end = month_bounds(leak["period"])
        active = sum(1 for a in assets[leak["client_id"]]
                     if a["assetClass"]["name"] == refs["asset_class"] and active_in(a, start, end))
        assert rule == "ASSET" and refs["expected_quantity"] <= active
        offered = books.offered[refs["offered_item_id"]]
        assert D(offered["qty"]) == line["Qty"] and offered["workItem"]["workId"] == refs["contract_id"]


def test_rate_below_contract_invoices_under_the_offered_price(leaky):
    books = Books(leaky)
    leaks = [x for x in leaky.truth["leaks"] if x["type"] == "rate_below_contract"]
    assert leaks
    for leak in leaks:
        refs = leak["refs"]
        line = books.line(refs["invoice_id"], refs["line_id"])["SalesItemLineDetail"]
        offered = books.offered[refs["offered_item_id"]]
        assert D(line["UnitPrice"]) == D(refs["invoiced_unit_price"]) < D(offered["unitPrice"])
        assert D(offered["unitPrice"]) == D(refs["contract_unit_price"])
        assert D(refs["contract_unit_price"]) <= D(
            books.contracts[refs["contract_id"]]["contract"]["billableContract"]["sellingPrice"]["details"][0]["value"])


def test_missed_escalator_keeps_last_years_price_after_the_anniversary(leaky):
    books = Books(leaky)
    offered_by_contract = defaultdict(dict)
    for o in leaky.clean["getOfferedItems"]:
        if o["type"] == "CONTRACT":
            offered_by_contract[o["workItem"]["workId"]][o["billDate"][:7]] = o
    leaks = [x for x in leaky.truth["leaks"] if x["type"] == "missed_escalator"]
    assert leaks
    for leak in leaks:
        refs = leak["refs"]
        contract = books.contracts[refs["contract_id"]]
        escalator = int(re.search(r"escalator: (\d+)%", contract["contract"]["description"]).group(1))
        assert escalator > 0
        anniversary = date.fromisoformat(refs["anniversary"])
        assert anniversary.strftime("%m-%d") == contract["startDate"][5:]
        assert refs["anniversary"] <= f"{leak['period']}-01"
        before = date(anniversary.year - (anniversary.month == 1), (anniversary.month - 2) % 12 + 1, 1)
        before = before.strftime("%Y-%m")
        assert D(offered_by_contract[refs["contract_id"]][before]["unitPrice"]) == D(refs["unit_price"])
        line = books.line(refs["invoice_id"], refs["line_id"])["SalesItemLineDetail"]
        assert D(line["UnitPrice"]) == D(refs["unit_price"]) < D(refs["expected_unit_price"])
        expected = (D(refs["unit_price"]) * (100 + escalator) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert D(refs["expected_unit_price"]) == expected


def test_missing_recurring_invoice_months_have_no_recurring_invoice(leaky):
    books = Books(leaky)
    leaks = [x for x in leaky.truth["leaks"] if x["type"] == "missing_recurring_invoice"]
    assert leaks
    for leak in leaks:
        assert books.recurring_invoices(leak["client_id"], leak["period"]) == []
        for oid in leak["refs"]["offered_item_ids"]:
            offered = books.offered[oid]
            assert offered["status"] == "PENDING" and offered["billDate"] == f"{leak['period']}-01"
            assert offered["client"]["accountId"] == leak["client_id"]


def test_expired_contract_work_goes_unbilled_after_the_end_date(leaky):
    books = Books(leaky)
    leaks = [x for x in leaky.truth["leaks"] if x["type"] == "expired_contract_work"]
    assert leaks
    for leak in leaks:
        refs = leak["refs"]
        contract = books.contracts[refs["contract_id"]]
        assert contract["client"]["accountId"] == leak["client_id"]
        assert contract["endDate"] == refs["end_date"] < f"{leak['period']}-01"
        assert contract["contractStatus"] == "INACTIVE"
        item = contract["contract"]["billableContract"]["chargeItem"]["name"]
        for inv in books.recurring_invoices(leak["client_id"], leak["period"]):
            assert all(line.get("SalesItemLineDetail", {}).get("ItemRef", {}).get("name") != item
                       for line in inv["Line"])
        for wid in refs["worklog_ids"]:
            w = books.worklogs[wid]
            assert w["status"] == "UNDER_CONTRACT" and w["billDateTime"][:10] > refs["end_date"]
            assert f"(worklog {wid})" not in books.descriptions
        assert all(books.tickets[t]["createdTime"][:7] == leak["period"] for t in refs["ticket_ids"])


def test_unbilled_expenses_stay_billable_and_are_never_rebilled(leaky):
    books = Books(leaky)
    docs = {("Bill", b["Id"]): b for b in leaky.clean["Bill"]}
    docs.update({("Purchase", p["Id"]): p for p in leaky.clean["Purchase"]})
    leaks = [x for x in leaky.truth["leaks"] if x["type"] == "unbilled_expense"]
    assert leaks
    for leak in leaks:
        amount = Decimal(0)
        for ref in leak["refs"]["expenses"]:
            doc = docs[(ref["txn_type"], ref["id"])]
            line = next(x for x in doc["Line"] if x["Id"] == ref["line_id"])
            detail = line["AccountBasedExpenseLineDetail"]
            assert detail["BillableStatus"] == "Billable"
            assert detail["CustomerRef"]["value"] == books.customer[leak["client_id"]]
            assert f"({ref['txn_type']} {ref['id']} line {ref['line_id']})" not in books.descriptions
            amount += D(line["Amount"])
        assert amount == Decimal(leak["amount"])


def test_license_underbilling_rebills_fewer_licences_than_the_distributor_bills(leaky):
    books = Books(leaky)
    bills = leaky.by_id("Bill", "Id")
    leaks = [x for x in leaky.truth["leaks"] if x["type"] == "license_underbilling"]
    assert leaks
    for leak in leaks:
        refs = leak["refs"]
        line = next(x for x in bills[refs["bill_id"]]["Line"] if x["Id"] == refs["line_id"])
        assert f"Microsoft 365 Business x {refs['licences_bought']} " in line["Description"]
        assert line["AccountBasedExpenseLineDetail"]["CustomerRef"]["value"] == books.customer[leak["client_id"]]
        rebill = [x for inv in books.invoices_of[books.customer[leak["client_id"]]] for x in inv["Line"]
                  if f"(Bill {refs['bill_id']} line {refs['line_id']})" in x.get("Description", "")]
        (rebill,) = rebill
        assert rebill["SalesItemLineDetail"]["Qty"] == refs["licences_billed"] < refs["licences_bought"]
        expected = (refs["licences_bought"] - refs["licences_billed"]) * D(refs["unit_price"])
        assert Decimal(leak["amount"]) == expected


def test_after_hours_underbilling_bills_night_work_at_the_day_rate(leaky):
    books = Books(leaky)
    leaks = [x for x in leaky.truth["leaks"] if x["type"] == "after_hours_underbilling"]
    assert leaks
    for leak in leaks:
        for wid, oid in zip(leak["refs"]["worklog_ids"], leak["refs"]["offered_item_ids"], strict=True):
            w, o = books.worklogs[wid], books.offered[oid]
            assert w["afterHours"] is True and w["status"] == "INVOICED" and o["afterHours"] is True
            assert D(o["unitPrice"]) == D(w["unitPrice"])
            assert f"(worklog {wid})" in books.descriptions
            # Business-hours price: the client's day rate, not 1.5x it.
            day_rates = {D(x["unitPrice"]) for x in books.worklogs.values()
                         if x["workItem"]["client"]["accountId"] == leak["client_id"] and not x["afterHours"]
                         and x["billable"] and x["workItem"]["module"] == "TICKET"}
            assert not day_rates or D(w["unitPrice"]) in day_rates


def test_out_of_scope_work_logged_as_covered_is_never_billed(leaky):
    books = Books(leaky)
    leaks = [x for x in leaky.truth["leaks"] if x["type"] == "out_of_scope_covered"]
    assert leaks
    for leak in leaks:
        refs = leak["refs"]
        contract = books.contracts[refs["contract_id"]]
        assert "Out of scope: " in contract["contract"]["description"]
        assert f"\nHourly rate: {refs['hourly_rate']}\n" in contract["contract"]["description"]
        for tid in refs["ticket_ids"]:
            assert books.tickets[tid]["subcategory"] in ("New install", "New build", "Move", "Bulk onboarding")
        for wid in refs["worklog_ids"]:
            w = books.worklogs[wid]
            assert w["status"] == "UNDER_CONTRACT" and w["billable"] is False
            assert f"(worklog {wid})" not in books.descriptions


def test_discounts_and_credit_memos_are_legitimate_adjustments_not_leaks(leaky):
    books = Books(leaky)
    adjustments = leaky.truth["adjustments"]
    assert {a["type"] for a in adjustments} <= {"contract_discount", "sla_credit", "goodwill_credit"}
    memos = leaky.by_id("CreditMemo", "Id")
    discounts = [a for a in adjustments if a["type"] == "contract_discount"]
    assert discounts and memos
    for a in discounts:
        rate = D(a["refs"]["discount_rate"])
        for cid in a["refs"]["contract_ids"]:
            assert D(books.contracts[cid]["contract"]["billableContract"]["discountRate"]) == rate
        total = Decimal(0)
        for iid in a["refs"]["invoice_ids"]:
            (line,) = [x for x in books.invoices[iid]["Line"] if x["DetailType"] == "DiscountLineDetail"]
            assert D(line["DiscountLineDetail"]["DiscountPercent"]) == rate
            total += D(line["Amount"])
        assert total == Decimal(a["amount"])
    for a in adjustments:
        for mid in a["refs"].get("credit_memo_ids", []):
            memo = memos[mid]
            assert memo["CustomerRef"]["value"] == books.customer[a["client_id"]]
            prefix = {"sla_credit": "SLA credit", "goodwill_credit": "Goodwill"}[a["type"]]
            assert memo["PrivateNote"].startswith(prefix)
            assert D(memo["TotalAmt"]) == Decimal(a["amount"])
            assert all(t in books.tickets for t in a["refs"]["ticket_ids"])
    assert Decimal(leaky.truth["summary"]["credit_memo_total"]) == sum((D(m["TotalAmt"]) for m in memos.values()),
                                                                       Decimal(0))


def test_churned_clients_are_inactive_with_cancelled_contracts_and_no_new_tickets(leaky):
    books = Books(leaky)
    churn = leaky.truth["churn"]
    assert churn
    last_ticket = defaultdict(str)
    for t in leaky.clean["getTicketList"]:
        last_ticket[t["client"]["accountId"]] = max(last_ticket[t["client"]["accountId"]], t["createdTime"][:10])
    customers = leaky.by_id("Customer", "Id")
    for event in churn:
        client = books.clients[event["client_id"]]
        assert client["status"] == "Inactive" and client["stage"] in ("Customer", "Former Customer")
        contracts = [k for k in books.contracts.values() if k["client"]["accountId"] == event["client_id"]]
        assert contracts and all(k["contractStatus"] == "INACTIVE" for k in contracts)
        # Agreements end (early, on the day the client left) and none is renewed.
        assert all(k["endDate"] and k["endDate"] <= event["churned_on"] for k in contracts)
        assert any(k["endDate"] == event["churned_on"] for k in contracts) or all(
            k["endDate"] < event["churned_on"] for k in contracts)
        assert last_ticket[event["client_id"]] <= event["churned_on"]
        customer = customers[books.customer[event["client_id"]]]
        deleted = leaky.truth["clients"][event["client_id"]]["quickbooks_inactive"]
        assert customer["Active"] is not deleted and customer["DisplayName"].endswith(" (deleted)") is deleted
        assert any(inv["PrivateNote"] == "Final invoice" and inv["TxnDate"] == event["churned_on"]
                   for inv in books.invoices_of[books.customer[event["client_id"]]])
        assert {"sla_violation_rate_3m", "csat_avg_6m", "avg_days_late_6m", "months_since_qbr"} <= set(event["drivers"])


def test_a_world_without_leaks_bills_everything_it_should(honest):
    """With --leak-rate 0 nothing in the payloads looks like a leak: truth.json is complete."""
    assert honest.truth["leaks"] == []
    books = Books(honest)
    worklogs = honest.clean["getWorklogEntries"]
    assert all(w["status"] in ("INVOICED",) for w in worklogs if w["billable"])
    for wid in (w["itemId"] for w in worklogs if w["billable"]):
        assert f"(worklog {wid})" in books.descriptions
    for entity in ("Bill", "Purchase"):
        for doc in honest.clean[entity]:
            assert all(x["AccountBasedExpenseLineDetail"]["BillableStatus"] != "Billable" for x in doc["Line"])
    assets = defaultdict(list)
    for a in honest.clean["getAssetList"]:
        assets[a["client"]["accountId"]].append(a)
    checked = 0
    for o in honest.clean["getOfferedItems"]:
        if o["type"] != "CONTRACT":
            continue
        assert o["status"] == "INVOICED"
        period = o["billDate"][:7]
        invoices = books.recurring_invoices(o["client"]["accountId"], period)
        lines = [x["SalesItemLineDetail"] for inv in invoices for x in inv["Line"]
                 if x.get("SalesItemLineDetail", {}).get("ItemRef", {}).get("name") == o["serviceItem"]["name"]]
        assert any(D(x["UnitPrice"]) == D(o["unitPrice"]) and D(x["Qty"]) == D(o["qty"]) for x in lines)
        cls = RECURRING_ITEMS[o["serviceItem"]["name"]]
        if cls:
            on = o["billDate"]
            enrolled = sum(1 for a in assets[o["client"]["accountId"]] if a["assetClass"]["name"] == cls
                           and a["purchasedDate"] < on and (a["customFields"]["retiredOn"] is None
                                                            or a["customFields"]["retiredOn"] >= on))
            assert D(o["qty"]) == enrolled
            checked += 1
    assert checked > 20
    # After-hours work is billed at 1.5x the client's business-hours rate, never at it.
    rates = defaultdict(lambda: defaultdict(set))
    for w in worklogs:
        if w["billable"] and w["workItem"]["module"] == "TICKET":
            rates[w["workItem"]["client"]["accountId"]][w["afterHours"]].add(D(w["unitPrice"]))
    assert any(r[True] for r in rates.values())
    for r in rates.values():
        assert {(x * Decimal("1.5")).quantize(Decimal("0.01")) for x in r[False]} >= r[True] - r[False]
        assert not r[True] & r[False]
    # Out-of-scope requests under a per-seat agreement are billed.
    tickets = books.tickets
    oos = [w for w in worklogs if w["workItem"]["module"] == "TICKET"
           and tickets[w["workItem"]["workId"]]["subcategory"] in ("New install", "New build", "Move")]
    assert oos and all(w["billable"] or w["status"] in ("UNDER_CONTRACT", "IGNORED") for w in oos)
    # Every licence the distributor bills is rebilled (per-user prices include them).
    bought = {}
    for bill in honest.clean["Bill"]:
        for x in bill["Line"]:
            match = re.match(r"Microsoft 365 Business x (\d+) ", x["Description"])
            if match and x["AccountBasedExpenseLineDetail"]["BillableStatus"] == "HasBeenBilled":
                bought[(bill["Id"], x["Id"])] = int(match.group(1))
    rebilled = {}
    for inv in honest.clean["Invoice"]:
        for x in inv["Line"]:
            match = re.search(r"\(Bill (\d+) line (\d+)\)", x.get("Description", ""))
            if match and (match.group(1), match.group(2)) in bought:
                rebilled[(match.group(1), match.group(2))] = x["SalesItemLineDetail"]["Qty"]
    assert bought and rebilled == bought


# --- a world that behaves like an MSP (a 60 x 24 world: a few seconds, marked slow) ------------------

@pytest.mark.slow
def test_ticket_volume_follows_the_week_and_the_holidays(medium):
    tickets = medium.clean["getTicketList"]
    weekday = Counter(date.fromisoformat(t["createdTime"][:10]).weekday() for t in tickets)
    assert weekday[0] > weekday[4] > weekday[5] * 3
    days = Counter(t["createdTime"][:10] for t in tickets)
    for year in (2024, 2025):
        working_mid = [days[f"{year}-12-{d:02d}"] for d in range(8, 21)
                       if date(year, 12, d).weekday() < 5]
        christmas = [days[f"{year}-12-{d:02d}"] for d in range(24, 32) if date(year, 12, d).weekday() < 5]
        assert statistics.mean(christmas) < 0.7 * statistics.mean(working_mid)


@pytest.mark.slow
def test_service_desk_figures_match_the_published_ranges(medium):
    tickets = medium.clean["getTicketList"]
    n = len(tickets)
    violated = sum(bool(t["firstResponseViolated"] or t["resolutionViolated"]) for t in tickets) / n
    assert 0.03 < violated < 0.12  # SLA compliance 88-97%
    reopened = sum(t["customFields"]["reopenCount"] != "0" for t in tickets) / n
    assert 0.015 < reopened < 0.05  # 3.1% published
    closed = [t for t in tickets if t["status"] == "Closed"]
    scores = [int(t["customFields"]["csatScore"]) for t in closed if t["customFields"]["csatScore"]]
    assert 0.15 < len(scores) / len(closed) < 0.25  # ~20% response rate
    assert 0.78 < sum(s >= 4 for s in scores) / len(scores) < 0.96  # MSP median 85%, IT 95%
    priorities = Counter(t["priority"] for t in tickets)
    assert priorities["Medium"] > priorities["Low"] > priorities["High"] > priorities["Urgent"] > 0
    worklogs = medium.clean["getWorklogEntries"]
    hours = [float(w["qty"]) for w in worklogs]
    assert statistics.mean(hours) < 1.0  # < 1 h per ticket on average
    by_ticket = {t["ticketId"]: t for t in tickets}
    passwords = [float(w["qty"]) * 60 for w in worklogs
                 if by_ticket.get(w["workItem"]["workId"], {}).get("category") == "Passwords"]
    assert 9 <= statistics.median(passwords) <= 16  # L1 10-15 minutes
    after_hours = sum(w["afterHours"] for w in worklogs) / len(worklogs)
    assert 0.03 < after_hours < 0.15


@pytest.mark.slow
def test_a_typical_client_logs_half_to_one_and_a_half_tickets_per_endpoint(medium):
    assets, tickets = medium.clean["getAssetList"], medium.clean["getTicketList"]
    start, end = month_bounds("2025-03")
    endpoints = Counter(a["client"]["accountId"] for a in assets if active_in(a, start, end))
    raised = Counter(t["client"]["accountId"] for t in tickets if t["createdTime"][:7] == "2025-03")
    rates = sorted(raised[c] / n for c, n in endpoints.items())
    assert 0.5 <= statistics.median(rates) <= 1.5


@pytest.mark.slow
def test_revenue_is_heavy_tailed_and_leaks_are_a_plausible_share(medium):
    recurring = defaultdict(Decimal)
    for inv in medium.clean["Invoice"]:
        for line in inv["Line"]:
            if line.get("SalesItemLineDetail", {}).get("ItemRef", {}).get("name") in RECURRING_ITEMS:
                recurring[inv["CustomerRef"]["value"]] += D(line["Amount"])
    shares = sorted(recurring.values(), reverse=True)
    top = shares[: max(1, len(shares) // 10)]
    assert sum(top) / sum(shares) > Decimal("0.35")
    clients = medium.clean["getClientList"]
    small = sum(int(c["customFields"]["employeeCount"]) < 10 for c in clients) / len(clients)
    assert 0.3 < small < 0.65  # ~50% of an MSP's clients have < 10 users
    summary = medium.truth["summary"]
    revenue = sum(D(inv["TotalAmt"]) - D(inv.get("TxnTaxDetail", {}).get("TotalTax", 0))
                  for inv in medium.clean["Invoice"])  # revenue is before sales tax
    assert revenue == Decimal(summary["revenue_total"])
    assert 0.02 < Decimal(summary["leak_amount_total"]) / revenue < 0.12  # 5% of opportunities


@pytest.mark.slow
def test_annual_churn_is_near_the_requested_rate(medium):
    churn = medium.truth["churn"]
    observed = medium.truth["summary"]["annual_churn_rate_observed"]
    assert 0.05 < observed < 0.22
    assert len(churn) == medium.truth["summary"]["clients_churned"]
    # Churners look worse than the book on the drivers we can observe.
    drivers = [e["drivers"] for e in churn]
    assert statistics.mean(d["health"] for d in drivers) < 0.3


@pytest.mark.slow
def test_payments_follow_net_30_with_late_payers(medium):
    invoices = medium.by_id("Invoice", "Id")
    days = [(date.fromisoformat(p["TxnDate"]) - date.fromisoformat(invoices[p["Line"][0]["LinkedTxn"][0]["TxnId"]]
                                                                        ["TxnDate"])).days
            for p in medium.clean["Payment"]]
    assert 28 < statistics.mean(days) < 50  # DSO-like: Net 30 terms, B2B average 35 days
    assert 0.3 < sum(d > 30 for d in days) / len(days) < 0.7


# --- the command -------------------------------------------------------------------------------------

def test_simulate_msp_command_writes_a_dump_with_bad_records(tmp_path, capsys):
    out = tmp_path / "cmd"
    call_command("simulate_msp", "--clients", "5", "--months", "3", "--seed", "2", "--leak-rate", "0.1",
                 "--churn-rate", "0.2", "--end", "2025-03", "--bad-records", "3", "--out", str(out))
    assert "5 clients x 3 months" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["end"], manifest["bad_records"]) == ("2025-03-31", 3)
    truth = json.loads((out / "truth.json").read_text())
    assert sorted(b["reason"] for b in truth["bad_records"]) == ["missing id", "negative hours", "unparseable date"]
