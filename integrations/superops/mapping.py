"""SuperOps GraphQL list items -> rows of the clients app. Pure functions, no database.

The shapes are those of integrations/PAYLOADS.md; each mapper returns a `Mapped` (or a list
for tickets, which may carry a satisfaction survey) or raises `BadRecord` naming the field.
`MAPPERS` maps a list query to (list key, mapper) for the dump loader and the live sync.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from clients.models import (
    Asset, Client, Contract, SatisfactionSurvey, ServiceItem, Technician, Ticket, Worklog,
)

from ..parsing import (
    obj, parse_bool, parse_choice, parse_date, parse_datetime, parse_decimal, parse_id,
    parse_int, parse_text, ref_id,
)
from ..records import BadRecord, Mapped, Ref

SOURCE = "superops"
ZERO = Decimal("0")

CLIENT_STATUS = {"ACTIVE": "active", "INACTIVE": "churned", "CHURNED": "churned", "PROSPECT": "prospect"}
QUANTITY_TYPE = {"UNITS": "units", "HOURS": "hours", "BLOCK_HOURS": "block_hours", "BLOCK_MONEY": "block_money"}
CONTRACT_STATUS = {"ACTIVE": "active", "DRAFT": "draft", "INACTIVE": "inactive"}
PRIORITY = {"URGENT": "critical", "CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
BILLING_STATUS = {
    "PENDING": "pending", "APPROVED": "approved", "IGNORED": "ignored",
    "INVOICED": "invoiced", "UNDER_CONTRACT": "under_contract",
}
# SuperOps ticket sources we have seen, to our channels; an unknown source leaves it blank
# rather than losing the ticket.
CHANNEL = {
    "FORM": "form", "PORTAL": "form", "AGENT": "agent", "RMM": "agent", "ALERT": "agent",
    "EMAIL": "email", "AI": "ai", "PHONE": "phone", "CALL": "phone", "INTEGRATION": "integration",
    "API": "integration",
}
MONTHS_PER_UNIT = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}
# MSPs write the escalator into the agreement text: "Annual price escalator: 3%".
ESCALATOR = re.compile(r"escalator\D{0,20}?(\d+(?:\.\d+)?)\s*%", re.IGNORECASE)


def _client_ref(payload: dict, field: str = "client") -> Ref:
    account_id = ref_id(payload.get(field), "accountId", field)
    if account_id is None:
        raise BadRecord(f"{field}.accountId is missing")
    return Ref(Client, SOURCE, account_id)


def _optional_ref(model, payload: Any, key: str, field: str) -> Ref | None:
    external_id = ref_id(payload, key, field)
    return Ref(model, SOURCE, external_id, required=False) if external_id else None


def map_client(p: dict) -> Mapped:
    cf = obj(p.get("customFields"), "customFields")
    domains = p.get("emailDomains") or []
    if not isinstance(domains, list):
        raise BadRecord(f"emailDomains {domains!r} is not a list")
    manager = obj(p.get("accountManager"), "accountManager")
    fields = {
        "name": parse_text(p.get("name"), "name", required=True),
        "email_domain": parse_text(domains[0], "emailDomains[0]").lower() if domains else "",
        "stage": parse_text(p.get("stage"), "stage"),
        "status": parse_choice(p.get("status"), "status", CLIENT_STATUS, default="active"),
        "industry": parse_text(cf.get("industry"), "customFields.industry"),
        "employee_count": parse_int(cf.get("employeeCount"), "customFields.employeeCount"),
        "account_manager": parse_text(manager.get("name"), "accountManager.name"),
        "onboarded_on": parse_date(cf.get("onboardedOn"), "customFields.onboardedOn"),
        "churned_on": parse_date(cf.get("churnedOn"), "customFields.churnedOn"),
        "churn_reason": parse_text(cf.get("churnReason"), "customFields.churnReason"),
        "currency": parse_text(cf.get("currency"), "customFields.currency").upper() or "USD",
        "source_updated_at": parse_datetime(p.get("updatedTime"), "updatedTime"),
    }
    if fields["employee_count"] is not None and fields["employee_count"] < 0:
        raise BadRecord(f"customFields.employeeCount {cf.get('employeeCount')!r} is negative")
    return Mapped(Client, SOURCE, parse_id(p.get("accountId"), "accountId"), fields)


def map_technician(p: dict) -> Mapped:
    cf = obj(p.get("customFields"), "customFields")
    name = parse_text(p.get("name"), "name")
    if not name:
        name = " ".join(
            part for part in (parse_text(p.get("firstName"), "firstName"), parse_text(p.get("lastName"), "lastName"))
            if part
        )
    if not name:
        raise BadRecord("name is missing")
    fields: dict[str, Any] = {
        "name": name,
        "email": parse_text(p.get("email"), "email").lower(),
        "designation": parse_text(obj(p.get("designation"), "designation").get("name"), "designation.name"),
        "team": parse_text(obj(p.get("team"), "team").get("name"), "team.name"),
        "tier": parse_int(cf.get("tier"), "customFields.tier"),
    }
    # Burdened cost is local knowledge; only a payload that carries it may overwrite it.
    if cf.get("burdenedHourlyCost") not in (None, ""):
        cost = parse_decimal(cf["burdenedHourlyCost"], "customFields.burdenedHourlyCost")
        if cost < 0:
            raise BadRecord(f"customFields.burdenedHourlyCost {cf['burdenedHourlyCost']!r} is negative")
        fields["burdened_hourly_cost"] = cost
    if "active" in p:
        fields["active"] = parse_bool(p.get("active"), "active", default=True)
    return Mapped(Technician, SOURCE, parse_id(p.get("userId"), "userId"), fields)


def map_service_item(p: dict) -> Mapped:
    fields = {
        "name": parse_text(p.get("name"), "name", required=True),
        "description": parse_text(p.get("description"), "description"),
        "quantity_type": parse_choice(p.get("quantityType"), "quantityType", QUANTITY_TYPE, default="units"),
        # unitPrice is the flat price; hourly items may carry only the business-hours one.
        "unit_price": parse_decimal(p.get("unitPrice"), "unitPrice")
        if not _blank(p.get("unitPrice"))
        else parse_decimal(p.get("businessHoursUnitPrice"), "businessHoursUnitPrice", default=ZERO),
        "after_hours_unit_price": parse_decimal(p.get("afterHoursUnitPrice"), "afterHoursUnitPrice"),
    }
    return Mapped(ServiceItem, SOURCE, parse_id(p.get("itemId"), "itemId"), fields)


def _blank(value: Any) -> bool:
    return value is None or value == ""


def billed_quantity(changes: list[dict], today: date) -> Decimal:
    """Seats billed today: the latest BASELINE on or before today, then every INCREASE and
    DECREASE after it up to today. Later (scheduled) changes do not count yet."""
    dated = []
    for i, change in enumerate(changes):
        change = obj(change, f"changes[{i}]")
        when = parse_date(change.get("effectiveDate"), f"changes[{i}].effectiveDate", required=True)
        if when > today:
            continue
        operation = parse_text(change.get("quantityChangeOperation"), f"changes[{i}].quantityChangeOperation").upper()
        if operation not in ("BASELINE", "INCREASE", "DECREASE"):
            raise BadRecord(f"changes[{i}].quantityChangeOperation {operation!r} is not BASELINE, INCREASE or DECREASE")
        quantity = parse_decimal(change.get("quantity"), f"changes[{i}].quantity", required=True)
        change_id = str(change.get("changeId") or "")
        order = int(change_id) if change_id.isdigit() else i
        # A BASELINE and an INCREASE on the same day: the baseline is the starting point.
        dated.append((when, operation != "BASELINE", order, operation, quantity))
    dated.sort(key=lambda c: c[:3])
    total = ZERO
    for _when, _not_baseline, _order, operation, quantity in dated:
        if operation == "BASELINE":
            total = quantity
        elif operation == "INCREASE":
            total += quantity
        else:
            total -= quantity
    if total < 0:
        raise BadRecord(f"changes give a negative billed quantity ({total})")
    return total


def contract_kind(contract: dict, billable: dict) -> str:
    contract_type = parse_text(contract.get("contractType"), "contract.contractType").upper()
    if contract_type == "TIME_AND_MATERIAL":
        return "time_and_materials"
    if contract_type == "ONE_TIME":
        return "project"
    if contract_type == "USAGE":
        return "block_hours" if billable.get("redeemableContract") else "time_and_materials"
    if contract_type == "SERVICE":
        entity = parse_text(obj(billable.get("provisionRule"), "provisionRule").get("entity"), "provisionRule.entity")
        return "per_user" if entity.upper() == "USER" else "per_device"
    raise BadRecord(f"contract.contractType {contract.get('contractType')!r} is not SERVICE, USAGE, "
                    "TIME_AND_MATERIAL or ONE_TIME")


def map_contract(p: dict, today: date | None = None) -> Mapped:
    today = today or date.today()
    contract = obj(p.get("contract"), "contract")
    billable = obj(contract.get("billableContract"), "contract.billableContract")
    cf = obj(p.get("customFields"), "customFields")
    kind = contract_kind(contract, billable)
    price = obj(billable.get("sellingPrice"), "sellingPrice")
    details = price.get("details") or [{}]
    first = obj(details[0], "sellingPrice.details[0]")
    recurring = obj(billable.get("recurringContract"), "recurringContract")
    frequency = 1
    if recurring:
        unit = parse_text(recurring.get("frequencyDurationUnit"), "recurringContract.frequencyDurationUnit").upper()
        if unit not in MONTHS_PER_UNIT:
            raise BadRecord(f"recurringContract.frequencyDurationUnit {unit!r} is not MONTH, QUARTER or YEAR")
        interval = parse_int(recurring.get("frequencyInterval"), "recurringContract.frequencyInterval", default=1)
        if interval < 1:
            raise BadRecord(f"recurringContract.frequencyInterval {interval!r} is not positive")
        frequency = MONTHS_PER_UNIT[unit] * interval
    status = parse_choice(p.get("contractStatus"), "contractStatus", CONTRACT_STATUS)
    cancelled_on = parse_date(cf.get("cancelledOn"), "customFields.cancelledOn")
    if status == "inactive" and cancelled_on:
        status = "cancelled"
    changes = billable.get("changes") or []
    if not isinstance(changes, list):
        raise BadRecord(f"changes {changes!r} is not a list")
    escalator = ESCALATOR.search(parse_text(contract.get("description"), "contract.description"))
    after_hours = first.get("afterHoursValue")
    fields = {
        "name": parse_text(contract.get("name"), "contract.name", required=True),
        "kind": kind,
        "status": status,
        "start_date": parse_date(p.get("startDate"), "startDate", required=True),
        "end_date": parse_date(p.get("endDate"), "endDate"),
        "billed_quantity": billed_quantity(changes, today),
        "unit_price": parse_decimal(first.get("value"), "sellingPrice.details[0].value", default=ZERO),
        "included_hours": parse_decimal(cf.get("includedHours"), "customFields.includedHours", default=ZERO),
        "hourly_rate": parse_decimal(cf.get("hourlyRate"), "customFields.hourlyRate", default=ZERO),
        "after_hours_rate": parse_decimal(after_hours, "sellingPrice.details[0].afterHoursValue")
        if not _blank(after_hours)
        else parse_decimal(cf.get("afterHoursRate"), "customFields.afterHoursRate"),
        "annual_escalator_pct": Decimal(escalator.group(1)) if escalator else ZERO,
        "billing_frequency_months": frequency,
        "auto_renew": parse_bool(cf.get("autoRenew"), "customFields.autoRenew", default=False),
        "cancelled_on": cancelled_on,
        "cancellation_reason": parse_text(cf.get("cancellationReason"), "customFields.cancellationReason"),
        "currency": parse_text(cf.get("currency"), "customFields.currency").upper() or "USD",
        "source_updated_at": parse_datetime(p.get("updatedTime"), "updatedTime"),
    }
    if fields["end_date"] and fields["end_date"] < fields["start_date"]:
        raise BadRecord(f"endDate {p.get('endDate')!r} is before startDate {p.get('startDate')!r}")
    refs = {
        "client": _client_ref(p),
        "service_item": _optional_ref(ServiceItem, billable.get("chargeItem"), "itemId", "chargeItem"),
    }
    contract_id = p.get("contractId") or contract.get("contractId")
    return Mapped(Contract, SOURCE, parse_id(contract_id, "contractId"), fields, refs)


def map_asset(p: dict) -> Mapped:
    cf = obj(p.get("customFields"), "customFields")
    status = parse_text(p.get("status"), "status")
    last_seen = parse_datetime(p.get("lastCommunicatedTime"), "lastCommunicatedTime")
    retired_on = None
    if status.lower() == "decommissioned":
        # Without a recorded retirement day, the last check-in is when it stopped being managed.
        retired_on = parse_date(cf.get("retiredOn"), "customFields.retiredOn")
        if retired_on is None and last_seen is not None:
            retired_on = last_seen.date()
    fields = {
        "name": parse_text(p.get("name"), "name", required=True),
        "asset_class": parse_text(obj(p.get("assetClass"), "assetClass").get("name"), "assetClass.name"),
        "platform": parse_text(p.get("platform"), "platform"),
        "status": status,
        "added_on": parse_date(p.get("purchasedDate"), "purchasedDate"),
        "retired_on": retired_on,
        "last_seen_at": last_seen,
    }
    return Mapped(Asset, SOURCE, parse_id(p.get("assetId"), "assetId"), fields, {"client": _client_ref(p)})


def map_ticket(p: dict) -> list[Mapped]:
    """The ticket, plus its satisfaction survey when the client answered one."""
    cf = obj(p.get("customFields"), "customFields")
    ticket_id = parse_id(p.get("ticketId"), "ticketId")
    ticket_type = parse_text(p.get("ticketType"), "ticketType").upper()
    source = parse_text(p.get("source"), "source").upper()
    fields = {
        "display_id": parse_text(p.get("displayId"), "displayId"),
        "subject": parse_text(p.get("subject"), "subject", required=True),
        "description": parse_text(cf.get("description"), "customFields.description"),
        "ticket_type": ticket_type,
        "request_type": parse_text(p.get("requestType"), "requestType"),
        "channel": CHANNEL.get(source, ""),
        "status": parse_text(p.get("status"), "status"),
        "priority": parse_choice(p.get("priority"), "priority", PRIORITY, default=""),
        "category": parse_text(p.get("category"), "category"),
        "subcategory": parse_text(p.get("subcategory"), "subcategory"),
        "is_reactive": ticket_type == "INCIDENT",
        "sla_name": parse_text(obj(p.get("sla"), "sla").get("name"), "sla.name"),
        "created_at": parse_datetime(p.get("createdTime"), "createdTime", required=True),
        "source_updated_at": parse_datetime(p.get("updatedTime"), "updatedTime"),
        "first_response_due_at": parse_datetime(p.get("firstResponseDueTime"), "firstResponseDueTime"),
        "first_response_at": parse_datetime(p.get("firstResponseTime"), "firstResponseTime"),
        "first_response_violated": parse_bool(p.get("firstResponseViolated"), "firstResponseViolated"),
        "resolution_due_at": parse_datetime(p.get("resolutionDueTime"), "resolutionDueTime"),
        "resolved_at": parse_datetime(p.get("resolutionTime"), "resolutionTime"),
        "resolution_violated": parse_bool(p.get("resolutionViolated"), "resolutionViolated"),
        "reopen_count": parse_int(cf.get("reopenCount"), "customFields.reopenCount", default=0),
        "escalated": parse_bool(cf.get("escalated"), "customFields.escalated", default=False),
    }
    if fields["reopen_count"] < 0:
        raise BadRecord(f"customFields.reopenCount {cf.get('reopenCount')!r} is negative")
    client = _client_ref(p)
    refs = {
        "client": client,
        "technician": _optional_ref(Technician, p.get("technician"), "userId", "technician"),
        "asset": Ref(Asset, SOURCE, parse_id(cf["assetId"], "customFields.assetId"), required=False)
        if not _blank(cf.get("assetId"))
        else None,
    }
    rows = [Mapped(Ticket, SOURCE, ticket_id, fields, refs)]
    if not _blank(cf.get("csatScore")):
        score = parse_int(cf.get("csatScore"), "customFields.csatScore")
        if not 1 <= score <= 5:
            raise BadRecord(f"customFields.csatScore {cf.get('csatScore')!r} is not between 1 and 5")
        responded = parse_datetime(cf.get("csatRespondedAt"), "customFields.csatRespondedAt") or fields[
            "resolved_at"] or fields["created_at"]
        survey = {
            "score": score,
            "comment": parse_text(cf.get("csatComment"), "customFields.csatComment"),
            "responded_at": responded,
        }
        rows.append(Mapped(SatisfactionSurvey, SOURCE, ticket_id, survey,
                           {"client": client, "ticket": Ref(Ticket, SOURCE, ticket_id)}))
    return rows


def hours_to_minutes(hours: Decimal) -> int:
    return int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def map_worklog(p: dict) -> Mapped:
    qty = parse_decimal(p.get("qty"), "qty", required=True)
    if qty <= 0:
        raise BadRecord(f"qty {p.get('qty')!r} is not positive")
    minutes = hours_to_minutes(qty)
    if minutes == 0:
        raise BadRecord(f"qty {p.get('qty')!r} is less than half a minute")
    when = parse_datetime(p.get("billDateTime"), "billDateTime", required=True)
    work = obj(p.get("workItem"), "workItem")
    module = parse_text(work.get("module"), "workItem.module").upper()
    work_id = ref_id(work, "workId", "workItem")
    ticket = Ref(Ticket, SOURCE, work_id, required=False) if module == "TICKET" and work_id else None
    account_id = ref_id(work.get("client"), "accountId", "workItem.client")
    if account_id:
        client = Ref(Client, SOURCE, account_id)
    elif ticket:
        # The ticket knows its client; an unknown ticket then means an unknown client.
        client = Ref(Ticket, SOURCE, work_id, via="client")
    else:
        raise BadRecord("workItem names neither a ticket nor a client")
    fields = {
        "work_date": when.date(),
        "started_at": when,
        "minutes": minutes,
        "billable": parse_bool(p.get("billable"), "billable", default=False),
        "after_hours": parse_bool(p.get("afterHours"), "afterHours", default=False),
        "unit_price": parse_decimal(p.get("unitPrice"), "unitPrice", default=ZERO),
        "currency": "USD",
        "billing_status": parse_choice(p.get("status"), "status", BILLING_STATUS, default=""),
        "notes": parse_text(p.get("notes"), "notes"),
    }
    refs = {
        "client": client,
        "ticket": ticket,
        "technician": _optional_ref(Technician, p.get("technician"), "userId", "technician"),
        "service_item": _optional_ref(ServiceItem, p.get("serviceItem"), "itemId", "serviceItem"),
    }
    return Mapped(Worklog, SOURCE, parse_id(p.get("itemId"), "itemId"), fields, refs)


Mapper = Callable[..., "Mapped | list[Mapped]"]

# query name -> (list key inside the response, mapper). getOfferedItems stays in the dump
# for leak detection and has no model.
MAPPERS: dict[str, tuple[str, Mapper]] = {
    "getClientList": ("clients", map_client),
    "getTechnicianList": ("userList", map_technician),
    "getServiceItemList": ("items", map_service_item),
    "getClientContractList": ("clientContracts", map_contract),
    "getAssetList": ("assets", map_asset),
    "getTicketList": ("tickets", map_ticket),
    "getWorklogEntries": ("entries", map_worklog),
}
