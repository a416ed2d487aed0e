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

from integrations.entities import BY_KEY, EntityKind, Reading

LIST_INFO = "listInfo { page pageSize hasMore totalCount }"


@dataclass(frozen=True)
class ListQuery:
    kind: EntityKind  # list key, id, how it is read: from the one entity table
    input_type: str  # the root's input type, as the schema declares it
    selection: str  # fields asked of each record
    wrapped: bool = False  # listInfo sits inside the input (GetWorklogEntriesInput, GetClientUserListInput)
    modules: tuple[str, ...] = ()  # getWorklogEntries is listed once per WorkModule

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def list_key(self) -> str:
        return self.kind.list_key

    @property
    def id_key(self) -> str:
        """The record's id field, also the sort attribute."""
        return self.kind.id_key

    @property
    def incremental(self) -> bool:
        """The type has updatedTime: may be filtered on it."""
        return self.kind.reading == Reading.UPDATED_TIME


def _list(name: str, input_type: str, selection: str, **options) -> ListQuery:
    return ListQuery(BY_KEY[("superops", name)], input_type, selection, **options)


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
    _list("getClientList", "ListInfoInput!", """
        accountId name stage status emailDomains accountManager hqSite customFields"""),
    _list("getClientUserList", "GetClientUserListInput!", """
        userId firstName lastName name email contactNumber reportingManager site role client customFields""",
          wrapped=True),
    _list("getTechnicianList", "ListInfoInput!", """
        userId firstName lastName name email designation team role"""),
    _list("getServiceItemList", "ListInfoInput!", """
        itemId name description quantityType unitPrice businessHoursUnitPrice afterHoursUnitPrice
        category { categoryId name }"""),
    _list("getClientContractList", "ListInfoInput", _CONTRACT),
    _list("getAssetList", "ListInfoInput!", """
        assetId name assetClass client site platform status purchasedDate lastCommunicatedTime
        customFields"""),
    _list("getTicketList", "ListInfoInput!", """
        ticketId displayId subject ticketType requestType source client technician status priority
        category subcategory sla createdTime updatedTime firstResponseDueTime firstResponseTime
        firstResponseViolated resolutionDueTime resolutionTime resolutionViolated worklogTimespent
        customFields"""),
    _list("getWorklogEntries", "GetWorklogEntriesInput!", """
        itemId status serviceItem billable afterHours qty unitPrice billDateTime technician notes
        workItem""", wrapped=True, modules=("TICKET", "PROJECT")),
    _list("getOfferedItems", "ListInfoInput", """
        itemId type billDate status serviceItem client site workItem technician afterHours unitPrice qty
        discountRate amount revisedUnitPrice revisedQuantity revisedDiscountRate revisedAmount notes
        createdTime updatedTime"""),
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
