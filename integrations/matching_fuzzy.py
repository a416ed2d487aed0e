"""Matching QuickBooks customers to SuperOps clients beyond the exact steps.

The exact steps (linked id, folded name, email domain) are integrations.matching's. What
they leave unmatched is scored here with rapidfuzz on names stripped of legal suffixes and
on the client's email-domain stem. A pair scoring at least CLIENT_MATCH_AUTO_SCORE, clearly
ahead of the runner-up and not claiming a client another customer already has, is linked
(method "fuzzy", confidence score/100). Pairs between the review and auto scores wait in
the admin for a person (ClientMatchCandidate); a rejected pair is never proposed again. A
wrong link would move one client's revenue onto another's margin, so doubt goes to review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import transaction
from rapidfuzz import fuzz, process

from clients.models import Client, Customer, SyncRun
from integrations.conf import setting
from integrations.matching import copy_clients_to_rows, link_customers_to_clients
from integrations.models import ClientMatchCandidate, CustomerLink
from integrations.parsing import fold_name
from integrations.subcustomers import link_sub_customers

# Words that say what kind of company it is, not which one.
# Only legal forms and glue words: "Group" or "Partners" can be all that tells two clients apart.
_NOISE = re.compile(
    r"\b(the|inc|incorporated|llc|l l c|llp|pllc|pc|ltd|limited|co|corp|corporation|company|gmbh|plc|and|of)\b")
MARGIN = 4.0  # the best client must beat the runner-up by this much to be linked unattended


@dataclass
class FuzzyResult:
    linked: int = 0
    proposed: int = 0
    unmatched_customers: list[int] = field(default_factory=list)
    unmatched_clients: list[int] = field(default_factory=list)


def core_name(name: str) -> str:
    """"The Acme Dental Group, LLC" -> "acme dental group"."""
    folded = fold_name(name or "").replace("&", " and ")
    return " ".join(_NOISE.sub(" ", folded).split())


def _domain_stem(domain: str) -> str:
    return (domain or "").lower().split(".")[0].replace("-", "")


def score(customer_names: list[str], client_name: str, client_domain: str) -> float:
    """0-100: how surely this customer is this client."""
    target = core_name(client_name)
    best = 0.0
    for name in filter(None, customer_names):
        core = core_name(name)
        if not core or not target:
            continue
        best = max(best, fuzz.token_sort_ratio(core, target), fuzz.ratio(core, target),
                   0.95 * fuzz.token_set_ratio(core, target))
        stem = _domain_stem(client_domain)
        if stem and len(stem) > 3:
            best = max(best, fuzz.ratio(core.replace(" ", ""), stem) - 5)
    return best


def match_customers(run: SyncRun | None = None) -> FuzzyResult:
    """Exact steps first (integrations.matching), then fuzzy ones; returns what changed."""
    linked_ids = dict(CustomerLink.objects.values_list("quickbooks_customer_id", "account_id"))
    link_customers_to_clients(run, linked_ids)
    result = FuzzyResult()
    auto, review = setting("CLIENT_MATCH_AUTO_SCORE"), setting("CLIENT_MATCH_REVIEW_SCORE")
    clients = list(Client.objects.filter(source="superops", deleted_at_source__isnull=True)
                   .values_list("pk", "name", "email_domain"))
    if not clients:
        return result
    # A client is claimed per company (realm): one client may be billed by two companies.
    claimed = set(Customer.objects.filter(client__isnull=False).values_list("realm", "client_id"))
    rejected = set(ClientMatchCandidate.objects.filter(status=ClientMatchCandidate.Status.REJECTED)
                   .values_list("customer_id", "client_id"))
    accepted = {c.customer_id: c.client_id for c in ClientMatchCandidate.objects.filter(
        status=ClientMatchCandidate.Status.ACCEPTED)}
    choices = {pk: core_name(name) for pk, name, _ in clients}
    domains = {pk: domain for pk, _, domain in clients}
    names = {pk: name for pk, name, _ in clients}
    scored = []
    for customer in Customer.objects.filter(client__isnull=True, deleted_at_source__isnull=True).exclude(
            match_method=Customer.MatchMethod.MANUAL):
        if customer.pk in accepted:
            continue
        wanted = [customer.display_name, customer.company_name]
        # Shortlist with rapidfuzz's fast extract, then score the few properly.
        shortlist = {key for n in filter(None, wanted)
                     for _, _, key in process.extract(core_name(n), choices, scorer=fuzz.WRatio, limit=5)}
        ranked = sorted(((score(wanted, names[pk], domains[pk]), pk) for pk in shortlist
                         if (customer.pk, pk) not in rejected), reverse=True)
        if ranked:
            scored.append((customer, ranked))
    scored.sort(key=lambda item: -item[1][0][0])
    changed = []
    with transaction.atomic():
        for customer_id, client_id in accepted.items():
            Customer.objects.filter(pk=customer_id).update(
                client_id=client_id, match_method=Customer.MatchMethod.MANUAL, match_confidence=1.0, sync_run=run)
        for customer, ranked in scored:
            best, client_pk = ranked[0]
            runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
            taken = (customer.realm, client_pk) in claimed
            if best >= auto and best - runner_up >= MARGIN and not taken:
                customer.client_id, customer.match_method = client_pk, Customer.MatchMethod.FUZZY
                customer.match_confidence, customer.sync_run = round(best / 100, 3), run
                changed.append(customer)
                claimed.add((customer.realm, client_pk))
                result.linked += 1
            elif best >= review:
                _, created = ClientMatchCandidate.objects.get_or_create(
                    customer=customer, client_id=client_pk,
                    defaults={"score": round(best, 1), "reason": _reason(best, runner_up, taken)})
                result.proposed += int(created)
        if changed:
            Customer.objects.bulk_update(changed, ["client", "match_method", "match_confidence", "sync_run"])
        if changed or accepted:
            copy_clients_to_rows()
    link_sub_customers(run)  # a parent linked just now (fuzzy) links its sites too
    result.unmatched_customers = list(Customer.objects.filter(client__isnull=True).values_list("pk", flat=True))
    result.unmatched_clients = list(unmatched_clients().values_list("pk", flat=True))
    return result


def _reason(best: float, runner_up: float, taken: bool) -> str:
    if taken:
        return f"name scores {best:.0f}, but the client already has a linked customer"
    if best - runner_up < MARGIN:
        return f"name scores {best:.0f}, too close to the next client ({runner_up:.0f})"
    return f"name scores {best:.0f}, below the automatic threshold"


def unmatched_clients():
    """SuperOps clients no QuickBooks customer is linked to."""
    return Client.objects.filter(source="superops", deleted_at_source__isnull=True, customers__isnull=True)


def decide(candidate: ClientMatchCandidate, accept: bool, user=None) -> None:
    """A person's verdict on a proposed pair; accepting links the customer (method manual)."""
    from django.utils import timezone

    with transaction.atomic():
        candidate.status = ClientMatchCandidate.Status.ACCEPTED if accept else ClientMatchCandidate.Status.REJECTED
        candidate.decided_by = user if user is not None and user.is_authenticated else None
        candidate.decided_at = timezone.now()
        candidate.save()
        if accept:
            Customer.objects.filter(pk=candidate.customer_id).update(
                client_id=candidate.client_id, match_method=Customer.MatchMethod.MANUAL, match_confidence=1.0)
            ClientMatchCandidate.objects.filter(customer_id=candidate.customer_id,
                                                status=ClientMatchCandidate.Status.PENDING).exclude(
                pk=candidate.pk).update(status=ClientMatchCandidate.Status.REJECTED)
            copy_clients_to_rows()
