"""The SuperOps GraphQL endpoint of the sandbox: bearer token and CustomerSubDomain checks,
then graphql-core (graphql.py) executes the document against the published schema with the
resolvers below over the dump world: listInfo paging (100 a page at most), the sort asked
for, updatedTime conditions, worklogs per module, and the tenant vocabularies.

Without a sort, a list whose type has updatedTime comes most recently updated first, so a
client that does not sort sees records move between pages when they are edited mid-read.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import TYPE_CHECKING, Any

from integrations import entities

from . import graphql
from .graphql import GraphQLError
from .http import Request, Response
from .world import SUPEROPS_LISTS, parse_time

if TYPE_CHECKING:
    from .server import Sandbox

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50
# Roots whose input wraps listInfo (GetWorklogEntriesInput, GetClientUserListInput).
WRAPPED = {"getWorklogEntries", "getClientUserList"}
VOCABULARIES = set(entities.VOCABULARIES)
TIME_OPERATORS = {
    "greaterThan": lambda a, b: a > b, "greaterThanOrEqual": lambda a, b: a >= b,
    "lessThan": lambda a, b: a < b, "lessThanOrEqual": lambda a, b: a <= b,
}


def error(message: str, code: str | None = None) -> Response:
    entry: dict = {"message": message}
    if code:
        entry["extensions"] = {"clientError": [{"code": code, "message": message}]}
    return Response.json(200, {"data": None, "errors": [entry]})


def rate_limited() -> Response:
    return error("Rate limit exceeded: 800 requests per minute", "rate_limit_exceeded")


def handle(sandbox: Sandbox, request: Request) -> Response:
    if request.method != "POST":
        return Response.json(405, {"message": "POST a GraphQL document"})
    if request.headers.get("authorization") != f"Bearer {sandbox.superops_token}":
        return Response.json(401, {"message": "Unauthorized: invalid API token"})
    if request.headers.get("customersubdomain") != sandbox.superops_subdomain:
        return Response.json(400, {"message": "Invalid CustomerSubDomain"})
    try:
        body = request.json()
    except ValueError:
        return Response.json(400, {"errors": [{"message": "The request body is not JSON"}]})
    if not isinstance(body, dict):
        return Response.json(400, {"errors": [{"message": "POST a JSON object with a query"}]})
    return Response.json(200, graphql.answer(body.get("query"), body.get("variables"), body.get("operationName"),
                                             root(sandbox)))


def root(sandbox: Sandbox) -> dict:
    """Resolvers of the Query roots the sandbox serves (the default resolver calls them)."""
    out: dict[str, Any] = {name: partial(resolve_list, sandbox, name)
                           for name, (list_key, _) in SUPEROPS_LISTS.items() if list_key}
    out.update({name: partial(resolve_vocabulary, sandbox, name) for name in VOCABULARIES})
    return out


def resolve_vocabulary(sandbox: Sandbox, name: str, info, **_) -> list[dict]:
    return list(sandbox.world.superops.get(name, {}).values())


def resolve_list(sandbox: Sandbox, name: str, info, input: dict | None = None) -> dict:  # noqa: A002
    argument = input or {}
    list_info = (argument.get("listInfo") or {}) if name in WRAPPED else argument
    module = argument.get("module") if name == "getWorklogEntries" else None
    client_id = argument.get("clientId") if name == "getClientUserList" else None
    page = list_info.get("page") or 1
    page_size = list_info.get("pageSize") or DEFAULT_PAGE_SIZE
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise GraphQLError(f"pageSize must be between 1 and {MAX_PAGE_SIZE}, page at least 1")
    list_key, _ = SUPEROPS_LISTS[name]
    fields = graphql.item_type(info.return_type, list_key).fields
    condition = list_info.get("condition")
    sort = [s for s in list_info.get("sort") or [] if s]
    if condition:
        if sandbox.faults.refuse_conditions:
            sandbox.note("refused_condition")
            raise GraphQLError(f"Conditions are not supported on {name}")
        _check_condition(name, fields, condition)
    if sort and sandbox.faults.refuse_sort:
        sandbox.note("refused_sort")
        raise GraphQLError(f"Sorting is not supported on {name}")
    for order in sort:
        if order.get("attribute") not in fields:
            raise GraphQLError(f"Attribute {order.get('attribute')!r} cannot be used to sort {name}")
    # Paging through a big list asks for the same filtered list hundreds of times.
    key = (f"{name}:{module}:{client_id}", json.dumps([condition, sort], sort_keys=True, default=str),
           len(sandbox.world.superops[name]), sandbox.world.version, sandbox.faults.malformed)
    records = sandbox.cached(key, lambda: _arranged(sandbox, name, module, client_id, condition, sort, fields))

    ordered = sandbox.faults.arrange(records, page_size, seed=page_size)
    lo, hi = sandbox.faults.window(len(ordered), page - 1, page_size)
    chunk = ordered[lo:hi]
    if sandbox.faults.duplicate_records and lo > 0:
        sandbox.note("duplicate")
    if sandbox.faults.reorder and len(chunk) > 1:
        sandbox.note("reorder")
    return {list_key: chunk, "listInfo": {"page": page, "pageSize": page_size, "hasMore": hi < len(ordered),
                                          "totalCount": len(ordered), "condition": condition,
                                          "sort": sort or None}}


def _check_condition(name: str, fields: dict, condition: dict) -> None:
    attribute, operator = condition.get("attribute"), condition.get("operator")
    if attribute not in fields:
        raise GraphQLError(f"Attribute {attribute!r} cannot be used in a condition of {name}")
    if attribute not in ("updatedTime", "createdTime"):
        raise GraphQLError(f"Attribute {attribute!r} cannot be used in a condition of {name}")
    if operator not in TIME_OPERATORS:
        raise GraphQLError(f"Operator {operator!r} is not supported for {attribute}")
    try:
        parse_time(str(condition.get("value")))
    except ValueError as exc:
        raise GraphQLError(f"{condition.get('value')!r} is not a time") from exc


def _arranged(sandbox: Sandbox, name: str, module: str | None, client_id: str | None, condition: dict | None,
              sort: list[dict], fields: dict) -> list[dict]:
    records = list(sandbox.world.superops[name].values()) + sandbox.malformed_superops(name)
    if module:  # entries without a module predate PROJECT worklogs: they are TICKET ones
        records = [r for r in records if ((r.get("workItem") or {}).get("module") or "TICKET") == module]
    if client_id:
        records = [r for r in records if str((r.get("client") or {}).get("accountId")) == str(client_id)]
    if condition:
        attribute, since = condition["attribute"], parse_time(str(condition["value"]))
        test = TIME_OPERATORS[condition["operator"]]
        records = [r for r in records if _time(r.get(attribute)) is not None and test(_time(r[attribute]), since)]
    if not sort and "updatedTime" in fields:
        # The default order: most recently updated first (records without a time last).
        sort = [{"attribute": "updatedTime", "order": "DESC"}]
    for order in reversed(sort):  # stable sorts, last key first
        attribute, descending = order["attribute"], order.get("order") == "DESC"
        present = [r for r in records if r.get(attribute) not in (None, "")]
        missing = [r for r in records if r.get(attribute) in (None, "")]
        present.sort(key=lambda r: _sort_key(r[attribute]), reverse=descending)
        records = present + missing
    return records


def _time(value: Any):
    try:
        return parse_time(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _sort_key(value: Any) -> tuple:
    """Numbers (ids are numeric strings) by value, then anything else as text."""
    try:
        return (0, Decimal(str(value)), "")
    except (InvalidOperation, ValueError):
        return (1, Decimal(0), str(value))


def malformed(world, query: str, count: int) -> list[dict]:
    """Bad records the mapping must set aside, yet valid for the schema (SuperOps never sends
    null in a non-null field): a client with a blank name, worklogs with negative hours.
    New ids, so the good data is untouched."""
    out = []
    if query == "getClientList":
        for n in range(count):
            out.append({"accountId": f"BAD-C{n}", "name": " ", "stage": "Customer", "status": "Active"})
    if query == "getWorklogEntries" and world.superops[query]:
        template = next(iter(world.superops[query].values()))
        for n in range(count):
            entry = copy.deepcopy(template)
            entry.update(itemId=f"BAD-W{n}", qty="-1.5")
            out.append(entry)
    return out
