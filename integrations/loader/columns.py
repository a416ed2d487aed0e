"""Column values as the database will hold them, so "unchanged" really compares equal.

Decimals are quantized to the column's places (the database would round them anyway, and a
value with more places than the column would otherwise look changed on every run); values a
column cannot hold become a BadRecord here, because a database error would cost the whole
batch instead of one record.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
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
        if value is None:
            return None
        quantized = Decimal(value).quantize(exponent, rounding=ROUND_HALF_UP)
        if abs(quantized) >= limit:
            raise BadRecord(f"{field.name} {value} is too large")
        return quantized

    return normalise


def _integer(field: models.Field, low: int, high: int) -> Normaliser:
    def normalise(value: Any) -> Any:
        if value is not None and not low <= value <= high:
            raise BadRecord(f"{field.name} {value} is out of range ({low} to {high})")
        return value

    return normalise


def _char(field: models.CharField) -> Normaliser:
    length = field.max_length

    def normalise(value: Any) -> Any:
        # PostgreSQL refuses an over-long varchar; a subject cut at 300 characters is better
        # than a ticket lost.
        if value is not None and len(value) > length:
            return value[:length]
        return value

    return normalise


def _required(field: models.Field, inner: Normaliser | None) -> Normaliser:
    def normalise(value: Any) -> Any:
        if value is None:
            raise BadRecord(f"{field.name} is missing")
        return inner(value) if inner else value

    return normalise


@cache
def normalisers(model: type[models.Model]) -> dict[str, Normaliser]:
    """Column name (attname) -> normaliser, for the columns that need one."""
    result: dict[str, Normaliser] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        inner: Normaliser | None = None
        if isinstance(field, models.DecimalField):
            inner = _decimal(field)
        elif isinstance(field, models.CharField) and field.max_length:
            inner = _char(field)
        else:
            for kind, (low, high) in _INT_LIMITS.items():
                if type(field) is kind:
                    inner = _integer(field, low, high)
                    break
        if not field.null and not field.is_relation:
            result[field.attname] = _required(field, inner)
        elif inner:
            result[field.attname] = inner
    return result


def normalise(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """Values ready to write and to compare with what `.values()` reads back."""
    table = normalisers(model)
    out = {}
    for name, value in values.items():
        fn = table.get(name)
        out[name] = fn(value) if fn else value
    return out


@cache
def fk_attname(model: type[models.Model], name: str) -> str:
    return model._meta.get_field(name).attname


@cache
def fk_nullable(model: type[models.Model], name: str) -> bool:
    return model._meta.get_field(name).null
