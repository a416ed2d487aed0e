"""The sandbox servers over real HTTP on 127.0.0.1: SuperOps' GraphQL rules and paging,
QuickBooks' query endpoint, CDC and OAuth, and every fault switch."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

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
def sandbox(make_sandbox):
    return make_sandbox(tiny_world())


@pytest.fixture
def url(sandbox):
    return sandbox.url


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


def test_quickbooks_query_language_subset(url, sandbox):
    token = sandbox.issue_tokens()[0]

    def run(statement, **params):
        return qb(url, sandbox, "query", token, query=statement, **params).json()

    assert run("select count(*) from invoice where Id in ('1000', '1001', '9')")["QueryResponse"] == {"totalCount": 2}
    newest = run("SELECT * FROM Invoice WHERE Id >= '2490' ORDERBY Id DESC MAXRESULTS 3")["QueryResponse"]
    assert [r["Id"] for r in newest["Invoice"]] == ["3499", "3498", "3497"]  # Ids compare as numbers
    named = run("SELECT Id, TotalAmt FROM Invoice WHERE CustomerRef = '58' STARTPOSITION 11 MAXRESULTS 2")
    assert named["QueryResponse"]["Invoice"] == [{"domain": "QBO", "sparse": True, "Id": "1010", "TotalAmt": 100},
                                                 {"domain": "QBO", "sparse": True, "Id": "1011", "TotalAmt": 100}]
    assert run("SELECT * FROM Invoice WHERE Id = '1'") == {"QueryResponse": {}, "time": "2026-10-28T10:00:00.000-07:00"}
    # A date-time without an offset is in the company's zone (Pacific): 09:00 there, not UTC.
    zoneless = run("SELECT COUNT(*) FROM Invoice WHERE MetaData.LastUpdatedTime > '2026-10-27T09:00:00'")
    assert zoneless["QueryResponse"]["totalCount"] == 89
    sandbox.world.quickbooks["Customer"]["7"] = {"Id": "7", "DisplayName": "O'Brien Dental", "Active": True}
    sandbox.world.quickbooks["Customer"]["8"] = {"Id": "8", "DisplayName": "Brien Tools (deleted)", "Active": False}
    found = run(r"SELECT * FROM Customer WHERE DisplayName = 'o\'brien dental'")["QueryResponse"]["Customer"]
    assert [c["Id"] for c in found] == ["7"]
    assert run("SELECT COUNT(*) FROM Customer WHERE DisplayName LIKE '%Brien%'")["QueryResponse"]["totalCount"] == 1
    assert run("SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)")["QueryResponse"]["totalCount"] == 2
    posted = httpx.post(f"{url}/v3/company/{sandbox.world.realm_id}/query", params={"minorversion": "75"},
                        content=b"SELECT COUNT(*) FROM Customer WHERE Active = false",
                        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/text"}).json()
    assert posted["QueryResponse"]["totalCount"] == 1
    unknown = qb(url, sandbox, "query", token, query="SELECT * FROM Invoice WHERE Colour = 'red'")
    assert unknown.status_code == 400 and unknown.json()["Fault"]["Error"][0] == {
        "Message": "Invalid query", "Detail": "QueryValidationError: Property Colour not found for Entity Invoice",
        "code": "4001"}
    unparsed = run("SELECT * FROM Invoice ORDERBY")["Fault"]["Error"][0]
    assert unparsed["code"] == "4000" and unparsed["Detail"].startswith("QueryParserError: ")


def test_quickbooks_cdc_truncates_by_id_not_oldest_first(url, sandbox):
    token = sandbox.issue_tokens()[0]
    before = sandbox.world.clock.isoformat()
    for invoice_id in ("1004", "1003", "1002", "1001"):  # the lowest Id changes last
        sandbox.world.edit_qb("Invoice", invoice_id, PrivateNote="edited")
    sandbox.cdc_limit = 2
    body = qb(url, sandbox, "cdc", token, entities="Invoice", changedSince=before).json()
    assert [r["Id"] for r in body["CDCResponse"][0]["QueryResponse"][0]["Invoice"]] == ["1001", "1002"]
    refused = qb(url, sandbox, "cdc", token, entities="Invoice,TimeActivity", changedSince=before)
    assert refused.status_code == 400 and refused.json()["Fault"]["Error"][0]["code"] == "500"


def test_quickbooks_gateway_faults_have_intuit_bodies(url, sandbox):
    token = sandbox.issue_tokens()[0]
    other = httpx.get(f"{url}/v3/company/123/query", params={"query": "SELECT * FROM Invoice", "minorversion": "75"},
                      headers={"Authorization": f"Bearer {token}"})
    assert other.status_code == 403 and other.json()["fault"]["error"][0]["code"] == "3100"
    sandbox.expire_access_tokens()
    expired = qb(url, sandbox, "query", token, query="SELECT * FROM Invoice")
    assert expired.status_code == 401
    assert expired.json()["fault"]["error"][0]["message"] == (
        "message=AuthenticationFailed; errorCode=003200; statusCode=401")


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


# --- SuperOps GraphQL with graphql-core (issue 10) ------------------------------------------
def graphql_post(url, query, variables=None):
    return httpx.post(f"{url}/msp", json={"query": query, "variables": variables}, headers=SO_HEADERS).json()


def test_superops_answers_aliases_fragments_literals_typename_and_two_roots(url):
    body = graphql_post(url, """
        fragment Brief on Ticket { id: ticketId subject __typename }
        query Two {
          newest: getTicketList(input: {page: 1, pageSize: 2, sort: [{attribute: "ticketId", order: DESC}]}) {
            tickets { ...Brief client } listInfo { totalCount sort { attribute order } }
          }
          getClientList(input: {page: 1, pageSize: 5}) { clients { accountId ... on Client { name } } }
        }""")
    assert "errors" not in body, body
    newest = body["data"]["newest"]
    assert newest["tickets"] == [
        {"id": "100249", "subject": "Ticket 249", "__typename": "Ticket", "client": {"accountId": "4000"}},
        {"id": "100248", "subject": "Ticket 248", "__typename": "Ticket", "client": {"accountId": "4000"}}]
    assert newest["listInfo"] == {"totalCount": 250, "sort": [{"attribute": "ticketId", "order": "DESC"}]}
    assert [c["name"] for c in body["data"]["getClientList"]["clients"]] == ["Client 0", "Client 1", "Client 2"]


@pytest.mark.parametrize("query,variables,message", [
    (TICKETS, {"input": {"page": "one"}},
     "Variable '$input' got invalid value 'one' at 'input.page'; Int cannot represent non-integer value: 'one'"),
    ("query { getTicketList { tickets { ticketId } } }", None,
     "Field 'getTicketList' argument 'input' of type 'ListInfoInput!' is required, but it was not provided."),
    ("query { getClientList(input: {page: 1}) { clients { accountId updatedTime } } }", None,
     "Cannot query field 'updatedTime' on type 'Client'."),
    ("query { getTicketList(input: {page: 1}, colour: 2) { tickets { ticketId } } }", None,
     "Unknown argument 'colour' on field 'Query.getTicketList'."),
    ("query { getTicketList(input: {page: 1} { tickets }", None, "Syntax Error"),
    ("{ __schema { queryType { name } } }", None, "GraphQL introspection has been disabled"),
])
def test_superops_refuses_invalid_documents_with_graphql_errors_and_no_data(url, query, variables, message):
    body = graphql_post(url, query, variables)
    assert "data" not in body
    assert message in body["errors"][0]["message"]


def test_superops_sort_condition_module_and_vocabularies(url, sandbox):
    ascending = {"page": 1, "pageSize": 3, "sort": [{"attribute": "ticketId", "order": "ASC"}]}
    assert [t["ticketId"] for t in tickets_body(url, ascending)["tickets"]] == ["100000", "100001", "100002"]
    # Without a sort, the most recently updated come first.
    assert tickets_body(url, {"page": 1, "pageSize": 1})["tickets"][0]["updatedTime"] == "2026-10-28T15:00:00"
    # A condition on an attribute the type lacks, or a sort on one, is a GraphQL error.
    clients = "query q($input: ListInfoInput!) { getClientList(input: $input) { clients { accountId } } }"
    refused = graphql_post(url, clients, {"input": {"condition": {
        "attribute": "updatedTime", "operator": "greaterThan", "value": "2026-01-01T00:00:00"}}})
    assert refused["data"] == {"getClientList": None}
    assert "Attribute 'updatedTime' cannot be used in a condition of getClientList" in refused["errors"][0]["message"]
    assert "cannot be used to sort" in graphql_post(url, clients, {"input": {"sort": [{"attribute": "colour"}]}})[
        "errors"][0]["message"]
    # Worklogs come per module; JSON scalars pass through as stored.
    work = {"itemId": "1", "status": "PENDING", "serviceItem": {"itemId": "7"}, "billable": True, "afterHours": False,
            "qty": "1.00", "billDateTime": "2026-10-01T10:00:00", "technician": {"userId": "9", "tags": [1, None]}}
    sandbox.world.superops["getWorklogEntries"] = {
        "1": dict(work, workItem={"workId": "100000", "module": "TICKET"}),
        "2": dict(work, itemId="2", workItem={"workId": "77", "module": "PROJECT", "client": {"accountId": "4001"}})}
    sandbox.world.tick()
    entries = """query w($input: GetWorklogEntriesInput!) { getWorklogEntries(input: $input) {
        entries { itemId technician workItem } } }"""
    project = graphql_post(url, entries, {"input": {"module": "PROJECT", "listInfo": {"page": 1}}})
    assert project["data"]["getWorklogEntries"]["entries"] == [
        {"itemId": "2", "technician": {"userId": "9", "tags": [1, None]},
         "workItem": {"workId": "77", "module": "PROJECT", "client": {"accountId": "4001"}}}]
    sandbox.world.superops["getPriorityList"] = {"1": {"id": "1", "name": "Urgent", "colorCode": "#f00"}}
    assert graphql_post(url, "{ getPriorityList { name } getClientStageList { name } }")["data"] == {
        "getPriorityList": [{"name": "Urgent"}], "getClientStageList": []}


def test_superops_refuse_conditions_fault(url, sandbox):
    condition = {"attribute": "updatedTime", "operator": "greaterThan", "value": "2026-10-20T15:00:00"}
    sandbox.faults.update(refuse_conditions=True)
    refused = tickets(url, 1, condition=condition).json()
    assert refused["data"] == {"getTicketList": None} and refused["errors"]
    assert tickets(url, 1).json()["data"]["getTicketList"]["listInfo"]["totalCount"] == 250  # no condition: fine
    assert sandbox.faults_served == {"refused_condition": 1}


def tickets_body(url, list_info):
    return graphql_post(url, TICKETS, {"input": list_info})["data"]["getTicketList"]
