"""SuperOps GraphQL list items -> rows of the clients app. Pure functions, no database.

The shapes are those of integrations/PAYLOADS.md; each mapper returns a `Mapped` (or a list
for tickets, which may carry a satisfaction survey) or raises `BadRecord` naming the field.
`MAPPERS` maps a list query to its mapper for the dump loader and the live sync (the list
key and id are in the entity table, integrations/entities.py).

What a tenant configures itself never rejects a record: custom fields are read through the
field map and stages, statuses, priorities and categories through the value maps, both passed
in as `maps` (integrations/tenant.py; the loader reads the admin's rows once per run). A
custom field the tenant does not have is unknown (blank or null), and a value no one mapped
is kept as text with its default meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from clients.models import (
    Asset,
    Client,
    ClientUser,
    Contract,
    OfferedItem,
    SatisfactionSurvey,
    ServiceItem,
    Technician,
    Ticket,
    Worklog,
)

from ..parsing import (
    obj,
    parse_bool,
    parse_choice,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_id,
    parse_int,
    parse_text,
    ref_id,
)
from ..records import BadRecord, Mapped, Ref
from ..tenant import (
    CLIENT_STAGE,
    CLIENT_STATUS,
    DEFAULT_MAPS,
    TICKET_CATEGORY,
    TICKET_PRIORITY,
    TICKET_STATUS,
    TenantMaps,
    description_terms,
    term,
)

SOURCE = "superops"
ZERO = Decimal("0")

QUANTITY_TYPE = {"UNITS": "units", "HOURS": "hours", "BLOCK_HOURS": "block_hours", "BLOCK_MONEY": "block_money"}
CONTRACT_STATUS = {"ACTIVE": "active", "DRAFT": "draft", "INACTIVE": "inactive"}
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
# FrequencyDurationUnit has MONTH, DAY, WEEK, YEAR (a quarterly contract is MONTH x 3); a
# billing period is kept in whole months, so days and weeks round to the nearest (at least 1).
DAYS_PER_UNIT = {"DAY": Decimal(1), "WEEK": Decimal(7), "MONTH": None, "YEAR": None}
MONTHS_PER_UNIT = {"MONTH": 1, "YEAR": 12}
FREQUENCY_TYPES = ("ONCE", "PERPETUAL", "RECURRING")
# Client status ranks: when the stage and the status disagree, the more telling one wins (a
# "Former Customer" stage with an "Active" status is a churned client).
STATUS_RANK = {"churned": 2, "prospect": 1, "active": 0}
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


def client_status(stage: str, status: str, maps: TenantMaps) -> str:
    """What a client's stage and status mean to us: the more telling of the two (churned over
    prospect over active); each through the value maps, with their defaults."""
    found = [maps.value(kind, text) for kind, text in ((CLIENT_STATUS, status), (CLIENT_STAGE, stage)) if text]
    return max(found, key=STATUS_RANK.__getitem__, default="active")


def _custom(p: dict) -> dict:
    return obj(p.get("customFields"), "customFields")


def map_client(p: dict, maps: TenantMaps = DEFAULT_MAPS) -> Mapped:
    cf = _custom(p)
    domains = p.get("emailDomains") or []
    if not isinstance(domains, list):
        raise BadRecord(f"emailDomains {domains!r} is not a list")
    manager = obj(p.get("accountManager"), "accountManager")
    stage = parse_text(p.get("stage"), "stage")
    status = parse_text(p.get("status"), "status")

    def custom(concept: str) -> Any:
        return maps.custom(cf, concept)

    fields = {
        "name": parse_text(p.get("name"), "name", required=True),
        "email_domain": parse_text(domains[0], "emailDomains[0]").lower() if domains else "",
        "stage": stage,
        "status_label": status,
        "status": client_status(stage, status, maps),
        "industry": parse_text(custom("client.industry"), maps.custom_name("client.industry")),
        "employee_count": parse_int(custom("client.employee_count"), maps.custom_name("client.employee_count")),
        "account_manager": parse_text(manager.get("name"), "accountManager.name"),
        "onboarded_on": parse_date(custom("client.onboarded_on"), maps.custom_name("client.onboarded_on")),
        # No churn date or reason in a real tenant: a churned client shows as its status or
        # stage. churned_on and churn_reason are left to people (and derived views).
        "currency": parse_text(custom("client.currency"), maps.custom_name("client.currency")).upper() or "USD",
        "source_updated_at": parse_datetime(p.get("updatedTime"), "updatedTime"),
    }
    if fields["employee_count"] is not None and fields["employee_count"] < 0:
        raise BadRecord(f"{maps.custom_name('client.employee_count')} {custom('client.employee_count')!r} is negative")
    return Mapped(Client, SOURCE, parse_id(p.get("accountId"), "accountId"), fields)


def _person_name(p: dict) -> str:
    name = parse_text(p.get("name"), "name")
    if not name:
        name = " ".join(
            part for part in (parse_text(p.get("firstName"), "firstName"), parse_text(p.get("lastName"), "lastName"))
            if part
        )
    if not name:
        raise BadRecord("name is missing")
    return name


def map_technician(p: dict, maps: TenantMaps = DEFAULT_MAPS) -> Mapped:
    # SuperOps' Technician has no customFields; a payload that carries them (an older export)
    # is still read through the field map.
    cf = _custom(p)
    tier = maps.custom(cf, "technician.tier")
    fields: dict[str, Any] = {
        "name": _person_name(p),
        "email": parse_text(p.get("email"), "email").lower(),
        "designation": parse_text(obj(p.get("designation"), "designation").get("name"), "designation.name"),
        "team": parse_text(obj(p.get("team"), "team").get("name"), "team.name"),
    }
    if tier not in (None, ""):
        fields["tier"] = parse_int(tier, maps.custom_name("technician.tier"))
    # Burdened cost is local knowledge; only a payload that carries it may overwrite it.
    cost = maps.custom(cf, "technician.burdened_hourly_cost")
    if cost not in (None, ""):
        name = maps.custom_name("technician.burdened_hourly_cost")
        value = parse_decimal(cost, name)
        if value < 0:
            raise BadRecord(f"{name} {cost!r} is negative")
        fields["burdened_hourly_cost"] = value
    if "active" in p:
        fields["active"] = parse_bool(p.get("active"), "active", default=True)
    return Mapped(Technician, SOURCE, parse_id(p.get("userId"), "userId"), fields)


def map_client_user(p: dict, maps: TenantMaps = DEFAULT_MAPS) -> Mapped:
    """A client's user (getClientUserList.userList[]), for seat checks on per-user contracts."""
    fields = {
        "name": _person_name(p),
        "email": parse_text(p.get("email"), "email").lower(),
        "role": parse_text(obj(p.get("role"), "role").get("name"), "role.name"),
        "site_name": parse_text(obj(p.get("site"), "site").get("name"), "site.name"),
    }
    return Mapped(ClientUser, SOURCE, parse_id(p.get("userId"), "userId"), fields, {"client": _client_ref(p)})


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


def _soft_decimal(value: Any) -> Decimal | None:
    """A contract term written by a person ("3", "3%", " 10.5 % "): a number, or None when it
    cannot be read. A term nobody can read is unknown, never a reason to lose the contract."""
    if isinstance(value, str):
        value = value.strip().rstrip("%").strip()
    try:
        return parse_decimal(value, "term")
    except BadRecord:
        return None


def _soft_date(value: Any) -> date | None:
    try:
        return parse_date(value, "term")
    except BadRecord:
        return None


def billing_months(recurring: dict) -> int:
    """Months between bills: frequencyDurationUnit x frequencyInterval. Days and weeks round to
    whole months (at least one); an unknown unit or interval means monthly."""
    unit = parse_text(recurring.get("frequencyDurationUnit"), "recurringContract.frequencyDurationUnit").upper()
    try:
        interval = parse_int(recurring.get("frequencyInterval"), "recurringContract.frequencyInterval", default=1)
    except BadRecord:
        interval = 1
    interval = max(interval, 1)
    if unit in MONTHS_PER_UNIT:
        return MONTHS_PER_UNIT[unit] * interval
    if unit == "QUARTER":  # not in the schema; older exports wrote it
        return 3 * interval
    days = DAYS_PER_UNIT.get(unit)
    if days is None:
        return 1
    return max(1, int((days * interval / Decimal("30.4375")).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def _list_of_objects(value: Any, field: str) -> list[dict]:
    if value is None:
        return []
    if isinstance(value, dict):  # one object where a list belongs: read it as a list of one
        value = [value]
    if not isinstance(value, list):
        raise BadRecord(f"{field} {value!r} is not a list")
    return [item for item in value if isinstance(item, dict)]


def included_items(billable: dict) -> list[str]:
    """Ids of the service items the agreement covers (includedItems: objects with an itemId,
    or bare ids), in the order given, each once."""
    raw = billable.get("includedItems")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadRecord(f"includedItems {raw!r} is not a list")
    ids: list[str] = []
    for item in raw:
        value = item.get("itemId") if isinstance(item, dict) else item
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            text = str(value).strip()[:64]
            if text not in ids:
                ids.append(text)
    return ids


def block_hours_left(billable: dict, kind: str, maps: TenantMaps) -> Decimal | None:
    """Hours left on the contract's blocks (blockItemsInfo balances) for blocks of hours.

    Whether a block item counts hours or money is the service item's quantity type; the loader
    passes the hour-based item ids in `maps.hour_items`. Without them, a block of a USAGE
    contract that redeems hours (kind block_hours) is taken as hours."""
    total, found = ZERO, False
    for block in _list_of_objects(billable.get("blockItemsInfo"), "blockItemsInfo"):
        item_id = str(block.get("blockItemId") or "")
        if maps.hour_items is not None:
            hours = item_id in maps.hour_items
        else:
            hours = kind == "block_hours"
        balance = _soft_decimal(block.get("balance"))
        if hours and balance is not None:
            total += balance
            found = True
    return total if found else None


def map_contract(p: dict, today: date | None = None, maps: TenantMaps = DEFAULT_MAPS) -> Mapped:
    """A client contract, its terms from SuperOps' own fields first (perpetualContract,
    discountRate, blockItemsInfo, recurringContract, frequencyType); what the schema has no
    field for (escalator, rates outside the agreement, cancellation) from "label: value" terms
    of the description named by the field map. A term that is absent is unknown."""
    today = today or date.today()
    contract = obj(p.get("contract"), "contract")
    billable = obj(contract.get("billableContract"), "contract.billableContract")
    kind = contract_kind(contract, billable)
    price = obj(billable.get("sellingPrice"), "sellingPrice")
    details = price.get("details") or [{}]
    first = obj(details[0], "sellingPrice.details[0]")
    recurring = obj(billable.get("recurringContract"), "recurringContract")
    perpetual = obj(billable.get("perpetualContract"), "perpetualContract")
    frequency_type = parse_text(billable.get("frequencyType"), "frequencyType").upper()
    description = parse_text(contract.get("description"), "contract.description")
    terms = description_terms(description)

    def written(concept: str) -> str | None:
        return term(terms, maps, concept)

    status = parse_choice(p.get("contractStatus"), "contractStatus", CONTRACT_STATUS)
    cancelled_on = _soft_date(written("contract.cancelled_on"))
    if status == "inactive" and cancelled_on:
        status = "cancelled"
    changes = billable.get("changes") or []
    if not isinstance(changes, list):
        raise BadRecord(f"changes {changes!r} is not a list")
    escalator = ESCALATOR.search(description)
    escalator_pct = (Decimal(escalator.group(1)) if escalator
                     else _soft_decimal(written("contract.annual_escalator_pct")))
    unit_price = parse_decimal(first.get("value"), "sellingPrice.details[0].value", default=ZERO)
    hourly_rate = _soft_decimal(written("contract.hourly_rate"))
    if hourly_rate is None and kind == "time_and_materials":
        hourly_rate = unit_price  # a T&M agreement's price is its hourly rate
    after_hours = first.get("afterHoursValue")
    after_hours_rate = (parse_decimal(after_hours, "sellingPrice.details[0].afterHoursValue")
                        if not _blank(after_hours) else _soft_decimal(written("contract.after_hours_rate")))
    included = _soft_decimal(written("contract.included_hours"))
    if included is None:
        included = block_hours_left(billable, kind, maps)
    covered = included_items(billable)
    # Time outside the agreement on an hourly item it covers is billed at that item's price.
    catalogue = next((maps.item_prices[i] for i in covered if maps.item_prices and i in maps.item_prices),
                     (None, None))
    if hourly_rate is None:
        hourly_rate = catalogue[0]
    if after_hours_rate is None:
        after_hours_rate = catalogue[1]
    fields = {
        "name": parse_text(contract.get("name"), "contract.name", required=True),
        "kind": kind,
        "status": status,
        "start_date": parse_date(p.get("startDate"), "startDate", required=True),
        "end_date": parse_date(p.get("endDate"), "endDate"),
        "billed_quantity": billed_quantity(changes, today),
        "unit_price": unit_price,
        "included_hours": included or ZERO,
        "hourly_rate": hourly_rate or ZERO,
        "after_hours_rate": after_hours_rate,
        "annual_escalator_pct": escalator_pct or ZERO,
        "billing_frequency_months": billing_months(recurring) if recurring else 1,
        "frequency_type": frequency_type if frequency_type in FREQUENCY_TYPES else "",
        "included_item_ids": covered,
        "discount_pct": _soft_decimal(billable.get("discountRate")),
        # autoRenew is non-null whenever perpetualContract is present; other contracts end.
        "auto_renew": parse_bool(perpetual.get("autoRenew"), "perpetualContract.autoRenew", default=False),
        "cancelled_on": cancelled_on,
        "cancellation_reason": parse_text(written("contract.cancellation_reason"), "cancellationReason"),
        "currency": "USD",
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


def map_asset(p: dict, maps: TenantMaps = DEFAULT_MAPS) -> Mapped:
    cf = _custom(p)
    status = parse_text(p.get("status"), "status")
    last_seen = parse_datetime(p.get("lastCommunicatedTime"), "lastCommunicatedTime")
    retired_on = None
    if status.lower() == "decommissioned":
        # Without a recorded retirement day, the last check-in is when it stopped being managed.
        retired_on = parse_date(maps.custom(cf, "asset.retired_on"), maps.custom_name("asset.retired_on"))
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


def map_ticket(p: dict, maps: TenantMaps = DEFAULT_MAPS) -> list[Mapped]:
    """The ticket, plus its satisfaction survey when the client answered one."""
    cf = _custom(p)

    def custom(concept: str) -> Any:
        return maps.custom(cf, concept)

    def name(concept: str) -> str:
        return maps.custom_name(concept)

    ticket_id = parse_id(p.get("ticketId"), "ticketId")
    ticket_type = parse_text(p.get("ticketType"), "ticketType").upper()
    source = parse_text(p.get("source"), "source").upper()
    status = parse_text(p.get("status"), "status")
    priority = parse_text(p.get("priority"), "priority")
    category = parse_text(p.get("category"), "category")
    planned = maps.value(TICKET_CATEGORY, category) if category else ""
    fields = {
        "display_id": parse_text(p.get("displayId"), "displayId"),
        "subject": parse_text(p.get("subject"), "subject", required=True),
        "description": parse_text(cf.get("description"), "customFields.description"),
        "ticket_type": ticket_type,
        "request_type": parse_text(p.get("requestType"), "requestType"),
        "channel": CHANNEL.get(source, ""),
        "status": status,
        "status_group": maps.value(TICKET_STATUS, status) if status else "",
        "priority": maps.value(TICKET_PRIORITY, priority) if priority else "",
        "priority_label": priority,
        "category": category,
        "subcategory": parse_text(p.get("subcategory"), "subcategory"),
        # An incident is reactive, unless its category is planned work by the value map.
        "is_reactive": ticket_type == "INCIDENT" if not planned else planned == "reactive",
        "sla_name": parse_text(obj(p.get("sla"), "sla").get("name"), "sla.name"),
        "created_at": parse_datetime(p.get("createdTime"), "createdTime", required=True),
        "source_updated_at": parse_datetime(p.get("updatedTime"), "updatedTime"),
        "first_response_due_at": parse_datetime(p.get("firstResponseDueTime"), "firstResponseDueTime"),
        "first_response_at": parse_datetime(p.get("firstResponseTime"), "firstResponseTime"),
        "first_response_violated": parse_bool(p.get("firstResponseViolated"), "firstResponseViolated"),
        "resolution_due_at": parse_datetime(p.get("resolutionDueTime"), "resolutionDueTime"),
        "resolved_at": parse_datetime(p.get("resolutionTime"), "resolutionTime"),
        "resolution_violated": parse_bool(p.get("resolutionViolated"), "resolutionViolated"),
        "reopen_count": parse_int(custom("ticket.reopen_count"), name("ticket.reopen_count"), default=0),
        "escalated": parse_bool(custom("ticket.escalated"), name("ticket.escalated"), default=False),
    }
    if fields["reopen_count"] < 0:
        raise BadRecord(f"{name('ticket.reopen_count')} {custom('ticket.reopen_count')!r} is negative")
    client = _client_ref(p)
    asset_id = custom("ticket.asset_id")
    refs = {
        "client": client,
        "technician": _optional_ref(Technician, p.get("technician"), "userId", "technician"),
        "asset": Ref(Asset, SOURCE, parse_id(asset_id, name("ticket.asset_id")), required=False)
        if not _blank(asset_id)
        else None,
    }
    rows = [Mapped(Ticket, SOURCE, ticket_id, fields, refs)]
    score_value = custom("ticket.csat_score")
    if not _blank(score_value):
        score = parse_int(score_value, name("ticket.csat_score"))
        if not 1 <= score <= 5:
            raise BadRecord(f"{name('ticket.csat_score')} {score_value!r} is not between 1 and 5")
        responded = parse_datetime(custom("ticket.csat_responded_at"), name("ticket.csat_responded_at")) or fields[
            "resolved_at"] or fields["created_at"]
        survey = {
            "score": score,
            "comment": parse_text(custom("ticket.csat_comment"), name("ticket.csat_comment")),
            "responded_at": responded,
        }
        rows.append(Mapped(SatisfactionSurvey, SOURCE, ticket_id, survey,
                           {"client": client, "ticket": Ref(Ticket, SOURCE, ticket_id)}))
    return rows


def hours_to_minutes(hours: Decimal) -> int:
    return int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _work_item(p: dict) -> tuple[str, str | None, Ref | None]:
    """(module, work id, ticket ref) of a workItem: time on a ticket names the ticket; time on
    a project has no ticket (its client comes with the work item)."""
    work = obj(p.get("workItem"), "workItem")
    module = parse_text(work.get("module"), "workItem.module").upper()
    work_id = ref_id(work, "workId", "workItem")
    ticket = Ref(Ticket, SOURCE, work_id, required=False) if module == "TICKET" and work_id else None
    return module, work_id, ticket


def _work_client(p: dict, ticket: Ref | None, work_id: str | None, module: str) -> Ref:
    account_id = ref_id(obj(p.get("workItem"), "workItem").get("client"), "accountId", "workItem.client")
    if account_id:
        return Ref(Client, SOURCE, account_id)
    if ticket:
        # The ticket knows its client; an unknown ticket then means an unknown client.
        return Ref(Ticket, SOURCE, work_id, via="client")
    if module == "PROJECT":
        raise BadRecord("workItem.client is missing (project time names no ticket to find it by)")
    raise BadRecord("workItem names neither a ticket nor a client")


def map_worklog(p: dict) -> Mapped:
    qty = parse_decimal(p.get("qty"), "qty", required=True)
    if qty <= 0:
        raise BadRecord(f"qty {p.get('qty')!r} is not positive")
    minutes = hours_to_minutes(qty)
    if minutes == 0:
        raise BadRecord(f"qty {p.get('qty')!r} is less than half a minute")
    when = parse_datetime(p.get("billDateTime"), "billDateTime", required=True)
    module, work_id, ticket = _work_item(p)
    client = _work_client(p, ticket, work_id, module)
    fields = {
        "work_date": when.date(),
        "started_at": when,
        "minutes": minutes,
        "billable": parse_bool(p.get("billable"), "billable", default=False),
        "after_hours": parse_bool(p.get("afterHours"), "afterHours", default=False),
        "unit_price": parse_decimal(p.get("unitPrice"), "unitPrice", default=ZERO),
        "currency": "USD",
        "billing_status": parse_choice(p.get("status"), "status", BILLING_STATUS, default=""),
        "work_module": module[:10],
        "work_id": work_id or "",
        "notes": parse_text(p.get("notes"), "notes"),
    }
    refs = {
        "client": client,
        "ticket": ticket,
        "technician": _optional_ref(Technician, p.get("technician"), "userId", "technician"),
        "service_item": _optional_ref(ServiceItem, p.get("serviceItem"), "itemId", "serviceItem"),
    }
    return Mapped(Worklog, SOURCE, parse_id(p.get("itemId"), "itemId"), fields, refs)


OFFERED_KIND = {"CONTRACT": "contract", "WORK": "work"}


def map_offered_item(p: dict) -> Mapped:
    """One entry of the billing audit trail (getOfferedItems.items[]). The revised values, when
    someone changed the line before invoicing, are what the client is billed."""
    module, work_id, ticket = _work_item(p)

    def money(name: str) -> Decimal | None:
        revised = f"revised{name[0].upper()}{name[1:]}"
        value = p.get(revised)
        return parse_decimal(value, revised) if not _blank(value) else parse_decimal(p.get(name), name)

    quantity = money("qty")
    unit_price = money("unitPrice")
    amount = money("amount")
    if amount is None and quantity is not None and unit_price is not None:
        amount = quantity * unit_price
    discount = _soft_decimal(p.get("revisedDiscountRate") if not _blank(p.get("revisedDiscountRate"))
                             else p.get("discountRate"))
    fields = {
        "kind": parse_choice(p.get("type"), "type", OFFERED_KIND),
        "status": parse_choice(p.get("status"), "status", BILLING_STATUS),
        "bill_date": parse_date(p.get("billDate"), "billDate", required=True),
        "after_hours": parse_bool(p.get("afterHours"), "afterHours", default=False),
        "unit_price": unit_price or ZERO,
        "quantity": quantity or ZERO,
        "discount_rate": discount,
        "amount": amount or ZERO,
        "work_id": work_id or "",
        "work_module": module[:10],
        "notes": parse_text(p.get("notes"), "notes"),
        "source_updated_at": parse_datetime(p.get("updatedTime"), "updatedTime"),
    }
    if ref_id(p.get("client"), "accountId", "client") is None and work_id:
        client = _work_client(p, ticket, work_id, module)
    else:
        client = _client_ref(p)
    refs = {
        "client": client,
        "service_item": _optional_ref(ServiceItem, p.get("serviceItem"), "itemId", "serviceItem"),
        "technician": _optional_ref(Technician, p.get("technician"), "userId", "technician"),
        "ticket": ticket,
    }
    return Mapped(OfferedItem, SOURCE, parse_id(p.get("itemId"), "itemId"), fields, refs)


Mapper = Callable[..., "Mapped | list[Mapped]"]

# query name -> (list key inside the response, mapper).
MAPPERS: dict[str, Mapper] = {
    "getClientList": map_client,
    "getClientUserList": map_client_user,
    "getTechnicianList": map_technician,
    "getServiceItemList": map_service_item,
    "getClientContractList": map_contract,
    "getAssetList": map_asset,
    "getTicketList": map_ticket,
    "getWorklogEntries": map_worklog,
    "getOfferedItems": map_offered_item,
}
