"""KPIs of a hand-made tiny client, checked against numbers worked out by hand, plus the
incremental rebuild and the no-query-per-client rule."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import (
    Asset,
    Client,
    Contract,
    Customer,
    Expense,
    Interaction,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentApplication,
    SatisfactionSurvey,
    SyncRun,
    Technician,
    Ticket,
    Worklog,
)
from ml.features.build import build_features
from ml.models import ClientMonthKPI, FeatureBuild

pytestmark = pytest.mark.django_db

_ids = iter(range(1, 10_000))


def ext() -> str:
    return str(next(_ids))


def at(day: str, hm: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}:00").replace(tzinfo=UTC)


def so(model, **fields):
    return model.objects.create(source="superops", external_id=ext(), **fields)


def qb(model, **fields):
    return model.objects.create(source="quickbooks", external_id=ext(), **fields)


def invoice(client, customer, day, due, lines, rate="1", currency="USD"):
    total = sum(Decimal(a) for _, a, _ in lines)
    inv = qb(
        Invoice,
        customer=customer,
        client=client,
        txn_date=date.fromisoformat(day),
        due_date=date.fromisoformat(due),
        total=total,
        balance=total,
        currency=currency,
        exchange_rate=Decimal(rate),
    )
    for n, (kind, amount, qty) in enumerate(lines, 1):
        InvoiceLine.objects.create(
            invoice=inv,
            line_id=str(n),
            line_num=n,
            kind=kind,
            amount=Decimal(amount),
            quantity=Decimal(qty),
            unit_price=Decimal(amount) / Decimal(qty),
        )
    return inv


def pay(client, customer, day, applications):
    total = sum(Decimal(a) for _, a in applications)
    p = qb(Payment, customer=customer, client=client, txn_date=date.fromisoformat(day), total=total)
    for inv, amount in applications:
        PaymentApplication.objects.create(payment=p, invoice=inv, amount=Decimal(amount))
        inv.balance -= Decimal(amount)
        inv.save()
    return p


@pytest.fixture
def world():
    """Acme (USD, onboarded 2025-01-01) with a full March 2025, and Brie (EUR at 1.10)."""
    t1 = so(Technician, name="Dana", burdened_hourly_cost=Decimal("50"))
    t2 = so(Technician, name="Eli", burdened_hourly_cost=Decimal("40"))
    so(Technician, name="Fay", burdened_hourly_cost=Decimal("0"))  # no cost set: not in the median
    acme = so(Client, name="Acme Dental", onboarded_on=date(2025, 1, 1))
    cust = qb(Customer, client=acme, display_name="Acme Dental")
    so(
        Contract,
        client=acme,
        name="Managed WS",
        kind="per_device",
        start_date=date(2025, 1, 1),
        end_date=date(2027, 12, 31),
        billed_quantity=Decimal("10"),
        unit_price=Decimal("200"),
    )

    # Endpoints: 8 long-standing, one retired 2025-02-15 (gone in March), one retired on
    # 2025-03-01 (still active in March), one added 2025-03-31 (active), one added in April.
    for _ in range(8):
        so(Asset, client=acme, name=ext(), added_on=date(2024, 6, 1))
    so(Asset, client=acme, name="old", added_on=date(2024, 6, 1), retired_on=date(2025, 2, 15))
    so(Asset, client=acme, name="leaving", added_on=date(2024, 6, 1), retired_on=date(2025, 3, 1))
    so(Asset, client=acme, name="new", added_on=date(2025, 3, 31))
    so(Asset, client=acme, name="april", added_on=date(2025, 4, 1))

    # March tickets
    t_1 = so(
        Ticket,
        client=acme,
        subject="a",
        is_reactive=True,
        created_at=at("2025-03-03", "09:00"),
        first_response_due_at=at("2025-03-03", "09:30"),
        first_response_at=at("2025-03-03", "09:15"),
        resolved_at=at("2025-03-03", "11:00"),
        resolution_violated=False,
    )
    t_2 = so(
        Ticket,
        client=acme,
        subject="b",
        is_reactive=False,
        created_at=at("2025-03-10", "08:00"),
        first_response_violated=True,
        resolved_at=at("2025-03-11", "08:00"),
        resolution_violated=False,
        reopen_count=1,
    )
    t_3 = so(
        Ticket,
        client=acme,
        subject="c",
        is_reactive=True,
        created_at=at("2025-03-20", "10:00"),
        first_response_violated=False,
        resolved_at=at("2025-03-20", "14:00"),
        resolution_violated=True,
        escalated=True,
    )
    so(
        Ticket,
        client=acme,
        subject="d",
        is_reactive=True,
        created_at=at("2025-03-28", "12:00"),
        first_response_due_at=at("2025-03-28", "12:30"),
        first_response_at=at("2025-03-28", "13:00"),
    )

    # March worklogs: Dana 600 min on the reactive ticket (billable, invoiced, $150/h), Eli
    # 300 min after hours on the proactive one (under contract), 120 unassigned minutes.
    so(
        Worklog,
        client=acme,
        ticket=t_1,
        technician=t1,
        work_date=date(2025, 3, 3),
        minutes=600,
        billable=True,
        billing_status="invoiced",
        unit_price=Decimal("150"),
    )
    so(
        Worklog,
        client=acme,
        ticket=t_2,
        technician=t2,
        work_date=date(2025, 3, 10),
        minutes=300,
        billable=True,
        billing_status="under_contract",
        after_hours=True,
        unit_price=Decimal("150"),
    )
    so(Worklog, client=acme, technician=None, work_date=date(2025, 3, 12), minutes=120)
    # The same onsite hours keyed into QuickBooks to bill them: not labour a second time.
    qb(Worklog, client=acme, technician=t1, work_date=date(2025, 3, 3), minutes=600, billable=True)
    # April: the data runs to 2025-04-30, so April is a complete month.
    so(Worklog, client=acme, technician=t1, work_date=date(2025, 4, 30), minutes=60)

    inv1 = invoice(acme, cust, "2025-01-01", "2025-01-31", [("recurring", "2000.00", "10")])
    inv2 = invoice(acme, cust, "2025-02-01", "2025-02-28", [("recurring", "2000.00", "10")])
    inv3 = invoice(
        acme,
        cust,
        "2025-03-01",
        "2025-03-31",
        [("recurring", "2000.00", "10"), ("time", "450.00", "3"), ("product", "300.00", "10")],
    )
    pay(acme, cust, "2025-01-20", [(inv1, "2000.00")])
    pay(acme, cust, "2025-03-10", [(inv2, "2000.00")])
    pay(acme, cust, "2025-03-25", [(inv3, "1000.00")])
    qb(
        Expense,
        txn_type="Bill",
        document_id="1",
        customer=cust,
        client=acme,
        txn_date=date(2025, 3, 5),
        category="license",
        amount=Decimal("250.00"),
    )
    qb(
        Expense,
        txn_type="Purchase",
        document_id="2",
        customer=cust,
        client=acme,
        txn_date=date(2025, 3, 6),
        category="hardware",
        amount=Decimal("50.00"),
    )

    so(SatisfactionSurvey, client=acme, ticket=t_1, score=5, responded_at=at("2025-03-03", "12:00"))
    so(SatisfactionSurvey, client=acme, ticket=t_3, score=2, responded_at=at("2025-03-20", "15:00"))
    Interaction.objects.create(source="local", external_id="I-1", client=acme, kind="qbr", occurred_at=at("2025-02-14"))
    Interaction.objects.create(
        source="local", external_id="I-2", client=acme, kind="call", occurred_at=at("2025-03-05"), sentiment=1
    )

    brie = so(Client, name="Brie Bakery", onboarded_on=date(2025, 1, 1), currency="EUR")
    bcust = qb(Customer, client=brie, display_name="Brie Bakery", currency="EUR")
    invoice(brie, bcust, "2025-03-01", "2025-03-31", [("time", "1000.00", "10")], rate="1.10", currency="EUR")
    so(
        Worklog,
        client=brie,
        technician=t1,
        work_date=date(2025, 3, 4),
        minutes=60,
        billable=True,
        billing_status="approved",
        unit_price=Decimal("100"),
        currency="EUR",
    )
    qb(
        Expense,
        txn_type="Bill",
        document_id="3",
        customer=bcust,
        client=brie,
        txn_date=date(2025, 3, 7),
        category="license",
        amount=Decimal("100.00"),
        currency="EUR",
        exchange_rate=Decimal("1.10"),
    )
    return {"acme": acme, "brie": brie, "dana": t1}


def snapshot() -> dict:
    """Every snapshot row's KPIs and quality notes, by (client, month)."""
    from ml.features.store import KPI_COLUMNS

    return {
        (r["client_id"], r["month"]): {c: r[c] for c in (*KPI_COLUMNS, "quality_notes")}
        for r in ClientMonthKPI.objects.values("client_id", "month", "quality_notes", *KPI_COLUMNS)
    }


def rebuild_in_full() -> None:
    """Forget every build and rebuild from nothing (what incremental builds must equal)."""
    ClientMonthKPI.objects.all().delete()
    FeatureBuild.objects.all().delete()
    build_features(trigger="test", with_genome=False)


def kpi(client, month: str) -> ClientMonthKPI:
    return ClientMonthKPI.objects.get(client=client, month=date.fromisoformat(month + "-01"))


def test_financial_kpis_match_hand_arithmetic(world):
    build_features(trigger="test", with_genome=False)
    m = kpi(world["acme"], "2025-03")
    # Revenue: recurring 2000 + time 450 + product 300 = 2750.00
    assert (m.revenue_recurring, m.revenue_time, m.revenue_product) == (
        Decimal("2000.00"),
        Decimal("450.00"),
        Decimal("300.00"),
    )
    assert m.revenue_total == Decimal("2750.00")
    # Labour: Dana 10 h x $50 + Eli 5 h x $40 + 2 unassigned h x median($50, $40) = $45
    #       = 500 + 200 + 90 = 790.00 (Fay's unset cost is not part of the median)
    assert m.labour_minutes == 1020
    assert m.labour_cost == Decimal("790.00")
    assert (m.license_cost, m.other_cost) == (Decimal("250.00"), Decimal("50.00"))
    # Gross margin = 2750 - 790 - 250 - 50 = 1660.00; margin % = 1660 / 2750 = 60.36 %
    assert m.gross_margin == Decimal("1660.00")
    assert m.margin_pct == pytest.approx(1660 / 2750)
    # EHR = (2750 - 250 - 50) / 17 h = 2450 / 17 = 144.1176 -> 144.12
    assert m.effective_hourly_rate == Decimal("144.12")
    # Contribution per labour hour = 1660 / 17 = 97.647 -> 97.65
    assert m.contribution_per_hour == Decimal("97.65")
    # Billable time: only Dana's 10 h at $150 (Eli's is under contract) = 1500.00; billed T&M
    # over Jan-Mar = 450 -> billing efficiency 0.30
    assert m.billable_value == Decimal("1500.00")
    assert m.billing_efficiency == pytest.approx(0.30)
    assert m.mrr == Decimal("2000.00")  # 10 devices x $200
    assert m.revenue_growth_3m is None  # needs 6 months of history
    assert "labour_at_median_cost" in m.quality_notes


def test_foreign_currency_client_is_converted_at_the_invoice_rate(world):
    build_features(trigger="test", with_genome=False)
    m = kpi(world["brie"], "2025-03")
    assert m.revenue_time == Decimal("1100.00")  # EUR 1000 x 1.10
    assert m.license_cost == Decimal("110.00")  # EUR 100 x 1.10
    assert m.billable_value == Decimal("110.00")  # 1 h x EUR 100 x 1.10 (client's invoice rate)
    assert m.labour_cost == Decimal("50.00")  # Dana, 1 h x $50 (costs are in home currency)
    assert m.gross_margin == Decimal("940.00")  # 1100 - 110 - 50


def test_operations_kpis_match_hand_arithmetic(world):
    build_features(trigger="test", with_genome=False)
    m = kpi(world["acme"], "2025-03")
    # Active in March: 8 + the one retired on March 1 + the one added March 31 = 10
    assert m.active_endpoints == 10
    assert kpi(world["acme"], "2025-04").active_endpoints == 10  # -1 retired 2025-03-01, +1 added April
    assert m.tickets == 4 and m.reactive_tickets == 3
    assert m.tickets_per_endpoint == pytest.approx(0.4)
    # RHEM: Dana's 600 reactive minutes = 10 h over 10 endpoints = 1.0
    assert m.rhem == pytest.approx(1.0)
    # Resolution hours of the resolved tickets: 2, 24, 4 -> mean 10; nearest-rank p90 of 3
    # values is the 3rd smallest (ceil(0.9 x 3) = 3) = 24
    assert m.avg_resolution_hours == pytest.approx(10.0)
    assert m.p90_resolution_hours == pytest.approx(24.0)
    # First response: t1 met (by times), t2 violated (flag), t3 met (flag), t4 late (13:00 > 12:30)
    assert m.first_response_sla == pytest.approx(2 / 4)
    # Resolution: t1 met, t2 met, t3 violated; t4 unresolved with no flag is not measured
    assert m.resolution_sla == pytest.approx(2 / 3)
    assert m.reopen_rate == pytest.approx(1 / 4)
    assert m.escalations == 1
    assert m.after_hours_share == pytest.approx(300 / 1020)
    assert m.technician_concentration == pytest.approx(600 / 1020)


def test_payment_kpis_match_hand_arithmetic(world):
    build_features(trigger="test", with_genome=False)
    m = kpi(world["acme"], "2025-03")
    # Open AR at March end: invoiced 2000 + 2000 + 2750 - paid 2000 + 2000 + 1000 = 1750.00
    assert m.open_ar == Decimal("1750.00")
    # DSO = 1750 / (2000 + 2000 + 2750) x (31 + 28 + 31) days = 23.33
    assert m.dso_days == pytest.approx(1750 / 6750 * 90)
    # Due in March: INV-3, 1000 of 2750 paid by its due date -> late
    assert (m.invoices_due, m.late_invoice_share) == (1, 1.0)
    # Fully paid in March: INV-2, due 02-28, paid 03-10 -> 10 days late
    assert (m.invoices_paid, m.avg_days_late) == (1, pytest.approx(10.0))
    jan = kpi(world["acme"], "2025-01")
    assert (jan.invoices_due, jan.late_invoice_share, jan.avg_days_late) == (1, 0.0, 0.0)
    assert kpi(world["acme"], "2025-02").late_invoice_share == 1.0  # INV-2 unpaid on 02-28


def test_engagement_and_contract_kpis(world):
    build_features(trigger="test", with_genome=False)
    m = kpi(world["acme"], "2025-03")
    assert (m.surveys, m.low_csat_surveys, m.csat_avg) == (2, 1, pytest.approx(3.5))  # (5 + 2) / 2
    assert m.survey_response_rate == pytest.approx(2 / 4)  # 2 surveys / 4 tickets over Jan-Mar
    assert (m.interactions, m.qbr_count, m.qbr_last_12m) == (1, 0, 1)
    assert m.days_since_contact == 26  # 2025-03-05 -> 2025-03-31
    assert m.interaction_sentiment == pytest.approx(1.0)
    assert m.tenure_months == 2
    assert m.months_to_renewal == 33  # 2025-03 -> 2027-12
    assert m.billed_seats == Decimal("10.00") and m.billed_devices == Decimal("10.00")
    assert m.billed_vs_active == pytest.approx(1.0)
    assert m.months_since_price_change == 2  # $200 since recurring billing began in January
    assert not m.partial_month


def test_incremental_build_rewrites_only_changed_months(world):
    first = build_features(trigger="test", with_genome=False)
    assert first.full and first.kpi_rows_written == 4 + 4  # both clients Jan-Apr 2025
    again = build_features(trigger="test", with_genome=False)
    assert (again.clients_rebuilt, again.kpi_rows_written) == (0, 0)
    march_before = kpi(world["acme"], "2025-03").computed_at
    so(Worklog, client=world["acme"], technician=world["dana"], work_date=date(2025, 4, 15), minutes=90)
    step = build_features(trigger="test", with_genome=False)
    assert (step.clients_rebuilt, step.rebuilt_from, step.kpi_rows_written) == (1, date(2025, 4, 1), 1)
    assert kpi(world["acme"], "2025-04").labour_minutes == 150
    assert kpi(world["acme"], "2025-03").computed_at == march_before
    # A sync that edits a March worklog in place (same count, same max id) stamps its run.
    run = SyncRun.objects.create(source="superops", trigger="command", status="succeeded")
    Worklog.objects.filter(client=world["acme"], minutes=300).update(minutes=330, sync_run=run)
    edited = build_features(trigger="test", with_genome=False)
    assert (edited.clients_rebuilt, edited.rebuilt_from, edited.kpi_rows_written) == (1, date(2025, 3, 1), 2)
    assert kpi(world["acme"], "2025-03").labour_minutes == 1050
    assert build_features(trigger="test", with_genome=False).kpi_rows_written == 0  # watermark moved on
    # A hard delete (admin, cascade) is journalled with the month the row fed: only that is redone.
    Worklog.objects.filter(work_date=date(2025, 4, 15)).delete()
    deleted = build_features(trigger="test", with_genome=False)
    assert (deleted.clients_rebuilt, deleted.rebuilt_from, deleted.kpi_rows_written) == (1, date(2025, 4, 1), 1)
    assert kpi(world["acme"], "2025-04").labour_minutes == 60
    forced = build_features(since=date(2025, 3, 1), trigger="test", with_genome=False)
    assert forced.kpi_rows_written == 2 + 2  # both clients' March and April
    assert FeatureBuild.objects.filter(status="succeeded").count() == 7


def test_build_runs_a_fixed_number_of_queries_whatever_the_number_of_clients(world):
    from clients.models import RowChange

    def queries() -> int:
        ClientMonthKPI.objects.all().delete()
        RowChange.objects.all().delete()  # forgetting read journal rows costs a query per run of ids
        with CaptureQueriesContext(connection) as ctx:
            build_features(trigger="test", with_genome=False)
        # Bulk inserts of the snapshot come in batches sized by the database's parameter limit;
        # every other query must be independent of the number of clients.
        return sum(1 for q in ctx.captured_queries if not q["sql"].startswith('INSERT INTO "ml_'))

    few = queries()
    for n in range(5):
        c = so(Client, name=f"Extra {n}", onboarded_on=date(2025, 1, 1))
        so(Worklog, client=c, technician=world["dana"], work_date=date(2025, 3, 2), minutes=30)
        so(Ticket, client=c, subject="x", created_at=at("2025-03-02"))
    assert queries() == few


def test_command_task_and_portfolio_totals_share_one_build(world):
    from io import StringIO

    from django.core.management import call_command

    from ml.features.queries import portfolio_kpis, portfolio_totals
    from ml.tasks import build_features_task

    out = StringIO()
    call_command("build_features", "--no-genome", stdout=out)
    assert "Full build: 2 clients from 2025-01-01, 8 KPI rows" in out.getvalue()
    result = build_features_task("2025-04")
    assert (result["rebuilt_from"], result["kpi_rows_written"]) == ("2025-04-01", 2)
    totals = portfolio_totals(date(2025, 3, 1))
    # Acme 2750.00 + Brie EUR 1000 x 1.10 = 3850.00; margins 1660.00 + 940.00
    assert (totals["revenue"], totals["gross_margin"]) == (Decimal("3850.00"), Decimal("2600.00"))
    assert totals["rhem"] == pytest.approx(10 / 10)  # Brie has no endpoints
    assert [k.client.name for k in portfolio_kpis(date(2025, 3, 1))] == ["Acme Dental", "Brie Bakery"]
    with pytest.raises(Exception, match="is not a month"):
        call_command("build_features", "--since", "March")


def test_incremental_builds_end_where_a_full_build_does(world):

    build_features(trigger="test", with_genome=False)
    acme = world["acme"]
    run = SyncRun.objects.create(source="quickbooks", trigger="command", status="succeeded")
    so(
        Worklog,
        client=acme,
        technician=world["dana"],
        work_date=date(2025, 4, 2),
        minutes=45,
        billable=True,
        unit_price=Decimal("150"),
        sync_run=run,
    )
    Invoice.objects.filter(client=acme, txn_date=date(2025, 2, 1)).update(exchange_rate=Decimal("1.05"), sync_run=run)
    Interaction.objects.create(source="local", external_id="I-3", client=acme, kind="qbr", occurred_at=at("2025-04-20"))
    step = build_features(trigger="test", with_genome=False)
    assert step.rebuilt_from == date(2025, 2, 1)
    incremental = snapshot()
    rebuild_in_full()
    assert snapshot() == incremental
    assert kpi(acme, "2025-02").revenue_recurring == Decimal("2100.00")  # 2000 x 1.05
    # Only worklogs change: every small-table family is reused from the snapshot.
    so(Worklog, client=acme, technician=None, work_date=date(2025, 3, 20), minutes=30)
    messages = []
    build_features(trigger="test", with_genome=False, progress=messages.append)
    assert any(m.startswith("Reusing stored lines, payments, expenses, endpoints, interactions") for m in messages)
    incremental = snapshot()
    rebuild_in_full()
    assert snapshot() == incremental


def test_rows_moved_edited_by_hand_or_deleted_leave_their_old_month_rebuilt(world):
    """Changes no sync run stamps (an admin re-dating a worklog, moving a ticket to another
    client, deleting an invoice line, editing minutes) reach the snapshot through the
    row-change journal, and the incremental result equals a full build."""
    from clients.models import RowChange

    acme, brie, dana = world["acme"], world["brie"], world["dana"]
    build_features(trigger="test", with_genome=False)
    assert not RowChange.objects.exists()  # inserts are found by id, not journalled
    march_labour = kpi(acme, "2025-03").labour_minutes
    moved = Worklog.objects.filter(client=acme, work_date__month=3, source="superops").order_by("id").first()
    old_day, moved.work_date = moved.work_date, date(2025, 4, 3)
    moved.save()
    march_reactive = kpi(acme, "2025-03").reactive_minutes
    Ticket.objects.filter(client=acme, subject="a").update(is_reactive=False)  # Dana's 600 minutes
    ticket = Ticket.objects.filter(client=acme, subject="d").get()
    Ticket.objects.filter(pk=ticket.pk).update(client=brie)
    line = InvoiceLine.objects.filter(invoice__client=acme, invoice__txn_date=date(2025, 2, 1)).get()
    line.delete()
    Worklog.objects.filter(client=acme, work_date=date(2025, 4, 30)).update(minutes=75)
    journalled = set(RowChange.objects.values_list("table_key", "client_id", "day"))
    assert {("worklogs", acme.pk, old_day), ("worklogs", acme.pk, date(2025, 4, 3))} <= journalled
    assert ("invoices", acme.pk, date(2025, 2, 1)) in journalled
    assert any(k == "tickets" and c == brie.pk for k, c, d in journalled)  # the new position too

    step = build_features(trigger="test", with_genome=False)
    assert step.rebuilt_from == date(2025, 2, 1)
    assert not RowChange.objects.exists()  # read and forgotten
    assert kpi(acme, "2025-03").labour_minutes == march_labour - moved.minutes
    assert kpi(acme, "2025-02").revenue_recurring == Decimal("0.00")
    assert kpi(acme, "2025-03").reactive_minutes == march_reactive - 600
    assert kpi(brie, "2025-03").tickets == 1
    incremental = snapshot()
    rebuild_in_full()
    assert snapshot() == incremental
    # Only a ticket's flag changes: its worklogs are re-read for the reactive minutes, in the
    # ticket's month and in a later one.
    late = so(
        Worklog,
        client=acme,
        ticket=Ticket.objects.get(client=acme, subject="b"),
        technician=dana,
        work_date=date(2025, 4, 7),
        minutes=45,
    )
    build_features(trigger="test", with_genome=False)
    march_reactive, april_reactive = kpi(acme, "2025-03").reactive_minutes, kpi(acme, "2025-04").reactive_minutes
    Ticket.objects.filter(client=acme, subject="b").update(is_reactive=True)  # Eli's 300 minutes in March
    build_features(trigger="test", with_genome=False)
    assert kpi(acme, "2025-03").reactive_minutes == march_reactive + 300
    assert kpi(acme, "2025-04").reactive_minutes == april_reactive + late.minutes


def test_a_sync_rewriting_rows_in_place_is_found_by_its_stamp_not_journalled(world):
    """A sync that re-delivers a month rewrites thousands of rows where they stand; their
    newer run stamp is how the build finds them, so the journal only takes what a stamp
    cannot tell: a move, an edit no newer run stamped, a delete."""
    from clients.models import RowChange

    acme, brie = world["acme"], world["brie"]
    build_features(trigger="test", with_genome=False)
    april = kpi(acme, "2025-04").labour_minutes
    run = SyncRun.objects.create(source="superops", trigger="command", status="succeeded")
    Worklog.objects.filter(client=acme, work_date=date(2025, 4, 30)).update(minutes=80, sync_run=run)  # was 60
    Ticket.objects.filter(client=acme, subject="a").update(subject="a (re-delivered)", sync_run=run)
    assert not RowChange.objects.exists()
    step = build_features(trigger="test", with_genome=False)
    assert step.rebuilt_from == date(2025, 3, 1)  # the ticket's month
    assert kpi(acme, "2025-04").labour_minutes == april + 20

    later = SyncRun.objects.create(source="superops", trigger="command", status="succeeded")
    worklog = Worklog.objects.filter(client=acme, work_date=date(2025, 4, 30))
    worklog.update(minutes=90)  # same run: an edit its stamp does not show
    worklog.update(minutes=95, sync_run=later, client=brie)  # a newer run moved it
    Worklog.objects.filter(client=brie, work_date=date(2025, 4, 30)).update(sync_run=run)  # an older stamp
    Worklog.objects.filter(client=brie).update(sync_run=None)  # the stamp cleared
    journalled = list(RowChange.objects.values_list("client_id", "day"))
    assert journalled.count((acme.pk, date(2025, 4, 30))) == 2  # the hand edit and the move's old place
    assert journalled.count((brie.pk, date(2025, 4, 30))) == 3  # the move's new place, both later updates
    assert {c for c, _ in journalled} == {acme.pk, brie.pk}
    build_features(trigger="test", with_genome=False)
    assert kpi(acme, "2025-04").labour_minutes == april - 60
    incremental = snapshot()
    rebuild_in_full()
    assert snapshot() == incremental


def test_a_journal_with_gaps_is_read_row_by_row(world):
    """Ids a rolled-back (or not yet committed) transaction took leave gaps: the build then
    deletes exactly the runs of ids it read."""
    from clients.models import RowChange
    from ml.features import fingerprints

    build_features(trigger="test", with_genome=False)
    april = kpi(world["acme"], "2025-04").labour_minutes
    for minutes in (61, 62, 63):  # was 60
        Worklog.objects.filter(client=world["acme"], work_date=date(2025, 4, 30)).update(minutes=minutes)
    first, middle, last = RowChange.objects.order_by("id").values_list("id", flat=True)
    RowChange.objects.filter(id=middle).delete()
    positions, runs = fingerprints.journal()
    assert runs == [(first, first), (last, last)]
    assert list(positions["worklogs"]) == [(world["acme"].pk, 2025 * 12 + 3)]
    assert fingerprints._runs([9, 3, 4, 5, 7]) == [(3, 5), (7, 7), (9, 9)]
    build_features(trigger="test", with_genome=False)
    assert not RowChange.objects.exists()
    assert kpi(world["acme"], "2025-04").labour_minutes == april + 3


def test_a_month_that_ends_is_no_longer_partial_for_any_client(world):
    """The as-of date reaching a month's last day flips that month's partial flag for every
    client, including one with no new rows, so "the latest complete month" moves on."""
    from ml.features.queries import latest_complete_month

    build_features(trigger="test", with_genome=False)
    acme, brie, dana = world["acme"], world["brie"], world["dana"]
    so(Worklog, client=acme, technician=dana, work_date=date(2025, 5, 10), minutes=30)
    build_features(trigger="test", with_genome=False)
    assert kpi(brie, "2025-05").partial_month and latest_complete_month() == date(2025, 4, 1)
    so(Worklog, client=acme, technician=dana, work_date=date(2025, 5, 31), minutes=30)
    step = build_features(trigger="test", with_genome=False)
    assert step.rebuilt_from == date(2025, 5, 1)
    assert not kpi(brie, "2025-05").partial_month and "partial_month" not in kpi(brie, "2025-05").quality_notes
    assert latest_complete_month() == date(2025, 5, 1)
    incremental = set(ClientMonthKPI.objects.values_list("client_id", "month", "partial_month"))
    rebuild_in_full()
    assert set(ClientMonthKPI.objects.values_list("client_id", "month", "partial_month")) == incremental


def test_stored_state_reads_runs_of_months_and_falls_back_to_rows(world):
    import pandas as pd

    from ml.features import store

    build_features(trigger="test", with_genome=False)
    pd.testing.assert_frame_equal(store.stored_state(), store._stored_rows(), check_dtype=False)
    # A hole in a client's months (a row deleted by hand): read row by row, and rebuilt.
    ClientMonthKPI.objects.filter(client=world["acme"], month=date(2025, 2, 1)).delete()
    state = store.stored_state()
    assert (world["acme"].pk, 2025 * 12 + 1) not in state.index and len(state) == 7
    step = build_features(trigger="test", with_genome=False)
    assert step.rebuilt_from == date(2025, 2, 1)
    assert kpi(world["acme"], "2025-02").revenue_recurring == Decimal("2000.00")


def test_a_failed_build_leaves_the_journal_for_the_next(world, monkeypatch):
    from clients.models import RowChange
    from ml.features import build as build_module

    build_features(trigger="test", with_genome=False)
    april = kpi(world["acme"], "2025-04").labour_minutes
    Worklog.objects.filter(client=world["acme"], work_date=date(2025, 4, 30)).update(minutes=75)  # was 60
    assert RowChange.objects.count() == 1

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(build_module.store, "replace_rows", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build_features(trigger="test", with_genome=False)
    assert RowChange.objects.count() == 1
    monkeypatch.undo()
    build_features(trigger="test", with_genome=False)
    assert RowChange.objects.count() == 0
    assert kpi(world["acme"], "2025-04").labour_minutes == april + 15


def test_a_load_that_changed_data_queues_a_feature_build(django_capture_on_commit_callbacks, settings):
    from django_q.models import OrmQ

    if settings.Q_CLUSTER.get("redis"):
        pytest.skip("counts the ORM broker's queue; the Redis queue is shared by parallel test workers")

    from clients.signals import announce_load

    run = SyncRun.objects.create(source="superops", trigger="schedule", status="succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        announce_load(run)  # wrote nothing: no rebuild
    assert OrmQ.objects.count() == 0
    run.updated = 3
    with django_capture_on_commit_callbacks(execute=True):
        announce_load(run)
    assert OrmQ.objects.count() == 1
    assert OrmQ.objects.get().task["func"] == "ml.tasks.build_features_task"


def test_incremental_build_over_a_long_history_matches_a_full_build(world):
    """Two years of monthly tickets, worklogs and invoices before 2025, so an incremental
    build of one recent month reads only a window of history (15 months), not all of it."""

    acme, dana = world["acme"], world["dana"]
    cust = Customer.objects.get(client=acme)
    for step in range(24):
        year, month = 2023 + step // 12, step % 12 + 1
        day = date(year, month, 10)
        t = so(
            Ticket,
            client=acme,
            subject="old",
            is_reactive=step % 2 == 0,
            created_at=at(day.isoformat()),
            resolved_at=at(day.isoformat(), "15:00"),
            resolution_violated=step % 5 == 0,
        )
        so(
            Worklog,
            client=acme,
            ticket=t,
            technician=dana,
            work_date=day,
            minutes=60 + step * 7,
            billable=True,
            billing_status="invoiced",
            unit_price=Decimal("150"),
        )
        invoice(
            acme,
            cust,
            day.isoformat(),
            date(year, month, 28).isoformat(),
            [("recurring", f"{2000 + step * 100}.00", f"{10 + step // 3}"), ("time", f"{100 + step * 10}.00", "1")],
        )
        for n in range(1 + step % 3):
            so(SatisfactionSurvey, client=acme, ticket=t, score=1 + (step + n) % 5, responded_at=at(day.isoformat()))
        for _ in range(3):  # more tickets than surveys: a response rate below 1
            so(Ticket, client=acme, subject="more", created_at=at(day.isoformat(), "10:00"))

    build_features(trigger="test", with_genome=False)
    assert kpi(acme, "2023-01").tickets == 4  # the run starts with the first activity
    so(Worklog, client=acme, technician=dana, work_date=date(2025, 1, 25), minutes=240)
    so(Ticket, client=acme, subject="new", created_at=at("2025-01-25"), resolved_at=at("2025-01-26"))
    messages = []
    step = build_features(trigger="test", with_genome=False, progress=messages.append)
    assert (step.clients_rebuilt, step.rebuilt_from) == (1, date(2025, 1, 1))
    assert any(m.startswith("Reusing stored lines, payments") for m in messages)
    incremental = snapshot()
    rebuild_in_full()
    assert snapshot() == incremental
    # Every window of the rebuilt month reached into the history before it.
    january = kpi(acme, "2025-01")
    windows = ("revenue_growth_12m", "billing_efficiency", "csat_trend", "survey_response_rate", "seat_growth_12m")
    assert all(getattr(january, name) not in (None, 0) for name in windows), {n: getattr(january, n) for n in windows}


@pytest.mark.django_db
def test_month_runs_start_at_onboarding_or_activity_and_flag_part_months():
    """Each client's run: from its onboarding or first activity (whichever is first) to its
    churn month or the as-of month; a month it joined after the 1st or left before the last
    day is partial, as is the as-of month when the data stops before its end."""
    from ml.features import months
    from ml.features.planning import client_months

    mid = so(Client, name="Joined mid-month", onboarded_on=date(2025, 2, 15))
    left = so(Client, name="Left early", onboarded_on=date(2025, 1, 1), churned_on=date(2025, 3, 10))
    stayed = so(Client, name="Left at month end", onboarded_on=date(2025, 1, 1), churned_on=date(2025, 3, 31))
    early = so(Client, name="Worked before onboarding", onboarded_on=date(2025, 3, 1))
    so(Client, name="No date, no activity")
    for client, day in ((mid, "2025-02-20"), (left, "2025-01-05"), (stayed, "2025-01-05"), (early, "2025-01-20")):
        so(Ticket, client=client, subject="x", created_at=at(day))
    grid, first, _ = client_months(date(2025, 4, 20))
    runs = {
        client_id: [(months.to_date(mi).strftime("%Y-%m"), bool(p)) for (_, mi), p in rows["_partial"].items()]
        for client_id, rows in grid.groupby(level=0)
    }
    assert runs == {
        mid.pk: [("2025-02", True), ("2025-03", False), ("2025-04", True)],
        left.pk: [("2025-01", False), ("2025-02", False), ("2025-03", True)],
        stayed.pk: [("2025-01", False), ("2025-02", False), ("2025-03", False)],
        early.pk: [("2025-01", False), ("2025-02", False), ("2025-03", False), ("2025-04", True)],
    }
    assert first[early.pk] == months.to_index(date(2025, 1, 1))


def test_a_sync_keeps_the_month_segments_and_a_rebuild_since_clusters_afresh(world):
    """After a sync (an incremental build) the latest complete month keeps its segments and
    every vector stays linked; `build_features --since` clusters it again."""
    from datetime import timedelta

    from ml.features.queries import latest_complete_month
    from ml.models import GenomeVector, Segment

    build_features(trigger="test")
    month = latest_complete_month()
    clustered = set(Segment.objects.filter(month=month).values_list("id", flat=True))
    assert clustered
    so(Worklog, client=world["acme"], technician=world["dana"], work_date=month + timedelta(days=4), minutes=45)
    step = build_features(trigger="test")
    assert not step.full and step.rebuilt_from == month
    assert set(Segment.objects.filter(month=month).values_list("id", flat=True)) == clustered
    assert not GenomeVector.objects.filter(month=month, segment__isnull=True).exists()
    build_features(since=month, trigger="test")
    assert set(Segment.objects.filter(month=month).values_list("id", flat=True)).isdisjoint(clustered)


def test_window_sums_are_the_same_bits_whatever_the_frame_starts_with():
    """A full build sums windows over every client from its first month; an incremental one
    over a year of history; the genome over 13 months. A window's sum must depend on its own
    months alone, to the last bit, or the two builds round values differently."""
    import numpy as np
    import pandas as pd

    from ml.features import months

    rng = np.random.default_rng(1)
    values = np.concatenate([[3e15], rng.lognormal(6, 2, 35), [7e14], rng.lognormal(6, 2, 35)])
    index = pd.MultiIndex.from_arrays([np.repeat([1, 2], 36), np.tile(np.arange(36), 2)], names=["client_id", "mi"])
    whole = pd.DataFrame({"x": values}, index=index)
    later = whole[whole.index.get_level_values(1) >= 10]
    for window, shift, partial in ((3, 0, False), (3, 3, False), (3, 12, False), (6, 0, True), (12, 0, True)):
        reach = window + shift - 1
        rows = later.index[later.index.get_level_values(1) >= 10 + reach]
        a = months.rolling(whole, "x", window, shift, partial).loc[rows].to_numpy()
        b = months.rolling(later, "x", window, shift, partial).loc[rows].to_numpy()
        assert a.tobytes() == b.tobytes(), (window, shift, partial)
    # Windows stay inside a client, and one reaching before its first month is missing.
    sums = months.rolling(whole, "x", 3)
    assert np.isnan(sums.loc[(2, 1)]) and sums.loc[(2, 2)] == pytest.approx(values[36:39].sum(), rel=1e-15)
