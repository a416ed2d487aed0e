"""Every GraphQL document our SuperOps client sends, with the variables it sends, is valid
against SuperOps' published schema (integrations/superops/schema.graphql, test data), and a
document asking for something SuperOps does not have is refused."""

from __future__ import annotations

import pytest
from graphql import GraphQLError, OperationDefinitionNode, parse, validate
from graphql.execution.values import get_variable_values

from integrations.superops import queries
from integrations.superops.schema import SCHEMA, schema_path


def problems(document: str, variables: dict | None = None) -> list[str]:
    """graphql-core's complaints about a document and its variables; [] when valid."""
    try:
        ast = parse(document)
    except GraphQLError as exc:
        return [exc.message]
    errors = [e.message for e in validate(SCHEMA, ast)]
    if errors:
        return errors
    operation = next(d for d in ast.definitions if isinstance(d, OperationDefinitionNode))
    coerced = get_variable_values(SCHEMA, operation.variable_definitions or [], variables or {})
    return [e.message for e in coerced] if isinstance(coerced, list) else []


def sent_requests() -> list[tuple[str, str, dict]]:
    """(label, document, variables) for every request shape the client makes."""
    out = []
    for name, spec in queries.LISTS.items():
        for module in queries.reads(name):
            label = f"{name}/{module}" if module else name
            out.append((label, queries.document(name), queries.variables(name, 1, 100, None, module)))
            out.append((label + " page 7", queries.document(name), queries.variables(name, 7, 10, None, module)))
            out.append((label + " unsorted", queries.document(name),
                        queries.variables(name, 1, 100, None, module, sort=False)))
            if spec.incremental:
                out.append((label + " since", queries.document(name),
                            queries.variables(name, 2, 100, "2026-10-01T00:00:00", module)))
                out.append((label + " since unsorted", queries.document(name),
                            queries.variables(name, 2, 100, "2026-10-01T00:00:00", module, sort=False)))
    out += [(name, doc, {}) for name, doc in queries.VOCABULARY.items()]
    return out


@pytest.mark.parametrize("label,document,variables", sent_requests(), ids=[r[0] for r in sent_requests()])
def test_every_document_we_send_is_valid_against_the_published_schema(label, document, variables):
    assert problems(document, variables) == []


def test_the_lists_we_read_and_the_vocabularies_are_all_covered():
    roots = {"getClientList", "getTechnicianList", "getServiceItemList", "getClientContractList", "getAssetList",
             "getTicketList", "getWorklogEntries", "getOfferedItems", "getClientUserList"}
    assert set(queries.LISTS) == roots
    assert set(queries.VOCABULARY) == {"getClientStageList", "getPriorityList"}
    query_type = SCHEMA.query_type.fields
    assert roots | set(queries.VOCABULARY) <= set(query_type)
    # Worklogs are read once per module, and both modules are ones the schema has.
    assert queries.reads("getWorklogEntries") == ["TICKET", "PROJECT"]
    assert {v.value for v in SCHEMA.get_type("WorkModule").values.values()} >= {"TICKET", "PROJECT"}


def test_only_lists_whose_type_has_updated_time_are_incremental():
    for name, spec in queries.LISTS.items():
        item_type = SCHEMA.query_type.fields[name].type.fields[spec.list_key].type
        while hasattr(item_type, "of_type"):
            item_type = item_type.of_type
        assert spec.incremental == ("updatedTime" in item_type.fields), name
        assert spec.id_key in item_type.fields  # the sort attribute is a field of the type
    assert {n for n, s in queries.LISTS.items() if s.incremental} == {"getTicketList", "getOfferedItems"}
    with pytest.raises(ValueError):
        queries.variables("getClientList", 1, 100, "2026-10-01T00:00:00")


def test_pages_are_sorted_by_id_ascending():
    variables = queries.variables("getWorklogEntries", 3, 50, None, "PROJECT")
    assert variables == {"input": {"module": "PROJECT", "listInfo": {
        "page": 3, "pageSize": 50, "sort": [{"attribute": "itemId", "order": "ASC"}]}}}
    assert queries.variables("getClientUserList", 1, 100)["input"]["listInfo"]["sort"] == [
        {"attribute": "userId", "order": "ASC"}]


def test_contract_terms_come_from_the_real_fields():
    doc = queries.document("getClientContractList")
    for part in ("perpetualContract { autoRenew }", "discountRate", "includedItems",
                 "blockItemsInfo { blockItemId balance }", "frequencyDurationUnit", "frequencyType"):
        assert part in doc


@pytest.mark.parametrize("list_name,field", [
    ("getClientList", "updatedTime"),
    ("getTechnicianList", "customFields"),
    ("getClientContractList", "customFields"),
    ("getClientContractList", "updatedTime"),
])
def test_fields_superops_does_not_have_are_refused(list_name, field):
    spec = queries.LISTS[list_name]
    first = spec.selection.split()[0]
    document = queries.document(list_name).replace(f" {first} ", f" {first} {field} ", 1)
    assert field in document
    assert problems(document, queries.variables(list_name, 1, 100)) == [
        f"Cannot query field '{field}' on type '{_item_type(list_name)}'."]


def _item_type(list_name: str) -> str:
    spec = queries.LISTS[list_name]
    item_type = SCHEMA.query_type.fields[list_name].type.fields[spec.list_key].type
    while hasattr(item_type, "of_type"):
        item_type = item_type.of_type
    return item_type.name


def test_wrong_arguments_and_variables_are_refused():
    ticket_doc = queries.document("getTicketList")
    # A module SuperOps does not have, a page that is not an Int, an unknown listInfo key.
    assert problems(queries.document("getWorklogEntries"), {"input": {"module": "CONTRACT"}})
    assert problems(ticket_doc, {"input": {"page": "one"}})
    assert problems(ticket_doc, {"input": {"page": 1, "condition": {"operands": []}}})
    # getTicketList's input is required; getClientUserList takes GetClientUserListInput, not ListInfoInput.
    assert problems(ticket_doc, {})
    assert problems(queries.document("getClientUserList").replace("GetClientUserListInput!", "ListInfoInput!"),
                    {"input": {"page": 1}})
    assert problems("query { getTicketList(input: {page: 1}, filter: 2) { tickets { ticketId } } }")
    assert problems("query { getClientStageList { stageId name statuses } }")  # object type needs a selection
    assert problems("query { getTicketList(input: {page: 1}) { tickets { client { accountId } } } }")  # JSON


def test_the_schema_file_says_where_it_came_from_and_what_it_is():
    head = schema_path().read_text()[:1500]
    assert "TEST DATA" in head and "wyre-technology/superops-mcp" in head
    assert "7b82219c9ce11b347324dfe002bf2a3f1ed115e9" in head
    client = SCHEMA.get_type("Client").fields
    assert "updatedTime" not in client and "customFields" in client
    assert "customFields" not in SCHEMA.get_type("Technician").fields
    assert not {"customFields", "updatedTime"} & set(SCHEMA.get_type("ClientContract").fields)
