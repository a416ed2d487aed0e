"""SuperOps' published GraphQL schema (schema.graphql, test data) as a graphql-core schema.

Built once, on first use: the tests validate our documents against it and the sandbox
executes requests with it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from graphql import GraphQLSchema, build_schema


def schema_path() -> Path:
    return Path(__file__).with_name("schema.graphql")


@cache
def get_schema() -> GraphQLSchema:
    return build_schema(schema_path().read_text(encoding="utf-8"))


def __getattr__(name: str) -> GraphQLSchema:
    # `from integrations.superops.schema import SCHEMA` builds the schema only when asked for.
    if name == "SCHEMA":
        return get_schema()
    raise AttributeError(name)
