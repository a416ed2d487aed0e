"""Matching QuickBooks customers to SuperOps clients in a world whose customer names were
perturbed (typos, legal suffixes, capitals, personal emails) and which has decoy customers:
exact steps first, fuzzy ones after, doubtful pairs left for a person; precision and recall
printed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db.models import Count

from clients.models import Customer, Invoice
from integrations.matching_fuzzy import core_name, match_customers, unmatched_clients
from integrations.models import ClientMatchCandidate
from integrations.quickbooks import sync as qb_sync
from integrations.quickbooks.client import QuickBooksClient
from integrations.sandbox.testing import connect_quickbooks
from integrations.superops import sync as so_sync
from integrations.superops.client import SuperOpsClient
from integrations.sync import engine

pytestmark = pytest.mark.django_db


@pytest.fixture
def perturbed(make_sandbox):
    """Clients and (perturbed) customers synced from the sandbox; gives the truth."""
    sandbox = make_sandbox(clients=40, months=1, seed=31)
    truth = sandbox.world.perturb_customer_names(seed=8, decoys=4)
    connect_quickbooks()
    run = engine.start_run("superops", "command")
    so_sync.sync_list(SuperOpsClient(), run, "getClientList", full=True)
    qb = QuickBooksClient(sandbox.world.realm_id)
    for entity in ("Customer", "Item", "Invoice"):
        qb_sync.sync_entity(qb, run, entity, full=True)
    return truth


def pairs() -> dict[str, str | None]:
    return {c.external_id: (c.client.external_id if c.client else None)
            for c in Customer.objects.select_related("client")}


def test_perturbed_names_are_matched_with_high_precision(perturbed, capsys):
    truth = perturbed
    result = match_customers()
    got = pairs()
    linked = {c: a for c, a in got.items() if a}
    correct = sum(1 for c, a in linked.items() if truth[c] == a)
    true_pairs = sum(1 for a in truth.values() if a)
    precision, recall = correct / max(len(linked), 1), correct / true_pairs
    methods = dict(Customer.objects.filter(client__isnull=False).values_list("match_method").annotate(n=Count("pk")))
    waiting = ClientMatchCandidate.objects.filter(status="pending")
    right_waiting = sum(1 for c in waiting.select_related("customer", "client")
                        if truth[c.customer.external_id] == c.client.external_id)
    with capsys.disabled():
        print(f"\nclient matching on {true_pairs} perturbed pairs + {len(truth) - true_pairs} decoys: "
              f"precision {precision:.2f}, recall {recall:.2f} ({correct} linked unattended: {methods}), "
              f"{waiting.count()} pairs waiting for review of which {right_waiting} right, "
              f"{len(result.unmatched_clients)} clients unmatched")
    assert precision == 1.0  # a wrong link would poison two clients' margins
    assert recall >= 0.8
    assert all(got[c] is None for c, a in truth.items() if a is None)  # decoys stay unmatched
    assert set(unmatched_clients().values_list("external_id", flat=True)) == (
        {a for a in truth.values() if a} - set(linked.values()))
    # Invoices follow their customer's link.
    for invoice in Invoice.objects.select_related("customer")[:20]:
        assert invoice.client_id == invoice.customer.client_id


def test_doubtful_pairs_wait_for_a_person_and_the_verdict_sticks(perturbed, client, settings):
    settings.CLIENT_MATCH_AUTO_SCORE = 101  # nothing is sure enough: everything goes to review
    match_customers()
    assert not Customer.objects.filter(match_method="fuzzy").exists()  # exact steps still link (capitals)
    waiting = list(ClientMatchCandidate.objects.filter(status="pending").order_by("-score")[:2])
    assert len(waiting) == 2
    admin = User.objects.create_superuser("admin", "admin@msp.example", "pw")
    client.force_login(admin)
    url = "/admin/integrations/clientmatchcandidate/"
    client.post(url, {"action": "accept", "_selected_action": [waiting[0].pk]})
    client.post(url, {"action": "reject", "_selected_action": [waiting[1].pk]})
    accepted = Customer.objects.get(pk=waiting[0].customer_id)
    assert (accepted.client_id, accepted.match_method) == (waiting[0].client_id, "manual")
    assert all(i.client_id == accepted.client_id for i in accepted.invoices.all())
    match_customers()  # later runs neither undo the person's link nor propose the rejected pair again
    assert Customer.objects.get(pk=accepted.pk).client_id == waiting[0].client_id
    assert ClientMatchCandidate.objects.get(pk=waiting[1].pk).status == "rejected"
    assert ClientMatchCandidate.objects.filter(customer_id=waiting[1].customer_id, client_id=waiting[1].client_id,
                                               status="pending").count() == 0
    page = client.get("/admin/integrations/unmatchedclient/").content.decode()
    assert accepted.client.name not in page


def test_core_name_drops_legal_forms_but_keeps_what_tells_clients_apart():
    assert core_name("The Acme Dental Group, LLC") == "acme dental group"
    assert core_name("ACME  DENTAL GROUP inc.") == "acme dental group"
    assert core_name("Smith & Sons") == "smith sons"
