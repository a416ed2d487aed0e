"""GraphQL for the sandbox with graphql-core: parse, validate and execute each request against
SuperOps' published schema (integrations/superops/schema.graphql), as the real server would.

So the sandbox answers any valid document (aliases, fragments, literal arguments,
`__typename`, several root fields) and refuses what SuperOps refuses (unknown fields, a
sub-selection of a JSON scalar, a wrong variable type, a missing required argument,
introspection) with graphql-core's own messages. Records are plain dicts from the dump: the
default resolver reads their keys, and JSON scalars pass through exactly as stored.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    execute,
    parse,
    specified_rules,
    validate,
)

from integrations.superops.schema import get_schema

__all__ = ["GraphQLError", "answer", "item_type", "schema"]


def schema() -> GraphQLSchema:
    return get_schema()


@lru_cache(maxsize=256)
def _checked(document: str) -> tuple[DocumentNode | None, tuple[dict, ...]]:
    """The parsed document and its validation errors; a sync sends the same few documents
    hundreds of times, so each is parsed and validated once."""
    try:
        ast = parse(document)
    except GraphQLError as exc:
        return None, (exc.formatted,)
    # SuperOps does not expose introspection publicly (its schema is only in the published
    # reference), so __schema and __type are refused; __typename is ordinary GraphQL.
    rules = [*specified_rules, NoSchemaIntrospectionCustomRule]
    return ast, tuple(e.formatted for e in validate(schema(), ast, rules))


def answer(document: Any, variables: Any, operation_name: Any, root: dict) -> dict:
    """The response body for one request: {"data": ...} and/or {"errors": [...]}.
    A document that does not parse or validate, or variables that do not fit their types,
    get errors only (no data), as GraphQL over HTTP prescribes."""
    if not isinstance(document, str):
        return {"errors": [{"message": "Must provide query string."}]}
    if variables is not None and not isinstance(variables, dict):
        return {"errors": [{"message": "Variables must be provided as an Object where each property is a "
                                       "variable value."}]}
    if operation_name is not None and not isinstance(operation_name, str):
        return {"errors": [{"message": "The operationName must be a string."}]}
    ast, errors = _checked(document)
    if ast is None or errors:
        return {"errors": list(errors)}
    result = execute(schema(), ast, root_value=root, variable_values=variables or {},
                     operation_name=operation_name)
    body: dict = {}
    if result.data is not None or not result.errors:
        body["data"] = result.data
    if result.errors:
        body["errors"] = [e.formatted for e in result.errors]
    return body


def item_type(list_type: Any, list_key: str) -> GraphQLObjectType:
    """The record type of a list answer type (e.g. Ticket for TicketList.tickets)."""
    while isinstance(list_type, (GraphQLNonNull, GraphQLList)):
        list_type = list_type.of_type
    found = list_type.fields[list_key].type
    while isinstance(found, (GraphQLNonNull, GraphQLList)):
        found = found.of_type
    return found
