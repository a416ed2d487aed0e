"""Labour: the MSP's own staff and their time. An Employee carries an hour's cost (CostRate)
and is matched to the technician it is by `match_technician` (email, then name) after
loading; a TimeActivity becomes a worklog for its customer's client, billable time waiting to
be invoiced, its technician known only by name."""

from __future__ import annotations

import unicodedata
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from clients.models import Employee, ServiceItem, Technician, Worklog

from ...parsing import (
    fold_name,
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
from ...records import BadRecord, Mapped, Ref
from .common import SOURCE, ZERO, _client_via, _customer_ref, _updated_at

# QuickBooks time has no approval workflow: billable time is waiting to be billed until an
# invoice picks it up; not-billable time has no billing status.
TIME_BILLING = {"BILLABLE": "pending", "HASBEENBILLED": "invoiced", "NOTBILLABLE": ""}


def _cost_rate(p: dict) -> Decimal | None:
    """CostRate (an hour's cost to the MSP); None when QuickBooks has none. Zero is how a
    company that does not cost its staff leaves it, so it means "not set" too."""
    rate = parse_decimal(p.get("CostRate"), "CostRate")
    if rate is not None and rate < 0:
        raise BadRecord(f"CostRate {p.get('CostRate')!r} is negative")
    return rate or None


def map_employee(p: dict) -> Mapped:
    """An employee (the MSP's own staff). The technician it is, is found after loading, by
    `match_technician` over the technicians that exist (integrations.technician_costs)."""
    given = parse_text(p.get("GivenName"), "GivenName")
    family = parse_text(p.get("FamilyName"), "FamilyName")
    name = parse_text(p.get("DisplayName"), "DisplayName") or " ".join(part for part in (given, family) if part)
    if not name:
        raise BadRecord("DisplayName is missing (and there is no GivenName or FamilyName)")
    fields = {
        "name": name[:200],
        "given_name": given[:100],
        "family_name": family[:100],
        "email": parse_text(obj(p.get("PrimaryEmailAddr"), "PrimaryEmailAddr").get("Address"),
                            "PrimaryEmailAddr.Address").lower()[:200],
        "employee_number": parse_text(p.get("EmployeeNumber"), "EmployeeNumber")[:100],
        "cost_rate": _cost_rate(p),
        "active": parse_bool(p.get("Active"), "Active", default=True),
        "hired_on": parse_date(p.get("HiredDate"), "HiredDate"),
        "released_on": parse_date(p.get("ReleasedDate"), "ReleasedDate"),
        "source_updated_at": _updated_at(p),
    }
    return Mapped(Employee, SOURCE, parse_id(p.get("Id"), "Id"), fields)


def person_key(name: str) -> str:
    """A person's name for matching across systems: accents, case and punctuation folded
    ("José O'Neil" and "jose o neil" are one key)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return fold_name(plain)


@dataclass
class TechnicianIndex:
    """The technicians that exist, by email and by name key, for `match_technician`. A key
    two technicians share is ambiguous and matches nobody (a guess would cost someone's
    labour at another person's rate)."""

    by_email: dict[str, Hashable] = field(default_factory=dict)
    by_name: dict[str, Hashable] = field(default_factory=dict)

    @classmethod
    def of(cls, technicians: Iterable[tuple[Hashable, str, str]]) -> TechnicianIndex:
        """From (id, email, name) triples."""
        index = cls()
        ambiguous = object()
        for tech_id, email, name in technicians:
            keys = ((index.by_email, (email or "").strip().lower()), (index.by_name, person_key(name or "")))
            for table, key in keys:
                if key:
                    table[key] = ambiguous if table.get(key, tech_id) != tech_id else tech_id
        for table in (index.by_email, index.by_name):
            for key in [k for k, v in table.items() if v is ambiguous]:
                del table[key]
        return index


def match_technician(email: str, name: str, index: TechnicianIndex, given_name: str = "",
                     family_name: str = "") -> tuple[Hashable, str] | None:
    """The technician an employee is, with how it was found ("email" or "name"), or None.
    Email first (it names one person in both systems); then the display name, then given
    and family name together (QuickBooks' DisplayName may read "Wu, Dana")."""
    email = (email or "").strip().lower()
    if email and email in index.by_email:
        return index.by_email[email], "email"
    for candidate in (name, f"{given_name} {family_name}"):
        key = person_key(candidate or "")
        if key and key in index.by_name:
            return index.by_name[key], "name"
    return None


def map_time_activity(p: dict) -> Mapped:
    hours = parse_int(p.get("Hours"), "Hours", default=0)
    minutes = parse_int(p.get("Minutes"), "Minutes", default=0)
    if hours < 0 or minutes < 0:
        raise BadRecord(f"Hours {p.get('Hours')!r} / Minutes {p.get('Minutes')!r} is negative")
    total = hours * 60 + minutes
    if total <= 0:
        raise BadRecord(f"Hours {p.get('Hours')!r} and Minutes {p.get('Minutes')!r} give no time")
    customer = _customer_ref(p.get("CustomerRef"), "CustomerRef")
    worker_field = "VendorRef" if p.get("NameOf") == "Vendor" else "EmployeeRef"
    worker = parse_text(obj(p.get(worker_field), worker_field).get("name"), f"{worker_field}.name")
    billable = parse_choice(p.get("BillableStatus"), "BillableStatus", TIME_BILLING, default="")
    item_id = ref_id(p.get("ItemRef"), "value", "ItemRef")
    fields = {
        "work_date": parse_date(p.get("TxnDate"), "TxnDate", required=True),
        "started_at": parse_datetime(p.get("StartTime"), "StartTime"),
        "minutes": total,
        "billable": billable in ("pending", "invoiced"),
        "after_hours": False,
        "unit_price": parse_decimal(p.get("HourlyRate"), "HourlyRate", default=ZERO),
        "cost_rate": _cost_rate(p),
        "currency": "USD",
        "billing_status": billable,
        "notes": parse_text(p.get("Description"), "Description"),
        "source_updated_at": _updated_at(p),
    }
    refs = {
        # Time for a customer not linked to a client yet is kept with its customer and no
        # client; the matcher fills the client when it links the customer.
        "customer": customer,
        "client": _client_via(customer),
        # QuickBooks employees are not SuperOps users; the name is the only shared key.
        "technician": Ref(Technician, "superops", worker, key="name", required=False) if worker else None,
        "service_item": Ref(ServiceItem, SOURCE, item_id, required=False) if item_id else None,
    }
    return Mapped(Worklog, SOURCE, parse_id(p.get("Id"), "Id"), fields, refs)
