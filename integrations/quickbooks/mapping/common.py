"""What every QuickBooks mapper shares: the source name, a document's last-updated time,
currency, exchange rate and lines, and the reference to its customer and, through that
customer, to the client it is linked to."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from clients.models import Customer

from ...parsing import obj, parse_datetime, parse_decimal, parse_text, ref_id
from ...records import BadRecord, Ref

SOURCE = "quickbooks"
ZERO = Decimal("0")
ONE = Decimal("1")


def _updated_at(p: dict) -> Any:
    meta = obj(p.get("MetaData"), "MetaData")
    return parse_datetime(meta.get("LastUpdatedTime"), "MetaData.LastUpdatedTime")


def _currency(p: dict) -> str:
    return parse_text(obj(p.get("CurrencyRef"), "CurrencyRef").get("value"), "CurrencyRef.value").upper() or "USD"


def _exchange_rate(p: dict) -> Decimal:
    rate = parse_decimal(p.get("ExchangeRate"), "ExchangeRate", default=ONE)
    if rate <= 0:
        raise BadRecord(f"ExchangeRate {p.get('ExchangeRate')!r} is not positive")
    return rate


def _customer_ref(payload: Any, field: str, *, required: bool = True) -> Ref | None:
    customer_id = ref_id(payload, "value", field)
    if customer_id is None:
        if required:
            raise BadRecord(f"{field}.value is missing")
        return None
    return Ref(Customer, SOURCE, customer_id)


def _client_via(customer: Ref | None) -> Ref | None:
    # A QuickBooks row's client is whichever client its customer is linked to (matching.py).
    if customer is None:
        return None
    return Ref(Customer, SOURCE, customer.external_id, via="client")


def _lines(p: dict) -> list[dict]:
    lines = p.get("Line") or []
    if not isinstance(lines, list):
        raise BadRecord(f"Line {lines!r} is not a list")
    return [obj(line, f"Line[{i}]") for i, line in enumerate(lines)]
