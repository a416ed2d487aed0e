"""The QuickBooks Online side of the sandbox: the OAuth 2.0 endpoints intuit-oauth talks to
(discovery document, authorize, token with rotating refresh tokens), the query endpoint
(Intuit's query language, in qbql.py), Change Data Capture and single-entity reads, with
faults in the shapes Intuit sends them."""

from __future__ import annotations

import base64
import copy
import secrets
from datetime import datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from . import qbql
from .http import Request, Response
from .world import PACIFIC, QUICKBOOKS_ENTITIES, World, qb_time, qb_updated

if TYPE_CHECKING:
    from .server import Sandbox

CDC_LIMIT = 1000
CDC_LOOKBACK = timedelta(days=30)
# Entities Intuit's CDC does not cover (its change-data-capture page); read them by
# MetaData.LastUpdatedTime instead.
CDC_UNSUPPORTED = {name.lower(): name for name in ("TimeActivity", "JournalCode", "TaxAgency", "TaxCode", "TaxRate")}
# Name lists whose queries answer active records only unless the WHERE mentions Active.
WITH_ACTIVE = {"Customer", "Item", "Employee"}


def intuit_time(world: World | None) -> str:
    """The `time` of an answer: the company's zone, milliseconds, as Intuit writes it."""
    now = world.clock if world is not None else datetime.now(PACIFIC)
    return now.astimezone(PACIFIC).isoformat(timespec="milliseconds")


def fault(world: World | None, status: int, message: str, code: str, detail: str = "",
          kind: str = "ValidationFault", element: str | None = None) -> Response:
    """An Accounting API fault: {"Fault": {"Error": [...], "type"}, "time"}."""
    error = {"Message": message, "Detail": detail or message, "code": code}
    if element:
        error["element"] = element
    return Response.json(status, {"Fault": {"Error": [error], "type": kind}, "time": intuit_time(world)})


def gateway_fault(sandbox: Sandbox, status: int, message: str, detail: str | None, code: str,
                  kind: str) -> Response:
    """What Intuit's gateway answers before the company is reached (401, 403): lower-case
    keys, a millisecond epoch `time`, and the empty members of its response envelope."""
    world = getattr(sandbox, "world", None)
    now = world.clock if world is not None else datetime.now(PACIFIC)
    return Response.json(status, {
        "warnings": None, "intuitObject": None,
        "fault": {"error": [{"message": message, "detail": detail, "code": code, "element": None}], "type": kind},
        "report": None, "queryResponse": None, "batchItemResponse": [], "attachableResponse": [],
        "syncErrorResponse": None, "requestId": None, "time": int(now.timestamp() * 1000), "status": None,
        "cdcresponse": []})


def unauthorized(sandbox: Sandbox, token: str) -> Response:
    # A token this sandbox issued once (at-...) has expired; anything else is not a token.
    detail = (f"Token expired: {token[:40]}" if token.startswith("at-")
              else "Malformed bearer token: too short or too long")
    return gateway_fault(sandbox, 401, "message=AuthenticationFailed; errorCode=003200; statusCode=401", detail,
                         "3200", "AUTHENTICATION")


def rate_limited(world: World | None = None) -> Response:
    return fault(world, 429, "message=ThrottleExceeded; errorCode=003001; statusCode=429", "3001",
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
def world_for(sandbox: Sandbox, realm: str) -> World | None:
    """The company a realm id names (a sandbox may serve several, keyed by realm)."""
    worlds = getattr(sandbox, "worlds", None)
    if isinstance(worlds, dict) and worlds:
        return worlds.get(realm)
    return sandbox.world if realm == sandbox.world.realm_id else None


def api(sandbox: Sandbox, request: Request, realm: str, rest: str) -> Response:
    auth = request.headers.get("authorization", "")
    token = auth[7:] if auth.startswith("Bearer ") else ""
    if token not in sandbox.access_tokens:
        return unauthorized(sandbox, token)
    world = world_for(sandbox, realm)
    # An access token is issued for one company, as Intuit's are: another realm refuses it.
    if world is None or sandbox.access_tokens[token] != realm:
        return gateway_fault(sandbox, 403, "message=AuthorizationFailed; errorCode=003100; statusCode=403", None,
                             "3100", "SERVICE")
    minor = request.query.get("minorversion") or "0"
    if not minor.isdigit() or int(minor) < 75:
        return fault(world, 400, "Request has invalid or unsupported property", "2010",
                     "minorversion 75 or later is required by this sandbox")
    kind = rest.strip("/").lower()
    if kind == "query" and request.method in ("GET", "POST"):
        return query(sandbox, world, request.query.get("query") or request.body.decode(errors="replace"))
    if kind == "cdc" and request.method == "GET":
        return cdc(sandbox, world, request.query.get("entities"), request.query.get("changedSince"))
    parts = rest.strip("/").split("/")
    if len(parts) == 2 and request.method == "GET":
        return read_one(world, parts[0], parts[1])
    return fault(world, 400, "Unsupported Operation", "500",
                 f"Operation {request.method} {request.path} is not supported by this sandbox (it only reads).")


def _entity(name: str) -> str | None:
    return next((e for e in QUICKBOOKS_ENTITIES if e.lower() == name.lower()), None)


def query(sandbox: Sandbox, world: World, text: str) -> Response:
    def properties(entity: str) -> set[str]:  # what the first records carry
        return {key for record in islice(world.quickbooks.get(entity, {}).values(), 200) for key in record}

    try:
        parsed = qbql.parse(text, QUICKBOOKS_ENTITIES, properties)
    except qbql.QueryError as error:
        return fault(world, 400, error.message, error.code, error.detail)
    records = list(world.quickbooks.get(parsed.entity, {}).values()) + (
        malformed(world, parsed.entity, sandbox.faults.malformed) if sandbox.faults.malformed else [])
    if parsed.entity in WITH_ACTIVE and not parsed.mentions("Active"):
        # Intuit answers only active names unless the query asks about Active itself.
        records = [r for r in records if r.get("Active", True) is not False]
    records = qbql.select(parsed, records, PACIFIC)
    time_now = intuit_time(world)
    if parsed.count:
        return Response.json(200, {"QueryResponse": {"totalCount": len(records)}, "time": time_now})
    start, size = parsed.start, parsed.max_results
    ordered = sandbox.faults.arrange(records, size, seed=size)
    # Clients page with STARTPOSITION 1, 1+size, ...; the page index drives the fault window.
    lo, hi = sandbox.faults.window(len(ordered), (start - 1) // size, size)
    lo, hi = lo + (start - 1) % size, hi + (start - 1) % size  # a start off the page grid
    chunk = [qbql.project(parsed, record) for record in ordered[lo:hi]]
    if sandbox.faults.duplicate_records and lo > 0:
        sandbox.note("duplicate")
    if sandbox.faults.reorder and len(chunk) > 1:
        sandbox.note("reorder")
    if not chunk:  # Intuit's answer past the last record: an empty QueryResponse
        return Response.json(200, {"QueryResponse": {}, "time": time_now})
    return Response.json(200, {"QueryResponse": {parsed.entity: chunk, "startPosition": start,
                                                 "maxResults": len(chunk)}, "time": time_now})


def cdc(sandbox: Sandbox, world: World, entities: str | None, changed_since: str | None) -> Response:
    for name, value in (("entities", entities), ("changedSince", changed_since)):
        if not (value or "").strip():
            return fault(world, 400, "Required param missing, need to supply the required value for the API",
                         "2020", f"Required parameter {name} is missing in the request")
    try:
        # Intuit reads a changedSince without an offset in the company's zone, and a bare
        # date (its documented YYYY-MM-DD form) as midnight there.
        since = qbql.parse_datetime(changed_since, PACIFIC)
    except ValueError:
        return fault(world, 400, "Request has invalid or unsupported property", "2010",
                     f"changedSince is not a date or date-time: {changed_since}")
    names = [n.strip() for n in entities.split(",") if n.strip()]
    for name in names:
        if name.lower() in CDC_UNSUPPORTED:
            return fault(world, 400, "Unsupported Operation", "500",
                         f"Operation ChangeDataCapture is not supported for {CDC_UNSUPPORTED[name.lower()]}.")
        if not _entity(name):
            return fault(world, 400, "Request has invalid or unsupported property", "2010",
                         f"Unsupported entity for CDC: {name}")
    if since < world.clock - CDC_LOOKBACK:
        return fault(world, 400, "Request has invalid or unsupported property", "2010",
                     f"Operation cdc with changedSince date {changed_since} which is older than fixed days is "
                     "not supported: changedSince must be within the last 30 days.")
    responses, left = [], sandbox.cdc_limit
    for name in names:
        entity = _entity(name)
        changed = [r for r in world.quickbooks[entity].values() if qb_updated(r) and qb_updated(r) >= since]
        changed += [{"domain": "QBO", "status": "Deleted", "Id": record_id,
                     "MetaData": {"LastUpdatedTime": qb_time(when)}}
                    for record_id, when in world.qb_deleted[entity].items() if when >= since]
        # At most 1,000 objects in one answer. Intuit does not say which ones it keeps when
        # there are more, so the sandbox keeps a stable order that is not oldest-first (by Id):
        # a client must not take the newest time it saw as "everything before is read".
        changed.sort(key=_id_order)
        kept = [copy.deepcopy(record) for record in changed[:left]]
        left -= len(kept)
        responses.append({entity: kept, "startPosition": 1, "maxResults": len(kept), "totalCount": len(kept)})
    return Response.json(200, {"CDCResponse": [{"QueryResponse": responses}], "time": intuit_time(world)})


def _id_order(record: dict) -> tuple:
    record_id = str(record.get("Id"))
    return (0, int(record_id), "") if record_id.isdigit() else (1, 0, record_id)


def read_one(world: World, name: str, record_id: str) -> Response:
    entity = _entity(name)
    record = world.quickbooks.get(entity or "", {}).get(record_id)
    if record is None:
        return fault(world, 400, "Object Not Found", "610",
                     "Object Not Found : Something you're trying to use has been made inactive. Check the fields "
                     f"with accounts, customers, items, vendors or employees. ({name} {record_id})")
    return Response.json(200, {entity: record, "time": intuit_time(world)})


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
