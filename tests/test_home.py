"""The home page shows the portfolio's real figures, computed from the database."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from clients.models import Client, Contract, Customer, Expense, Invoice, Technician, Ticket, Worklog
from clients.portfolio import portfolio_summary

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 10, 31)


def make_portfolio():
    acme = Client.objects.create(source="superops", external_id="1", name="Acme Dental")
    bolt = Client.objects.create(source="superops", external_id="2", name="Bolt Freight")
    Client.objects.create(source="superops", external_id="3", name="Gone Ltd", status="churned")
    tech = Technician.objects.create(
        source="superops", external_id="t1", name="Dana", burdened_hourly_cost=Decimal("48")
    )
    Contract.objects.create(source="superops", external_id="c1", client=acme, name="Workstations",
                            kind="per_device", start_date=date(2025, 1, 1), billed_quantity=20,
                            unit_price=Decimal("75"))
    Contract.objects.create(source="superops", external_id="c2", client=bolt, name="Users",
                            kind="per_user", start_date=date(2025, 1, 1), billed_quantity=10,
                            unit_price=Decimal("150"))
    # Expired: not in MRR.
    Contract.objects.create(source="superops", external_id="c3", client=bolt, name="Old",
                            kind="per_user", start_date=date(2023, 1, 1), end_date=date(2024, 12, 31),
                            billed_quantity=10, unit_price=Decimal("120"))
    cust_a = Customer.objects.create(source="quickbooks", external_id="58", display_name="Acme Dental", client=acme)
    cust_b = Customer.objects.create(source="quickbooks", external_id="59", display_name="Bolt Freight", client=bolt)
    Invoice.objects.create(source="quickbooks", external_id="i1", customer=cust_a, client=acme,
                           txn_date=date(2026, 10, 1), total=Decimal("1500.00"))
    # A CAD invoice at 0.75 USD per CAD counts as 750 USD.
    Invoice.objects.create(source="quickbooks", external_id="i2", customer=cust_b, client=bolt,
                           txn_date=date(2026, 9, 1), total=Decimal("1000.00"), currency="CAD",
                           exchange_rate=Decimal("0.75"))
    # Older than 12 months and voided: both excluded.
    Invoice.objects.create(source="quickbooks", external_id="i3", customer=cust_a, client=acme,
                           txn_date=date(2025, 9, 30), total=Decimal("9999.00"))
    Invoice.objects.create(source="quickbooks", external_id="i4", customer=cust_a, client=acme,
                           txn_date=date(2026, 8, 1), total=Decimal("0"), voided=True)
    ticket = Ticket.objects.create(source="superops", external_id="k1", client=acme, subject="Printer",
                                   created_at=datetime(2026, 10, 2, 9, tzinfo=UTC))
    Worklog.objects.create(source="superops", external_id="w1", client=acme, ticket=ticket, technician=tech,
                           work_date=date(2026, 10, 2), minutes=90)
    Worklog.objects.create(source="superops", external_id="w2", client=bolt, technician=tech,
                           work_date=date(2026, 9, 5), minutes=30)
    # The same onsite hour keyed into QuickBooks to bill it is not labour a second time.
    Worklog.objects.create(source="quickbooks", external_id="ta1", client=acme, technician=tech,
                           work_date=date(2026, 10, 2), minutes=90)
    Expense.objects.create(source="quickbooks", external_id="Bill:1:1", txn_type="Bill", document_id="1",
                           client=acme, customer=cust_a, txn_date=date(2026, 10, 3), amount=Decimal("230"))
    # An MSP overhead with no client is not a client's direct cost.
    Expense.objects.create(source="quickbooks", external_id="Bill:2:1", txn_type="Bill", document_id="2",
                           txn_date=date(2026, 10, 3), amount=Decimal("5000"))


def test_portfolio_summary_adds_up_by_hand():
    make_portfolio()
    s = portfolio_summary(AS_OF)
    assert s.active_clients == 2
    assert s.mrr == Decimal("3000")  # 20 x 75 + 10 x 150
    assert s.revenue_12m == Decimal("2250")  # 1500 + 1000 x 0.75
    assert s.labour_cost_12m == Decimal("96")  # (90 + 30) min x 48/h
    assert s.labour_hours_12m == Decimal("2")
    assert s.direct_cost_12m == Decimal("230")
    assert s.gross_margin_12m == Decimal("1924")  # 2250 - 96 - 230
    assert round(s.margin_pct_12m, 2) == Decimal("85.51")
    acme, bolt = s.top_clients
    assert (acme.name, acme.revenue, acme.labour_cost, acme.direct_cost) == ("Acme Dental", 1500, 72, 230)
    assert (bolt.name, bolt.revenue, bolt.labour_cost) == ("Bolt Freight", 750, 24)


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_shows_the_figures(manager_client, django_assert_max_num_queries):
    make_portfolio()
    with django_assert_max_num_queries(15):
        response = manager_client.get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Acme Dental" in page and "Bolt Freight" in page
    # Today is after AS_OF, so figures are read off the page for the live 12-month window.
    live = portfolio_summary()
    assert f"${live.mrr:,.0f}" in page
    assert f"${live.revenue_12m:,.0f}" in page


def test_empty_database_says_how_to_load_data(manager_client):
    page = manager_client.get("/").content.decode()
    assert "No client data yet" in page
