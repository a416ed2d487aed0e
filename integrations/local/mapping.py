"""Local interactions file (QBRs, calls, site visits) -> Interaction rows. Pure, no database."""

from __future__ import annotations

from clients.models import Client, Interaction

from ..parsing import parse_choice, parse_datetime, parse_id, parse_int, parse_text
from ..records import BadRecord, Mapped, Ref

SOURCE = "local"
KIND = {"QBR": "qbr", "CALL": "call", "EMAIL": "email", "ONSITE": "onsite", "SITE_VISIT": "onsite", "VISIT": "onsite"}


def map_interaction(p: dict) -> Mapped:
    sentiment = parse_int(p.get("sentiment"), "sentiment")
    if sentiment is not None and sentiment not in (-1, 0, 1):
        raise BadRecord(f"sentiment {p.get('sentiment')!r} is not -1, 0 or 1")
    fields = {
        "kind": parse_choice(p.get("kind"), "kind", KIND),
        "occurred_at": parse_datetime(p.get("occurredAt"), "occurredAt", required=True),
        "owner": parse_text(p.get("owner"), "owner"),
        "summary": parse_text(p.get("summary"), "summary"),
        "sentiment": sentiment,
    }
    # clientId is the SuperOps accountId.
    refs = {"client": Ref(Client, "superops", parse_id(p.get("clientId"), "clientId"))}
    return Mapped(Interaction, SOURCE, parse_id(p.get("id"), "id"), fields, refs)


MAPPERS = {"interactions": map_interaction}
