"""python-quickbooks, a client no one here wrote, reads the sandbox's QuickBooks company as it
would read Intuit's: every entity we sync in full and in pages, Item.all() (which selects
`*, Sku`), filters on Active, TxnDate and references, ORDERBY, counts, single reads, CDC, and
Intuit's faults raised as its own exceptions. It connects through intuit-oauth and the
sandbox's OAuth endpoints like any app; only its API base URL points at the sandbox."""

from __future__ import annotations

import json
from datetime import date, timedelta

import httpx
import pytest
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from quickbooks import QuickBooks
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import AuthorizationException, ObjectNotFoundException, QuickbooksException
from quickbooks.objects import Bill, CreditMemo, Customer, Employee, Invoice, Item, Payment, Purchase, TimeActivity

from integrations.sandbox.world import PACIFIC, QUICKBOOKS_ENTITIES
from integrations.timestamps import parse_time

CLASSES = {cls.qbo_object_name: cls for cls in (Customer, Item, Invoice, Payment, Bill, Purchase, TimeActivity,
                                                 CreditMemo, Employee)}


@pytest.fixture
def sandbox(make_sandbox):
    sandbox = make_sandbox(clients=4, months=3, seed=11)
    # A churned customer and a retired item, as a real company keeps them: inactive, and the
    # customer renamed with QuickBooks' " (deleted)" suffix.
    world = sandbox.world
    for entity, name_key in (("Customer", "DisplayName"), ("Item", "Name")):
        if not any(r.get("Active") is False for r in world.quickbooks[entity].values()):
            record_id = sorted(world.quickbooks[entity], key=int)[-1]
            name = world.quickbooks[entity][record_id][name_key]
            world.edit_qb(entity, record_id, Active=False, **{name_key: f"{name} (deleted)"})
    return sandbox


@pytest.fixture
def qb(sandbox, monkeypatch):
    """A python-quickbooks client connected through the OAuth code flow."""
    # requests-oauthlib refuses plain http unless told this is a local test server.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    auth = AuthClient("sandbox-client", "sandbox-secret", "http://app.example/callback",
                      f"{sandbox.url}/.well-known/openid_configuration")
    consent = httpx.get(auth.get_authorization_url([Scopes.ACCOUNTING]), follow_redirects=False)
    params = httpx.URL(consent.headers["Location"]).params
    auth.get_bearer_token(params["code"], realm_id=params["realmId"])
    client = QuickBooks(auth_client=auth, refresh_token=auth.refresh_token, company_id=params["realmId"],
                        minorversion=75)
    # python-quickbooks builds its URLs from api_url_v3 (sandbox_api_url_v3 for Intuit's
    # sandbox); an instance attribute points this client, and only it, at ours.
    client.api_url_v3 = f"{sandbox.url}/v3"
    return client


def records(sandbox, entity, active_only=False):
    found = list(sandbox.world.quickbooks.get(entity, {}).values())
    return [r for r in found if r.get("Active") is not False] if active_only else found


def read_in_pages(cls, qb, size=5):
    """What a client does to read everything: STARTPOSITION 1, 1+size, ... until a short page."""
    ids, start = [], 1
    while True:
        page = cls.all(start_position=start, max_results=size, qb=qb)
        ids += [obj.Id for obj in page]
        if len(page) < size:
            return ids
        start += size


def test_every_synced_entity_is_read_completely_in_pages_and_counted(sandbox, qb):
    present = [e for e in QUICKBOOKS_ENTITIES if e != "CreditMemo" or sandbox.world.quickbooks.get(e)]
    assert {"Customer", "Item", "Invoice", "Payment", "Bill", "Purchase", "TimeActivity"} <= set(present)
    for entity in present:
        cls = CLASSES[entity]
        # Name lists (Customer, Item, Employee) answer active records only, as Intuit does.
        expected = sorted(r["Id"] for r in records(sandbox, entity,
                                                   active_only=entity in ("Customer", "Item", "Employee")))
        assert expected, entity
        ids = read_in_pages(cls, qb)
        assert sorted(ids) == expected, entity  # every record once: no gaps, no repeats
        assert cls.count(qb=qb) == len(expected), entity
        assert sorted(obj.Id for obj in cls.all(max_results=1000, qb=qb)) == expected, entity


def test_item_all_selects_sku_and_returns_every_active_item(sandbox, qb):
    items = Item.all(qb=qb)  # SELECT *, Sku FROM Item MAXRESULTS 100
    active = records(sandbox, "Item", active_only=True)
    assert sorted(i.Name for i in items) == sorted(r["Name"] for r in active)
    assert len(items) == len(records(sandbox, "Item")) - 1  # the retired one is left out
    named = Item.query("SELECT Id, Name FROM Item WHERE Type = 'Service' ORDERBY Name", qb=qb)
    assert [i.Name for i in named] == sorted((r["Name"] for r in active if r.get("Type") == "Service"),
                                             key=str.casefold)


def test_inactive_customers_only_when_the_query_asks(sandbox, qb):
    everyone = records(sandbox, "Customer")
    inactive = sorted(r["Id"] for r in everyone if r.get("Active") is False)
    assert inactive and all(r["DisplayName"].endswith(" (deleted)") for r in everyone if r["Id"] in inactive)
    assert not {c.Id for c in Customer.all(qb=qb)} & set(inactive)
    assert sorted(c.Id for c in Customer.filter(Active=False, qb=qb)) == inactive
    # What our own client sends for a full read: inactive customers survive it.
    both = Customer.where("Active IN (true, false)", max_results=1000, qb=qb)
    assert sorted(c.Id for c in both) == sorted(r["Id"] for r in everyone)
    assert Customer.count("Active IN (true, false)", qb=qb) == len(everyone)
    deleted = Customer.where("DisplayName LIKE '%(deleted)' AND Active = false", qb=qb)
    assert sorted(c.Id for c in deleted) == inactive


def test_filters_on_txn_date_references_and_names(sandbox, qb):
    invoices = records(sandbox, "Invoice")
    months = sorted({r["TxnDate"][:7] for r in invoices})
    assert len(months) >= 2
    first = date.fromisoformat(months[-1] + "-01")
    in_month = Invoice.where(f"TxnDate >= '{first}' AND TxnDate < '{first + timedelta(days=31):%Y-%m}-01'",
                             max_results=1000, qb=qb)
    assert sorted(i.Id for i in in_month) == sorted(r["Id"] for r in invoices if r["TxnDate"][:7] == months[-1])
    assert 0 < len(in_month) < len(invoices)
    customer = invoices[0]["CustomerRef"]["value"]
    theirs = Invoice.filter(CustomerRef=customer, max_results=1000, qb=qb)
    assert sorted(i.Id for i in theirs) == sorted(r["Id"] for r in invoices if r["CustomerRef"]["value"] == customer)
    name = next(r for r in records(sandbox, "Customer", active_only=True))["DisplayName"]
    assert [c.DisplayName for c in Customer.filter(DisplayName=name, qb=qb)] == [name]
    chosen = sorted(r["Id"] for r in invoices[:3])
    assert sorted(i.Id for i in Invoice.choose(chosen, qb=qb)) == chosen
    late = Invoice.where("TotalAmt > 1000 AND TxnDate > '2000-01-01'", max_results=1000, qb=qb)
    assert sorted(i.Id for i in late) == sorted(r["Id"] for r in invoices if r["TotalAmt"] > 1000)


def test_orderby_sorts_by_plain_and_dotted_fields(sandbox, qb):
    by_date = Invoice.where("", order_by="TxnDate DESC", max_results=1000, qb=qb)
    assert [i.TxnDate for i in by_date] == sorted((r["TxnDate"] for r in records(sandbox, "Invoice")), reverse=True)
    by_total = Invoice.where("", order_by="TotalAmt", max_results=1000, qb=qb)
    totals = [float(i.TotalAmt) for i in by_total]
    assert totals == sorted(totals) and totals != [float(r["TotalAmt"]) for r in records(sandbox, "Invoice")]
    # all(order_by=...) sends "ORDER BY", which Intuit reads as ORDERBY.
    names = [c.DisplayName for c in Customer.all(order_by="DisplayName DESC", qb=qb)]
    assert names == sorted(names, key=str.casefold, reverse=True) and len(names) >= 3
    newest = Payment.where("", order_by="MetaData.LastUpdatedTime DESC", max_results=2, qb=qb)
    stamps = sorted((r["MetaData"]["LastUpdatedTime"] for r in records(sandbox, "Payment")), key=parse_time,
                    reverse=True)
    assert [p.MetaData.LastUpdatedTime for p in newest] == stamps[:2]


def test_single_reads_and_object_not_found(sandbox, qb):
    customer = records(sandbox, "Customer")[0]
    assert Customer.get(customer["Id"], qb=qb).DisplayName == customer["DisplayName"]
    invoice = records(sandbox, "Invoice")[0]
    assert float(Invoice.get(invoice["Id"], qb=qb).TotalAmt) == float(invoice["TotalAmt"])
    with pytest.raises(ObjectNotFoundException) as missing:
        Invoice.get("999999999", qb=qb)
    assert missing.value.error_code == 610 and missing.value.message == "Object Not Found"


def test_cdc_returns_what_changed_and_refuses_time_activity(sandbox, qb):
    world = sandbox.world
    before = world.clock.astimezone(PACIFIC).isoformat()
    customer = sorted(world.quickbooks["Customer"], key=int)[0]
    invoice = sorted(world.quickbooks["Invoice"], key=int)[1]
    world.edit_qb("Customer", customer, Notes="Moved to the new office")
    world.edit_qb("Invoice", invoice, PrivateNote="Re-sent with PO number")
    changes = change_data_capture([Customer, Invoice], before, qb=qb)
    assert [(c.Id, c.Notes) for c in changes.Customer] == [(customer, "Moved to the new office")]
    assert [(i.Id, i.PrivateNote) for i in changes.Invoice] == [(invoice, "Re-sent with PO number")]
    with pytest.raises(QuickbooksException) as refused:
        change_data_capture([TimeActivity], before, qb=qb)
    assert refused.value.error_code == 500 and refused.value.message == "Unsupported Operation"
    assert "not supported for TimeActivity" in refused.value.detail


def test_changed_since_without_a_zone_is_read_in_the_company_zone(sandbox, qb):
    """python-quickbooks sends a datetime as YYYY-MM-DDTHH:MM:SS with no offset; Intuit reads
    such a time in the company's zone (Pacific here), not UTC: seven or eight hours apart."""
    world = sandbox.world
    customer = sorted(world.quickbooks["Customer"], key=int)[0]
    world.edit_qb("Customer", customer, Notes="Changed")
    changed_at = world.clock.astimezone(PACIFIC).replace(tzinfo=None)  # the company's wall clock
    just_before = change_data_capture([Customer], changed_at - timedelta(minutes=1), qb=qb)
    just_after = change_data_capture([Customer], changed_at + timedelta(minutes=1), qb=qb)
    assert [c.Id for c in just_before.Customer] == [customer]
    assert len(just_after.Customer) == 0  # read as UTC it would still have been "before"
    date_only = change_data_capture([Customer], changed_at.strftime("%Y-%m-%d"), qb=qb)
    assert customer in [c.Id for c in date_only.Customer]


def test_invalid_queries_raise_intuit_faults(sandbox, qb):
    with pytest.raises(QuickbooksException) as unknown:
        Customer.where("Colour = 'red'", qb=qb)
    assert (unknown.value.error_code, unknown.value.message) == (4001, "Invalid query")
    assert "Property Colour not found for Entity Customer" in unknown.value.detail
    with pytest.raises(QuickbooksException) as unparsed:
        Customer.where("Active = true OR Active = false", qb=qb)
    assert (unparsed.value.error_code, unparsed.value.message) == (4000, "Error parsing query")
    assert unparsed.value.detail.startswith("QueryParserError: Encountered \" OR \"")
    with pytest.raises(QuickbooksException) as too_many:
        Invoice.all(max_results=1001, qb=qb)
    assert too_many.value.error_code == 4001 and "MAXRESULTS" in too_many.value.detail


def test_fault_bodies_have_intuit_shape_and_time(sandbox, qb):
    url = qb.api_url_v3.removesuffix("/v3")
    realm = sandbox.world.realm_id
    token = qb.session.access_token
    body = httpx.get(f"{url}/v3/company/{realm}/query", params={"query": "SELECT * FROM Nothing", "minorversion": 75},
                     headers={"Authorization": f"Bearer {token}"}).json()
    assert set(body) == {"Fault", "time"} and body["Fault"]["type"] == "ValidationFault"
    assert set(body["Fault"]["Error"][0]) >= {"Message", "Detail", "code"}
    assert body["time"] == sandbox.world.clock.astimezone(PACIFIC).isoformat(timespec="milliseconds")
    sandbox.expire_access_tokens()
    with pytest.raises(AuthorizationException) as expired:
        Customer.all(qb=qb)
    assert expired.value.error_code == 401
    gateway = json.loads(expired.value.detail)
    assert gateway["fault"]["type"] == "AUTHENTICATION" and gateway["fault"]["error"][0]["code"] == "3200"
    assert gateway["fault"]["error"][0]["detail"].startswith("Token expired")
    assert isinstance(gateway["time"], int)
