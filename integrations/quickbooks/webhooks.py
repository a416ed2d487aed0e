"""QuickBooks webhooks: the intuit-signature check, both payload shapes (the legacy
eventNotifications object and the CloudEvents array), recording each event once, and the
task that fetches what the events name.

- A Delete is not taken on trust: the entity is read again, and only when QuickBooks no
  longer has it is the row marked deleted (a delayed or replayed Delete, or one for an
  entity restored since, deletes nothing).
- A Merge names the surviving entity and the merged one (deletedId): the merged row's
  dependants (a customer's invoices, payments, credit memos, expenses, time and
  sub-customers; an item's lines and time) move to the survivor, and the merged row is
  marked deleted.
- Events are fetched per company (realm): a company that cannot be read (a revoked refresh
  token) keeps its events unprocessed with the error, and the others are fetched. Events
  left unprocessed (a failure, a worker that died, a queue that was down) are fetched again
  by `sweep`, which django-q2 runs on a schedule.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.models import Customer, SyncRun
from integrations import entities
from integrations.matching_fuzzy import match_customers
from integrations.models import WebhookEvent
from integrations.sync import engine
from integrations.sync.errors import PermanentError, SyncError
from integrations.technician_costs import apply_technician_costs
from integrations.timestamps import parse_time

from .client import QuickBooksClient
from .sync import record_realm_error

log = logging.getLogger(__name__)
SOURCE = "quickbooks"
ORDER = [kind.name for kind in entities.of(SOURCE)]
# Entities whose change can change a technician's cost (CostRate).
COSTED_BY = frozenset({"Employee", "TimeActivity"})
_CLOUD_OPERATIONS = {"created": "Create", "updated": "Update", "deleted": "Delete", "merged": "Merge",
                     "voided": "Void", "emailed": "Emailed"}
# The sweep leaves alone events younger than this (their own task is probably fetching them)
# and gives up on events older than SWEEP_MAX_AGE (their error stays for a person to read).
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_MAX_AGE = timedelta(days=7)


def signature_ok(body: bytes, signature: str | None, verifier_token: str) -> bool:
    """intuit-signature must be base64(HMAC-SHA256(verifier token, raw body))."""
    if not signature or not verifier_token:
        return False
    expected = base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, signature.strip())


def parse(body: bytes) -> list[dict]:
    """Events as {realm_id, entity, entity_id, operation, merged_id, occurred_at}; ValueError
    if the body is neither shape."""
    payload = json.loads(body)
    events = []
    if isinstance(payload, dict) and "eventNotifications" in payload:
        for notification in payload["eventNotifications"]:
            realm = str(notification["realmId"])
            for entity in (notification.get("dataChangeEvent") or {}).get("entities") or []:
                events.append({"realm_id": realm, "entity": entity["name"], "entity_id": str(entity["id"]),
                               "operation": entity.get("operation") or "Update",
                               "merged_id": str(entity.get("deletedId") or ""),
                               "occurred_at": str(entity.get("lastUpdated") or "")})
    elif isinstance(payload, list):
        for event in payload:
            # type is "qbo.<entity>.<operation>.v1"
            parts = str(event["type"]).split(".")
            if len(parts) < 3 or parts[0] != "qbo":
                raise ValueError(f"unknown CloudEvents type {event['type']!r}")
            entity = next((e for e in ORDER if e.lower() == parts[1].lower()), parts[1].capitalize())
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            events.append({"realm_id": str(event["intuitaccountid"]), "entity": entity,
                           "entity_id": str(event["intuitentityid"]),
                           "operation": _CLOUD_OPERATIONS.get(parts[2], parts[2].capitalize()),
                           "merged_id": str(data.get("deletedid") or data.get("deletedId") or ""),
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


def sweep(transport=None) -> SyncRun | None:
    """Fetch the events still unprocessed (older than SWEEP_GRACE, younger than SWEEP_MAX_AGE)."""
    now = timezone.now()
    pending = list(WebhookEvent.objects.filter(
        processed_at__isnull=True, received_at__lte=now - SWEEP_GRACE, received_at__gte=now - SWEEP_MAX_AGE,
    ).values_list("pk", flat=True))
    return process(pending, transport) if pending else None


def process(event_ids: list[int], transport=None) -> SyncRun | None:
    """Fetch every entity the events name and load it (or mark it deleted). One run; a
    company that fails keeps its events unprocessed, with the error, and the others go on."""
    events = list(WebhookEvent.objects.filter(pk__in=event_ids, processed_at__isnull=True))
    if not events:
        return None
    run = engine.start_run(SOURCE, SyncRun.Trigger.WEBHOOK, f"{len(events)} webhook event(s)")
    realms = sorted({e.realm_id for e in events})
    failures: list[tuple[str, SyncError]] = []
    for realm in realms:
        mine = sorted((e for e in events if e.realm_id == realm),
                      key=lambda e: ORDER.index(e.entity) if e.entity in ORDER else len(ORDER))
        try:
            _process_realm(run, realm, mine, transport)
        except SyncError as exc:
            log.warning("QuickBooks webhook events of company %s were not fetched: %s", realm, exc)
            failures.append((realm, exc))
            WebhookEvent.objects.filter(pk__in=[e.pk for e in mine], processed_at__isnull=True).update(
                error=str(exc)[:2000])
            record_realm_error(realm, str(exc))
        else:
            record_realm_error(realm, "")
    if not failures:
        return engine.finish(run)
    text = "; ".join(f"QuickBooks company {realm}: {exc}" for realm, exc in failures)
    if len(failures) == len(realms):
        return engine.finish(run, failures[0][1] if len(failures) == 1 else PermanentError(text))
    engine.note_error(run, text)
    return engine.finish(run)


def _process_realm(run: SyncRun, realm: str, events: list[WebhookEvent], transport) -> None:
    client = QuickBooksClient(realm, transport=transport)
    try:
        for event in events:
            _apply(client, run, event)
            if event.entity == "Customer":
                match_customers(run)
        if any(event.entity in COSTED_BY for event in events):
            apply_technician_costs(run)  # an employee's new CostRate is its technician's cost now
    finally:
        client.close()


def _occurred(event: WebhookEvent):
    try:
        return parse_time(event.occurred_at) if event.occurred_at else None
    except ValueError:
        return None


def _apply(client: QuickBooksClient, run: SyncRun, event: WebhookEvent) -> None:
    known = event.entity in ORDER  # others (Vendor, Account...) are not synced
    # Every operation, a Delete included, reads the entity: QuickBooks' answer now decides.
    record = client.read(event.entity, event.entity_id) if known else None
    with transaction.atomic():
        if known:
            if record is None:
                engine.add_counts(run, engine.LoadCounts(), engine.mark_deleted(
                    run, SOURCE, event.entity, [event.entity_id], _occurred(event), realm=client.realm_id))
            else:
                counts = engine.load_page(run, SOURCE, event.entity, [record], lambda r: str(r.get("Id") or ""),
                                          None, realm=client.realm_id)
                engine.add_counts(run, counts)
                if event.operation == "Merge" and event.merged_id and event.merged_id != event.entity_id:
                    merge(run, event.entity, client.realm_id, event.merged_id, event.entity_id, _occurred(event))
        event.processed_at = timezone.now()
        event.run = run
        event.error = ""
        event.save(update_fields=["processed_at", "run", "error"])


def merge(run: SyncRun, entity: str, realm: str, merged_id: str, survivor_id: str, when=None) -> int:
    """Point the merged entity's dependants at the survivor and mark the merged one deleted;
    returns the number of dependant rows moved. Only rows of this company are touched."""
    model, column, extra = engine.ROWS[(SOURCE, entity)][0]
    rows = model.objects.filter(source=SOURCE, realm=realm, **extra)
    merged = rows.filter(**{column: merged_id}).first()
    survivor = rows.filter(**{column: survivor_id}).first()
    moved = 0
    if merged is not None and survivor is not None and column == "external_id":
        for relation in model._meta.related_objects:
            related = relation.related_model
            # Our own rows only (a customer's invoices, an item's lines), not admin bookkeeping.
            if relation.many_to_many or related._meta.app_label != model._meta.app_label:
                continue
            moved += related.objects.filter(**{relation.field.name: merged}).update(
                **{relation.field.name: survivor})
        if model is Customer:
            moved += Customer.objects.filter(source=SOURCE, realm=realm, parent_external_id=merged_id).update(
                parent_external_id=survivor_id)
    engine.add_counts(run, engine.LoadCounts(),
                      engine.mark_deleted(run, SOURCE, entity, [merged_id], when, realm=realm))
    log.info("QuickBooks %s %s merged into %s (company %s): %d rows moved", entity, merged_id, survivor_id,
             realm, moved)
    return moved
