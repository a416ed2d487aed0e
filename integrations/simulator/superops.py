"""The world as SuperOps GraphQL list items, in the shapes of integrations/PAYLOADS.md and
exactly the types of SuperOps' schema (integrations/superops/schema.graphql): no field the
type lacks, no null in a non-null field, enum values inside their enums.

Only what a real tenant holds: a departed client shows as status "Inactive" (or the stage
"Former Customer") with agreements ended early; why it left is in truth.json, never here.
Agreement terms live where SuperOps keeps them (discountRate, includedItems, blockItemsInfo,
perpetualContract.autoRenew) or in the agreement's description as MSPs write it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from json.encoder import encode_basestring as q

from integrations import entities

from .desk import Ticket, Worklog
from .invoicing import Offered, hours
from .names import ascii_local
from .timeline import DAY, month_end, ts
from .world import Asset, CatalogItem, Client, Contract, Person, Technician

QUERIES = {kind.name: kind.list_key for kind in entities.of("superops")}  # query -> list key
_ASSET_CLASS_IDS = {"Workstation": "1", "Server": "2", "Network Device": "3"}


def money_str(x: Decimal) -> str:
    return f"{x:.2f}"


def client_ref(c: Client) -> dict:
    return {"accountId": c.account_id, "name": c.name}


def tech_ref(t: Technician) -> dict:
    return {"userId": t.user_id, "name": t.name}


def person_ref(p: Person) -> dict:
    return {"userId": p.user_id, "name": f"{p.first} {p.last}"}


def client(c: Client) -> dict:
    gone = c.churned_on is not None
    # Some MSPs move a departed client to a stage of their own, others only set it Inactive.
    stage = "Former Customer" if gone and int(c.account_id) % 2 else "Customer"
    # A signed client not live yet has a status the MSP added to the Customer stage.
    status = "Inactive" if gone else "Onboarding" if c.signed_on is not None else "Active"
    return {
        "accountId": c.account_id, "name": c.name, "stage": stage,
        "status": status, "emailDomains": [c.domain],
        "accountManager": tech_ref(c.account_manager),
        "primaryContact": person_ref(c.people[0]) if c.people else None,
        "hqSite": {"id": c.hq.id, "name": c.hq.name},
        "customFields": {
            "industry": c.industry, "employeeCount": str(c.users), "onboardedOn": c.onboarded.isoformat(),
            "currency": "USD",
        },
    }


def client_user(p: Person, c: Client) -> dict:
    number = int(p.user_id)
    return {
        "userId": p.user_id, "firstName": p.first, "lastName": p.last, "name": f"{p.first} {p.last}",
        "email": p.email, "contactNumber": f"+1 555 {number // 10000 % 1000:03d} {number % 10000:04d}",
        "reportingManager": None, "site": {"id": p.site.id, "name": p.site.name},
        "role": {"roleId": "2" if p.role == "Client Admin" else "3", "name": p.role},
        "client": client_ref(c), "customFields": {},
    }


def technician(t: Technician) -> dict:
    tier_role = ("Account Manager", "3") if t.is_account_manager else ("Technician", "2")
    return {
        "userId": t.user_id, "firstName": t.first, "lastName": t.last, "name": t.name,
        "email": ascii_local(f"{t.first}.{t.last}") + "@msp.example",
        "designation": {"designationId": str(t.tier + (3 if t.is_account_manager else 0)), "name": t.designation},
        "team": {"teamId": "1" if t.team == "Service Desk" else "2", "name": t.team},
        "role": {"roleId": tier_role[1], "name": tier_role[0]},
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


def _terms(k: Contract) -> str:
    """The agreement's terms as an MSP writes them in the description: a sentence on the term,
    then "label: value" lines for what SuperOps has no field for (escalator, included hours,
    the rates for work outside the agreement)."""
    rates = [f"Hourly rate: {money_str(k.hourly_rate)}", f"After-hours rate: {money_str(k.after_hours_rate)}"]
    if k.kind == "project":
        return "\n".join([f"{k.name}. Billed monthly for hours worked at the project rate.",
                          f"Hourly rate: {money_str(k.price)}"])
    if k.kind == "time_and_materials":
        return "\n".join(["Time and materials, billed monthly in arrears.", *rates])
    lines = [f"{k.term_years}-year term{', auto-renews yearly' if k.auto_renew else ''}.",
             f"Annual price escalator: {k.escalator}%" if k.escalator else "No price escalator."]
    if k.kind == "block_hours":
        lines += [f"Included hours: {k.included_hours}", "Unused hours do not roll over; extra hours are billed."]
    else:
        lines.append("Out of scope: new installs, moves and projects, billed at the hourly rate")
    return "\n".join(lines + rates)


def contract(k: Contract, items: dict[str, CatalogItem], next_bill: date | None) -> dict:
    item = items[k.item]
    cid = k.contract_id
    recurring = k.recurring
    if k.kind == "project":
        ctype, frequency = "ONE_TIME", "ONCE"
    elif k.kind == "time_and_materials":
        ctype, frequency = "TIME_AND_MATERIAL", "PERPETUAL"
    else:
        ctype, frequency = "USAGE" if k.kind == "block_hours" else "SERVICE", "RECURRING"
    after = money_str(k.after_hours_rate) if k.kind == "time_and_materials" else None
    labour = [{"itemId": items[key].so_id, "name": items[key].name} for key in ("remote", "onsite")]
    block = k.kind == "block_hours"
    billable = {
        "contractId": cid,
        "chargeItem": {"itemId": item.so_id, "name": item.name},
        "quantityCalculationType": "FIXED", "sellingPriceCalculationType": "FIXED",
        "provisionRule": {"entity": "USER" if k.covers == "users" else "ASSET"} if k.covers else None,
        "sellingPriceOverridden": True,
        "sellingPrice": {"model": "PER_UNIT", "details": [{"value": money_str(k.price), "afterHoursValue": after}]},
        "discountRate": f"{k.discount:.2f}" if k.discount else None,
        "frequencyType": frequency,
        "includedItems": labour if recurring else None,
        "billableSiteType": "ALL",
        "recurringContract": {"contractId": cid, "recurringMode": "ADVANCE", "frequencyDurationUnit": "MONTH",
                              "frequencyInterval": 1, "billingOffset": 0,
                              "nextBillDate": next_bill.isoformat() if next_bill else None} if recurring else None,
        "redeemableContract": {"contractId": cid, "applicableType": "INCLUDED_ITEMS", "applicableHours": "ALL_HOURS",
                               "carryForwardRemainingQuantity": False} if block else None,
        "perpetualContract": {"contractId": cid, "autoRenew": k.auto_renew or k.kind == "time_and_materials"}
        if recurring or k.kind == "time_and_materials" else None,
        "changes": [{"changeId": c.change_id, "effectiveDate": c.effective.isoformat(), "endDate": None,
                     "quantity": str(c.qty), "quantityChangeOperation": c.op} for c in k.changes],
        "project": {"projectId": k.project_id, "name": k.name.removeprefix("Project: ")} if k.project_id else None,
        "blockItemsInfo": [{"blockItemId": item.so_id, "balance": hours_str(k.block_left)}] if block else None,
    }
    # An agreement ended early (the client left) ends on the day it was cancelled.
    end = k.end
    if k.cancelled_on is not None and (end is None or k.cancelled_on < end):
        end = k.cancelled_on
    return {
        "contractId": cid, "client": client_ref(k.client), "startDate": k.start.isoformat(),
        "endDate": end.isoformat() if end else None, "contractStatus": k.status,
        "contract": {"contractId": cid, "name": k.name, "description": _terms(k), "contractType": ctype,
                     "billableContract": billable},
    }


def asset(a: Asset, c: Client, last_seen: int) -> dict:
    retired = a.retired
    # A workstation belongs to one of the client's people; servers and network gear to the
    # primary contact.
    people = c.people
    owner = people[int(a.asset_id) % len(people)] if a.cls == "Workstation" else people[0]
    return {
        "assetId": a.asset_id, "name": a.name, "assetClass": {"classId": _ASSET_CLASS_IDS[a.cls], "name": a.cls},
        "client": client_ref(c), "site": {"id": a.site.id, "name": a.site.name},
        "requester": person_ref(owner), "platform": a.platform,
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
        f'"workItem":{{"workId":"{t.id}","module":"{"TICKET" if t.project is None else "PROJECT"}",'
        f'"client":{{"accountId":"{t.client.account_id}","name":{q(t.client.name)}}}}}}}'
    )


def _offered_times(o: Offered) -> tuple[int, int]:
    """(created, updated): a contract item is offered at 00:05 on its bill date and invoiced by
    07:00; work is offered when the worklog ends, approved within the hour and invoiced at
    the month-end run; a pending item has not changed since."""
    created = o.created or o.bill_date.toordinal() * DAY + 5
    if o.status == "INVOICED":
        updated = created + 7 * 60 - 5 if o.type == "CONTRACT" else month_end(o.bill_date).toordinal() * DAY + 18 * 60
    elif o.status == "APPROVED":
        updated = min(created + 60, month_end(o.bill_date).toordinal() * DAY + DAY - 1)
    else:
        updated = created
    return created, max(created, updated)


def offered_item(o: Offered) -> dict:
    created, updated = _offered_times(o)
    return {
        "itemId": o.id, "type": o.type, "billDate": o.bill_date.isoformat(), "status": o.status,
        "serviceItem": {"itemId": o.item.so_id, "name": o.item.name}, "client": client_ref(o.client),
        "workItem": {"workId": o.work_id, "module": o.module}, "technician": tech_ref(o.tech) if o.tech else None,
        "afterHours": o.after_hours, "unitPrice": money_str(o.price), "qty": money_str(o.qty),
        "discountRate": f"{o.discount:.2f}" if o.discount else None, "amount": money_str(o.amount),
        "createdTime": ts(created), "updatedTime": ts(updated),
    }


# Tenant vocabularies (single-page lists with no paging). The stage "Former Customer" is one
# an MSP added itself (no constant), as tenants do; so is the Customer status "Onboarding"
# (signed, not live yet), added with the first client that needed it (`vocabularies`).
_STAGES = [
    ("1", "Lead", "LEAD", [("1", "New", "NEW"), ("2", "Contacted", None)]),
    ("2", "Prospect", "PROSPECT", [("3", "Qualified", None), ("4", "Proposal Sent", None)]),
    ("3", "Customer", "CUSTOMER", [("5", "Active", "ACTIVE"), ("6", "Inactive", "INACTIVE")]),
    ("4", "Former Customer", None, [("7", "Inactive", "INACTIVE")]),
]
_PRIORITIES = [("1", "Urgent", "#D93025"), ("2", "High", "#F29900"), ("3", "Medium", "#1A73E8"),
               ("4", "Low", "#188038")]


def vocabularies(onboarding: bool = False) -> dict[str, dict]:
    """Bodies of getClientStageList and getPriorityList. `onboarding`: the tenant has clients
    signed but not live yet, so its Customer stage has the status it added for them (the
    window's other clients went live the day they signed and never needed one)."""
    stages = [{"stageId": sid, "name": name, "constant": constant,
               "statuses": [{"statusId": i, "name": n, "constant": k} for i, n, k in statuses]
               + ([{"statusId": "8", "name": "Onboarding", "constant": None}] if onboarding and constant == "CUSTOMER"
                  else [])}
              for sid, name, constant, statuses in _STAGES]
    priorities = [{"id": pid, "name": name, "colorCode": color} for pid, name, color in _PRIORITIES]
    return {"getClientStageList": {"data": {"getClientStageList": stages}},
            "getPriorityList": {"data": {"getPriorityList": priorities}}}
