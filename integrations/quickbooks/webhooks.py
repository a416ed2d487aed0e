"""QuickBooks webhooks: the intuit-signature check, both payload shapes (the legacy
eventNotifications object and the CloudEvents array), recording each event once, and the
task that fetches what the events name."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.models import SyncRun
from integrations.loader import LOAD_ORDER
from integrations.matching_fuzzy import match_customers
from integrations.models import WebhookEvent
from integrations.sandbox.world import parse_time
from integrations.sync import engine
from integrations.sync.errors import SyncError

from .client import QuickBooksClient

log = logging.getLogger(__name__)
ORDER = [name for source, name in LOAD_ORDER if source == "quickbooks"]
_CLOUD_OPERATIONS = {"created": "Create", "updated": "Update", "deleted": "Delete", "merged": "Merge",
                     "voided": "Void", "emailed": "Emailed"}


def signature_ok(body: bytes, signature: str | None, verifier_token: str) -> bool:
    """intuit-signature must be base64(HMAC-SHA256(verifier token, raw body))."""
    if not signature or not verifier_token:
        return False
    expected = base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, signature.strip())


def parse(body: bytes) -> list[dict]:
    """Events as {realm_id, entity, entity_id, operation, occurred_at}; ValueError if the body
    is neither shape."""
    payload = json.loads(body)
    events = []
    if isinstance(payload, dict) and "eventNotifications" in payload:
        for notification in payload["eventNotifications"]:
            realm = str(notification["realmId"])
            for entity in (notification.get("dataChangeEvent") or {}).get("entities") or []:
                events.append({"realm_id": realm, "entity": entity["name"], "entity_id": str(entity["id"]),
                               "operation": entity.get("operation") or "Update",
                               "occurred_at": str(entity.get("lastUpdated") or "")})
    elif isinstance(payload, list):
        for event in payload:
            # type is "qbo.<entity>.<operation>.v1"
            parts = str(event["type"]).split(".")
            if len(parts) < 3 or parts[0] != "qbo":
                raise ValueError(f"unknown CloudEvents type {event['type']!r}")
            entity = next((e for e in ORDER if e.lower() == parts[1].lower()), parts[1].capitalize())
            events.append({"realm_id": str(event["intuitaccountid"]), "entity": entity,
                           "entity_id": str(event["intuitentityid"]),
                           "operation": _CLOUD_OPERATIONS.get(parts[2], parts[2].capitalize()),
                           "occurred_at": str(event.get("time") or event.get("id") or "")})
    else:
        raise ValueError("neither eventNotifications nor a CloudEvents array")
    return events


def record(events: list[dict]) -> list[int]:
    """Store events not seen before; returns the ids of the new ones (duplicates add none)."""
    new = []
    for event in events:
        try:
            with transaction.atomic():
                new.append(WebhookEvent.objects.create(**event).pk)
        except IntegrityError:
            continue  # delivered before: Intuit retries, and both shapes may carry the same change
    return new


def process(event_ids: list[int], transport=None) -> SyncRun | None:
    """Fetch every entity the events name and load it (or mark it deleted). One run."""
    events = list(WebhookEvent.objects.filter(pk__in=event_ids, processed_at__isnull=True))
    if not events:
        return None
    run = engine.start_run("quickbooks", SyncRun.Trigger.WEBHOOK, f"{len(events)} webhook event(s)")
    try:
        for realm in sorted({e.realm_id for e in events}):
            client = QuickBooksClient(realm, transport=transport)
            try:
                mine = sorted((e for e in events if e.realm_id == realm),
                              key=lambda e: ORDER.index(e.entity) if e.entity in ORDER else len(ORDER))
                for event in mine:
                    _apply(client, run, event)
                    if event.entity == "Customer":
                        match_customers(run)
            finally:
                client.close()
    except SyncError as exc:
        return engine.finish(run, exc)
    return engine.finish(run)


def _apply(client: QuickBooksClient, run: SyncRun, event: WebhookEvent) -> None:
    known = event.entity in ORDER  # others (Vendor, Employee, Account...) are not synced
    record = client.read(event.entity, event.entity_id) if known and event.operation != "Delete" else None
    with transaction.atomic():
        if known:
            if record is None:
                when = None
                try:
                    when = parse_time(event.occurred_at) if event.occurred_at else None
                except ValueError:
                    pass
                engine.add_counts(run, engine.LoadCounts(),
                                  engine.mark_deleted(run, "quickbooks", event.entity, [event.entity_id], when))
            else:
                counts = engine.load_page(run, "quickbooks", event.entity, [record],
                                          lambda r: str(r.get("Id") or ""), None)
                engine.add_counts(run, counts)
        event.processed_at = timezone.now()
        event.run = run
        event.save(update_fields=["processed_at", "run"])
