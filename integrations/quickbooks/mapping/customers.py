"""Customers: who the MSP bills, with payment terms in days, balance and currency. A
sub-customer (a site, a job) keeps its parent's id, linked after matching; an inactive
customer's name loses Intuit's " (deleted)" suffix, so a churned client still matches it."""

from __future__ import annotations

import re

from clients.models import Customer

from ...parsing import obj, parse_bool, parse_decimal, parse_id, parse_text, ref_id
from ...records import BadRecord, Mapped
from .common import SOURCE, ZERO, _currency, _updated_at

TERMS_DAYS = re.compile(r"(\d+)")
# Intuit renames a deleted (made inactive) customer "<name> (deleted)"; the name without the
# suffix is the one that matches a client. It may carry a number when the name was reused.
DELETED_SUFFIX = re.compile(r"\s*\(deleted(?:[- ]?\d+)?\)\s*$", re.I)


def customer_name(name: str, active: bool) -> str:
    """The name a person gave the customer: Intuit's " (deleted)" suffix of an inactive one
    removed, so a churned client still matches its customer."""
    return DELETED_SUFFIX.sub("", name) if not active else name


def map_customer(p: dict) -> Mapped:
    terms = parse_text(obj(p.get("SalesTermRef"), "SalesTermRef").get("name"), "SalesTermRef.name")
    days = TERMS_DAYS.search(terms)
    if days:
        terms_days = int(days.group(1))
    elif "receipt" in terms.lower():
        terms_days = 0
    else:
        terms_days = None
    active = parse_bool(p.get("Active"), "Active", default=True)
    display_name = customer_name(parse_text(p.get("DisplayName"), "DisplayName", required=True), active)
    if not display_name:
        raise BadRecord(f"DisplayName {p.get('DisplayName')!r} is only Intuit's deleted suffix")
    # A sub-customer (a site, a job: Job true with a ParentRef) bills for its parent's client;
    # the link is made after matching (integrations.subcustomers).
    parent = ref_id(p.get("ParentRef"), "value", "ParentRef")
    fields = {
        "display_name": display_name,
        "company_name": customer_name(parse_text(p.get("CompanyName"), "CompanyName"), active),
        "email": parse_text(obj(p.get("PrimaryEmailAddr"), "PrimaryEmailAddr").get("Address"),
                            "PrimaryEmailAddr.Address").lower(),
        "active": active,
        "currency": _currency(p),
        "balance": parse_decimal(p.get("Balance"), "Balance", default=ZERO),
        "payment_terms_days": terms_days,
        "parent_external_id": parent or "",
        "source_updated_at": _updated_at(p),
    }
    return Mapped(Customer, SOURCE, parse_id(p.get("Id"), "Id"), fields)
