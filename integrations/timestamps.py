"""Watermark timestamps as the two APIs write them. SuperOps sends naive UTC
(`2026-10-05T09:12:00`), QuickBooks an offset (`2026-10-05T02:12:00-07:00`); the sync
compares them, and the sandbox filters on them, as aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(raw: str) -> datetime:
    """SuperOps sends naive UTC, QuickBooks an offset; both become aware datetimes."""
    value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def so_time(value: datetime) -> str:
    """A time in SuperOps' own format (naive UTC, seconds)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
