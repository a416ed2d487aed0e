"""The world as SuperOps GraphQL list items, in the shapes of integrations/PAYLOADS.md."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from functools import lru_cache
from json.encoder import encode_basestring as q

from .desk import Ticket, Worklog
from .invoicing import Offered, hours
from .timeline import DAY, ts
from .world import Asset, CatalogItem, Client, Contract, Technician

QUERIES = {  # query -> list key
    "getClientList": "clients", "getTechnicianList": "userList", "getServiceItemList": "items",
    "getClientContractList": "clientContracts", "getAssetList": "assets", "getTicketList": "tickets",
    "getWorklogEntries": "entries", "getOfferedItems": "items",
}
_ASSET_CLASS_IDS = {"Workstation": "1", "Server": "2", "Network Device": "3"}


def _day_ts(d: date, hour: int = 12) -> str:
    return ts(d.toordinal() * DAY + hour * 60)


def money_str(x: Decimal) -> str:
    return f"{x:.2f}"


def client_ref(c: Client) -> dict:
    return {"accountId": c.account_id, "name": c.name}


def tech_ref(t: Technician) -> dict:
    return {"userId": t.user_id, "name": t.name}


def client(c: Client, updated: date) -> dict:
    return {
        "accountId": c.account_id, "name": c.name, "stage": "Customer",
        "status": "Active" if c.active else "Inactive", "emailDomains": [c.domain],
        "accountManager": tech_ref(c.account_manager), "hqSite": {"id": c.hq.id, "name": c.hq.name},
        "customFields": {
            "industry": c.industry, "employeeCount": str(c.users), "onboardedOn": c.onboarded.isoformat(),
            "churnedOn": c.churned_on.isoformat() if c.churned_on else None, "churnReason": c.churn_reason,
            "currency": "USD",
        },
        "updatedTime": _day_ts(updated, 18),
    }


def _ascii(text: str) -> str:
    # Mail systems want ASCII local parts: Müller -> muller.
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def technician(t: Technician) -> dict:
    tier_role = ("Account Manager", "3") if t.is_account_manager else ("Technician", "2")
    return {
        "userId": t.user_id, "firstName": t.first, "lastName": t.last, "name": t.name,
        "email": _ascii(f"{t.first}.{t.last}".lower()) + "@msp.example",
        "designation": {"designationId": str(t.tier + (3 if t.is_account_manager else 0)), "name": t.designation},
        "team": {"teamId": "1" if t.team == "Service Desk" else "2", "name": t.team},
        "role": {"roleId": tier_role[1], "name": tier_role[0]},
        "customFields": {"burdenedHourlyCost": money_str(t.cost), "tier": str(t.tier)},
    }


def service_item(i: CatalogItem) -> dict:
    hourly = i.quantity_type == "HOURS"
    return {
        "itemId": i.so_id, "name": i.name, "description": i.description, "quantityType": i.quantity_type,
        "unitPrice": money_str(i.price), "businessHoursUnitPrice": money_str(i.price) if hourly else None,
        "afterHoursUnitPrice": money_str(i.after_hours) if i.after_hours is not None else None,
        "category": {"categoryId": "1" if i.category == "Managed services" else "2" if i.category == "Labour" else "3",
                     "name": i.category},
    }


def contract(k: Contract, items: dict[str, CatalogItem], next_bill: date | None, updated: date) -> dict:
    item = items[k.item]
    recurring = k.recurring
    if k.kind == "project":
        ctype, description = "ONE_TIME", f"{k.name}. Billed monthly for hours worked at the project rate."
    elif k.kind == "time_and_materials":
        ctype, description = "TIME_AND_MATERIAL", "Time and materials, billed monthly in arrears."
    else:
        ctype = "USAGE" if k.kind == "block_hours" else "SERVICE"
        term = f"{k.term_years}-year term{', auto-renews yearly' if k.auto_renew else ''}."
        description = f"{term} Annual price escalator: {k.escalator}%" if k.escalator else f"{term} No price escalator."
    after = money_str(k.after_hours_rate) if k.kind == "time_and_materials" else None
    billable = {
        "chargeItem": {"itemId": item.so_id, "name": item.name},
        "quantityCalculationType": "FIXED", "sellingPriceCalculationType": "FIXED",
        "provisionRule": {"entity": "USER" if k.covers == "users" else "ASSET"} if k.covers else None,
        "sellingPriceOverridden": True,
        "sellingPrice": {"model": "PER_UNIT", "details": [{"value": money_str(k.price), "afterHoursValue": after}]},
        "frequencyType": "RECURRING" if recurring else "ONE_TIME" if k.kind == "project" else "PERPETUAL",
        "recurringContract": {"recurringMode": "ADVANCE", "frequencyDurationUnit": "MONTH", "frequencyInterval": 1,
                              "billingOffset": 0,
                              "nextBillDate": next_bill.isoformat() if next_bill else None} if recurring else None,
        "perpetualContract": {"billingMode": "ARREARS"} if k.kind == "time_and_materials" else None,
        "redeemableContract": {"quantity": str(k.included_hours), "frequencyDurationUnit": "MONTH",
                               "rolloverUnused": False} if k.kind == "block_hours" else None,
        "blockItemsInfo": {"hours": str(k.included_hours)} if k.kind == "block_hours" else None,
        "changes": [{"changeId": c.change_id, "effectiveDate": c.effective.isoformat(), "endDate": None,
                     "quantity": str(c.qty), "quantityChangeOperation": c.op} for c in k.changes],
    }
    return {
        "contractId": k.contract_id, "client": client_ref(k.client), "startDate": k.start.isoformat(),
        "endDate": k.end.isoformat() if k.end else None, "contractStatus": k.status,
        "contract": {"contractId": k.contract_id, "name": k.name, "description": description, "contractType": ctype,
                     "billableContract": billable},
        "customFields": {
            "includedHours": str(k.included_hours), "hourlyRate": money_str(k.hourly_rate),
            "afterHoursRate": money_str(k.after_hours_rate),
            "cancelledOn": k.cancelled_on.isoformat() if k.cancelled_on else None,
            "cancellationReason": k.cancellation_reason, "autoRenew": k.auto_renew,
        },
        "updatedTime": _day_ts(updated, 18),
    }


def asset(a: Asset, c: Client, last_seen: int) -> dict:
    retired = a.retired
    return {
        "assetId": a.asset_id, "name": a.name, "assetClass": {"classId": _ASSET_CLASS_IDS[a.cls], "name": a.cls},
        "client": client_ref(c), "site": {"id": a.site.id, "name": a.site.name}, "platform": a.platform,
        "status": "Decommissioned" if retired else "Online", "purchasedDate": a.added.isoformat(),
        "lastCommunicatedTime": ts(min(last_seen, retired.toordinal() * DAY + 17 * 60) if retired else last_seen),
        "customFields": {"retiredOn": retired.isoformat() if retired else None},
    }


# Tickets and worklogs are most of a world's bytes: they are written straight to JSON text
# (the same shape as the dicts above would give) instead of building a dict per record and
# encoding it - about 20 us a record less at millions of records. Free text goes through
# json's own string encoder, so quoting is exactly json.dumps'.
def _opt_ts(t: int | None) -> str:
    return f'"{ts(t)}"' if t is not None else "null"


@lru_cache(maxsize=4096)
def hours_str(minutes: int) -> str:
    return money_str(hours(minutes))


_BOOL = {True: "true", False: "false", None: "null"}


def ticket(t: Ticket) -> str:
    c, tech, csat = t.client, t.tech, t.csat
    spent = hours_str(sum(w.minutes for w in t.worklogs))
    asset_id = f'"{t.asset_id}"' if t.asset_id else "null"
    if csat:
        survey = f'"csatScore":"{csat[0]}","csatComment":{q(csat[1])},"csatRespondedAt":"{ts(csat[2])}"'
    else:
        survey = '"csatScore":null,"csatComment":null,"csatRespondedAt":null'
    request = "Incident" if t.ttype == "INCIDENT" else "Service Request"
    return (
        f'{{"ticketId":"{t.id}","displayId":"T-{t.id}","subject":{q(t.subject)},"ticketType":"{t.ttype}",'
        f'"requestType":"{request}","source":"{t.source}",'
        f'"client":{{"accountId":"{c.account_id}","name":{q(c.name)}}},'
        f'"technician":{{"userId":"{tech.user_id}","name":{q(tech.name)}}},'
        f'"status":"{t.status}","priority":"{t.priority}","category":{q(t.category)},'
        f'"subcategory":{q(t.subcategory)},"sla":{{"id":"1","name":"Standard"}},'
        f'"createdTime":"{ts(t.created)}","updatedTime":"{ts(t.updated)}",'
        f'"firstResponseDueTime":"{ts(t.fr_due)}","firstResponseTime":{_opt_ts(t.fr_at)},'
        f'"firstResponseViolated":{_BOOL[t.fr_viol]},'
        f'"resolutionDueTime":"{ts(t.res_due)}","resolutionTime":{_opt_ts(t.res_at)},'
        f'"resolutionViolated":{_BOOL[t.res_viol]},"worklogTimespent":"{spent}",'
        f'"customFields":{{"reopenCount":"{t.reopen}","escalated":{_BOOL[t.escalated]},"assetId":{asset_id},'
        f'{survey},"description":{q(t.description)}}}}}'
    )


def worklog(w: Worklog, items: dict[str, CatalogItem]) -> str:
    item, tech, t = items[w.item], w.tech, w.ticket
    price = money_str(w.price) if w.price is not None else "0.00"
    return (
        f'{{"itemId":"{w.id}","status":"{w.status}","serviceItem":{{"itemId":"{item.so_id}","name":{q(item.name)}}},'
        f'"billable":{_BOOL[w.billable]},"afterHours":{_BOOL[w.after_hours]},"qty":"{hours_str(w.minutes)}",'
        f'"unitPrice":"{price}","billDateTime":"{ts(w.start)}",'
        f'"technician":{{"userId":"{tech.user_id}","name":{q(tech.name)}}},"notes":{q(w.notes)},'
        f'"workItem":{{"workId":"{t.id}","module":"TICKET","client":{{"accountId":"{t.client.account_id}"}}}}}}'
    )


def offered_item(o: Offered) -> dict:
    return {
        "itemId": o.id, "type": o.type, "billDate": o.bill_date.isoformat(), "status": o.status,
        "serviceItem": {"itemId": o.item.so_id, "name": o.item.name}, "client": client_ref(o.client),
        "workItem": {"workId": o.work_id, "module": o.module}, "technician": tech_ref(o.tech) if o.tech else None,
        "afterHours": o.after_hours, "unitPrice": money_str(o.price), "qty": money_str(o.qty),
        "amount": money_str(o.amount),
    }
