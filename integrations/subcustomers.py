"""QuickBooks sub-customers (a client's sites or jobs: Job true with a ParentRef) bill for
their parent's client. After the matcher has linked customers, each sub-customer takes its
top parent's client, unless a person linked it by hand; its invoices follow."""

from __future__ import annotations

from django.db import transaction

from clients.models import Customer, SyncRun

from .matching import copy_clients_to_rows

MAX_DEPTH = 5  # QuickBooks nests sub-customers at most five levels deep


def link_sub_customers(run: SyncRun | None = None) -> int:
    """Give every sub-customer its parent's client; returns how many customers changed."""
    rows = list(Customer.objects.values_list("pk", "realm", "external_id", "parent_external_id", "client_id",
                                             "match_method"))
    by_id = {(realm, external_id): (parent, client_id, method)
             for _, realm, external_id, parent, client_id, method in rows}
    changed: list[Customer] = []
    for pk, realm, _external_id, parent, client_id, method in rows:
        if method == Customer.MatchMethod.MANUAL:
            continue
        if not parent:
            if method == Customer.MatchMethod.PARENT:  # no longer a sub-customer: matched again next run
                changed.append(Customer(pk=pk, client_id=None, match_method="", match_confidence=None, sync_run=run))
            continue
        target = _top_client(by_id, realm, parent)
        if target is None:
            continue  # the parent is not linked (or not loaded): leave the matcher's answer
        if (client_id, method) != (target, Customer.MatchMethod.PARENT):
            changed.append(Customer(pk=pk, client_id=target, match_method=Customer.MatchMethod.PARENT,
                                    match_confidence=1.0, sync_run=run))
    if changed:
        with transaction.atomic():
            Customer.objects.bulk_update(changed, ["client", "match_method", "match_confidence", "sync_run"],
                                         batch_size=1000)
            copy_clients_to_rows()
    return len(changed)


def _top_client(by_id: dict, realm: str, parent: str) -> int | None:
    """The client of the nearest ancestor that has one, walking up ParentRefs."""
    seen = set()
    key = (realm, parent)
    for _ in range(MAX_DEPTH):
        if key in seen or key not in by_id:
            return None
        seen.add(key)
        grand, client_id, _method = by_id[key]
        if client_id is not None:
            return client_id
        if not grand:
            return None
        key = (realm, grand)
    return None
