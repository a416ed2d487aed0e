"""The service desk: the endpoints (assets) the MSP manages for a client, and its tickets. A
ticket's status, priority and category go through the tenant's value maps (a category can
mark planned work as not reactive), its reopen count, escalation, asset and CSAT through the
field map; a ticket the client rated comes with its satisfaction survey."""

from __future__ import annotations

from typing import Any

from clients.models import Asset, SatisfactionSurvey, Technician, Ticket

from ...parsing import obj, parse_bool, parse_date, parse_datetime, parse_id, parse_int, parse_text
from ...records import BadRecord, Mapped, Ref
from ...tenant import DEFAULT_MAPS, TICKET_CATEGORY, TICKET_PRIORITY, TICKET_STATUS, TenantMaps
from .common import SOURCE, _blank, _client_ref, _custom, _optional_ref

# SuperOps ticket sources we have seen, to our channels; an unknown source leaves it blank
# rather than losing the ticket.
CHANNEL = {
    "FORM": "form", "PORTAL": "form", "AGENT": "agent", "RMM": "agent", "ALERT": "agent",
    "EMAIL": "email", "AI": "ai", "PHONE": "phone", "CALL": "phone", "INTEGRATION": "integration",
    "API": "integration",
}


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
