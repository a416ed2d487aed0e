"""The sandbox servers over real HTTP on 127.0.0.1: SuperOps' GraphQL rules and paging,
QuickBooks' query endpoint, CDC and OAuth, and every fault switch."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from integrations.sandbox import Sandbox, serve
from integrations.sandbox.server import SandboxTransport
from integrations.sandbox.world import QUICKBOOKS_ENTITIES, SUPEROPS_LISTS, World

ROOT = Path(__file__).resolve().parent.parent
TICKETS = """query getTicketList($input: ListInfoInput!) { getTicketList(input: $input) {
  tickets { ticketId subject client updatedTime } listInfo { page pageSize hasMore totalCount } } }"""
SO_HEADERS = {"Authorization": "Bearer sandbox-token", "CustomerSubDomain": "sandbox"}


def tiny_world() -> World:
    superops = {query: {} for query in SUPEROPS_LISTS}
    superops["getClientList"] = {str(4000 + i): {"accountId": str(4000 + i), "name": f"Client {i}",
                                                 "updatedTime": "2026-10-10T12:00:00"} for i in range(3)}
    superops["getTicketList"] = {
        str(100000 + i): {"ticketId": str(100000 + i), "subject": f"Ticket {i}", "client": {"accountId": "4000"},
                          "updatedTime": f"2026-10-{1 + i % 28:02d}T15:00:00"} for i in range(250)}
    quickbooks = {entity: {} for entity in QUICKBOOKS_ENTITIES}
    quickbooks["Invoice"] = {
        str(1000 + i): {"Id": str(1000 + i), "TxnDate": "2026-10-01", "CustomerRef": {"value": "58"}, "TotalAmt": 100,
                        "MetaData": {"LastUpdatedTime": f"2026-10-{1 + i % 28:02d}T09:00:00-07:00"}}
        for i in range(2500)}
    return World({"seed": 1}, superops, quickbooks, {})


@pytest.fixture
def sandbox():
    return Sandbox(tiny_world())


@pytest.fixture
def url(sandbox):
    with serve(sandbox) as base:
        yield base


def tickets(url, page, page_size=100, condition=None, headers=SO_HEADERS, query=TICKETS):
    list_info = {"page": page, "pageSize": page_size}
    if condition:
        list_info["condition"] = condition
    return httpx.post(f"{url}/msp", json={"query": query, "variables": {"input": list_info}}, headers=headers)


def qb(url, sandbox, path, token=None, **params):
    token = token or sandbox.issue_tokens()[0]
    params.setdefault("minorversion", "75")
    return httpx.get(f"{url}/v3/company/{sandbox.world.realm_id}/{path}", params=params,
                     headers={"Authorization": f"Bearer {token}"})


def test_superops_pages_of_100_until_has_more_is_false(url):
    pages = [tickets(url, n).json()["data"]["getTicketList"] for n in (1, 2, 3)]
    assert [len(p["tickets"]) for p in pages] == [100, 100, 50]
    assert [p["listInfo"]["hasMore"] for p in pages] == [True, True, False]
    assert pages[0]["listInfo"]["totalCount"] == 250
    # Only the selected fields come back; linked objects are whole JSON values.
    assert set(pages[0]["tickets"][0]) == {"ticketId", "subject", "client", "updatedTime"}
    assert pages[0]["tickets"][0]["client"] == {"accountId": "4000"}
    assert "pageSize" in tickets(url, 1, page_size=101).json()["errors"][0]["message"]


def test_superops_refuses_sub_selections_of_json_scalars_and_bare_object_types(url):
    sub = TICKETS.replace("client updatedTime", "client { accountId } updatedTime")
    assert tickets(url, 1, query=sub).json()["errors"][0]["message"] == (
        "Field 'client' must not have a selection since type 'JSON' has no subfields.")
    items = """query q($input: ListInfoInput!) { getServiceItemList(input: $input) { items { itemId category } } }"""
    assert "must have a selection of subfields" in tickets(url, 1, query=items).json()["errors"][0]["message"]
    unknown = TICKETS.replace("subject", "colour")
    assert "Cannot query field 'colour'" in tickets(url, 1, query=unknown).json()["errors"][0]["message"]


def test_superops_bad_token_is_401_and_bad_subdomain_is_400(url):
    assert tickets(url, 1, headers={**SO_HEADERS, "Authorization": "Bearer wrong"}).status_code == 401
    assert tickets(url, 1, headers={**SO_HEADERS, "CustomerSubDomain": "someone-else"}).status_code == 400


def test_superops_updated_time_condition(url):
    condition = {"attribute": "updatedTime", "operator": "greaterThan", "value": "2026-10-20T15:00:00"}
    info = tickets(url, 1, condition=condition).json()["data"]["getTicketList"]["listInfo"]
    # Days 21..28 of each 28-ticket cycle: 8 per full cycle (8 cycles) + the remainder's days 21..26.
    assert info["totalCount"] == 8 * 8 + 6


def test_quickbooks_query_pages_and_last_updated_filter(url, sandbox):
    token = sandbox.issue_tokens()[0]
    first = qb(url, sandbox, "query", token, query="SELECT * FROM Invoice STARTPOSITION 1 MAXRESULTS 1000").json()
    third = qb(url, sandbox, "query", token, query="SELECT * FROM Invoice STARTPOSITION 2001 MAXRESULTS 1000").json()
    assert len(first["QueryResponse"]["Invoice"]) == 1000
    assert len(third["QueryResponse"]["Invoice"]) == 500
    since = qb(url, sandbox, "query", token, query=(
        "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2026-10-27T09:00:00-07:00' "
        "STARTPOSITION 1 MAXRESULTS 1000")).json()
    assert len(since["QueryResponse"]["Invoice"]) == 89  # day 28 of each of the 89 cycles of 28
    assert qb(url, sandbox, "query", token, query="SELECT * FROM Invoice MAXRESULTS 1001").status_code == 400
    assert qb(url, sandbox, "query", token, query="SELECT * FROM Invoice", minorversion="").status_code == 400
    assert qb(url, sandbox, "query", "not-a-token", query="SELECT * FROM Invoice").status_code == 401


def test_quickbooks_cdc_reports_changes_and_deletions_and_refuses_old_watermarks(url, sandbox):
    token = sandbox.issue_tokens()[0]
    before = sandbox.world.clock.isoformat()
    changes = sandbox.world.mutate(seed=3, edits=2, deletions=1, new_tickets=0)
    body = qb(url, sandbox, "cdc", token, entities="Invoice,Payment", changedSince=before).json()
    invoices = body["CDCResponse"][0]["QueryResponse"][0]["Invoice"]
    assert sorted(r["Id"] for r in invoices if r.get("status") != "Deleted") == sorted(
        changes.edited[("quickbooks", "Invoice")])
    assert [r["Id"] for r in invoices if r.get("status") == "Deleted"] == changes.deleted[("quickbooks", "Invoice")]
    old = qb(url, sandbox, "cdc", token, entities="Invoice", changedSince="2026-01-01T00:00:00-08:00")
    assert old.status_code == 400 and "30 days" in old.text
    sandbox.cdc_limit = 2
    body = qb(url, sandbox, "cdc", token, entities="Invoice", changedSince=before).json()
    assert len(body["CDCResponse"][0]["QueryResponse"][0]["Invoice"]) == 2


def test_oauth_code_exchange_and_rotating_refresh_tokens(url, sandbox):
    discovery = httpx.get(f"{url}/.well-known/openid_configuration").json()
    assert discovery["token_endpoint"] == f"{url}/oauth2/v1/tokens/bearer"
    back = httpx.get(discovery["authorization_endpoint"], params={
        "client_id": "sandbox-client", "response_type": "code", "redirect_uri": "http://app/cb", "state": "s1"})
    assert back.status_code == 302
    params = httpx.URL(back.headers["Location"]).params
    assert params["state"] == "s1" and params["realmId"] == sandbox.world.realm_id
    basic = {"Authorization": "Basic " + base64.b64encode(b"sandbox-client:sandbox-secret").decode()}
    first = httpx.post(discovery["token_endpoint"], headers=basic,
                       data={"grant_type": "authorization_code", "code": params["code"], "redirect_uri": "http://app/cb"})
    assert first.status_code == 200
    second = httpx.post(discovery["token_endpoint"], headers=basic,
                        data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]})
    assert second.status_code == 200 and second.json()["refresh_token"] != first.json()["refresh_token"]
    stale = httpx.post(discovery["token_endpoint"], headers=basic,
                       data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]})
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"


def test_fault_switches_misbehave_as_described(url, sandbox):
    token = sandbox.issue_tokens()[0]
    sandbox.faults.update(rate_limit_every=1)
    limited = tickets(url, 1)
    assert limited.status_code == 200
    assert limited.json()["errors"][0]["extensions"]["clientError"][0]["code"] == "rate_limit_exceeded"
    assert qb(url, sandbox, "query", token, query="SELECT * FROM Invoice").status_code == 429
    sandbox.faults.update(rate_limit_every=0, error_burst_every=4, error_burst_length=2)
    statuses = [tickets(url, 1).status_code for _ in range(4)]
    assert statuses.count(503) == 2
    sandbox.faults.update(error_burst_every=0, drop_every=1)
    with pytest.raises(httpx.RemoteProtocolError):
        tickets(url, 1)
    sandbox.faults.update(drop_every=0, slow_every=1, slow_seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{url}/msp", json={"query": TICKETS, "variables": {"input": {"page": 1, "pageSize": 100}}},
                   headers=SO_HEADERS, timeout=0.3)
    sandbox.faults.update(slow_every=0, expire_token_after=1)
    qb(url, sandbox, "query", token, query="SELECT * FROM Invoice")
    assert qb(url, sandbox, "query", token, query="SELECT * FROM Invoice").status_code == 401
    assert sandbox.faults_served == {"rate": 2, "error": 2, "drop": 1, "slow": 1}


def test_duplicated_and_reordered_pages_still_cover_every_record_once_or_more(url, sandbox):
    sandbox.faults.update(duplicate_records=3, reorder=True)
    seen, page = [], 1
    while True:
        body = tickets(url, page).json()["data"]["getTicketList"]
        seen += [t["ticketId"] for t in body["tickets"]]
        if not body["listInfo"]["hasMore"]:
            break
        page += 1
    assert set(seen) == set(sandbox.world.superops["getTicketList"])
    assert len(seen) > len(set(seen))  # duplicates were served
    assert seen[:100] != sorted(seen[:100])  # and out of order


def test_in_process_transport_answers_like_the_server(url, sandbox):
    over_http = tickets(url, 2).json()
    in_process = httpx.Client(transport=SandboxTransport(sandbox)).post(
        "http://sandbox/msp", json={"query": TICKETS, "variables": {"input": {"page": 2, "pageSize": 100}}},
        headers=SO_HEADERS).json()
    assert in_process == over_http


def test_runsandbox_serves_a_dump_folder(tmp_path):
    tiny_world().write_dump(tmp_path / "world")
    process = subprocess.Popen([sys.executable, "manage.py", "runsandbox", str(tmp_path / "world"), "--port", "0"],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("Sandbox serving"), line
        base = line.split(" at ")[1].split()[0]
        assert tickets(base, 3).json()["data"]["getTicketList"]["listInfo"]["totalCount"] == 250
    finally:
        process.terminate()
        process.wait(10)
