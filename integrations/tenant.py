"""What a tenant configures for itself, as plain data the mapping functions take: which
custom field holds a concept (the field map) and what its own vocabulary means to us (the
value maps: client stages and statuses, ticket priorities, statuses and categories).

Pure: no database. `integrations.models.FieldMap` / `ValueMap` hold the admin's edits and
`integrations.loader.tenant` reads them once per run into a `TenantMaps`. A value no row
names falls back to the rules here (`default_value`), so an unknown value never rejects a
record: it is kept as text and given the most likely meaning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .parsing import fold_name

# concept -> the custom field label the project's own conventions (and the simulator) use.
# Contracts and technicians have no customFields in SuperOps' schema: their concepts are read
# as "label: value" terms of the contract's description (see `description_terms`).
DEFAULT_FIELD_MAP: dict[str, str] = {
    "client.industry": "industry",
    "client.employee_count": "employeeCount",
    "client.onboarded_on": "onboardedOn",
    "client.currency": "currency",
    "client.quickbooks_customer_id": "quickbooksCustomerId",
    "technician.burdened_hourly_cost": "burdenedHourlyCost",
    "technician.tier": "tier",
    "contract.included_hours": "includedHours",
    "contract.hourly_rate": "hourlyRate",
    "contract.after_hours_rate": "afterHoursRate",
    "contract.annual_escalator_pct": "escalatorPct",
    "contract.cancelled_on": "cancelledOn",
    "contract.cancellation_reason": "cancellationReason",
    "ticket.csat_score": "csatScore",
    "ticket.csat_comment": "csatComment",
    "ticket.csat_responded_at": "csatRespondedAt",
    "ticket.reopen_count": "reopenCount",
    "ticket.escalated": "escalated",
    "ticket.asset_id": "assetId",
    "asset.retired_on": "retiredOn",
}

# Value-map kinds and the values ours can take.
CLIENT_STAGE = "client_stage"
CLIENT_STATUS = "client_status"
TICKET_PRIORITY = "ticket_priority"
TICKET_STATUS = "ticket_status"
TICKET_CATEGORY = "ticket_category"
VALUE_CHOICES: dict[str, tuple[str, ...]] = {
    CLIENT_STAGE: ("active", "churned", "prospect"),
    CLIENT_STATUS: ("active", "churned", "prospect"),
    TICKET_PRIORITY: ("critical", "high", "medium", "low"),
    TICKET_STATUS: ("open", "waiting", "resolved", "closed"),
    # A category that is planned work (maintenance, onboarding) is proactive; "" keeps the
    # ticket type's answer (an incident is reactive).
    TICKET_CATEGORY: ("reactive", "proactive", ""),
}

# Default meanings, first match wins, over the folded text (and a stage's constant).
_CLIENT_RULES = [
    ("churned", re.compile(r"\b(inactive|former|churn\w*|lost|cancel\w*|terminat\w*|closed|ex|offboard\w*)\b")),
    ("prospect", re.compile(r"\b(prospect\w*|lead\w*|opportunit\w*|trial|potential|qualified)\b")),
]
_PRIORITY_RULES = [
    ("critical", re.compile(r"\b(p ?1|critical|urgent|emergency|sev(erity)? ?1)\b")),
    ("high", re.compile(r"\b(p ?2|high|sev(erity)? ?2)\b")),
    ("low", re.compile(r"\b(p ?4|p ?5|low|lowest|minor|planning)\b")),
    ("medium", re.compile(r"\b(p ?3|medium|normal|moderate|standard)\b")),
]
_TICKET_STATUS_RULES = [
    ("closed", re.compile(r"\b(closed|cancel\w*|spam|merged|duplicate|complete\w*|done)\b")),
    ("resolved", re.compile(r"\b(resolved|fixed|solved)\b")),
    ("waiting", re.compile(r"\b(wait\w*|hold|pending|awaiting|scheduled|paused)\b")),
]


def default_value(kind: str, text: str) -> str:
    """Our value for a tenant value no ValueMap row names: the most likely meaning of the
    words, else the safe default (active client, medium priority, open ticket, and a category
    that leaves the ticket type to say whether the work was reactive)."""
    folded = fold_name(text)
    if kind in (CLIENT_STAGE, CLIENT_STATUS):
        return _first(_CLIENT_RULES, folded, "active")
    if kind == TICKET_PRIORITY:
        return _first(_PRIORITY_RULES, folded, "medium")
    if kind == TICKET_STATUS:
        return _first(_TICKET_STATUS_RULES, folded, "open")
    if kind == TICKET_CATEGORY:
        # Whether a category is planned work is the MSP's call: by default the ticket type
        # decides (an incident is reactive), so RHEM does not move until a person says so.
        return ""
    raise KeyError(f"unknown value-map kind {kind!r}")


def _first(rules: list[tuple[str, re.Pattern]], folded: str, default: str) -> str:
    for value, pattern in rules:
        if pattern.search(folded):
            return value
    return default


@dataclass(frozen=True)
class TenantMaps:
    """The resolved field map and value maps of one run.

    `fields`: concept -> custom field label ("" = this tenant does not keep it).
    `values`: kind -> {folded source value: our value}.
    """

    fields: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELD_MAP))
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Ids of SuperOps service items sold by the hour (HOURS, BLOCK_HOURS), for reading a
    # contract's block balances as hours; None when not known (a mapper used on its own).
    hour_items: frozenset[str] | None = None
    # Hourly service items' (business-hours, after-hours) prices, for the rates of time
    # outside an agreement that covers such an item; None when not known.
    item_prices: Mapping[str, tuple[Any, Any]] | None = None
    # (kind, text) -> our value, filled as records are mapped: a load maps the same few
    # priorities and statuses millions of times.
    _seen: dict[tuple[str, str], str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, field_rows: Mapping[str, str] | None = None,
              value_rows: list[tuple[str, str, str]] | None = None,
              hour_items: frozenset[str] | None = None,
              item_prices: Mapping[str, tuple[Any, Any]] | None = None) -> TenantMaps:
        """From the admin's rows: concept -> label (over the defaults), and
        (kind, source value, our value) triples."""
        fields = dict(DEFAULT_FIELD_MAP)
        fields.update(field_rows or {})
        values: dict[str, dict[str, str]] = {}
        for kind, source_value, ours in value_rows or []:
            values.setdefault(kind, {})[fold_name(source_value)] = ours
        return cls(fields, values, hour_items, item_prices)

    def label(self, concept: str) -> str:
        return self.fields.get(concept, "")

    def custom(self, custom_fields: Mapping[str, Any], concept: str) -> Any:
        """The custom field value holding `concept`, or None (unknown) when the tenant has no
        such field. Labels match exactly first, then case- and punctuation-blind."""
        label = self.label(concept)
        if not label or not custom_fields:
            return None
        if label in custom_fields:
            return custom_fields[label]
        wanted = fold_name(label).replace(" ", "")
        for key, value in custom_fields.items():
            if isinstance(key, str) and fold_name(key).replace(" ", "") == wanted:
                return value
        return None

    def custom_name(self, concept: str) -> str:
        """How a reason names the field: "customFields.<label>"."""
        return f"customFields.{self.label(concept) or concept}"

    def seen_values(self) -> list[tuple[str, str]]:
        """(kind, value as sent) of every tenant value mapped so far."""
        return list(self._seen)

    def value(self, kind: str, text: str) -> str:
        """Our value for a tenant value: the admin's row if one names it, else the default."""
        key = (kind, text)
        found = self._seen.get(key)
        if found is None:
            mapped = self.values.get(kind, {}).get(fold_name(text))
            found = mapped if mapped is not None and mapped in VALUE_CHOICES[kind] else default_value(kind, text)
            self._seen[key] = found
        return found


DEFAULT_MAPS = TenantMaps()

_TERM = re.compile(r"^\s*([A-Za-z][\w .%/-]{0,40}?)\s*[:=]\s*(.+?)\s*$")


def description_terms(text: str) -> dict[str, str]:
    """"label: value" terms written into free text (a contract's description), one per line
    or separated by ";", keyed by the folded label without spaces."""
    terms: dict[str, str] = {}
    for part in re.split(r"[\n;]", text or ""):
        match = _TERM.match(part)
        if match:
            terms[fold_name(match.group(1)).replace(" ", "")] = match.group(2)
    return terms


def term(terms: Mapping[str, str], maps: TenantMaps, concept: str) -> str | None:
    """The description term the field map names for `concept`, or None."""
    label = maps.label(concept)
    if not label:
        return None
    return terms.get(fold_name(label).replace(" ", ""))
