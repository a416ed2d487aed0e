"""Linking QuickBooks customers to service-desk clients, and copying each customer's client
onto its invoices, payments, credit memos, expenses and time so margin queries need no extra
join (QuickBooks time of a customer linked later gets its client here).

Exact methods only, strongest first: a linked id (SuperOps' own QuickBooks link, when the
client record carries one), the exact name with case and punctuation folded, then the
domain of the customer's email against the client's email domain. A link a person set
(manual) is never touched; a fuzzy link (added by the sync) is kept when no exact method
finds anything. Only customers whose link changes are written, so a re-run writes nothing.

Several QuickBooks companies (realms) number their customers independently: SuperOps' linked
id names no company, so it is used only for an Id that one company alone has; names and
email domains may link customers of two companies to one client (one client billed by two
of the MSP's companies), and each customer's rows take the client of that customer only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction

from clients.models import Client, CreditMemo, Customer, Expense, Invoice, Payment, SyncRun, Worklog

from .parsing import fold_name

CONFIDENCE = {
    Customer.MatchMethod.EXTERNAL_ID: 1.0,
    Customer.MatchMethod.NAME: 1.0,
    Customer.MatchMethod.EMAIL_DOMAIN: 0.9,
    Customer.MatchMethod.PARENT: 1.0,
}
# Rows that carry a copy of their customer's client (a worklog only when it has a customer:
# QuickBooks time).
COPIES = (Invoice, Payment, CreditMemo, Expense, Worklog)


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
    customer's rows (COPIES).

    `linked_ids` maps a QuickBooks customer id to a SuperOps account id where the source
    says so (SuperOps clients synced to QuickBooks carry it).
    """
    counts = MatchCounts()
    clients = list(Client.objects.filter(source="superops").values_list("pk", "external_id", "name", "email_domain"))
    by_external = {external_id: pk for pk, external_id, _, _ in clients}
    by_name = _unique_map((fold_name(name), pk) for pk, _, name, _ in clients)
    by_domain = _unique_map((domain.strip().lower(), pk) for pk, _, _, domain in clients)
    linked_ids = linked_ids or {}

    # An Id two companies both use cannot say which one SuperOps' link means.
    realms_of: dict[str, set[str]] = defaultdict(set)
    for external_id, realm in Customer.objects.values_list("external_id", "realm"):
        realms_of[external_id].add(realm)

    customers = list(Customer.objects.only(
        "pk", "realm", "external_id", "display_name", "company_name", "email", "client_id", "match_method",
        "match_confidence", "parent_external_id",
    ))
    decided: dict[int, tuple[int | None, str]] = {}
    for customer in customers:
        if customer.match_method == Customer.MatchMethod.MANUAL:
            continue
        decided[customer.pk] = _exact(customer, realms_of, linked_ids, by_external, by_name, by_domain)
    _inherit_from_parents(customers, decided)

    changed: list[Customer] = []
    for customer in customers:
        if customer.pk not in decided:
            continue
        client_id, method = decided[customer.pk]
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


def _exact(customer: Customer, realms_of, linked_ids, by_external, by_name, by_domain) -> tuple[int | None, str]:
    """(client pk or None, method) by the exact methods, strongest first."""
    client_id, method = None, Customer.MatchMethod.NONE
    linked = linked_ids.get(customer.external_id) if len(realms_of[customer.external_id]) == 1 else None
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
    return client_id, method


def _inherit_from_parents(customers: list[Customer], decided: dict[int, tuple[int | None, str]]) -> None:
    """A sub-customer (a site, a job) bills for its parent's client whenever the parent has
    one (as integrations.subcustomers decides for import_dump): the parent of the same
    company (realm), through up to five levels as QuickBooks nests. Without a linked parent
    the sub-customer keeps what the exact methods found."""
    by_key = {(c.realm, c.external_id): c for c in customers}
    own = dict(decided)

    def client_of(customer: Customer) -> int | None:
        if customer.pk not in decided:
            return customer.client_id  # a person's manual link
        client_id = decided[customer.pk][0]
        if client_id is None and customer.match_method == Customer.MatchMethod.FUZZY:
            return customer.client_id  # a fuzzy link stands until an exact one appears
        return client_id

    for _ in range(5):
        moved = False
        for customer in customers:
            if customer.pk not in decided or not customer.parent_external_id:
                continue
            parent = by_key.get((customer.realm, customer.parent_external_id))
            inherited = client_of(parent) if parent is not None and parent.pk != customer.pk else None
            wanted = (inherited, Customer.MatchMethod.PARENT) if inherited else own[customer.pk]
            if wanted != decided[customer.pk]:
                decided[customer.pk] = wanted
                moved = True
        if not moved:
            return


def copy_clients_to_rows() -> int:
    """Make every row with a customer (COPIES) carry its customer's client: QuickBooks time
    kept while its customer was unlinked gets its client here. Reads all rows' (customer,
    client) once and updates only those that disagree, grouped by client."""
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
