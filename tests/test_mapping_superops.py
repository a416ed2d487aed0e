"""SuperOps payloads (the PAYLOADS.md examples and variations, in the shapes of SuperOps'
published schema) map to exactly the row values a person would expect, bad payloads are
refused with a reason naming the field, and what a tenant configures itself (custom field
labels, stages, priorities) never refuses one."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

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
from integrations import entities
from integrations.records import BadRecord, Ref
from integrations.superops.mapping import (
    MAPPERS,
    map_asset,
    map_client,
    map_client_user,
    map_contract,
    map_offered_item,
    map_service_item,
    map_technician,
    map_ticket,
    map_worklog,
)
from integrations.tenant import TenantMaps

CLIENT = {
    "accountId": "4001", "name": "Acme Dental", "stage": "Customer", "status": "Active",
    "emailDomains": ["AcmeDental.com", "acme.example"], "accountManager": {"userId": "9001", "name": "Dana Wu"},
    "hqSite": {"id": "5001", "name": "HQ"},
    "customFields": {"industry": "Healthcare", "employeeCount": "23", "onboardedOn": "2024-03-01",
                     "currency": "USD"},
}
# The schema's Technician has no customFields; an older export that carries them is still read.
TECHNICIAN = {
    "userId": "9001", "firstName": "Dana", "lastName": "Wu", "name": "Dana Wu", "email": "Dana@MSP.example",
    "designation": {"designationId": "1", "name": "Service Desk L1"}, "team": {"teamId": "1", "name": "Service Desk"},
    "role": {"roleId": "2", "name": "Technician"}, "customFields": {"burdenedHourlyCost": "48.50", "tier": "1"},
}
SERVICE_ITEM = {
    "itemId": "7001", "name": "Managed Workstation", "description": "Per device, per month",
    "quantityType": "UNITS", "unitPrice": "75.00", "businessHoursUnitPrice": "75.00",
    "afterHoursUnitPrice": None, "category": {"categoryId": "1", "name": "Managed services"},
}
CONTRACT = {
    "contractId": "6001", "client": {"accountId": "4001", "name": "Acme Dental"},
    "startDate": "2024-03-01", "endDate": "2027-02-28", "contractStatus": "ACTIVE",
    "contract": {
        "contractId": "6001", "name": "Managed Workstations",
        "description": "Annual price escalator: 3%\nhourlyRate: 150.00\nafterHoursRate: 225.00",
        "contractType": "SERVICE",
        "billableContract": {
            "contractId": "6001", "chargeItem": {"itemId": "7001", "name": "Managed Workstation"},
            "quantityCalculationType": "FIXED", "sellingPriceCalculationType": "FIXED",
            "provisionRule": {"entity": "ASSET"}, "sellingPriceOverridden": True,
            "sellingPrice": {"model": "PER_UNIT", "details": [{"value": "75.00", "afterHoursValue": None}]},
            "discountRate": "5", "frequencyType": "RECURRING", "includedItems": [], "billableSiteType": "ALL",
            "recurringContract": {"contractId": "6001", "recurringMode": "ADVANCE", "frequencyDurationUnit": "MONTH",
                                  "frequencyInterval": 1, "billingOffset": 0, "nextBillDate": "2026-12-01"},
            "perpetualContract": None, "redeemableContract": None, "blockItemsInfo": None,
            "changes": [
                {"changeId": "1", "effectiveDate": "2024-03-01", "endDate": None, "quantity": "20",
                 "quantityChangeOperation": "BASELINE"},
                {"changeId": "2", "effectiveDate": "2025-01-01", "endDate": None, "quantity": "3",
                 "quantityChangeOperation": "INCREASE"},
            ],
        },
    },
}
ASSET = {
    "assetId": "3001", "name": "ACME-WS-001", "assetClass": {"classId": "1", "name": "Workstation"},
    "client": {"accountId": "4001", "name": "Acme Dental"}, "site": {"id": "5001", "name": "HQ"},
    "platform": "Windows", "status": "Online", "purchasedDate": "2024-03-04",
    "lastCommunicatedTime": "2026-10-31T08:00:00", "customFields": {"retiredOn": None},
}
TICKET = {
    "ticketId": "100001", "displayId": "T-100001", "subject": "Outlook keeps asking for password",
    "ticketType": "INCIDENT", "requestType": "Incident", "source": "EMAIL",
    "client": {"accountId": "4001", "name": "Acme Dental"}, "technician": {"userId": "9001", "name": "Dana Wu"},
    "status": "Closed", "priority": "Medium", "category": "Passwords", "subcategory": "Reset",
    "sla": {"id": "1", "name": "Standard"},
    "createdTime": "2026-10-05T09:12:00", "updatedTime": "2026-10-05T15:00:00",
    "firstResponseDueTime": "2026-10-05T13:12:00", "firstResponseTime": "2026-10-05T09:40:00",
    "firstResponseViolated": False,
    "resolutionDueTime": "2026-10-06T17:00:00", "resolutionTime": "2026-10-05T14:55:00",
    "resolutionViolated": False, "worklogTimespent": "0.50",
    "customFields": {"reopenCount": "0", "escalated": False, "assetId": "3001", "csatScore": "5",
                     "csatComment": "Quick fix, thanks", "csatRespondedAt": "2026-10-05T16:02:00",
                     "description": "Since this morning Outlook asks for my password every 5 minutes."},
}
WORKLOG = {
    "itemId": "200001", "status": "INVOICED", "serviceItem": {"itemId": "7003", "name": "Remote support"},
    "billable": True, "afterHours": False, "qty": "0.75", "unitPrice": "150.00",
    "billDateTime": "2026-10-05T10:00:00", "technician": {"userId": "9001", "name": "Dana Wu"},
    "notes": "Reset password, re-added mailbox",
    "workItem": {"workId": "100001", "module": "TICKET", "client": {"accountId": "4001"}},
}
CLIENT_USER = {
    "userId": "8101", "firstName": "Ann", "lastName": "Lee", "name": "Ann Lee", "email": "Ann.Lee@AcmeDental.com",
    "contactNumber": None, "reportingManager": None, "site": {"id": "5001", "name": "HQ"},
    "role": {"roleId": "3", "name": "Client User"}, "client": {"accountId": "4001", "name": "Acme Dental"},
    "customFields": {},
}
OFFERED_ITEM = {
    "itemId": "300001", "type": "WORK", "billDate": "2026-10-05", "status": "PENDING",
    "serviceItem": {"itemId": "7003", "name": "Remote support"}, "client": {"accountId": "4001", "name": "Acme Dental"},
    "site": None, "workItem": {"workId": "100001", "module": "TICKET"},
    "technician": {"userId": "9001", "name": "Dana Wu"},
    "afterHours": True, "unitPrice": "150.00", "qty": "1.50", "discountRate": None, "amount": "225.00",
    "revisedUnitPrice": None, "revisedQuantity": None, "revisedDiscountRate": None, "revisedAmount": None,
    "notes": "After-hours call-out", "createdTime": "2026-10-05T22:00:00", "updatedTime": "2026-10-06T08:00:00",
}


def variant(payload: dict, **changes) -> dict:
    """A deep copy with dotted-path changes: variant(CONTRACT, **{"contract.name": "x"})."""
    result = copy.deepcopy(payload)
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = result
        for key in parents:
            target = target[key]
        target[last] = value
    return result


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_client_maps_every_field():
    row = map_client(CLIENT)
    assert (row.model, row.source, row.external_id, row.refs, row.children) == (Client, "superops", "4001", {}, [])
    assert row.fields == {
        "name": "Acme Dental", "email_domain": "acmedental.com", "stage": "Customer", "status_label": "Active",
        "status": "active", "industry": "Healthcare", "employee_count": 23, "account_manager": "Dana Wu",
        "onboarded_on": date(2024, 3, 1), "currency": "USD", "source_updated_at": None,
    }


def test_churned_client_shows_as_its_status_or_stage_only():
    # A real tenant has no churn date or reason: the status or the stage says it.
    for changes in ({"status": "Inactive"}, {"status": "Churned"}, {"stage": "Former Customer"},
                    {"stage": "Lost", "status": "Active"}):
        row = map_client(variant(CLIENT, **changes))
        assert row.fields["status"] == "churned", changes
        assert "churned_on" not in row.fields and "churn_reason" not in row.fields
    assert map_client(variant(CLIENT, stage="Lead", status="New")).fields["status"] == "prospect"
    assert map_client(variant(CLIENT, **{"customFields.currency": "eur"})).fields["currency"] == "EUR"


def test_unknown_client_stage_and_status_are_kept_with_a_default_meaning():
    row = map_client(variant(CLIENT, stage="Platinum Partner", status="Sleeping"))
    assert (row.fields["stage"], row.fields["status_label"], row.fields["status"]) == (
        "Platinum Partner", "Sleeping", "active")
    maps = TenantMaps.build(value_rows=[("client_status", "sleeping", "churned")])
    assert map_client(variant(CLIENT, status="Sleeping"), maps=maps).fields["status"] == "churned"


def test_client_custom_fields_follow_the_field_map():
    payload = variant(CLIENT, customFields={"Vertical": "Legal", "Head count": "40"})
    plain = map_client(payload).fields
    assert (plain["industry"], plain["employee_count"], plain["onboarded_on"]) == ("", None, None)
    maps = TenantMaps.build({"client.industry": "Vertical", "client.employee_count": "headCount"})
    mapped = map_client(payload, maps=maps).fields
    assert (mapped["industry"], mapped["employee_count"]) == ("Legal", 40)
    with pytest.raises(BadRecord, match="customFields.headCount 'forty' is not a number"):
        map_client(variant(payload, **{"customFields.Head count": "forty"}), maps=maps)


@pytest.mark.parametrize("changes, reason", [
    ({"accountId": None}, "accountId is missing"),
    ({"name": ""}, "name is missing"),
    ({"customFields.onboardedOn": "03/01/2024"}, "customFields.onboardedOn '03/01/2024' is not a date"),
    ({"customFields.employeeCount": "twenty"}, "customFields.employeeCount 'twenty' is not a number"),
    ({"updatedTime": "yesterday"}, "updatedTime 'yesterday' is not a date"),
])
def test_bad_client_names_field_and_value(changes, reason):
    with pytest.raises(BadRecord, match=reason.replace("(", r"\(")):
        map_client(variant(CLIENT, **changes))


def test_technician_maps_every_field():
    row = map_technician(TECHNICIAN)
    assert (row.model, row.external_id) == (Technician, "9001")
    assert row.fields == {
        "name": "Dana Wu", "email": "dana@msp.example", "designation": "Service Desk L1",
        "team": "Service Desk", "tier": 1, "burdened_hourly_cost": Decimal("48.50"),
    }
    assert str(row.fields["burdened_hourly_cost"]) == "48.50"


def test_technician_without_cost_leaves_the_locally_set_cost_alone():
    payload = variant(TECHNICIAN, name=None, customFields={})
    row = map_technician(payload)
    assert row.fields["name"] == "Dana Wu"  # from first and last name
    assert "burdened_hourly_cost" not in row.fields
    assert "tier" not in row.fields  # not in the payload: a locally set tier stays
    with pytest.raises(BadRecord, match="customFields.burdenedHourlyCost '-1' is negative"):
        map_technician(variant(TECHNICIAN, **{"customFields.burdenedHourlyCost": "-1"}))


def test_service_item_maps_every_field():
    row = map_service_item(SERVICE_ITEM)
    assert (row.model, row.external_id) == (ServiceItem, "7001")
    assert row.fields == {
        "name": "Managed Workstation", "description": "Per device, per month", "quantity_type": "units",
        "unit_price": Decimal("75.00"), "after_hours_unit_price": None,
    }
    hourly = map_service_item(variant(SERVICE_ITEM, quantityType="HOURS", unitPrice=None,
                                      businessHoursUnitPrice="150.00", afterHoursUnitPrice="225.50"))
    assert hourly.fields["quantity_type"] == "hours"
    assert hourly.fields["unit_price"] == Decimal("150.00")
    assert hourly.fields["after_hours_unit_price"] == Decimal("225.50")
    for source, ours in [("BLOCK_HOURS", "block_hours"), ("BLOCK_MONEY", "block_money")]:
        assert map_service_item(variant(SERVICE_ITEM, quantityType=source)).fields["quantity_type"] == ours
    with pytest.raises(BadRecord, match="unitPrice 'seventy' is not a number"):
        map_service_item(variant(SERVICE_ITEM, unitPrice="seventy"))


def test_contract_maps_every_field():
    row = map_contract(CONTRACT, today=date(2026, 11, 28))
    assert (row.model, row.source, row.external_id) == (Contract, "superops", "6001")
    assert row.refs == {
        "client": Ref(Client, "superops", "4001"),
        "service_item": Ref(ServiceItem, "superops", "7001", required=False),
    }
    assert row.fields == {
        "name": "Managed Workstations", "kind": "per_device", "status": "active",
        "start_date": date(2024, 3, 1), "end_date": date(2027, 2, 28),
        "billed_quantity": Decimal("23"), "unit_price": Decimal("75.00"), "included_hours": Decimal("0"),
        "hourly_rate": Decimal("150.00"), "after_hours_rate": Decimal("225.00"),
        "annual_escalator_pct": Decimal("3"), "billing_frequency_months": 1, "frequency_type": "RECURRING",
        "included_item_ids": [], "discount_pct": Decimal("5"), "auto_renew": False, "cancelled_on": None,
        "cancellation_reason": "", "currency": "USD", "source_updated_at": None,
    }


def test_perpetual_contract_renews_as_its_auto_renew_says():
    perpetual = {"contract.billableContract.frequencyType": "PERPETUAL",
                 "contract.billableContract.recurringContract": None}
    for auto_renew in (True, False):
        fields = map_contract(variant(CONTRACT, **perpetual, **{
            "contract.billableContract.perpetualContract": {"contractId": "6001", "autoRenew": auto_renew}}),
            today=date(2026, 11, 1)).fields
        assert (fields["auto_renew"], fields["frequency_type"], fields["billing_frequency_months"]) == (
            auto_renew, "PERPETUAL", 1)


@pytest.mark.parametrize("unit, interval, months", [
    ("MONTH", 1, 1), ("MONTH", 3, 3), ("MONTH", 6, 6), ("YEAR", 1, 12), ("YEAR", 2, 24),
    ("WEEK", 1, 1), ("WEEK", 13, 3), ("DAY", 30, 1), ("DAY", 90, 3), ("FORTNIGHT", 2, 1),
])
def test_billing_frequency_from_unit_and_interval(unit, interval, months):
    payload = variant(CONTRACT, **{"contract.billableContract.recurringContract.frequencyDurationUnit": unit,
                                   "contract.billableContract.recurringContract.frequencyInterval": interval})
    assert map_contract(payload, today=date(2026, 11, 1)).fields["billing_frequency_months"] == months


def test_contract_terms_missing_are_unknown_not_a_rejection():
    bare = variant(CONTRACT, **{"contract.description": None, "contract.billableContract.discountRate": "ten",
                                "contract.billableContract.frequencyType": None})
    fields = map_contract(bare, today=date(2026, 11, 1)).fields
    assert (fields["hourly_rate"], fields["after_hours_rate"], fields["annual_escalator_pct"]) == (0, None, 0)
    assert (fields["discount_pct"], fields["frequency_type"], fields["cancelled_on"]) == (None, "", None)
    written = variant(CONTRACT, **{"contract.description": "Rates; hourlyRate: 150,00; escalatorPct: 4 %"})
    fields = map_contract(written, today=date(2026, 11, 1)).fields
    assert (fields["hourly_rate"], fields["annual_escalator_pct"]) == (0, Decimal("4"))


def test_included_items_are_kept_and_give_the_rates_for_time_outside_the_agreement():
    covered = variant(CONTRACT, **{
        "contract.description": "Annual price escalator: 3%",
        "contract.billableContract.includedItems": [{"itemId": "7005", "name": "Remote Support"},
                                                    {"itemId": "7006", "name": "Onsite Support"}, "7005"],
    })
    fields = map_contract(covered, today=date(2026, 11, 1)).fields
    assert fields["included_item_ids"] == ["7005", "7006"]
    assert (fields["hourly_rate"], fields["after_hours_rate"]) == (0, None)  # no catalogue: unknown
    maps = TenantMaps.build(item_prices={"7006": (Decimal("175.00"), Decimal("262.50"))})
    fields = map_contract(covered, today=date(2026, 11, 1), maps=maps).fields
    assert (fields["hourly_rate"], fields["after_hours_rate"]) == (Decimal("175.00"), Decimal("262.50"))
    # Rates the agreement states win over the catalogue.
    stated = variant(covered, **{"contract.description": "Hourly rate: 150\nAfter-hours rate: 200"})
    fields = map_contract(stated, today=date(2026, 11, 1), maps=maps).fields
    assert (fields["hourly_rate"], fields["after_hours_rate"]) == (Decimal("150"), Decimal("200"))
    with pytest.raises(BadRecord, match="includedItems 'all' is not a list"):
        map_contract(variant(CONTRACT, **{"contract.billableContract.includedItems": "all"}),
                     today=date(2026, 11, 1))


def test_block_balance_is_hours_left_only_for_blocks_of_hours():
    block = variant(CONTRACT, **{
        "contract.contractType": "USAGE", "contract.description": "Block of 20 hours",
        "contract.billableContract.redeemableContract": {
            "contractId": "6001", "applicableType": "ALL_ITEMS", "applicableHours": "ALL_HOURS",
            "carryForwardRemainingQuantity": False},
        "contract.billableContract.blockItemsInfo": [{"blockItemId": "7010", "balance": "12.5"},
                                                     {"blockItemId": "7011", "balance": "400.00"}],
    })
    # Without the catalogue, a USAGE contract redeeming hours counts its blocks as hours.
    assert map_contract(block, today=date(2026, 11, 1)).fields["included_hours"] == Decimal("412.5")
    # With it, only the block item sold by the hour counts (7011 is a block of money).
    maps = TenantMaps.build(hour_items=frozenset({"7010"}))
    assert map_contract(block, today=date(2026, 11, 1), maps=maps).fields["included_hours"] == Decimal("12.5")
    # A term written in the description wins.
    written = variant(block, **{"contract.description": "includedHours: 20"})
    assert map_contract(written, today=date(2026, 11, 1), maps=maps).fields["included_hours"] == Decimal("20")


def change(change_id, when, quantity, operation):
    return {"changeId": str(change_id), "effectiveDate": when, "endDate": None, "quantity": quantity,
            "quantityChangeOperation": operation}


def test_billed_quantity_follows_changes_up_to_today():
    changes = [
        change(1, "2024-03-01", "20", "BASELINE"),
        change(2, "2025-01-01", "3", "INCREASE"),
        change(3, "2025-06-01", "5", "DECREASE"),
        change(4, "2026-01-01", "30", "BASELINE"),  # a recount resets everything before it
        change(5, "2026-02-01", "2.5", "INCREASE"),
        change(6, "2027-01-01", "10", "INCREASE"),  # scheduled, not yet effective
    ]
    payload = variant(CONTRACT, **{"contract.billableContract.changes": changes})
    assert map_contract(payload, today=date(2025, 3, 1)).fields["billed_quantity"] == Decimal("23")
    assert map_contract(payload, today=date(2025, 6, 1)).fields["billed_quantity"] == Decimal("18")
    assert map_contract(payload, today=date(2026, 1, 1)).fields["billed_quantity"] == Decimal("30")
    assert map_contract(payload, today=date(2026, 11, 28)).fields["billed_quantity"] == Decimal("32.5")
    assert map_contract(payload, today=date(2027, 1, 1)).fields["billed_quantity"] == Decimal("42.5")
    assert map_contract(payload, today=date(2024, 1, 1)).fields["billed_quantity"] == Decimal("0")


def test_billed_quantity_going_negative_is_a_bad_record():
    changes = [change(1, "2024-03-01", "2", "BASELINE"), change(2, "2024-04-01", "5", "DECREASE")]
    with pytest.raises(BadRecord, match="negative billed quantity"):
        map_contract(variant(CONTRACT, **{"contract.billableContract.changes": changes}), today=date(2026, 1, 1))


@pytest.mark.parametrize("contract_type, billable_changes, kind", [
    ("SERVICE", {"provisionRule": {"entity": "ASSET"}}, "per_device"),
    ("SERVICE", {"provisionRule": {"entity": "USER"}}, "per_user"),
    ("TIME_AND_MATERIAL", {"provisionRule": None}, "time_and_materials"),
    ("ONE_TIME", {"provisionRule": None}, "project"),
    ("USAGE", {"redeemableContract": {"contractId": "6001", "applicableType": "ALL_ITEMS",
                                      "applicableHours": "ALL_HOURS", "carryForwardRemainingQuantity": True}},
     "block_hours"),
    ("USAGE", {"redeemableContract": None}, "time_and_materials"),
])
def test_contract_kind_rules(contract_type, billable_changes, kind):
    payload = variant(CONTRACT, **{"contract.contractType": contract_type},
                      **{f"contract.billableContract.{k}": v for k, v in billable_changes.items()})
    assert map_contract(payload, today=date(2026, 11, 1)).fields["kind"] == kind


def test_block_hours_contract_billed_quarterly_with_included_hours():
    payload = variant(CONTRACT, **{
        "contract.contractType": "USAGE",
        "contract.description": "10 hours a quarter. Escalator 4.5 % per year\nincludedHours: 10\n"
                                "afterHoursRate: 250",
        "contract.billableContract.redeemableContract": {"contractId": "6001", "applicableType": "ALL_ITEMS",
                                                         "applicableHours": "BUSINESS_HOURS",
                                                         "carryForwardRemainingQuantity": False},
        "contract.billableContract.recurringContract.frequencyDurationUnit": "MONTH",
        "contract.billableContract.recurringContract.frequencyInterval": 3,
        "contract.billableContract.sellingPrice.details": [{"value": "1350.00", "afterHoursValue": "200.00"}],
    })
    fields = map_contract(payload, today=date(2026, 11, 1)).fields
    assert fields["kind"] == "block_hours"
    assert fields["included_hours"] == Decimal("10")
    assert fields["billing_frequency_months"] == 3
    assert fields["unit_price"] == Decimal("1350.00")
    assert fields["after_hours_rate"] == Decimal("200.00")  # the price detail wins over a written term
    assert fields["annual_escalator_pct"] == Decimal("4.5")
    yearly = variant(payload, **{"contract.billableContract.recurringContract.frequencyDurationUnit": "YEAR",
                                 "contract.billableContract.recurringContract.frequencyInterval": 1})
    assert map_contract(yearly, today=date(2026, 11, 1)).fields["billing_frequency_months"] == 12


def test_contract_without_escalator_text_has_none():
    payload = variant(CONTRACT, **{"contract.description": "Per device agreement, 3 year term"})
    assert map_contract(payload, today=date(2026, 11, 1)).fields["annual_escalator_pct"] == Decimal("0")


def test_contract_status_and_cancellation():
    today = date(2026, 11, 1)
    draft = map_contract(variant(CONTRACT, contractStatus="DRAFT"), today=today).fields
    assert draft["status"] == "draft"
    inactive = map_contract(variant(CONTRACT, contractStatus="INACTIVE"), today=today).fields
    assert (inactive["status"], inactive["cancelled_on"]) == ("inactive", None)
    cancelled = map_contract(variant(CONTRACT, contractStatus="INACTIVE", **{
        "contract.description": "cancelledOn: 2026-06-30\ncancellationReason: Moved to competitor"}),
        today=today).fields
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelled_on"] == date(2026, 6, 30)
    assert cancelled["cancellation_reason"] == "Moved to competitor"
    assert cancelled["auto_renew"] is False


@pytest.mark.parametrize("changes, reason", [
    ({"contractId": None, "contract.contractId": None}, "contractId is missing"),
    ({"client": None}, "client.accountId is missing"),
    ({"startDate": "someday"}, "startDate 'someday' is not a date"),
    ({"endDate": "2020-01-01"}, "endDate '2020-01-01' is before startDate"),
    ({"contractStatus": "EXPIRED"}, "contractStatus 'EXPIRED' is not one of"),
    ({"contract.contractType": "BARTER"}, "contract.contractType 'BARTER'"),
    ({"contract.billableContract.changes": [change(1, "2024-13-01", "3", "BASELINE")]},
     r"changes\[0\].effectiveDate '2024-13-01' is not a date"),
    ({"contract.billableContract.sellingPrice.details": [{"value": "75,00"}]},
     r"sellingPrice.details\[0\].value '75,00' is not a number"),
])
def test_bad_contract_names_field_and_value(changes, reason):
    with pytest.raises(BadRecord, match=reason):
        map_contract(variant(CONTRACT, **changes), today=date(2026, 11, 1))


def test_asset_maps_every_field():
    row = map_asset(ASSET)
    assert (row.model, row.external_id, row.refs) == (Asset, "3001", {"client": Ref(Client, "superops", "4001")})
    assert row.fields == {
        "name": "ACME-WS-001", "asset_class": "Workstation", "platform": "Windows", "status": "Online",
        "added_on": date(2024, 3, 4), "retired_on": None, "last_seen_at": utc(2026, 10, 31, 8, 0),
    }


def test_decommissioned_asset_is_retired():
    retired = map_asset(variant(ASSET, status="Decommissioned", **{"customFields.retiredOn": "2026-05-15"}))
    assert retired.fields["retired_on"] == date(2026, 5, 15)
    # No recorded day: the last check-in is when it stopped being managed.
    silent = map_asset(variant(ASSET, status="Decommissioned", lastCommunicatedTime="2026-04-02T23:30:00Z"))
    assert silent.fields["retired_on"] == date(2026, 4, 2)
    with pytest.raises(BadRecord, match="purchasedDate '2024-02-30' is not a date"):
        map_asset(variant(ASSET, purchasedDate="2024-02-30"))


def test_ticket_maps_every_field_and_its_survey():
    ticket, survey = map_ticket(TICKET)
    assert (ticket.model, ticket.external_id) == (Ticket, "100001")
    assert ticket.refs == {
        "client": Ref(Client, "superops", "4001"),
        "technician": Ref(Technician, "superops", "9001", required=False),
        "asset": Ref(Asset, "superops", "3001", required=False),
    }
    assert ticket.fields == {
        "display_id": "T-100001", "subject": "Outlook keeps asking for password",
        "description": "Since this morning Outlook asks for my password every 5 minutes.",
        "ticket_type": "INCIDENT", "request_type": "Incident", "channel": "email", "status": "Closed",
        "status_group": "closed", "priority": "medium", "priority_label": "Medium", "category": "Passwords",
        "subcategory": "Reset", "is_reactive": True,
        "sla_name": "Standard", "created_at": utc(2026, 10, 5, 9, 12), "source_updated_at": utc(2026, 10, 5, 15, 0),
        "first_response_due_at": utc(2026, 10, 5, 13, 12), "first_response_at": utc(2026, 10, 5, 9, 40),
        "first_response_violated": False, "resolution_due_at": utc(2026, 10, 6, 17, 0),
        "resolved_at": utc(2026, 10, 5, 14, 55), "resolution_violated": False, "reopen_count": 0,
        "escalated": False,
    }
    assert (survey.model, survey.source, survey.external_id) == (SatisfactionSurvey, "superops", "100001")
    assert survey.refs == {"client": Ref(Client, "superops", "4001"), "ticket": Ref(Ticket, "superops", "100001")}
    assert survey.fields == {"score": 5, "comment": "Quick fix, thanks", "responded_at": utc(2026, 10, 5, 16, 2)}


def test_ticket_text_loses_nul_characters_postgresql_cannot_store():
    fields = map_ticket(variant(TICKET, subject="Printer\x00 jam ", category="\x00"))[0].fields
    assert (fields["subject"], fields["category"]) == ("Printer jam", "")
    with pytest.raises(BadRecord, match="subject is missing"):
        map_ticket(variant(TICKET, subject=" \x00 "))


@pytest.mark.parametrize("priority, ours", [("Urgent", "critical"), ("Critical", "critical"), ("High", "high"),
                                            ("Medium", "medium"), ("Low", "low"), (None, ""),
                                            ("P1 - Business down", "critical"), ("Whenever", "medium")])
def test_ticket_priority(priority, ours):
    fields = map_ticket(variant(TICKET, priority=priority))[0].fields
    assert (fields["priority"], fields["priority_label"]) == (ours, priority or "")


def test_ticket_values_follow_the_value_maps():
    payload = variant(TICKET, priority="Whenever", status="Parked with vendor", category="Patching")
    fields = map_ticket(payload)[0].fields
    # By default an incident is reactive whatever its category.
    assert (fields["priority"], fields["status_group"], fields["is_reactive"]) == ("medium", "open", True)
    maps = TenantMaps.build(value_rows=[("ticket_priority", "WHENEVER", "low"),
                                        ("ticket_status", "Parked with vendor", "waiting"),
                                        ("ticket_category", "patching", "proactive")])
    fields = map_ticket(payload, maps=maps)[0].fields
    assert (fields["priority"], fields["priority_label"]) == ("low", "Whenever")
    assert (fields["status_group"], fields["is_reactive"]) == ("waiting", False)
    request = variant(payload, ticketType="SERVICE_REQUEST", category="Printers")
    maps = TenantMaps.build(value_rows=[("ticket_category", "Printers", "reactive")])
    assert map_ticket(request, maps=maps)[0].fields["is_reactive"] is True


def test_ticket_custom_fields_follow_the_field_map_and_missing_ones_are_unknown():
    payload = variant(TICKET, customFields={"CSAT": "4", "Reopened": "3"})
    ticket, *survey = map_ticket(payload)
    assert (ticket.fields["reopen_count"], ticket.refs["asset"], survey) == (0, None, [])
    maps = TenantMaps.build({"ticket.csat_score": "CSAT", "ticket.reopen_count": "Reopened"})
    ticket, survey = map_ticket(payload, maps=maps)
    assert (ticket.fields["reopen_count"], survey.fields["score"]) == (3, 4)


def test_service_request_without_survey_offsets_and_open():
    payload = variant(TICKET, ticketType="SERVICE_REQUEST", source="PORTAL", technician=None,
                      createdTime="2026-10-05T09:12:00+02:00", resolutionTime=None, resolutionViolated=None,
                      customFields={"reopenCount": "2", "escalated": "true"})
    rows = map_ticket(payload)
    assert len(rows) == 1
    fields = rows[0].fields
    assert fields["is_reactive"] is False
    assert fields["channel"] == "form"
    assert fields["created_at"] == utc(2026, 10, 5, 7, 12)
    assert fields["created_at"].tzinfo is UTC
    assert (fields["resolved_at"], fields["resolution_violated"]) == (None, None)
    assert (fields["reopen_count"], fields["escalated"], fields["description"]) == (2, True, "")
    assert rows[0].refs["technician"] is None and rows[0].refs["asset"] is None


@pytest.mark.parametrize("changes, reason", [
    ({"ticketId": ""}, "ticketId is missing"),
    ({"createdTime": None}, "createdTime is missing"),
    ({"resolutionTime": "yesterday"}, "resolutionTime 'yesterday' is not a date"),
    ({"customFields.csatScore": "7"}, "customFields.csatScore '7' is not between 1 and 5"),
    ({"customFields.csatRespondedAt": "soon"}, "customFields.csatRespondedAt 'soon' is not a date"),
    ({"client": {"name": "Acme"}}, "client.accountId is missing"),
])
def test_bad_ticket_names_field_and_value(changes, reason):
    with pytest.raises(BadRecord, match=reason):
        map_ticket(variant(TICKET, **changes))


def test_worklog_maps_every_field():
    row = map_worklog(WORKLOG)
    assert (row.model, row.source, row.external_id) == (Worklog, "superops", "200001")
    assert row.refs == {
        "client": Ref(Client, "superops", "4001"),
        "ticket": Ref(Ticket, "superops", "100001", required=False),
        "technician": Ref(Technician, "superops", "9001", required=False),
        "service_item": Ref(ServiceItem, "superops", "7003", required=False),
    }
    assert row.fields == {
        "work_date": date(2026, 10, 5), "started_at": utc(2026, 10, 5, 10, 0), "minutes": 45, "billable": True,
        "after_hours": False, "unit_price": Decimal("150.00"), "currency": "USD", "billing_status": "invoiced",
        "work_module": "TICKET", "work_id": "100001", "notes": "Reset password, re-added mailbox",
    }


def test_project_worklog_has_no_ticket_and_its_client_from_the_work_item():
    row = map_worklog(variant(WORKLOG, workItem={"workId": "P-77", "module": "PROJECT",
                                                 "client": {"accountId": "4002", "name": "Birch & Sons Law"}}))
    assert (row.refs["ticket"], row.refs["client"]) == (None, Ref(Client, "superops", "4002"))
    assert (row.fields["work_module"], row.fields["work_id"]) == ("PROJECT", "P-77")
    with pytest.raises(BadRecord, match="workItem.client is missing"):
        map_worklog(variant(WORKLOG, workItem={"workId": "P-77", "module": "PROJECT"}))


def test_worklog_client_from_ticket_and_rounding():
    payload = variant(WORKLOG, qty="0.33", status="UNDER_CONTRACT", billable=False,
                      workItem={"workId": "100001", "module": "TICKET"})
    row = map_worklog(payload)
    assert row.refs["client"] == Ref(Ticket, "superops", "100001", via="client")
    assert row.fields["minutes"] == 20  # 0.33 h = 19.8 min
    assert row.fields["billing_status"] == "under_contract"
    assert map_worklog(variant(WORKLOG, qty="1.2575")).fields["minutes"] == 75  # 75.45 min


@pytest.mark.parametrize("changes, reason", [
    ({"itemId": None}, "itemId is missing"),
    ({"qty": "-0.5"}, "qty '-0.5' is not positive"),
    ({"qty": "0"}, "qty '0' is not positive"),
    ({"qty": "0.001"}, "qty '0.001' is less than half a minute"),
    ({"billDateTime": "2026-13-05T10:00:00"}, "billDateTime '2026-13-05T10:00:00' is not a date"),
    ({"status": "LOST"}, "status 'LOST' is not one of"),
    ({"workItem": {"module": "TICKET"}}, "workItem names neither a ticket nor a client"),
])
def test_bad_worklog_names_field_and_value(changes, reason):
    with pytest.raises(BadRecord, match=reason):
        map_worklog(variant(WORKLOG, **changes))


def test_client_user_maps_every_field():
    row = map_client_user(CLIENT_USER)
    assert (row.model, row.source, row.external_id) == (ClientUser, "superops", "8101")
    assert row.refs == {"client": Ref(Client, "superops", "4001")}
    assert row.fields == {"name": "Ann Lee", "email": "ann.lee@acmedental.com", "role": "Client User",
                          "site_name": "HQ"}
    assert map_client_user(variant(CLIENT_USER, name=None, site=None)).fields["name"] == "Ann Lee"
    with pytest.raises(BadRecord, match="client.accountId is missing"):
        map_client_user(variant(CLIENT_USER, client=None))


def test_offered_item_maps_every_field():
    row = map_offered_item(OFFERED_ITEM)
    assert (row.model, row.source, row.external_id) == (OfferedItem, "superops", "300001")
    assert row.refs == {
        "client": Ref(Client, "superops", "4001"),
        "service_item": Ref(ServiceItem, "superops", "7003", required=False),
        "technician": Ref(Technician, "superops", "9001", required=False),
        "ticket": Ref(Ticket, "superops", "100001", required=False),
    }
    assert row.fields == {
        "kind": "work", "status": "pending", "bill_date": date(2026, 10, 5), "after_hours": True,
        "unit_price": Decimal("150.00"), "quantity": Decimal("1.50"), "discount_rate": None,
        "amount": Decimal("225.00"), "work_id": "100001", "work_module": "TICKET", "notes": "After-hours call-out",
        "source_updated_at": utc(2026, 10, 6, 8, 0),
    }


def test_offered_item_revised_values_and_contract_charges():
    revised = map_offered_item(variant(OFFERED_ITEM, status="INVOICED", revisedUnitPrice="100.00",
                                       revisedAmount="150.00", revisedDiscountRate="10")).fields
    assert (revised["status"], revised["unit_price"], revised["amount"], revised["discount_rate"]) == (
        "invoiced", Decimal("100.00"), Decimal("150.00"), Decimal("10"))
    charge = map_offered_item(variant(OFFERED_ITEM, type="CONTRACT", status="UNDER_CONTRACT", workItem=None,
                                      technician=None, amount=None, qty="23", unitPrice="75.00"))
    assert (charge.fields["kind"], charge.fields["status"], charge.fields["amount"]) == (
        "contract", "under_contract", Decimal("1725.00"))
    assert (charge.refs["ticket"], charge.refs["technician"], charge.fields["work_module"]) == (None, None, "")
    project = map_offered_item(variant(OFFERED_ITEM, client=None, workItem={
        "workId": "P-9", "module": "PROJECT", "client": {"accountId": "4003"}}))
    assert (project.refs["client"], project.refs["ticket"]) == (Ref(Client, "superops", "4003"), None)


@pytest.mark.parametrize("changes, reason", [
    ({"itemId": None}, "itemId is missing"),
    ({"status": "LOST"}, "status 'LOST' is not one of"),
    ({"type": "GIFT"}, "type 'GIFT' is not one of"),
    ({"billDate": "soon"}, "billDate 'soon' is not a date"),
    ({"client": None, "workItem": None}, "client.accountId is missing"),
    ({"qty": "lots"}, "qty 'lots' is not a number"),
])
def test_bad_offered_item_names_field_and_value(changes, reason):
    with pytest.raises(BadRecord, match=reason):
        map_offered_item(variant(OFFERED_ITEM, **changes))


def test_mappers_table_has_a_mapper_for_each_superops_list():
    assert set(MAPPERS) == {kind.name for kind in entities.of("superops")}
