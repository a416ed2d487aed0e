"""Drill-down from a figure to its source rows, on a small simulated MSP (8 clients x 9 months
ending last month, leak rate 0.3, loaded and built once for the module inside a transaction
rolled back at the end).

The rows a drill-down shows must add up to the KPI store's figure for every client-month and
every figure it explains: that is what makes a click from a chart to its rows trustworthy.
Independently of the row readers, a few totals are also summed here straight from the
models. A leak finding's evidence resolves to the records it names, and their amounts add up
to the finding's estimate where the rule's amount is theirs."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.db import transaction

from clients.models import Expense, InvoiceLine, Ticket
from insights.leaks import detect_leaks
from insights.models import LeakFinding
from insights.views.sources import FIGURES, source_rows, source_rows_for_finding
from integrations.dump import import_dump
from ml.models import ClientMonthKPI

pytestmark = pytest.mark.django_db
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def world(make_world, django_db_setup, django_db_blocker):
    folder = make_world(clients=8, months=9, seed=21, leak_rate=0.3, end_month=None)
    with django_db_blocker.unblock(), transaction.atomic():
        import_dump(folder, progress=False)
        call_command("build_features", verbosity=0)
        detect_leaks(trigger="test")
        yield folder
        transaction.set_rollback(True)


@pytest.fixture
def viewer_client(client, django_user_model):
    from io import StringIO

    django_user_model.objects.create_user("sam-viewer", "sam@msp.example", "pw-viewer-123")
    call_command("grant", "sam-viewer", "viewer", stdout=StringIO())
    client.force_login(django_user_model.objects.get(username="sam-viewer"))
    return client


def test_every_figures_rows_add_up_to_its_kpi_for_every_client_month(world):
    rows = list(ClientMonthKPI.objects.select_related("client").order_by("client_id", "month"))
    assert len(rows) >= 40
    checked = {code: 0 for code in FIGURES}
    nonzero = {code: 0 for code in FIGURES}
    for kpi in rows:
        for code, figure in FIGURES.items():
            drill = source_rows(kpi.client, kpi.month, code)
            want = getattr(kpi, figure.kpi)
            assert drill.total == want, f"{kpi.client.name} {kpi.month:%Y-%m} {code}: rows {drill.total} != KPI {want}"
            checked[code] += 1
            nonzero[code] += bool(want)
    # The world exercises every figure with real rows, not only empty months.
    for code in ("revenue", "revenue_recurring", "labour_cost", "labour_hours", "tickets", "open_ar", "invoiced",
                 "gross_margin", "license_cost"):
        assert nonzero[code] >= 5, code


def test_rows_follow_the_kpi_rules_for_foreign_money_uncosted_technicians_voids_and_write_offs(world):
    """The simulated books are all in home currency with every technician costed: bend them the
    way real books are (a foreign-currency invoice and expense, a technician with no cost, a
    voided invoice, a deleted ticket, an invoice QuickBooks settled with nothing applied, a
    "License" category typed with a capital), rebuild, and the rows still add up."""
    from clients.models import Invoice, PaymentApplication, Technician

    months = sorted({k.month for k in ClientMonthKPI.objects.filter(partial_month=False)})
    month = months[len(months) // 2]
    invoices = list(Invoice.objects.filter(txn_date__gte=month).order_by("txn_date", "pk")[:3])
    Invoice.objects.filter(pk=invoices[0].pk).update(exchange_rate=Decimal("1.234567"))
    Invoice.objects.filter(pk=invoices[1].pk).update(voided=True)
    PaymentApplication.objects.filter(invoice=invoices[2]).delete()
    Invoice.objects.filter(pk=invoices[2].pk).update(balance=0)
    expense = Expense.objects.filter(client__isnull=False, txn_date__gte=month).order_by("pk").first()
    Expense.objects.filter(pk=expense.pk).update(exchange_rate=Decimal("0.871337"), category="License")
    Technician.objects.filter(pk=Technician.objects.order_by("pk").first().pk).update(burdened_hourly_cost=0)
    ticket = Ticket.objects.filter(created_at__date__gte=month).order_by("pk").first()
    Ticket.objects.filter(pk=ticket.pk).update(deleted_at_source=ticket.created_at)
    call_command("build_features", "--since", f"{months[0]:%Y-%m}", verbosity=0)

    assert any("labour_at_median_cost" in k.quality_notes for k in ClientMonthKPI.objects.all())
    for kpi in ClientMonthKPI.objects.select_related("client"):
        for code, figure in FIGURES.items():
            total, want = source_rows(kpi.client, kpi.month, code).total, getattr(kpi, figure.kpi)
            assert total == want, f"{kpi.client.name} {kpi.month:%Y-%m} {code}: rows {total} != KPI {want}"


def test_revenue_rows_are_net_of_tax_and_their_total_is_summed_independently(world):
    kpi = (ClientMonthKPI.objects.filter(revenue_total__gt=0, partial_month=False).select_related("client")
           .order_by("-revenue_total").first())
    after = kpi.month.replace(year=kpi.month.year + kpi.month.month // 12, month=kpi.month.month % 12 + 1)
    lines = InvoiceLine.objects.filter(invoice__client=kpi.client, invoice__voided=False,
                                       invoice__deleted_at_source__isnull=True, invoice__txn_date__gte=kpi.month,
                                       invoice__txn_date__lt=after).select_related("invoice")
    expected = sum(((line.amount * line.invoice.exchange_rate).quantize(CENT, ROUND_HALF_UP)
                    for line in lines if line.kind != "tax"), Decimal(0))
    tax = [line for line in lines if line.kind == "tax"]
    drill = source_rows(kpi.client, kpi.month, "revenue")
    assert drill.total == expected == kpi.revenue_total
    assert {line.pk for line in drill.rows} == {line.pk for line in lines if line.kind != "tax"}
    assert {line.pk for line in drill.excluded} == {line.pk for line in tax}
    # The invoices' totals carry the tax: invoiced_total is larger than revenue when tax was charged.
    if tax:
        assert source_rows(kpi.client, kpi.month, "invoiced").total > drill.total


def test_ticket_and_licence_rows_match_counts_taken_from_the_models(world):
    kpi = ClientMonthKPI.objects.filter(tickets__gt=0).select_related("client").order_by("-tickets").first()
    created = [t for t in Ticket.objects.filter(client=kpi.client, deleted_at_source__isnull=True)
               if (t.created_at.year, t.created_at.month) == (kpi.month.year, kpi.month.month)]
    drill = source_rows(kpi.client, kpi.month, "tickets")
    assert len(created) == drill.total == kpi.tickets
    assert source_rows(kpi.client, kpi.month, "reactive_tickets").total == sum(t.is_reactive for t in created)

    kpi = ClientMonthKPI.objects.filter(license_cost__gt=0).select_related("client").first()
    expenses = [e for e in Expense.objects.filter(client=kpi.client, deleted_at_source__isnull=True)
                if (e.txn_date.year, e.txn_date.month) == (kpi.month.year, kpi.month.month)
                and e.category.lower() == "license"]
    assert sum((e.amount * e.exchange_rate).quantize(CENT, ROUND_HALF_UP) for e in expenses) == kpi.license_cost


def test_gross_margin_is_its_four_parts_each_from_its_rows(world):
    kpi = ClientMonthKPI.objects.filter(partial_month=False).select_related("client").order_by("gross_margin").first()
    drill = source_rows(kpi.client, kpi.month, "gross_margin")
    parts = {part.figure.code: part.total for part, _ in drill.parts}
    assert parts == {"revenue": kpi.revenue_total, "labour_cost": kpi.labour_cost,
                     "license_cost": kpi.license_cost, "other_cost": kpi.other_cost}
    assert drill.total == kpi.gross_margin


def test_the_drill_down_page_shows_the_rows_and_says_they_match(world, viewer_client):
    kpi = ClientMonthKPI.objects.filter(labour_minutes__gt=0).select_related("client").first()
    url = f"/clients/{kpi.client_id}/sources/{kpi.month:%Y-%m}/labour_cost/"
    page = viewer_client.get(url).content.decode()
    assert "The rows add up to the KPI store's figure" in page
    assert f"${kpi.labour_cost:,.2f}" in page
    drill = source_rows(kpi.client, kpi.month, "labour_cost")
    assert page.count("<tr data-row=") == len(drill.rows) > 0
    page = viewer_client.get(f"/clients/{kpi.client_id}/sources/{kpi.month:%Y-%m}/gross_margin/").content.decode()
    assert f"/clients/{kpi.client_id}/sources/{kpi.month:%Y-%m}/revenue/" in page
    assert f"${kpi.gross_margin:,.2f}".replace("$-", "-$") in page


def test_a_changed_row_shows_the_kpi_is_stale_until_the_next_build(world, viewer_client):
    kpi = ClientMonthKPI.objects.filter(license_cost__gt=0).select_related("client").first()
    expense = Expense.objects.filter(client=kpi.client, category__iexact="license", txn_date__gte=kpi.month,
                                     deleted_at_source__isnull=True).order_by("txn_date").first()
    expense.amount += Decimal("10.00")
    expense.save()
    page = viewer_client.get(f"/clients/{kpi.client_id}/sources/{kpi.month:%Y-%m}/license_cost/").content.decode()
    assert "these rows changed since its last build" in page and "build_features" in page


def test_unknown_figures_months_and_clients_are_not_found(world, viewer_client):
    kpi = ClientMonthKPI.objects.first()
    assert viewer_client.get(f"/clients/{kpi.client_id}/sources/{kpi.month:%Y-%m}/salary/").status_code == 404
    assert viewer_client.get(f"/clients/{kpi.client_id}/sources/2026-13/revenue/").status_code == 404
    assert viewer_client.get(f"/clients/999999/sources/{kpi.month:%Y-%m}/revenue/").status_code == 404


def test_drill_downs_need_a_role(world, client, django_user_model):
    kpi = ClientMonthKPI.objects.first()
    url = f"/clients/{kpi.client_id}/sources/{kpi.month:%Y-%m}/revenue/"
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(django_user_model.objects.create_user("nora-norole", "n@msp.example", "pw-123-secret"))
    response = client.get(url)
    assert response.status_code == 403 and "No role yet" in response.content.decode()
    finding = LeakFinding.objects.first()
    assert client.get(f"/leaks/{finding.pk}/sources/").status_code == 403


def test_a_findings_evidence_resolves_to_its_rows_and_adds_up_to_its_estimate(world, viewer_client):
    expense_findings = list(LeakFinding.objects.filter(finding_type="unbilled_expense"))
    assert expense_findings
    for finding in expense_findings:
        sections = {s.key: s for s in source_rows_for_finding(finding)}
        rows = sections["expense_ids"].rows
        assert {e.external_id for e in rows} == set(finding.evidence["expense_ids"])
        assert all(e.client_id == finding.client_id for e in rows)
        assert sections["expense_ids"].total == finding.estimated_amount
    worklog_findings = [f for f in LeakFinding.objects.filter(finding_type="unbilled_worklog")
                        if not f.evidence.get("time_activity_ids")]
    assert worklog_findings
    matched = 0
    for finding in worklog_findings:
        section = {s.key: s for s in source_rows_for_finding(finding)}["worklog_ids"]
        assert {w.external_id for w in section.rows} == set(finding.evidence["worklog_ids"])
        assert not section.missing
        if all(w.unit_price for w in section.rows):  # priced on the worklog itself, not the agreement
            assert section.total == finding.estimated_amount
            matched += 1
    assert matched
    finding = expense_findings[0]
    page = viewer_client.get(f"/leaks/{finding.pk}/sources/").content.decode()
    assert f"${finding.estimated_amount:,.2f}" in page and 'id="evidence-expense_ids"' in page
    assert page.count("<tr data-row=") == len(finding.evidence["expense_ids"])


def test_the_portfolio_and_every_client_page_render_on_the_simulated_world(world, viewer_client):
    """Real genome vectors, segments, findings and KPI rows: every page answers and links its
    clients and figures."""
    page = viewer_client.get("/").content.decode()
    assert 'id="profitability-quadrant"' in page and 'id="segment-mix"' in page and 'id="leaks-chart"' in page
    for kpi_client in ClientMonthKPI.objects.values_list("client_id", flat=True).distinct():
        response = viewer_client.get(f"/clients/{kpi_client}/")
        assert response.status_code == 200
        page = response.content.decode()
        assert 'id="client-margin"' in page and 'id="genome-radar"' in page and 'id="genome-strip"' in page
        assert f"/clients/{kpi_client}/sources/" in page
