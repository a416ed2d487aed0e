"""simulate_msp writes what a real tenant would serve: no churn answers in the payloads,
every SuperOps record of the schema's types, QuickBooks records in Intuit's entity shapes
(as python-quickbooks models them), and the MSP situations a real book has (client users,
project worklogs, credit memos, sites, tax and discount lines, deleted customers)."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    build_schema,
)
from quickbooks import objects as qbo

from integrations.simulator import simulate

SCHEMA = build_schema((Path(__file__).resolve().parents[1] / "integrations/superops/schema.graphql")
                      .read_text(encoding="utf-8"))

# list query -> list key inside its body (None: the query returns the list itself).
SO_LISTS = {"getClientList": "clients", "getTechnicianList": "userList", "getServiceItemList": "items",
            "getClientContractList": "clientContracts", "getAssetList": "assets", "getTicketList": "tickets",
            "getWorklogEntries": "entries", "getOfferedItems": "items", "getClientUserList": "userList",
            "getClientStageList": None, "getPriorityList": None}
QB_CLASSES = {"Customer": qbo.Customer, "Item": qbo.Item, "Invoice": qbo.Invoice, "Payment": qbo.Payment,
              "Bill": qbo.Bill, "Purchase": qbo.Purchase, "TimeActivity": qbo.TimeActivity,
              "CreditMemo": qbo.CreditMemo, "Employee": qbo.Employee}
# Read-only metadata Intuit sends on every entity; python-quickbooks declares it on some
# objects only.
QB_COMMON = {"Id", "MetaData"}
# Intuit spells the subtotal detail "SubTotalLineDetail" (as its DetailType); python-quickbooks
# names the attribute SubtotalLineDetail. We write Intuit's spelling.
INTUIT_SPELLING = {"SubTotalLineDetail"}


# --- the validator ----------------------------------------------------------------------------

def _unwrap(gtype):
    while isinstance(gtype, (GraphQLNonNull, GraphQLList)):
        gtype = gtype.of_type
    return gtype


SCALARS = {"String": (str,), "ID": (str,), "Int": (int,), "Float": (int, float), "Boolean": (bool,)}


def check_value(value, gtype, path: str, errors: list[str]) -> None:
    """Errors of `value` against the GraphQL type `gtype`, as a server holding it would meet
    them when a query asks for every field."""
    if isinstance(gtype, GraphQLNonNull):
        if value is None:
            errors.append(f"{path}: null in non-null {gtype}")
            return
        gtype = gtype.of_type
    if value is None:
        return
    if isinstance(gtype, GraphQLList):
        if not isinstance(value, list):
            errors.append(f"{path}: {type(value).__name__} where a list of {gtype.of_type} is")
            return
        for i, item in enumerate(value):
            check_value(item, gtype.of_type, f"{path}[{i}]", errors)
    elif isinstance(gtype, GraphQLEnumType):
        if value not in gtype.values:
            errors.append(f"{path}: {value!r} is not in enum {gtype.name}")
    elif isinstance(gtype, GraphQLScalarType):
        if gtype.name == "JSON":
            return
        kinds = SCALARS[gtype.name]
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            errors.append(f"{path}: {value!r} is not a {gtype.name}")
    elif isinstance(gtype, GraphQLObjectType):
        if not isinstance(value, dict):
            errors.append(f"{path}: {type(value).__name__} where object {gtype.name} is")
            return
        for key in value.keys() - gtype.fields.keys():
            errors.append(f"{path}.{key}: {gtype.name} has no field {key!r}")
        for name, field in gtype.fields.items():
            check_value(value.get(name), field.type, f"{path}.{name}", errors)


def record_type(query: str) -> GraphQLObjectType:
    root = _unwrap(SCHEMA.query_type.fields[query].type)
    key = SO_LISTS[query]
    return root if key is None else _unwrap(root.fields[key].type)


def test_the_validator_catches_what_the_schema_refuses():
    contract = record_type("getClientContractList")
    errors: list[str] = []
    check_value({"contractId": "1", "client": {}, "startDate": "2025-01-01", "contractStatus": "ENDED",
                 "updatedTime": "x", "contract": {"contractId": "1", "contractType": "SERVICE",
                                                  "billableContract": {"perpetualContract": {"autoRenew": None},
                                                                       "blockItemsInfo": {"hours": "5"}}}},
                contract, "r", errors)
    text = "\n".join(errors)
    for wanted in ("'ENDED' is not in enum ClientContractStatus", "ClientContract has no field 'updatedTime'",
                   "perpetualContract.autoRenew: null", "perpetualContract.contractId: null",
                   "blockItemsInfo: dict where a list", "billableSiteType: null"):
        assert wanted in text
    assert not check_errors_of({"userId": "1", "firstName": "A", "name": "A", "email": "a@b", "role": {}},
                               record_type("getClientUserList"))


def check_errors_of(record: dict, gtype) -> list[str]:
    errors: list[str] = []
    check_value(record, gtype, "r", errors)
    return errors


# --- the world ------------------------------------------------------------------------------------

class Dump:
    def __init__(self, root: Path):
        self.root = root
        self.truth = json.loads((root / "truth.json").read_text())
        self.so: dict[str, list[dict]] = {}
        for query, key in SO_LISTS.items():
            rows: list[dict] = []
            for page in sorted((root / "superops" / query).glob("page-*.json")):
                body = json.loads(page.read_text())["data"][query]
                rows.extend(body if key is None else body[key])
            self.so[query] = rows
        self.qb: dict[str, list[dict]] = {}
        for entity in QB_CLASSES:
            rows = []
            for page in sorted((root / "quickbooks" / entity).glob("page-*.json")):
                rows.extend(json.loads(page.read_text())["QueryResponse"].get(entity, []))
            self.qb[entity] = rows


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Dump:
    # Small, but with churn, leaks, discounts and branches (a 40-user client has 1-3 branches).
    root = simulate(clients=40, months=12, seed=8, leak_rate=0.3, churn_rate=0.4,
                    out_dir=tmp_path_factory.mktemp("payloads"), end_month=date(2025, 12, 1))
    return Dump(root)


def _walk(value, path=""):
    """Every (path, key, value) in a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield path, k, v
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")


# --- (a) no churn answer ----------------------------------------------------------------------------

def test_payloads_hold_no_churn_answer_while_truth_lists_the_churn(world):
    assert world.truth["churn"], "the world should lose clients"
    reasons = {e["reason"] for e in world.truth["churn"]}
    for folder in ("superops", "quickbooks"):
        for page in (world.root / folder).rglob("*.json"):
            text = page.read_text()
            assert "churn" not in text.lower(), page
            for reason in reasons:
                assert reason not in text, (page, reason)
            for _, key, _value in _walk(json.loads(text)):
                assert "churn" not in key.lower() and "cancellation" not in key.lower(), (page, key)
    clients = {c["accountId"]: c for c in world.so["getClientList"]}
    for event in world.truth["churn"]:
        client = clients[event["client_id"]]
        assert client["status"] == "Inactive" or client["stage"] == "Former Customer"
        assert set(client["customFields"]) <= {"industry", "employeeCount", "onboardedOn", "currency"}


def test_a_departed_client_shows_only_as_a_real_tenant_shows_it(world):
    clients = {c["accountId"]: c for c in world.so["getClientList"]}
    contracts = defaultdict(list)
    for k in world.so["getClientContractList"]:
        contracts[k["client"]["accountId"]].append(k)
    invoices = defaultdict(list)
    # A real tenant's SuperOps client carries no QuickBooks id; the company name is the link
    # a person (and our matcher) would use. Sites (sub-customers) share it, so skip them.
    customers = {c["CompanyName"]: c for c in world.qb["Customer"] if not c.get("Job")}
    for inv in world.qb["Invoice"]:
        invoices[inv["CustomerRef"]["value"]].append(inv["TxnDate"])
    stages = Counter()
    for event in world.truth["churn"]:
        client = clients[event["client_id"]]
        stages[client["stage"]] += 1
        assert client["status"] == "Inactive"
        # Agreements ended, none renewed after the client left; invoices stop after it.
        assert all(k["contractStatus"] == "INACTIVE" for k in contracts[client["accountId"]])
        assert all(k["endDate"] and k["endDate"] <= event["churned_on"] for k in contracts[client["accountId"]])
        customer = customers[client["name"]]
        assert max(invoices[customer["Id"]]) <= event["churned_on"]
        assert customer["Active"] is (not customer["DisplayName"].endswith(" (deleted)"))
    assert set(stages) == {"Customer", "Former Customer"}
    for c in clients.values():
        if c["status"] == "Active":
            assert customers[c["name"]]["Active"] is True


# --- (b) SuperOps records of the schema's types ----------------------------------------------------

def test_every_superops_record_validates_against_the_schema_types(world):
    for query, rows in world.so.items():
        assert rows, query
        gtype = record_type(query)
        errors: list[str] = []
        for i, row in enumerate(rows):
            check_value(row, gtype, f"{query}[{i}]", errors)
        assert not errors, "\n".join(errors[:20])


def test_offered_items_carry_the_times_an_incremental_read_needs(world):
    end = world.truth["end"] + "T23:59:59"
    items = world.so["getOfferedItems"]
    assert all(o["createdTime"] <= o["updatedTime"] <= end for o in items)
    invoiced = [o for o in items if o["type"] == "CONTRACT" and o["status"] == "INVOICED"]
    assert invoiced and all(o["updatedTime"] > o["createdTime"] for o in invoiced)
    assert all(o["updatedTime"] == o["createdTime"] for o in items if o["status"] == "PENDING")


def test_no_custom_fields_where_the_schema_has_none_and_terms_in_real_fields(world):
    assert all("customFields" not in t for t in world.so["getTechnicianList"])
    contracts = world.so["getClientContractList"]
    assert all("customFields" not in k and "updatedTime" not in k for k in contracts)
    assert all("updatedTime" not in c for c in world.so["getClientList"])
    kinds = Counter()
    for k in contracts:
        bc = k["contract"]["billableContract"]
        kinds[bc["frequencyType"]] += 1
        if bc["recurringContract"]:
            assert bc["recurringContract"]["frequencyDurationUnit"] in {"MONTH", "DAY", "WEEK", "YEAR"}
            assert isinstance(bc["perpetualContract"]["autoRenew"], bool)
        if k["contract"]["contractType"] == "USAGE":
            hours = re.search(r"^Included hours: (\d+)$", k["contract"]["description"], re.M)
            assert hours and bc["blockItemsInfo"][0]["blockItemId"] == bc["chargeItem"]["itemId"]
            assert Decimal(bc["blockItemsInfo"][0]["balance"]) <= int(hours.group(1))
        if k["contract"]["contractType"] in ("SERVICE", "USAGE"):
            assert re.search(r"Annual price escalator: \d+%|No price escalator", k["contract"]["description"])
        # Rates for work outside the agreement as "label: value" lines, as an MSP writes them.
        assert re.search(r"^Hourly rate: \d+\.\d\d$", k["contract"]["description"], re.M)
    assert kinds["RECURRING"] and kinds["ONCE"]


# --- (c) QuickBooks records in Intuit's shapes -------------------------------------------------------

def shape_errors(data: dict, cls, path: str, top: bool = False) -> list[str]:
    """Keys of `data` that python-quickbooks' object `cls` does not declare, recursively,
    following the same class_dict / list_dict / detail_dict walk as its from_json."""
    obj = cls()
    class_dict = getattr(obj, "class_dict", {})
    list_dict = getattr(obj, "list_dict", {})
    detail_dict = getattr(obj, "detail_dict", {})
    allowed = set(vars(obj)) | set(class_dict) | set(list_dict) | (QB_COMMON if top else set()) | INTUIT_SPELLING
    errors = [f"{path}.{key}" for key in data if key not in allowed]
    for key, value in data.items():
        if key in class_dict and isinstance(value, dict) and key != "MetaData":
            errors += shape_errors(value, class_dict[key], f"{path}.{key}")
        elif key in list_dict and isinstance(value, list):
            for i, item in enumerate(value):
                sub = detail_dict.get(item.get("DetailType"), list_dict[key])
                errors += shape_errors(item, sub, f"{path}.{key}[{i}]")
    return errors


def test_quickbooks_records_keep_python_quickbooks_entity_shapes(world):
    for entity, cls in QB_CLASSES.items():
        for row in world.qb[entity]:
            errors = shape_errors(row, cls, f"{entity}[{row['Id']}]", top=True)
            assert not errors, errors
            parsed = cls.from_json(row)  # the reference client reads it
            assert parsed.Id == row["Id"]
    line_kinds = {ln["DetailType"] for inv in world.qb["Invoice"] for ln in inv["Line"]}
    assert {"SalesItemLineDetail", "SubTotalLineDetail", "DiscountLineDetail"} <= line_kinds
    for inv in world.qb["Invoice"]:
        sales = sum(Decimal(str(ln["Amount"])) for ln in inv["Line"] if ln["DetailType"] == "SalesItemLineDetail")
        discount = sum(Decimal(str(ln["Amount"])) for ln in inv["Line"] if ln["DetailType"] == "DiscountLineDetail")
        tax = Decimal(str(inv.get("TxnTaxDetail", {}).get("TotalTax", 0)))
        assert Decimal(str(inv["TotalAmt"])) == sales - discount + tax, inv["Id"]


# --- (d) the situations of a real book ----------------------------------------------------------------

def test_the_new_situations_appear_in_a_small_world(world):
    users = Counter(u["client"]["accountId"] for u in world.so["getClientUserList"])
    clients = {c["accountId"]: c for c in world.so["getClientList"]}
    for k in world.so["getClientContractList"]:
        if (k["contract"]["billableContract"]["provisionRule"] or {}).get("entity") == "USER":
            assert users[k["client"]["accountId"]] >= 1
    for cid, client in clients.items():
        assert users[cid] == int(client["customFields"]["employeeCount"])
        assert client["primaryContact"]["userId"]
    modules = Counter(w["workItem"]["module"] for w in world.so["getWorklogEntries"])
    assert modules["TICKET"] and modules["PROJECT"]
    assert all(w["workItem"]["client"]["accountId"] in clients for w in world.so["getWorklogEntries"])
    tickets = {t["ticketId"] for t in world.so["getTicketList"]}
    assert not any(w["workItem"]["workId"] in tickets for w in world.so["getWorklogEntries"]
                   if w["workItem"]["module"] == "PROJECT")
    memos = world.qb["CreditMemo"]
    assert memos and all(m["PrivateNote"] and m["CustomerMemo"]["value"] for m in memos)
    customers = {c["Id"]: c for c in world.qb["Customer"]}
    jobs = [c for c in customers.values() if c.get("Job")]
    assert jobs and all(customers[j["ParentRef"]["value"]]["Job"] is False for j in jobs)
    assert any(inv["CustomerRef"]["value"] in {j["Id"] for j in jobs} for inv in world.qb["Invoice"])
    deleted = [c for c in customers.values() if c["DisplayName"].endswith(" (deleted)")]
    assert deleted and all(c["Active"] is False for c in deleted)
    assert any("TxnTaxDetail" in inv for inv in world.qb["Invoice"])
    discounted = [k for k in world.so["getClientContractList"] if k["contract"]["billableContract"]["discountRate"]]
    # Negotiated discounts on per-seat fees, in percent (a block's discount is in its price).
    assert discounted and all(k["contract"]["contractType"] == "SERVICE" for k in discounted)
    assert {k["contract"]["billableContract"]["discountRate"] for k in discounted} <= {"5.00", "10.00", "15.00"}


def test_labour_cost_is_where_quickbooks_keeps_it(world):
    # SuperOps' Technician has no custom fields: the cost an MSP uses for job costing is the
    # QuickBooks employee's CostRate, which its time entries carry too.
    employees = {e["Id"]: e for e in world.qb["Employee"]}
    technicians = {t["name"] for t in world.so["getTechnicianList"]}
    assert {e["DisplayName"] for e in employees.values()} == technicians
    assert all(41 <= e["CostRate"] <= 58 for e in employees.values())  # MSP_WORLD §4 burdened hourly
    for t in world.qb["TimeActivity"]:
        assert t["CostRate"] == employees[t["EmployeeRef"]["value"]]["CostRate"]


def test_truth_lists_the_new_leaks_and_the_legitimate_adjustments(world):
    types = Counter(x["type"] for x in world.truth["leaks"])
    for kind in ("license_underbilling", "after_hours_underbilling", "out_of_scope_covered", "seat_underbilling"):
        assert types[kind], kind
    adjustments = world.truth["adjustments"]
    assert {a["type"] for a in adjustments} >= {"contract_discount", "sla_credit"} or \
        {a["type"] for a in adjustments} >= {"contract_discount", "goodwill_credit"}
    assert all(a["legitimate"] is True for a in adjustments)
    memo_ids = {m["Id"] for m in world.qb["CreditMemo"]}
    credited = {i for a in adjustments for i in a["refs"].get("credit_memo_ids", [])}
    assert credited == memo_ids


def test_a_four_client_quarter_is_fast_and_deterministic(tmp_path):
    import time

    started = time.perf_counter()
    a = simulate(clients=4, months=3, seed=9, leak_rate=0.05, churn_rate=0.12, out_dir=tmp_path / "a",
                 end_month=date(2025, 6, 1))
    elapsed = time.perf_counter() - started
    b = simulate(clients=4, months=3, seed=9, leak_rate=0.05, churn_rate=0.12, out_dir=tmp_path / "b",
                 end_month=date(2025, 6, 1))
    assert elapsed < 2.0  # ~0.1 s alone; bench/import_dump.py and the tests make many of these
    files = sorted(p.relative_to(a) for p in a.rglob("*.json"))
    assert files == sorted(p.relative_to(b) for p in b.rglob("*.json"))
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
