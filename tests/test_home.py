"""The home page shows the portfolio as the KPI store has it: the last complete month and the
twelve months up to it, dated from today. Expected figures are summed here from the rows the
test wrote, never read back through the page's own querysets."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from clients.models import Client
from insights.templatetags.money import money
from ml.models import ClientMonthKPI, ModelVersion, Prediction

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC)


def month_back(n: int) -> date:
    """The first day of the month n months before this one (0 = this month)."""
    index = date.today().year * 12 + date.today().month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def kpi(client: Client, n: int, revenue: str, labour: str, licence: str = "0", partial: bool = False,
        **extra) -> ClientMonthKPI:
    revenue, labour, licence = Decimal(revenue), Decimal(labour), Decimal(licence)
    return ClientMonthKPI.objects.create(
        client=client, month=month_back(n), features_version=1, computed_at=NOW, partial_month=partial,
        revenue_total=revenue, labour_cost=labour, license_cost=licence, gross_margin=revenue - labour - licence,
        # Invoices include sales tax: the KPI store keeps it apart, and no page may count it as revenue.
        invoiced_total=revenue * Decimal("1.2"), **extra)


@pytest.fixture
def viewer_client(client, django_user_model):
    """A signed-in person with the viewer role, the least the portfolio page asks for
    (tests/test_roles.py has the rest)."""
    from io import StringIO

    from django.core.management import call_command

    django_user_model.objects.create_user("val-viewer", "val@msp.example", "pw-viewer-123")
    call_command("grant", "val-viewer", "viewer", stdout=StringIO())
    client.force_login(django_user_model.objects.get(username="val-viewer"))
    return client


@pytest.fixture
def portfolio():
    acme = Client.objects.create(source="superops", external_id="1", name="Acme Dental")
    bolt = Client.objects.create(source="superops", external_id="2", name="Bolt Freight")
    rows = []
    for n in range(1, 15):  # 14 complete months back, so two fall outside the twelve
        rows.append(kpi(acme, n, f"{2000 + 10 * n}.50", f"{700 + n}", "120", labour_minutes=600 + n,
                        mrr=Decimal("1500")))
        rows.append(kpi(bolt, n, f"{900 + n}", f"{1100 + n}", labour_minutes=900, mrr=Decimal("750")))
    # The running month is partial: it is not the month reported on.
    rows.append(kpi(acme, 0, "99999", "1", partial=True, mrr=Decimal("88888")))
    return {"acme": acme, "bolt": bolt, "rows": rows}


def expected(rows: list[ClientMonthKPI]) -> dict:
    last = month_back(1)
    year = [r for r in rows if month_back(12) <= r.month <= last and not r.partial_month]
    revenue = sum(r.revenue_total for r in year)
    margin = sum(r.gross_margin for r in year)
    by_client: dict[str, dict] = {}
    for r in year:
        c = by_client.setdefault(r.client.name, {"revenue": Decimal(0), "margin": Decimal(0)})
        c["revenue"] += r.revenue_total
        c["margin"] += r.gross_margin
    return {
        "mrr": sum(r.mrr for r in rows if r.month == last),
        "revenue": revenue,
        "labour": sum(r.labour_cost for r in year),
        "licence": sum(r.license_cost for r in year),
        "margin": margin,
        "margin_pct": margin / revenue * 100,
        "hours": sum(r.labour_minutes for r in year) / 60,
        "clients": by_client,
    }


def top_row(page: str, name: str) -> str:
    """The client's row in the largest-clients table (its name links to the client page)."""
    table = page[page.index('id="top-clients"'):]
    return table[table.index(f">{name}</a></td>"):].split("</tr>")[0]


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_shows_the_kpi_stores_figures(viewer_client, portfolio, django_assert_max_num_queries):
    want = expected(portfolio["rows"])
    with django_assert_max_num_queries(20):
        response = viewer_client.get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Last complete month: {month_back(1):%B %Y}" in page
    assert f"{month_back(12):%b %Y} – {month_back(1):%b %Y}" in page
    for figure in ("mrr", "revenue", "labour", "licence", "margin"):
        assert money(want[figure]) in page, figure
    assert f"{want['margin_pct']:.1f}% of revenue" in page
    assert f"{want['hours']:,.0f} hours" in page
    # Neither the partial month, tax, nor the months before the twelve count.
    assert money(sum(r.invoiced_total for r in portfolio["rows"] if r.month >= month_back(12))) not in page
    assert "88,888" not in page and "99,999" not in page
    for name, figures in want["clients"].items():
        row = top_row(page, name)
        assert money(figures["revenue"]) in row and money(figures["margin"]) in row
        assert f"{figures['margin'] / figures['revenue'] * 100:.1f}%" in row
    # Bolt loses money: its margin is marked, and Acme (more revenue) is listed first.
    assert want["clients"]["Bolt Freight"]["margin"] < 0
    top = page[page.index('id="top-clients"'):]
    assert top.index("Acme Dental") < top.index("Bolt Freight")
    bolt = top_row(page, "Bolt Freight")
    assert 'class="num bad"' in bolt
    assert "Churn risk" not in page  # no churn model serves yet


def test_the_churn_model_in_service_adds_each_clients_risk(viewer_client, portfolio):
    version = ModelVersion.objects.create(
        kind="churn", version=1, artifact_path="churn/v1.json", format="xgboost-json", artifact_class="x",
        sha256="0" * 64, window_first=month_back(14), window_last=month_back(1), data_hash="h",
        status=ModelVersion.Status.ACTIVE, trigger="command")
    Prediction.objects.create(model_version=version, kind="churn", client=portfolio["bolt"], as_of=month_back(1),
                              value=41.6, explanation={"tier": "critical", "text": "Churn risk 42/100"})
    page = viewer_client.get("/").content.decode()
    bolt, acme = top_row(page, "Bolt Freight"), top_row(page, "Acme Dental")
    assert "Churn risk" in page and "42/100 critical" in bolt and "/100" not in acme


def test_clients_without_kpis_say_to_build_features(viewer_client):
    Client.objects.create(source="superops", external_id="1", name="Acme Dental")
    page = viewer_client.get("/").content.decode()
    assert "python manage.py build_features" in page and "Acme Dental" not in page


def test_empty_database_says_how_to_load_data(viewer_client):
    page = viewer_client.get("/").content.decode()
    assert "No client data yet" in page


def test_the_read_layer_gives_history_and_medians_from_the_rows(portfolio):
    """The querysets the client pages will use, checked against the rows as written."""
    import statistics

    acme = portfolio["acme"]
    history = list(ClientMonthKPI.objects.history(acme, last=3))
    assert [r.month for r in history] == [month_back(2), month_back(1), month_back(0)]  # oldest first
    last = month_back(1)
    month_rows = [r for r in portfolio["rows"] if r.month == last]
    medians = ClientMonthKPI.objects.portfolio_medians(last, fields=("revenue_total", "labour_cost", "csat_avg"))
    assert medians["revenue_total"] == statistics.median(r.revenue_total for r in month_rows)
    assert medians["labour_cost"] == statistics.median(r.labour_cost for r in month_rows)
    assert medians["csat_avg"] is None  # nobody answered a survey
    assert ClientMonthKPI.objects.portfolio_medians()["revenue_total"] == medians["revenue_total"]
