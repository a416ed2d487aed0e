"""Clients and the people on both sides: a client (its stage and status read through the
tenant's value maps, the more telling of the two winning; its profile through the field map),
the users at a client (for seat checks on per-user contracts) and the MSP's own technicians
(tier and burdened cost only when the payload carries them, since cost is local knowledge)."""

from __future__ import annotations

from typing import Any

from clients.models import Client, ClientUser, Technician

from ...parsing import obj, parse_bool, parse_date, parse_datetime, parse_decimal, parse_id, parse_int, parse_text
from ...records import BadRecord, Mapped
from ...tenant import CLIENT_STAGE, CLIENT_STATUS, DEFAULT_MAPS, TenantMaps
from .common import SOURCE, _client_ref, _custom

# Client status ranks: when the stage and the status disagree, the more telling one wins (a
# "Former Customer" stage with an "Active" status is a churned client).
STATUS_RANK = {"churned": 2, "prospect": 1, "active": 0}


def client_status(stage: str, status: str, maps: TenantMaps) -> str:
    """What a client's stage and status mean to us: the more telling of the two (churned over
    prospect over active); each through the value maps, with their defaults."""
    found = [maps.value(kind, text) for kind, text in ((CLIENT_STATUS, status), (CLIENT_STAGE, stage)) if text]
    return max(found, key=STATUS_RANK.__getitem__, default="active")


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
