"""What a mapping function hands the loader: a `Mapped` row with its references to other
rows (`Ref`), or a `BadRecord` saying why the payload cannot be loaded.

Mapping functions are pure (no database); the loader resolves refs to primary keys,
compares with what is stored and writes. The live sync and `import_dump` share both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import models


class BadRecord(ValueError):
    """A payload record that cannot be loaded. str(exc) is the reason a person reads,
    naming the field and the bad value, e.g. "resolutionTime 'yesterday' is not a date"."""


class Ref(NamedTuple):
    """A pointer to another synced row, resolved by the loader.

    `key` is the column matched against `external_id` ("external_id", or "name" which is
    matched case-folded, for QuickBooks time whose employee is known only by name).
    `via` takes that foreign key of the referenced row instead of its pk: an invoice's
    client is its customer's client, a worklog's client can be its ticket's client.
    `required` refs that cannot be resolved make the record bad ("unknown client 4999");
    optional ones resolve to None (a technician who left, an item deleted in the catalogue).
    A NamedTuple rather than a frozen dataclass: a large import builds millions of them,
    and a frozen dataclass costs five times as much to create.
    """

    model: type[models.Model]
    source: str
    external_id: str
    key: str = "external_id"
    via: str | None = None
    required: bool = True

    def label(self) -> str:
        return f"{self.model._meta.verbose_name} {self.external_id}"


@dataclass(frozen=True, slots=True)
class Mapped:
    """One row to write: plain column values plus refs by foreign-key field name.

    `fields` holds only the columns the payload speaks for, so columns a person sets
    locally (a technician's burdened cost when the source has none) are never overwritten.
    `children` are InvoiceLine / PaymentApplication dicts, replaced with their parent;
    their own refs sit under "<field>_ref" keys (service_item_ref, invoice_ref).
    """

    model: type[models.Model]
    source: str
    external_id: str
    fields: dict[str, Any]
    refs: dict[str, Ref | None] = field(default_factory=dict)
    children: list[dict[str, Any]] = field(default_factory=list)
