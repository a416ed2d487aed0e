"""The catalogue and the agreements that sell it: service items (quantity type, flat and
after-hours prices) and client contracts. A contract's terms come from SuperOps' own fields
first (perpetualContract, discountRate, blockItemsInfo, recurringContract, frequencyType);
what the schema has no field for (escalator, rates outside the agreement, cancellation) from
"label: value" terms of its description named by the tenant's field map. Seats billed are the
quantity changes up to today, hours left the balances of hour blocks, and the billing period
whole months."""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from clients.models import Contract, ServiceItem

from ...parsing import (
    obj,
    parse_bool,
    parse_choice,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_id,
    parse_int,
    parse_text,
)
from ...records import BadRecord, Mapped
from ...tenant import DEFAULT_MAPS, TenantMaps, description_terms, term
from .common import SOURCE, ZERO, _blank, _client_ref, _optional_ref, _soft_decimal

QUANTITY_TYPE = {"UNITS": "units", "HOURS": "hours", "BLOCK_HOURS": "block_hours", "BLOCK_MONEY": "block_money"}
CONTRACT_STATUS = {"ACTIVE": "active", "DRAFT": "draft", "INACTIVE": "inactive"}
# FrequencyDurationUnit has MONTH, DAY, WEEK, YEAR (a quarterly contract is MONTH x 3); a
# billing period is kept in whole months, so days and weeks round to the nearest (at least 1).
DAYS_PER_UNIT = {"DAY": Decimal(1), "WEEK": Decimal(7), "MONTH": None, "YEAR": None}
MONTHS_PER_UNIT = {"MONTH": 1, "YEAR": 12}
FREQUENCY_TYPES = ("ONCE", "PERPETUAL", "RECURRING")
# MSPs write the escalator into the agreement text: "Annual price escalator: 3%".
ESCALATOR = re.compile(r"escalator\D{0,20}?(\d+(?:\.\d+)?)\s*%", re.IGNORECASE)


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
