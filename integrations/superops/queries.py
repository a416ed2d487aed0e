"""The GraphQL documents we send to SuperOps, written against the published schema: linked
objects (client, technician, site, serviceItem, workItem, chargeItem, ...) are JSON scalars
and take no sub-selection; object types (category, contract, sellingPrice, ...) need one."""

from __future__ import annotations

LIST_INFO = "listInfo { page pageSize hasMore totalCount }"

# query -> (list key, input type, item selection, id key, filterable on updatedTime)
LISTS: dict[str, tuple[str, str, str, str, bool]] = {
    "getClientList": ("clients", "ListInfoInput!", """
        accountId name stage status emailDomains accountManager hqSite customFields updatedTime""",
        "accountId", True),
    "getTechnicianList": ("userList", "ListInfoInput!", """
        userId firstName lastName name email designation team role customFields""", "userId", False),
    "getServiceItemList": ("items", "ListInfoInput!", """
        itemId name description quantityType unitPrice businessHoursUnitPrice afterHoursUnitPrice
        category { categoryId name }""", "itemId", False),
    "getClientContractList": ("clientContracts", "ListInfoInput", """
        contractId client startDate endDate contractStatus customFields updatedTime
        contract {
          contractId name description contractType
          billableContract {
            chargeItem quantityCalculationType sellingPriceCalculationType provisionRule
            sellingPriceOverridden frequencyType
            sellingPrice { model details { value afterHoursValue } }
            recurringContract { recurringMode frequencyDurationUnit frequencyInterval billingOffset nextBillDate }
            perpetualContract { autoRenew }
            redeemableContract { applicableType applicableHours carryForwardRemainingQuantity }
            blockItemsInfo { blockItemId balance }
            changes { changeId effectiveDate endDate quantity quantityChangeOperation }
          }
        }""", "contractId", True),
    "getAssetList": ("assets", "ListInfoInput!", """
        assetId name assetClass client site platform status purchasedDate lastCommunicatedTime
        customFields""", "assetId", False),
    "getTicketList": ("tickets", "ListInfoInput!", """
        ticketId displayId subject ticketType requestType source client technician status priority
        category subcategory sla createdTime updatedTime firstResponseDueTime firstResponseTime
        firstResponseViolated resolutionDueTime resolutionTime resolutionViolated worklogTimespent
        customFields""", "ticketId", True),
    "getWorklogEntries": ("entries", "GetWorklogEntriesInput!", """
        itemId status serviceItem billable afterHours qty unitPrice billDateTime technician notes
        workItem""", "itemId", False),
    "getOfferedItems": ("items", "ListInfoInput", """
        itemId type billDate status serviceItem client workItem technician afterHours unitPrice qty
        amount updatedTime""", "itemId", True),
}


def document(query: str) -> str:
    list_key, input_type, selection, _, _ = LISTS[query]
    return (f"query {query}($input: {input_type}) {{\n  {query}(input: $input) {{\n"
            f"    {list_key} {{{selection}\n    }}\n    {LIST_INFO}\n  }}\n}}")


def variables(query: str, page: int, page_size: int, updated_after: str | None) -> dict:
    list_info: dict = {"page": page, "pageSize": page_size}
    if updated_after:
        list_info["condition"] = {"attribute": "updatedTime", "operator": "greaterThan", "value": updated_after}
    if query == "getWorklogEntries":
        # Worklog entries are listed per module; tickets are where MSP time is logged.
        return {"input": {"module": "TICKET", "listInfo": list_info}}
    return {"input": list_info}
