"""The QuickBooks Online side of the sandbox: the OAuth 2.0 endpoints intuit-oauth talks to
(discovery document, authorize, token with rotating refresh tokens), the query endpoint,
Change Data Capture and single-entity reads."""

from __future__ import annotations

import base64
import copy
import re
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from .http import Request, Response
from .world import QB_PAGE, QUICKBOOKS_ENTITIES, parse_time, qb_time, qb_updated

if TYPE_CHECKING:
    from .server import Sandbox

CDC_LIMIT = 1000
CDC_LOOKBACK = timedelta(days=30)
_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<what>\*|COUNT\(\*\))\s+FROM\s+(?P<entity>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDERBY\s+(?P<order>[\w.]+(?:\s+(?:ASC|DESC))?))?"
    r"(?:\s+STARTPOSITION\s+(?P<start>\d+))?(?:\s+MAXRESULTS\s+(?P<max>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(r"^\s*(?P<field>[\w.]+)\s*(?P<op>>=|<=|>|<|=|IN)\s*(?P<value>.+?)\s*$", re.IGNORECASE)


def fault(status: int, message: str, code: str, detail: str = "", kind: str = "ValidationFault") -> Response:
    return Response.json(status, {"Fault": {"Error": [{"Message": message, "Detail": detail or message,
                                                         "code": code}], "type": kind}, "time": ""})


def rate_limited() -> Response:
    return fault(429, "message=ThrottleExceeded; errorCode=003001; statusCode=429", "3001",
                 "The request limit was reached.", "SERVICE")


# --- OAuth 2.0
def discovery(sandbox: Sandbox, request: Request) -> Response:
    base = f"http://{request.headers.get('host', '127.0.0.1')}"
    return Response.json(200, {
        "issuer": base, "authorization_endpoint": f"{base}/oauth2/v1/authorize",
        "token_endpoint": f"{base}/oauth2/v1/tokens/bearer", "revocation_endpoint": f"{base}/oauth2/v1/tokens/revoke",
        "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo", "jwks_uri": f"{base}/oauth2/v1/keys"})


def authorize(sandbox: Sandbox, request: Request) -> Response:
    """Consent is given at once: straight back to the app with a code and the realm."""
    q = request.query
    if q.get("client_id") != sandbox.qb_client_id or q.get("response_type") != "code":
        return Response.json(400, {"error": "invalid_client"})
    code = secrets.token_urlsafe(16)
    sandbox.oauth_codes[code] = q.get("redirect_uri", "")
    target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q.get("state", ""),
                                                  "realmId": sandbox.world.realm_id})
    return Response(302, b"", {"Location": target})


def token(sandbox: Sandbox, request: Request) -> Response:
    expected = base64.b64encode(f"{sandbox.qb_client_id}:{sandbox.qb_client_secret}".encode()).decode()
    if request.headers.get("authorization") != f"Basic {expected}":
        return Response.json(401, {"error": "invalid_client"})
    form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
    with sandbox.lock:
        if form.get("grant_type") == "authorization_code":
            if sandbox.oauth_codes.pop(form.get("code", ""), None) is None:
                return Response.json(400, {"error": "invalid_grant"})
        elif form.get("grant_type") == "refresh_token":
            # Refresh tokens rotate: only the newest one works, as Intuit enforces in time.
            if not form.get("refresh_token") or form["refresh_token"] != sandbox.refresh_token:
                return Response.json(400, {"error": "invalid_grant"})
            sandbox.refreshes += 1
        else:
            return Response.json(400, {"error": "unsupported_grant_type"})
        access, refresh = sandbox.issue_tokens()
    return Response.json(200, {"access_token": access, "refresh_token": refresh, "token_type": "bearer",
                               "expires_in": 3600, "x_refresh_token_expires_in": 8726400})


# --- Accounting API
def api(sandbox: Sandbox, request: Request, realm: str, rest: str) -> Response:
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or auth[7:] not in sandbox.access_tokens:
        return fault(401, "message=AuthenticationFailed; errorCode=003200; statusCode=401", "3200",
                     "Token expired or invalid", "AUTHENTICATION")
    if realm != sandbox.world.realm_id:
        return fault(403, "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403", "3100",
                     "Unknown realm", "AUTHORIZATION")
    if int(request.query.get("minorversion") or 0) < 75:
        return fault(400, "minorversion 75 or later is required by this sandbox", "2010")
    if rest == "query":
        text = request.query.get("query") or request.body.decode()
        return query(sandbox, text)
    if rest == "cdc":
        return cdc(sandbox, request.query.get("entities", ""), request.query.get("changedSince", ""))
    parts = rest.split("/")
    if len(parts) == 2:
        return read_one(sandbox, parts[0], parts[1])
    return fault(404, "Unsupported operation", "4000")


def _entity(name: str) -> str | None:
    return next((e for e in QUICKBOOKS_ENTITIES if e.lower() == name.lower()), None)


def query(sandbox: Sandbox, text: str) -> Response:
    match = _QUERY.match(text or "")
    entity = _entity(match["entity"]) if match else None
    if not match or not entity:
        return fault(400, "QueryParserError: Encountered an unsupported statement", "4000", text)
    records = list(sandbox.world.quickbooks[entity].values()) + sandbox.malformed_quickbooks(entity)
    for condition in re.split(r"\s+AND\s+", match["where"] or "", flags=re.IGNORECASE) if match["where"] else []:
        parsed = _CONDITION.match(condition)
        if not parsed:
            return fault(400, f"QueryParserError: cannot read {condition!r}", "4000")
        records = _apply(records, parsed["field"], parsed["op"].upper(), parsed["value"])
        if records is None:
            return fault(400, f"QueryValidationError: property {parsed['field']!r} is not queryable", "4001")
    time_now = qb_time(sandbox.world.clock)
    if match["what"].upper().startswith("COUNT"):
        return Response.json(200, {"QueryResponse": {"totalCount": len(records)}, "time": time_now})
    start = int(match["start"] or 1)
    size = int(match["max"] or 100)
    if size > QB_PAGE or start < 1:
        return fault(400, "QueryValidationError: MAXRESULTS may be at most 1000, STARTPOSITION at least 1", "4001")
    ordered = sandbox.faults.arrange(records, size, seed=size)
    # Clients page with STARTPOSITION 1, 1+size, ...; the page index drives the fault window.
    lo, hi = sandbox.faults.window(len(ordered), (start - 1) // size, size)
    chunk = ordered[lo:hi]
    if sandbox.faults.duplicate_records and lo > 0:
        sandbox.note("duplicate")
    if sandbox.faults.reorder and len(chunk) > 1:
        sandbox.note("reorder")
    body: dict = {"QueryResponse": {"startPosition": start, "maxResults": len(chunk)}, "time": time_now}
    if chunk:
        body["QueryResponse"][entity] = chunk
    return Response.json(200, body)


def _apply(records: list[dict], field: str, op: str, raw: str) -> list[dict] | None:
    if field.lower() == "metadata.lastupdatedtime":
        since = parse_time(raw.strip("'"))
        compare = {">": lambda a: a > since, ">=": lambda a: a >= since, "<": lambda a: a < since,
                   "<=": lambda a: a <= since}.get(op)
        if compare is None:
            return None
        return [r for r in records if qb_updated(r) and compare(qb_updated(r))]
    if field.lower() == "id":
        if op == "IN":
            wanted = {v.strip().strip("'") for v in raw.strip("()").split(",")}
        elif op == "=":
            wanted = {raw.strip("'")}
        else:
            return None
        return [r for r in records if str(r.get("Id")) in wanted]
    return None


def cdc(sandbox: Sandbox, entities: str, changed_since: str) -> Response:
    world = sandbox.world
    try:
        since = parse_time(changed_since)
    except ValueError:
        return fault(400, "changedSince is not a date-time", "2020")
    if since < world.clock - CDC_LOOKBACK:
        return fault(400, "changedSince cannot be more than 30 days in the past", "2020", changed_since)
    responses, left = [], sandbox.cdc_limit
    for name in [n.strip() for n in entities.split(",") if n.strip()]:
        entity = _entity(name)
        if not entity:
            return fault(400, f"Unsupported entity for CDC: {name}", "2020")
        changed = [(qb_updated(r), r) for r in world.quickbooks[entity].values() if qb_updated(r) and qb_updated(r) >= since]
        changed += [(when, {"Id": record_id, "status": "Deleted", "MetaData": {"LastUpdatedTime": qb_time(when)}})
                    for record_id, when in world.qb_deleted[entity].items() if when >= since]
        changed.sort(key=lambda pair: (pair[0], int(pair[1]["Id"]) if str(pair[1]["Id"]).isdigit() else 0))
        # At most 1,000 objects in one answer, oldest changes first, as Intuit truncates.
        kept = [copy.deepcopy(record) for _, record in changed[:left]]
        left -= len(kept)
        responses.append({entity: kept, "startPosition": 1, "maxResults": len(kept), "totalCount": len(kept)})
    return Response.json(200, {"CDCResponse": [{"QueryResponse": responses}], "time": qb_time(world.clock)})


def read_one(sandbox: Sandbox, name: str, record_id: str) -> Response:
    entity = _entity(name)
    record = sandbox.world.quickbooks.get(entity or "", {}).get(record_id)
    if record is None:
        return fault(400, "Object Not Found", "610", f"{name} {record_id} was not found or was deleted")
    return Response.json(200, {entity: record, "time": qb_time(sandbox.world.clock)})


def malformed(world, entity: str, count: int) -> list[dict]:
    """Invoices that name no customer: the mapping must set them aside."""
    if entity != "Invoice" or not world.quickbooks["Invoice"]:
        return []
    template = next(iter(world.quickbooks["Invoice"].values()))
    out = []
    for n in range(count):
        record = copy.deepcopy(template)
        record.update(Id=f"BAD-I{n}", DocNumber=f"BAD-{n}")
        record.pop("CustomerRef", None)
        out.append(record)
    return out
