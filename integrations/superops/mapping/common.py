"""What every SuperOps mapper shares: the source name, a row's required reference to its
client and optional references to other rows, the tenant's custom fields of a payload, and
the lenient reading of a value a person wrote (unknown when it cannot be read, never a reason
to lose the record)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from clients.models import Client

from ...parsing import obj, parse_decimal, ref_id
from ...records import BadRecord, Ref

SOURCE = "superops"
ZERO = Decimal("0")


def _client_ref(payload: dict, field: str = "client") -> Ref:
    account_id = ref_id(payload.get(field), "accountId", field)
    if account_id is None:
        raise BadRecord(f"{field}.accountId is missing")
    return Ref(Client, SOURCE, account_id)


def _optional_ref(model, payload: Any, key: str, field: str) -> Ref | None:
    external_id = ref_id(payload, key, field)
    return Ref(model, SOURCE, external_id, required=False) if external_id else None


def _custom(p: dict) -> dict:
    return obj(p.get("customFields"), "customFields")


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _soft_decimal(value: Any) -> Decimal | None:
    """A contract term written by a person ("3", "3%", " 10.5 % "): a number, or None when it
    cannot be read. A term nobody can read is unknown, never a reason to lose the contract."""
    if isinstance(value, str):
        value = value.strip().rstrip("%").strip()
    try:
        return parse_decimal(value, "term")
    except BadRecord:
        return None
