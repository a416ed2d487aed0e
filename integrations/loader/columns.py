"""Column values as the database will hold them, so "unchanged" really compares equal.

Decimals are quantized to the column's places (the database would round them anyway, and a
value with more places than the column would otherwise look changed on every run); values a
column cannot hold become a BadRecord here, because a database error would cost the whole
batch instead of one record.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.db import models

from ..records import BadRecord

Normaliser = Callable[[Any], Any]

_INT_LIMITS = {
    models.PositiveSmallIntegerField: (0, 32767),
    models.PositiveIntegerField: (0, 2147483647),
    models.SmallIntegerField: (-32768, 32767),
    models.IntegerField: (-2147483648, 2147483647),
}


def _decimal(field: models.DecimalField) -> Normaliser:
    exponent = Decimal(1).scaleb(-field.decimal_places)
    limit = Decimal(10) ** (field.max_digits - field.decimal_places)

    def normalise(value: Any) -> Any:
        try:
            quantized = Decimal(value).quantize(exponent, rounding=ROUND_HALF_UP)
        except InvalidOperation:  # more digits than the decimal context holds
            raise BadRecord(f"{field.name} {value} is too large") from None
        if abs(quantized) >= limit:
            raise BadRecord(f"{field.name} {value} is too large")
        return quantized

    return normalise


def _integer(field: models.Field, low: int, high: int) -> Normaliser:
    def normalise(value: Any) -> Any:
        if not low <= value <= high:
            raise BadRecord(f"{field.name} {value} is out of range ({low} to {high})")
        return value

    return normalise


@cache
def _plan(model: type[models.Model]) -> tuple[dict[str, Normaliser], dict[str, int], dict[str, str]]:
    """Per model: converters (decimals, bounded integers), varchar lengths, and the columns
    that may not be NULL (attname -> field name for the message)."""
    converters: dict[str, Normaliser] = {}
    lengths: dict[str, int] = {}
    required: dict[str, str] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if isinstance(field, models.DecimalField):
            converters[field.attname] = _decimal(field)
        elif isinstance(field, models.CharField) and field.max_length:
            lengths[field.attname] = field.max_length
        else:
            for kind, (low, high) in _INT_LIMITS.items():
                if type(field) is kind:
                    converters[field.attname] = _integer(field, low, high)
                    break
        if not field.null and not field.is_relation:
            required[field.attname] = field.name
    return converters, lengths, required


def normalise(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """Values ready to write and to compare with what `.values()` reads back (in place)."""
    converters, lengths, required = _plan(model)
    for name, value in values.items():
        if value is None:
            if name in required:
                raise BadRecord(f"{required[name]} is missing")
            continue
        convert = converters.get(name)
        if convert is not None:
            values[name] = convert(value)
        else:
            length = lengths.get(name)
            # PostgreSQL refuses an over-long varchar; a subject cut at 300 characters is
            # better than a ticket lost.
            if length is not None and len(value) > length:
                values[name] = value[:length]
    return values


@cache
def fk_attnames(model: type[models.Model]) -> dict[str, str]:
    """Foreign-key field name -> column attname ("client" -> "client_id")."""
    return {f.name: f.attname for f in model._meta.concrete_fields if f.is_relation}


@cache
def fk_attname(model: type[models.Model], name: str) -> str:
    return model._meta.get_field(name).attname


@cache
def fk_nullable(model: type[models.Model], name: str) -> bool:
    return model._meta.get_field(name).null
