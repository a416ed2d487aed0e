"""Time and the billing audit trail: worklog entries (hours to whole minutes, billable, after
hours, billing status) and offered items, the lines as billed (a revised value, when someone
changed the line before invoicing, is what the client is billed). Time on a ticket finds its
client through the ticket when the work item names none; time on a project must name it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from clients.models import Client, OfferedItem, ServiceItem, Technician, Ticket, Worklog

from ...parsing import (
    obj,
    parse_bool,
    parse_choice,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_id,
    parse_text,
    ref_id,
)
from ...records import BadRecord, Mapped, Ref
from .common import SOURCE, ZERO, _blank, _client_ref, _optional_ref, _soft_decimal

BILLING_STATUS = {
    "PENDING": "pending", "APPROVED": "approved", "IGNORED": "ignored",
    "INVOICED": "invoiced", "UNDER_CONTRACT": "under_contract",
}


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
