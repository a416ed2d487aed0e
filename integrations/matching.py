"""Linking QuickBooks customers to service-desk clients, and copying each customer's client
onto its invoices, payments and expenses so margin queries need no extra join.

Exact methods only, strongest first: a linked id (SuperOps' own QuickBooks link, when the
client record carries one), the exact name with case and punctuation folded, then the
domain of the customer's email against the client's email domain. A link a person set
(manual) is never touched; a fuzzy link (added by the sync) is kept when no exact method
finds anything. Only customers whose link changes are written, so a re-run writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction

from clients.models import Client, Customer, Expense, Invoice, Payment, SyncRun

from .parsing import fold_name

CONFIDENCE = {
    Customer.MatchMethod.EXTERNAL_ID: 1.0,
    Customer.MatchMethod.NAME: 1.0,
    Customer.MatchMethod.EMAIL_DOMAIN: 0.9,
}
# Rows that carry a copy of their customer's client.
COPIES = (Invoice, Payment, Expense)


@dataclass
class MatchCounts:
    linked: int = 0  # customers whose link was set or changed in this run
    unlinked: int = 0  # customers that lost a link (no method finds a client any more)
    unmatched: int = 0  # customers without a client after the run
    copied: int = 0  # invoice/payment/expense rows whose client was corrected


def _unique_map(pairs) -> dict[str, int]:
    """key -> client pk, leaving out keys two clients share (a guess is worse than no link)."""
    found: dict[str, int | None] = {}
    for key, pk in pairs:
        if key:
            found[key] = None if key in found and found[key] != pk else pk
    return {key: pk for key, pk in found.items() if pk is not None}


def _email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower() if "@" in email else ""


def link_customers_to_clients(run: SyncRun | None = None, linked_ids: Mapping[str, str] | None = None) -> MatchCounts:
    """Set Customer.client / match_method / match_confidence and copy the client onto the
    customer's invoices, payments and expenses.

    `linked_ids` maps a QuickBooks customer id to a SuperOps account id where the source
    says so (SuperOps clients synced to QuickBooks carry it).
    """
    counts = MatchCounts()
    clients = list(Client.objects.filter(source="superops").values_list("pk", "external_id", "name", "email_domain"))
    by_external = {external_id: pk for pk, external_id, _, _ in clients}
    by_name = _unique_map((fold_name(name), pk) for pk, _, name, _ in clients)
    by_domain = _unique_map((domain.strip().lower(), pk) for pk, _, _, domain in clients)
    linked_ids = linked_ids or {}

    changed: list[Customer] = []
    for customer in Customer.objects.only(
        "pk", "external_id", "display_name", "company_name", "email", "client_id", "match_method", "match_confidence"
    ):
        if customer.match_method == Customer.MatchMethod.MANUAL:
            continue
        client_id, method = None, Customer.MatchMethod.NONE
        linked = linked_ids.get(customer.external_id)
        if linked and linked in by_external:
            client_id, method = by_external[linked], Customer.MatchMethod.EXTERNAL_ID
        else:
            for name in (customer.display_name, customer.company_name):
                if fold_name(name) in by_name:
                    client_id, method = by_name[fold_name(name)], Customer.MatchMethod.NAME
                    break
            else:
                domain = _email_domain(customer.email)
                if domain in by_domain:
                    client_id, method = by_domain[domain], Customer.MatchMethod.EMAIL_DOMAIN
        if client_id is None and customer.match_method == Customer.MatchMethod.FUZZY and customer.client_id:
            continue  # the sync's fuzzy match stands until an exact one appears
        confidence = CONFIDENCE.get(method)
        if (customer.client_id, customer.match_method, customer.match_confidence) != (client_id, method, confidence):
            if client_id is None:
                counts.unlinked += 1
            else:
                counts.linked += 1
            customer.client_id, customer.match_method, customer.match_confidence = client_id, method, confidence
            customer.sync_run = run
            changed.append(customer)
    with transaction.atomic():
        if changed:
            Customer.objects.bulk_update(
                changed, ["client", "match_method", "match_confidence", "sync_run"], batch_size=1000
            )
        counts.copied = copy_clients_to_rows()
    counts.unmatched = Customer.objects.filter(client__isnull=True).count()
    return counts


def copy_clients_to_rows() -> int:
    """Make every invoice, payment and expense carry its customer's client. Reads all rows'
    (customer, client) once and updates only those that disagree, grouped by client."""
    customer_client = dict(Customer.objects.values_list("pk", "client_id"))
    corrected = 0
    for model in COPIES:
        wrong: dict[int | None, list[int]] = defaultdict(list)
        for pk, customer_id, client_id in model.objects.filter(customer__isnull=False).values_list(
            "pk", "customer_id", "client_id"
        ).iterator(chunk_size=5000):
            expected = customer_client.get(customer_id)
            if client_id != expected:
                wrong[expected].append(pk)
        for client_id, pks in wrong.items():
            for start in range(0, len(pks), 2000):
                corrected += model.objects.filter(pk__in=pks[start:start + 2000]).update(client_id=client_id)
    return corrected
