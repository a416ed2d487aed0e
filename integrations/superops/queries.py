"""The GraphQL documents we send to SuperOps, written against the published schema
(schema.graphql beside this file; tests/test_superops_schema.py validates every one of them).

Linked objects (client, technician, site, serviceItem, workItem, chargeItem, ...) are JSON
scalars and take no sub-selection; object types (category, contract, sellingPrice, ...) need
one. Only Ticket and OfferedItem carry updatedTime, so only their lists are read
incrementally; the others are read in full every run.

Every page asks for an explicit sort on the record's id, ascending: ids do not change when a
record is edited, so a record edited while a list is being paged keeps its place, and no
record is skipped or served twice because another one moved.
"""

from __future__ import annotations

from dataclasses import dataclass

LIST_INFO = "listInfo { page pageSize hasMore totalCount }"


@dataclass(frozen=True)
class ListQuery:
    name: str  # the root field, e.g. getTicketList
    list_key: str  # where the records sit in the answer
    input_type: str  # the root's input type, as the schema declares it
    selection: str  # fields asked of each record
    id_key: str  # the record's id field, also the sort attribute
    incremental: bool  # the type has updatedTime: may be filtered on it
    wrapped: bool = False  # listInfo sits inside the input (GetWorklogEntriesInput, GetClientUserListInput)
    modules: tuple[str, ...] = ()  # getWorklogEntries is listed once per WorkModule


_CONTRACT = """
        contractId client startDate endDate contractStatus
        contract {
          contractId name description contractType
          billableContract {
            chargeItem quantityCalculationType sellingPriceCalculationType provisionRule
            sellingPriceOverridden discountRate frequencyType includedItems
            sellingPrice { model details { value afterHoursValue } }
            recurringContract { recurringMode frequencyDurationUnit frequencyInterval billingOffset nextBillDate }
            perpetualContract { autoRenew }
            redeemableContract { applicableType applicableHours carryForwardRemainingQuantity }
            blockItemsInfo { blockItemId balance }
            changes { changeId effectiveDate endDate quantity quantityChangeOperation }
          }
        }"""

_QUERIES = [
    ListQuery("getClientList", "clients", "ListInfoInput!", """
        accountId name stage status emailDomains accountManager hqSite customFields""", "accountId", False),
    ListQuery("getClientUserList", "userList", "GetClientUserListInput!", """
        userId firstName lastName name email contactNumber reportingManager site role client customFields""",
              "userId", False, wrapped=True),
    ListQuery("getTechnicianList", "userList", "ListInfoInput!", """
        userId firstName lastName name email designation team role""", "userId", False),
    ListQuery("getServiceItemList", "items", "ListInfoInput!", """
        itemId name description quantityType unitPrice businessHoursUnitPrice afterHoursUnitPrice
        category { categoryId name }""", "itemId", False),
    ListQuery("getClientContractList", "clientContracts", "ListInfoInput", _CONTRACT, "contractId", False),
    ListQuery("getAssetList", "assets", "ListInfoInput!", """
        assetId name assetClass client site platform status purchasedDate lastCommunicatedTime
        customFields""", "assetId", False),
    ListQuery("getTicketList", "tickets", "ListInfoInput!", """
        ticketId displayId subject ticketType requestType source client technician status priority
        category subcategory sla createdTime updatedTime firstResponseDueTime firstResponseTime
        firstResponseViolated resolutionDueTime resolutionTime resolutionViolated worklogTimespent
        customFields""", "ticketId", True),
    ListQuery("getWorklogEntries", "entries", "GetWorklogEntriesInput!", """
        itemId status serviceItem billable afterHours qty unitPrice billDateTime technician notes
        workItem""", "itemId", False, wrapped=True, modules=("TICKET", "PROJECT")),
    ListQuery("getOfferedItems", "items", "ListInfoInput", """
        itemId type billDate status serviceItem client site workItem technician afterHours unitPrice qty
        discountRate amount revisedUnitPrice revisedQuantity revisedDiscountRate revisedAmount notes
        createdTime updatedTime""", "itemId", True),
]
LISTS: dict[str, ListQuery] = {q.name: q for q in _QUERIES}

# Tenant vocabularies (no paging, no input): seed the admin-editable value tables.
VOCABULARY: dict[str, str] = {
    "getClientStageList": """query getClientStageList {
  getClientStageList { stageId name constant statuses { statusId name constant } }
}""",
    "getPriorityList": """query getPriorityList {
  getPriorityList { id name colorCode }
}""",
}


def document(query: str) -> str:
    spec = LISTS[query]
    return (f"query {query}($input: {spec.input_type}) {{\n  {query}(input: $input) {{\n"
            f"    {spec.list_key} {{{spec.selection}\n    }}\n    {LIST_INFO}\n  }}\n}}")


def reads(query: str) -> list[str | None]:
    """The separate listings one list takes: one per module for worklogs, else one."""
    return list(LISTS[query].modules) or [None]


def variables(query: str, page: int, page_size: int, updated_after: str | None = None,
              module: str | None = None, sort: bool = True) -> dict:
    spec = LISTS[query]
    list_info: dict = {"page": page, "pageSize": page_size}
    if sort:
        list_info["sort"] = [{"attribute": spec.id_key, "order": "ASC"}]
    if updated_after:
        if not spec.incremental:
            raise ValueError(f"{query} has no updatedTime to filter on")
        list_info["condition"] = {"attribute": "updatedTime", "operator": "greaterThan", "value": updated_after}
    if not spec.wrapped:
        return {"input": list_info}
    wrapped: dict = {"listInfo": list_info}
    if spec.modules:
        wrapped["module"] = module or spec.modules[0]
    return {"input": wrapped}
