"""Two QuickBooks companies (realms) connected at once, over real HTTP: the sandbox serves
both, each numbering its records from 1 as QuickBooks does. The same Id in both companies
is two rows, each company's records point at its own customers, a full read of one company
deletes nothing of the other, the matcher does not take SuperOps' link (an Id without a
company) for either, and a company whose refresh token was revoked does not stop the other.

`company()` builds the small QuickBooks company the QuickBooks sync and webhook tests share."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from clients.models import Client, Customer, Invoice, Payment, RejectedRecord, SyncRun, Worklog
from integrations.models import CustomerLink, QuickBooksConnection
from integrations.quickbooks.oauth import TokenSource
from integrations.sandbox import Sandbox
from integrations.sandbox.testing import connect_quickbooks
from integrations.sandbox.world import QUICKBOOKS_ENTITIES, SUPEROPS_LISTS, World
from integrations.sync.runs import sync_source

pytestmark = pytest.mark.django_db

REALM_A, REALM_B = "9130000000000001", "9130000000000002"
STAMP = "2026-10-01T09:00:00-07:00"


def _meta() -> dict:
    return {"CreateTime": STAMP, "LastUpdatedTime": STAMP}


def _invoice(invoice_id: str, customer_id: str, amount: int = 100) -> dict:
    return {"Id": invoice_id, "DocNumber": f"INV-{invoice_id}", "TxnDate": "2026-09-01",
            "CustomerRef": {"value": customer_id}, "TotalAmt": amount, "Balance": 0, "MetaData": _meta(),
            "Line": [{"Id": "1", "LineNum": 1, "Amount": amount, "DetailType": "SalesItemLineDetail",
                      "SalesItemLineDetail": {"ItemRef": {"value": "1", "name": "Managed Services"},
                                              "Qty": 1, "UnitPrice": amount}}]}


def company(realm_id: str, names: tuple[str, str, str] = ("Acme Dental", "Harbor Cafe", "Beta Law")) -> World:
    """A small QuickBooks company: customers 1 (active), 2 (inactive: a churned client, named
    with QuickBooks' " (deleted)" suffix) and 3; items 1 (active) and 2 (inactive); invoices
    101-103 (one per customer); payment 201 of invoice 101; time entry 301 for customer 3."""
    active, churned, third = names
    quickbooks: dict[str, dict[str, dict]] = {entity: {} for entity in QUICKBOOKS_ENTITIES}
    quickbooks["Customer"] = {
        "1": {"Id": "1", "DisplayName": active, "CompanyName": active, "Active": True, "MetaData": _meta()},
        "2": {"Id": "2", "DisplayName": f"{churned} (deleted)", "CompanyName": churned, "Active": False,
              "MetaData": _meta()},
        "3": {"Id": "3", "DisplayName": third, "CompanyName": third, "Active": True, "MetaData": _meta()},
    }
    quickbooks["Item"] = {
        "1": {"Id": "1", "Name": "Managed Services", "Active": True, "UnitPrice": 100, "Type": "Service",
              "MetaData": _meta()},
        "2": {"Id": "2", "Name": "Legacy Backup Plan", "Active": False, "UnitPrice": 20, "Type": "Service",
              "MetaData": _meta()},
    }
    quickbooks["Invoice"] = {str(100 + n): _invoice(str(100 + n), str(n)) for n in (1, 2, 3)}
    quickbooks["Payment"] = {"201": {
        "Id": "201", "TxnDate": "2026-09-10", "CustomerRef": {"value": "1"}, "TotalAmt": 100, "UnappliedAmt": 0,
        "MetaData": _meta(), "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": "101", "TxnType": "Invoice"}]}]}}
    quickbooks["TimeActivity"] = {"301": time_entry("301", "3", hours=2)}
    superops: dict[str, dict] = {name: {} for name in SUPEROPS_LISTS}
    return World({"seed": 1, "realm_id": realm_id}, superops, quickbooks, {})


def time_entry(entry_id: str, customer_id: str, hours: int, stamp: str = STAMP) -> dict:
    return {"Id": entry_id, "TxnDate": "2026-09-15", "NameOf": "Employee",
            "EmployeeRef": {"value": "55", "name": "Pat Tech"}, "CustomerRef": {"value": customer_id},
            "Hours": hours, "Minutes": 0, "BillableStatus": "Billable", "HourlyRate": 120,
            "Description": "On-site visit", "MetaData": {"CreateTime": stamp, "LastUpdatedTime": stamp}}


def connect(sandbox: Sandbox, realm: str) -> None:
    """Connect one company through the OAuth flow: the consent screen picks `realm`."""
    sandbox.consent_realm = realm
    assert connect_quickbooks() == realm


def revoke(realm: str) -> None:
    """What a company disconnected in QuickBooks looks like to us: its access token has run
    out and Intuit refuses its refresh token."""
    connection = QuickBooksConnection.objects.get(realm_id=realm)
    connection.refresh_token = "rt-revoked"
    connection.access_expires_at = connection.access_expires_at - timedelta(days=2)
    connection.save()


def synced(run):
    assert run.status == "succeeded", run.error
    return run


@pytest.fixture
def two_companies(make_sandbox):
    sandbox = Sandbox(company(REALM_A))
    sandbox.add_company(company(REALM_B, names=("Zeta Clinic", "Old Mill", "Gamma Works")))
    make_sandbox(sandbox, qb_page_size=2)
    connect(sandbox, REALM_A)
    connect(sandbox, REALM_B)
    synced(sync_source("quickbooks"))
    return sandbox


def rows(model, realm: str, **filters):
    return model.objects.filter(source="quickbooks", realm=realm, **filters)


def test_the_same_id_in_two_companies_is_two_rows_pointing_at_their_own_customers(two_companies):
    for realm, name in ((REALM_A, "Acme Dental"), (REALM_B, "Zeta Clinic")):
        assert rows(Customer, realm).count() == 3
        assert rows(Customer, realm, external_id="1").get().display_name == name
        invoice = rows(Invoice, realm, external_id="101").get()
        assert (invoice.customer.realm, invoice.customer.display_name) == (realm, name)
        payment = rows(Payment, realm, external_id="201").get()
        assert payment.customer_id == invoice.customer_id
        assert payment.applications.get().invoice_id == invoice.pk
        assert rows(Worklog, realm, external_id="301").get().customer.realm == realm
    assert Customer.objects.count() == 6 and Invoice.objects.count() == 6


def test_a_full_read_of_one_company_deletes_nothing_of_the_other(two_companies):
    sandbox = two_companies
    del sandbox.worlds[REALM_A].quickbooks["Invoice"]["103"]  # gone from company A only
    run = synced(sync_source("quickbooks", full=True, realm_id=REALM_A))
    assert run.deleted == 1
    assert rows(Invoice, REALM_A, external_id="103").get().deleted_at_source is not None
    assert not rows(Invoice, REALM_B, deleted_at_source__isnull=False).exists()
    assert not rows(Customer, REALM_B, deleted_at_source__isnull=False).exists()
    # Reading company B in full deletes nothing of A's either, and finds nothing missing.
    assert synced(sync_source("quickbooks", full=True, realm_id=REALM_B)).deleted == 0
    assert rows(Invoice, REALM_A, deleted_at_source__isnull=True).count() == 2


def test_each_company_has_its_own_watermarks(two_companies):
    sandbox = two_companies
    sandbox.worlds[REALM_B].edit_qb("Invoice", "102", PrivateNote="Corrected in B")
    run = synced(sync_source("quickbooks"))
    assert run.updated == 1
    assert rows(Invoice, REALM_B, external_id="102").get().memo == "Corrected in B"
    assert rows(Invoice, REALM_A, external_id="102").get().memo == ""


def test_customers_link_within_their_own_company(two_companies):
    acme = Client.objects.create(source="superops", external_id="4001", name="Acme Dental")
    zeta = Client.objects.create(source="superops", external_id="4002", name="Zeta Clinic")
    gamma = Client.objects.create(source="superops", external_id="4003", name="Gamma Holdings")
    # SuperOps links a client to QuickBooks customer "3" without saying which company: both
    # companies have a customer 3, so the link decides nothing.
    CustomerLink.objects.create(quickbooks_customer_id="3", account_id="4003")
    synced(sync_source("quickbooks"))
    assert rows(Customer, REALM_A, external_id="1").get().client == acme
    assert rows(Customer, REALM_B, external_id="1").get().client == zeta
    assert rows(Customer, REALM_B, external_id="3").get().client != gamma
    assert rows(Invoice, REALM_A, external_id="101").get().client == acme
    assert rows(Invoice, REALM_B, external_id="101").get().client == zeta


def test_a_company_with_a_revoked_token_does_not_stop_the_other(two_companies):
    sandbox = two_companies
    revoke(REALM_B)
    sandbox.worlds[REALM_A].edit_qb("Invoice", "101", PrivateNote="Read despite B")
    sandbox.worlds[REALM_B].edit_qb("Invoice", "101", PrivateNote="Not read")
    run = sync_source("quickbooks")
    assert run.status == "partial"
    assert REALM_B in run.error and "connect it again" in run.error
    assert rows(Invoice, REALM_A, external_id="101").get().memo == "Read despite B"
    assert rows(Invoice, REALM_B, external_id="101").get().memo == ""
    assert "connect it again" in QuickBooksConnection.objects.get(realm_id=REALM_B).last_error
    assert QuickBooksConnection.objects.get(realm_id=REALM_A).last_error == ""
    # Every company failing fails the run.
    revoke(REALM_A)
    assert sync_source("quickbooks").status == "failed"


def test_rows_without_a_company_are_given_to_the_one_company_connected(make_sandbox):
    # A customer loaded before rows carried their company (or by import_dump from files).
    Customer.objects.create(source="quickbooks", external_id="1", display_name="Acme Dental")
    sandbox = make_sandbox(company(REALM_A))
    connect(sandbox, REALM_A)
    synced(sync_source("quickbooks"))
    assert Customer.objects.count() == 3  # customer 1 was given to the company, not read again
    assert set(Customer.objects.values_list("realm", flat=True)) == {REALM_A}
    # With two companies connected, which one such a row belongs to is unknown: it stays.
    Customer.objects.create(source="quickbooks", external_id="9", display_name="Unknown")
    sandbox.add_company(company(REALM_B))
    connect(sandbox, REALM_B)
    synced(sync_source("quickbooks"))
    assert Customer.objects.get(external_id="9").realm == ""


def test_each_company_refreshes_its_own_tokens(two_companies):
    sandbox = two_companies
    sandbox.expire_access_tokens()  # an hour later: both companies refresh, each with its own token
    sandbox.worlds[REALM_A].edit_qb("Invoice", "101", PrivateNote="A after refresh")
    sandbox.worlds[REALM_B].edit_qb("Invoice", "101", PrivateNote="B after refresh")
    synced(sync_source("quickbooks"))
    assert sandbox.refreshes == 2
    assert rows(Invoice, REALM_A, external_id="101").get().memo == "A after refresh"
    assert rows(Invoice, REALM_B, external_id="101").get().memo == "B after refresh"



def test_an_access_token_works_only_for_the_company_it_was_issued_for(two_companies, settings):
    token_a = TokenSource(REALM_A).current()
    query = {"query": "SELECT COUNT(*) FROM Customer", "minorversion": "75"}
    headers = {"Authorization": f"Bearer {token_a}", "Accept": "application/json"}
    own = httpx.get(f"{settings.QUICKBOOKS_API_BASE}/v3/company/{REALM_A}/query", params=query, headers=headers)
    other = httpx.get(f"{settings.QUICKBOOKS_API_BASE}/v3/company/{REALM_B}/query", params=query, headers=headers)
    assert own.status_code == 200 and own.json()["QueryResponse"]["totalCount"] == 2  # the inactive one hidden
    assert other.status_code == 403


def test_a_record_set_aside_in_one_company_stays_set_aside_when_the_other_loads_its_id(make_sandbox):
    bad_a = company(REALM_A)
    broken = _invoice("104", "1")
    del broken["CustomerRef"]  # an invoice naming no customer cannot load
    bad_a.quickbooks["Invoice"]["104"] = broken
    good_b = company(REALM_B, names=("Zeta Clinic", "Old Mill", "Gamma Works"))
    good_b.quickbooks["Invoice"]["104"] = _invoice("104", "1")
    sandbox = Sandbox(bad_a)
    sandbox.add_company(good_b)
    make_sandbox(sandbox, qb_page_size=2)
    connect(sandbox, REALM_A)
    connect(sandbox, REALM_B)
    for _ in range(2):
        run = sync_source("quickbooks", full=True)
        assert (run.status, run.set_aside) == ("partial", 1), run.error
        reject = RejectedRecord.objects.get()
        assert (reject.realm, reject.external_id, reject.resolved) == (REALM_A, "104", False)
        assert rows(Invoice, REALM_B, external_id="104").exists()
        assert not rows(Invoice, REALM_A, external_id="104").exists()


def test_merging_an_item_moves_its_invoice_lines_in_that_company_only(two_companies):
    from clients.models import InvoiceLine, ServiceItem
    from integrations.quickbooks.webhooks import merge

    def lines_of(realm: str, item_id: str) -> int:
        return InvoiceLine.objects.filter(service_item__source="quickbooks", service_item__realm=realm,
                                          service_item__external_id=item_id).count()

    assert (lines_of(REALM_A, "1"), lines_of(REALM_A, "2"), lines_of(REALM_B, "1")) == (3, 0, 3)
    run = SyncRun.objects.create(source="quickbooks", trigger="webhook")
    assert merge(run, "Item", REALM_A, merged_id="1", survivor_id="2") == 3
    assert (lines_of(REALM_A, "1"), lines_of(REALM_A, "2"), lines_of(REALM_B, "1")) == (0, 3, 3)
    merged = ServiceItem.objects.get(source="quickbooks", realm=REALM_A, external_id="1")
    assert merged.deleted_at_source is not None
    assert ServiceItem.objects.get(source="quickbooks", realm=REALM_B, external_id="1").deleted_at_source is None
