"""The SuperOps GraphQL endpoint of the sandbox: bearer token and CustomerSubDomain checks,
schema checks, listInfo paging (100 a page at most), updatedTime conditions."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING

from . import graphql
from .http import Request, Response
from .world import SUPEROPS_LISTS, parse_time

if TYPE_CHECKING:
    from .server import Sandbox

MAX_PAGE_SIZE = 100
FILTERABLE = {"getClientList", "getClientContractList", "getTicketList", "getOfferedItems"}


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
        root = graphql.parse(body["query"])
        if root.name not in graphql.ROOTS:
            raise graphql.GraphQLError(f"Cannot query field '{root.name}' on type 'Query'.")
        root_type = graphql.ROOTS[root.name]
        graphql.check(root, root_type)
        variables = body.get("variables") or {}
        argument = variables.get(root.args.get("input", ""), None) or {}
        list_info = argument.get("listInfo", argument) if root.name == "getWorklogEntries" else argument
        page = int(list_info.get("page") or 1)
        page_size = int(list_info.get("pageSize") or 50)
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise graphql.GraphQLError(f"pageSize must be between 1 and {MAX_PAGE_SIZE}, page at least 1")
        condition = list_info.get("condition")
        # Paging through a big list asks for the same filtered list hundreds of times.
        key = (root.name, json.dumps(condition, sort_keys=True), len(sandbox.world.superops[root.name]),
               sandbox.world.version, sandbox.faults.malformed)
        records = sandbox.cached(key, lambda: _filter(sandbox, root.name, condition))
    except graphql.GraphQLError as exc:
        return error(str(exc))
    except (KeyError, TypeError, ValueError) as exc:
        return error(f"Bad request: {exc}")

    list_key, _ = SUPEROPS_LISTS[root.name]
    ordered = sandbox.faults.arrange(records, page_size, seed=page_size)
    lo, hi = sandbox.faults.window(len(ordered), page - 1, page_size)
    chunk = ordered[lo:hi]
    if sandbox.faults.duplicate_records and lo > 0:
        sandbox.note("duplicate")
    if sandbox.faults.reorder and len(chunk) > 1:
        sandbox.note("reorder")
    list_type = graphql.TYPES[root_type]
    data: dict = {}
    for child in root.children or []:
        if child.name == list_key:
            data[list_key] = graphql.project(chunk, child, list_type[list_key])
        elif child.name == "listInfo":
            info = {"page": page, "pageSize": page_size, "hasMore": hi < len(ordered),
                    "totalCount": len(ordered), "condition": list_info.get("condition"), "sort": None}
            data["listInfo"] = graphql.project(info, child, "ListInfo")
    return Response.json(200, {"data": {root.name: data}})


def _filter(sandbox: Sandbox, query: str, condition) -> list[dict]:
    records = list(sandbox.world.superops[query].values()) + sandbox.malformed_superops(query)
    if not condition:
        return records
    operands = condition.get("operands") if "operands" in condition else [condition]
    for operand in operands:
        attribute, operator, value = operand.get("attribute"), operand.get("operator"), operand.get("value")
        if attribute != "updatedTime" or query not in FILTERABLE:
            raise graphql.GraphQLError(f"Attribute {attribute!r} cannot be used in a condition of {query}")
        since = parse_time(str(value))
        if operator == "greaterThan":
            records = [r for r in records if r.get("updatedTime") and parse_time(r["updatedTime"]) > since]
        elif operator == "greaterThanOrEqual":
            records = [r for r in records if r.get("updatedTime") and parse_time(r["updatedTime"]) >= since]
        else:
            raise graphql.GraphQLError(f"Operator {operator!r} is not supported for updatedTime")
    return records


def malformed(world, query: str, count: int) -> list[dict]:
    """Bad records the mapping must set aside: a client with no name, worklogs with
    negative hours. New ids, so the good data is untouched."""
    out = []
    if query == "getClientList":
        for n in range(count):
            out.append({"accountId": f"BAD-C{n}", "name": None, "stage": "Customer", "status": "Active",
                        "updatedTime": "2020-01-01T00:00:00"})
    if query == "getWorklogEntries" and world.superops[query]:
        template = next(iter(world.superops[query].values()))
        for n in range(count):
            entry = copy.deepcopy(template)
            entry.update(itemId=f"BAD-W{n}", qty="-1.5")
            out.append(entry)
    return out
