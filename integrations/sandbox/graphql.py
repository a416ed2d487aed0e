"""Just enough GraphQL for the sandbox: parse one query document, check its selections
against the part of SuperOps' published schema we use, and project records onto them.

Checking is what makes the sandbox useful: SuperOps' linked objects (client, technician,
site, ...) are JSON scalars and refuse a sub-selection, object types demand one, and unknown
fields are errors, as on the real server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

S, J = "scalar", "JSON"


def _t(scalars: str, json: str = "", **objects: str) -> dict[str, str]:
    fields = {name: S for name in scalars.split()}
    fields.update({name: J for name in json.split()})
    fields.update(objects)
    return fields


# The object types of superops.graphql we read. updatedTime on Client and ClientContract and
# customFields on ClientContract and Technician are returned by SuperOps though the scraped
# schema omits them (see integrations/PAYLOADS.md).
TYPES: dict[str, dict[str, str]] = {
    "ListInfo": _t("page pageSize hasMore totalCount", "condition", sort="Sort"),
    "Sort": _t("attribute order"),
    "ClientList": _t("", "", clients="Client", listInfo="ListInfo"),
    "Client": _t("accountId name stage status emailDomains fields updatedTime",
                 "accountManager primaryContact secondaryContact hqSite technicianGroups customFields"),
    "TechnicianList": _t("", "", userList="Technician", listInfo="ListInfo"),
    "Technician": _t("userId firstName lastName name email contactNumber emailSignature",
                     "designation businessFunction team reportingManager role groups customFields"),
    "ServiceItemList": _t("", "", items="ServiceItem", listInfo="ListInfo"),
    "ServiceItem": _t("itemId name description quantityType useAsWorklogItem unitPrice businessHoursUnitPrice "
                      "afterHoursUnitPrice roundUpValue quantity amount adjustBlockItemAgainstAllItems "
                      "blockItemUsedIn salesTaxEnabled", "", category="ServiceCategory"),
    "ServiceCategory": _t("categoryId name"),
    "ClientContractList": _t("", "", clientContracts="ClientContract", listInfo="ListInfo"),
    "ClientContract": _t("contractId startDate endDate contractStatus updatedTime", "client customFields",
                         contract="Contract"),
    "Contract": _t("contractId name description contractType", "", billableContract="BillableContract"),
    "BillableContract": _t(
        "contractId quantityCalculationType sellingPriceCalculationType sellingPriceOverridden discountRate "
        "frequencyType billableSiteType", "chargeItem provisionRule includedItems sites project",
        sellingPrice="PricingModel", recurringContract="RecurringContract",
        redeemableContract="RedeemableContract", perpetualContract="PerpetualContract",
        changes="BillableContractQuantityChange", blockItemsInfo="BlockItemInfo"),
    "PricingModel": _t("model", "", details="PricingModelDetail"),
    "PricingModelDetail": _t("value afterHoursValue"),
    "RecurringContract": _t("contractId recurringMode frequencyDurationUnit frequencyInterval billingOffset nextBillDate"),
    "RedeemableContract": _t("contractId applicableType applicableHours carryForwardRemainingQuantity"),
    "PerpetualContract": _t("contractId autoRenew"),
    "BillableContractQuantityChange": _t("changeId effectiveDate endDate quantity quantityChangeOperation"),
    "BlockItemInfo": _t("blockItemId balance"),
    "AssetList": _t("", "", assets="Asset", listInfo="ListInfo"),
    "Asset": _t("assetId name primaryMac loggedInUser serialNumber manufacturer model hostName publicIp gateway "
                "platform domain status sysUptime lastCommunicatedTime agentVersion platformFamily "
                "platformCategory platformVersion patchStatus warrantyExpiryDate purchasedDate fields "
                "lastReportedTime", "assetClass client site requester customFields deviceCategory"),
    "TicketList": _t("", "", tickets="Ticket", listInfo="ListInfo"),
    "Ticket": _t("ticketId displayId subject ticketType requestType source status priority impact urgency "
                 "category subcategory cause subcause resolutionCode createdTime updatedTime "
                 "firstResponseDueTime firstResponseTime firstResponseViolated resolutionDueTime "
                 "resolutionTime resolutionViolated fields worklogTimespent",
                 "client site requester additionalRequester followers techGroup technician sla customFields"),
    "WorklogEntryList": _t("", "", entries="WorklogEntry", listInfo="ListInfo"),
    "WorklogEntry": _t("itemId status billable afterHours qty unitPrice billDateTime notes",
                       "serviceItem technician workItem"),
    "OfferedItemList": _t("", "", items="OfferedItem", listInfo="ListInfo"),
    "OfferedItem": _t("itemId type billDate status afterHours unitPrice qty discountRate amount revisedUnitPrice "
                      "revisedQuantity revisedDiscountRate revisedAmount adjustedBlockMoney adjustedBlockHour "
                      "notes createdTime updatedTime", "serviceItem client site workItem technician"),
}
ROOTS = {
    "getClientList": "ClientList", "getTechnicianList": "TechnicianList", "getServiceItemList": "ServiceItemList",
    "getClientContractList": "ClientContractList", "getAssetList": "AssetList", "getTicketList": "TicketList",
    "getWorklogEntries": "WorklogEntryList", "getOfferedItems": "OfferedItemList",
}


class GraphQLError(Exception):
    pass


@dataclass
class Selection:
    name: str
    args: dict[str, str] = field(default_factory=dict)  # argument -> variable name
    children: list[Selection] | None = None


_TOKEN = re.compile(r'\s*(?:(#[^\n]*)|([A-Za-z_][A-Za-z0-9_]*)|(\$[A-Za-z_][A-Za-z0-9_]*)|("(?:[^"\\]|\\.)*")|([{}():!,\[\]=@.]|-?\d+))')


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            if text[pos:].strip() == "":
                break
            raise GraphQLError(f"Syntax error near {text[pos:pos + 20]!r}")
        pos = match.end()
        token = next((g for g in match.groups()[1:] if g is not None), None)
        if token is not None and token != ",":
            out.append(token)
    return out


def parse(text: str) -> Selection:
    """The root field of a single-operation query document."""
    tokens = _tokens(text)
    i = 0
    if tokens and tokens[0] == "query":
        i = 1
        while tokens[i] != "{":  # operation name and variable definitions
            i += 1
    if i >= len(tokens) or tokens[i] != "{":
        raise GraphQLError("Expected a selection set")
    selections, i = _selection_set(tokens, i)
    if len(selections) != 1:
        raise GraphQLError("The sandbox answers one root field per request")
    return selections[0]


def _selection_set(tokens: list[str], i: int) -> tuple[list[Selection], int]:
    assert tokens[i] == "{"
    i += 1
    out = []
    while tokens[i] != "}":
        name = tokens[i]
        i += 1
        if i < len(tokens) and tokens[i] == ":":  # alias: keep it simple, refuse
            raise GraphQLError("Aliases are not supported by the sandbox")
        selection = Selection(name)
        if tokens[i] == "(":
            i += 1
            while tokens[i] != ")":
                arg, colon, value = tokens[i], tokens[i + 1], tokens[i + 2]
                if colon != ":" or not value.startswith("$"):
                    raise GraphQLError(f"Argument {arg!r} must be passed as a variable")
                selection.args[arg] = value[1:]
                i += 3
            i += 1
        if tokens[i] == "{":
            selection.children, i = _selection_set(tokens, i)
        out.append(selection)
    return out, i + 1


def check(selection: Selection, type_name: str, path: str = "") -> None:
    fields = TYPES[type_name]
    for child in selection.children or []:
        kind = fields.get(child.name)
        where = f"{path}{child.name}"
        if kind is None:
            raise GraphQLError(f"Cannot query field '{child.name}' on type '{type_name}'.")
        if kind in (S, J):
            if child.children is not None:
                raise GraphQLError(
                    f"Field '{where}' must not have a selection since type '{'JSON' if kind == J else 'String'}' "
                    "has no subfields.")
        else:
            if not child.children:
                raise GraphQLError(f"Field '{where}' of type '{kind}' must have a selection of subfields.")
            check(child, kind, where + ".")


def project(value, selection: Selection, type_name: str):
    """The value with only the selected fields, as the server would answer."""
    if value is None:
        return None
    if isinstance(value, list):
        return [project(item, selection, type_name) for item in value]
    fields = TYPES[type_name]
    out = {}
    for child in selection.children or []:
        kind = fields[child.name]
        item = value.get(child.name)
        out[child.name] = item if kind in (S, J) else project(item, child, kind)
    return out
