"""Strict parsers for payload values, shared by every mapping module.

Each takes the payload field's name so a bad value becomes a `BadRecord` a person can act
on ("qty '-0.5' is not positive") instead of a stack trace or a silently wrong row.
Money never goes through float: strings and ints become Decimal directly, and a float
(a JSON number read without parse_float=Decimal) goes through its shortest repr, which is
the text the sender wrote.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .records import BadRecord

_TRUE = frozenset({"true", "yes", "1", "y", "t"})
_FALSE = frozenset({"false", "no", "0", "n", "f"})


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_id(value: Any, field: str) -> str:
    """A record's own id: a non-empty string (QuickBooks and SuperOps ids are numeric text)."""
    if type(value) is str and 0 < len(value) <= 64 and not value[0].isspace() and not value[-1].isspace():
        return value  # the common case, checked cheaply: this runs for every ref of every record
    if _missing(value) or isinstance(value, bool):
        raise BadRecord(f"{field} is missing")
    if isinstance(value, (str, int)):
        text = str(value).strip()
        if len(text) > 64:
            raise BadRecord(f"{field} {text[:70]!r}... is longer than 64 characters")
        return text
    raise BadRecord(f"{field} {value!r} is not an id")


def parse_text(value: Any, field: str, *, required: bool = False) -> str:
    """Text, stripped; NUL characters are dropped (PostgreSQL cannot store them)."""
    if type(value) is str:
        text = value.strip()
        if "\x00" in text:
            text = text.replace("\x00", "").strip()
        if text or not required:
            return text
        raise BadRecord(f"{field} is missing")
    if value is None:
        if required:
            raise BadRecord(f"{field} is missing")
        return ""
    if isinstance(value, (dict, list)):
        raise BadRecord(f"{field} {value!r} is not text")
    return parse_text(str(value), field, required=required)


def parse_date(value: Any, field: str, *, required: bool = False) -> date | None:
    """A calendar date "YYYY-MM-DD" (a full timestamp is accepted and cut to its UTC date)."""
    if type(value) is str and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    if _missing(value):
        if required:
            raise BadRecord(f"{field} is missing")
        return None
    if isinstance(value, datetime):
        return to_utc(value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        if len(text) > 10 and text[10] in "T ":
            try:
                return to_utc(datetime.fromisoformat(text)).date()
            except ValueError:
                pass
    raise BadRecord(f"{field} {value!r} is not a date")


def to_utc(moment: datetime) -> datetime:
    # SuperOps sends naive UTC; QuickBooks sends an offset. Stored values are always aware UTC.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_datetime(value: Any, field: str, *, required: bool = False) -> datetime | None:
    """An ISO 8601 timestamp, with or without "Z" or an offset, as an aware UTC datetime."""
    if type(value) is str and len(value) > 10:
        try:
            if len(value) == 19:
                # SuperOps' naive UTC "2026-10-05T09:12:00": parsing it with the offset
                # appended is several times cheaper than datetime.replace(tzinfo=...).
                return datetime.fromisoformat(value + "+00:00")
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass  # maybe padded with spaces; the slow path below decides
        else:
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if _missing(value):
        if required:
            raise BadRecord(f"{field} is missing")
        return None
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, str) and len(value) > 10:
        try:
            moment = datetime.fromisoformat(value.strip())
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except ValueError:
            pass
    raise BadRecord(f"{field} {value!r} is not a date and time")


def parse_decimal(
    value: Any, field: str, *, required: bool = False, default: Decimal | None = None
) -> Decimal | None:
    """A Decimal from a string, int, Decimal or float; never via binary float arithmetic."""
    if type(value) is Decimal and value.is_finite():
        return value  # a dump read with parse_float=Decimal
    if _missing(value):
        if required:
            raise BadRecord(f"{field} is missing")
        return default
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool):
        raise BadRecord(f"{field} {value!r} is not a number")
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise BadRecord(f"{field} {value!r} is not a number") from None
    else:
        raise BadRecord(f"{field} {value!r} is not a number")
    if not number.is_finite():
        raise BadRecord(f"{field} {value!r} is not a number")
    return number


def parse_int(value: Any, field: str, *, required: bool = False, default: int | None = None) -> int | None:
    """A whole number ("23", 23, "23.0"); "23.5" or "abc" is a bad record."""
    if _missing(value):
        if required:
            raise BadRecord(f"{field} is missing")
        return default
    if isinstance(value, bool):
        raise BadRecord(f"{field} {value!r} is not a whole number")
    if isinstance(value, int):
        return value
    number = parse_decimal(value, field)
    if number is None or number != number.to_integral_value():
        raise BadRecord(f"{field} {value!r} is not a whole number")
    return int(number)


def parse_bool(value: Any, field: str, *, required: bool = False, default: bool | None = None) -> bool | None:
    if _missing(value):
        if required:
            raise BadRecord(f"{field} is missing")
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise BadRecord(f"{field} {value!r} is not true or false")


def parse_choice(value: Any, field: str, choices: dict[str, str], *, default: str | None = None) -> str:
    """Translate an enum value of the source (case-insensitive) to ours."""
    if _missing(value):
        if default is not None:
            return default
        raise BadRecord(f"{field} is missing")
    translated = choices.get(str(value).strip().upper())
    if translated is None:
        raise BadRecord(f"{field} {value!r} is not one of {', '.join(sorted(choices))}")
    return translated


def obj(payload: Any, field: str) -> dict:
    """A nested object; missing or null is an empty dict, anything else is a bad shape."""
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise BadRecord(f"{field} {payload!r} is not an object")
    return payload


def ref_id(payload: Any, key: str, field: str) -> str | None:
    """The id inside a linked object ({"accountId": "4001", "name": ...}), or None."""
    if payload is None:
        return None
    if not isinstance(payload, dict):
        raise BadRecord(f"{field} {payload!r} is not an object")
    value = payload.get(key)
    if value is None or (type(value) is str and not value.strip()):
        return None
    return parse_id(value, f"{field}.{key}")


_FOLD = re.compile(r"[\W_]+", re.UNICODE)


def fold_name(name: str) -> str:
    """Case and punctuation folded, for matching names across systems ("Acme Dental, Inc." ->
    "acme dental inc")."""
    return " ".join(_FOLD.sub(" ", name.casefold()).split())
