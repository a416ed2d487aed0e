"""The portfolio page's charts and the client page, from rows the test writes relative to
today: every figure on the page (and in each chart's JSON) is summed here from those rows,
never read back through the page's own querysets. Also: the portfolio page costs the same
number of queries for N and 3N clients, empty states say what to run, and both pages need a
role."""

from __future__ import annotations

import json
import re
import statistics
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import Client
from insights.alerts.models import Alert
from insights.models import LeakFinding
from insights.templatetags.money import money
from ml.models import ClientMonthKPI, GenomeVector, Intervention, ModelVersion, Prediction, Segment

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC)


def month_back(n: int) -> date:
    index = date.today().year * 12 + date.today().month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def chart(page: str, script_id: str) -> dict:
    """A figure as the page embeds it for static/js/charts.js (Django's json_script)."""
    found = re.search(rf'<script id="{script_id}" type="application/json">(.*?)</script>', page, re.S)
    assert found, f"no figure {script_id} on the page"
    return json.loads(found.group(1))


def trace(fig: dict, name: str) -> dict:
    return next(t for t in fig["data"] if t.get("name") == name)


@pytest.fixture
def viewer_client(client, django_user_model):
    from io import StringIO

    from django.core.management import call_command

    django_user_model.objects.create_user("val-viewer", "val@msp.example", "pw-viewer-123")
    call_command("grant", "val-viewer", "viewer", stdout=StringIO())
    client.force_login(django_user_model.objects.get(username="val-viewer"))
    return client


def make_client(i: int) -> Client:
    return Client.objects.create(source="superops", external_id=str(i), name=f"Client {i:03d}")


def kpi(client: Client, n: int, revenue: Decimal, labour: Decimal, licence: Decimal = Decimal(0),
        other: Decimal = Decimal(0), partial: bool = False, **extra) -> ClientMonthKPI:
    return ClientMonthKPI.objects.create(
        client=client, month=month_back(n), features_version=1, computed_at=NOW, partial_month=partial,
        revenue_total=revenue, labour_cost=labour, license_cost=licence, other_cost=other,
        gross_margin=revenue - labour - licence - other,
        margin_pct=float((revenue - labour - licence - other) / revenue) if revenue else None, **extra)


def book(clients: int, months: int = 26) -> list[ClientMonthKPI]:
    """`clients` clients with `months` complete months each, varied so margins differ."""
    rows = []
    for i in range(clients):
        c = make_client(i)
        for n in range(1, months + 1):
            revenue = Decimal(1000 + 150 * i + 7 * n)
            rows.append(kpi(c, n, revenue, Decimal(400 + 90 * i % 700 + n), Decimal(50 + i), Decimal(n % 3),
                            mrr=Decimal(800 + 10 * i), active_endpoints=5 + i, labour_minutes=600 + i))
        rows.append(kpi(c, 0, Decimal("99999"), Decimal(1), partial=True, mrr=Decimal(1)))
    return rows


def active_version(kind: str) -> ModelVersion:
    return ModelVersion.objects.create(
        kind=kind, version=3, artifact_path=f"{kind}/v3.json", format="xgboost-json", artifact_class="x",
        sha256="0" * 64, window_first=month_back(24), window_last=month_back(1), data_hash="h",
        status=ModelVersion.Status.ACTIVE, trigger="command")


# --- the portfolio page -----------------------------------------------------------------------------
def test_trend_charts_carry_each_months_sums(viewer_client):
    rows = book(4)
    page = viewer_client.get("/").content.decode()
    fig = chart(page, "portfolio-trends-data")
    months = [month_back(n) for n in range(24, 0, -1)]  # 24 complete months, oldest first
    assert trace(fig, "Revenue")["x"] == [m.isoformat() for m in months]
    for name, field in (("Revenue", "revenue_total"), ("Labour cost", "labour_cost"), ("Gross margin", "gross_margin"),
                        ("MRR (contracted)", "mrr")):
        want = [float(sum(getattr(r, field) for r in rows if r.month == m)) for m in months]
        assert trace(fig, name)["y"] == pytest.approx(want), name
    direct = [float(sum(r.license_cost + r.other_cost for r in rows if r.month == m)) for m in months]
    assert trace(fig, "Licence and other costs")["y"] == pytest.approx(direct)
    pct = chart(page, "portfolio-margin-pct-data")["data"][0]["y"]
    revenue = [sum(r.revenue_total for r in rows if r.month == m) for m in months]
    margin = [sum(r.gross_margin for r in rows if r.month == m) for m in months]
    assert pct == pytest.approx([float(g / v * 100) for g, v in zip(margin, revenue, strict=True)])
    assert 'id="portfolio-trends"' in page and "vendor/plotly/plotly.min.js" in page and "js/charts.js" in page


def test_quadrant_plots_each_clients_year_with_endpoints_and_churn_risk(viewer_client):
    rows = book(3)
    scored = Client.objects.get(name="Client 001")
    version = active_version("churn")
    Prediction.objects.create(model_version=version, kind="churn", client=scored, as_of=month_back(1), value=27.5,
                              explanation={"tier": "high"})
    page = viewer_client.get("/").content.decode()
    fig = chart(page, "profitability-quadrant-data")
    points = {}
    for t in fig["data"]:
        for k, name in enumerate(t["text"]):
            colour = t["marker"]["color"]
            points[name] = (t["x"][k], t["y"][k], t["marker"]["size"][k], t["customdata"][k],
                            colour[k] if isinstance(colour, list) else None)
    year = [r for r in rows if month_back(12) <= r.month <= month_back(1)]
    for c in Client.objects.all():
        revenue = sum(r.revenue_total for r in year if r.client_id == c.pk)
        margin = sum(r.gross_margin for r in year if r.client_id == c.pk)
        x, y, size, url, colour = points[c.name]
        assert x == pytest.approx(float(revenue)) and y == pytest.approx(float(margin / revenue * 100))
        assert size == next(r.active_endpoints for r in rows if r.client_id == c.pk and r.month == month_back(1))
        assert url == f"/clients/{c.pk}/"
        assert colour == (27.5 if c == scored else None)
    assert "27/100 high" in page or "28/100 high" in page


def test_best_and_worst_clients_by_margin_link_to_their_pages(viewer_client):
    rows = book(12)
    year = [r for r in rows if month_back(12) <= r.month <= month_back(1)]
    margins = {c.pk: sum(r.gross_margin for r in year if r.client_id == c.pk) for c in Client.objects.all()}
    ranked = sorted(margins, key=margins.get)
    page = viewer_client.get("/").content.decode()
    best = page[page.index('id="best-clients"'):page.index('id="worst-clients"')]
    worst = page[page.index('id="worst-clients"'):page.index('id="top-clients"')]
    assert re.findall(r'data-client="(\d+)"', best) == [str(pk) for pk in reversed(ranked[-5:])]
    assert re.findall(r'data-client="(\d+)"', worst) == [str(pk) for pk in ranked[:5]]
    for pk in ranked[:5]:
        assert f'href="/clients/{pk}/"' in worst and money(margins[pk]) in worst


def test_leaks_alerts_and_segments_come_from_their_rows(viewer_client):
    book(3)
    a, b = Client.objects.order_by("pk")[:2]
    amounts = [("unbilled_worklog", a, 2, "100.50", "open", None),
               ("unbilled_expense", a, 2, "40.00", "recovered", "35"),
               ("seat_underbilling", b, 5, "900.00", "dismissed", None),
               ("rate_below_contract", b, 5, "60.25", "confirmed", None)]
    for kind, c, n, amount, status, recovered in amounts:
        LeakFinding.objects.create(finding_type=kind, client=c, period=month_back(n), estimated_amount=Decimal(amount),
                                   status=status, recovered_amount=recovered and Decimal(recovered), detector=kind,
                                   rule_version="1", last_detected_at=NOW)
    for i, status in enumerate(("open", "open", "open", "acknowledged", "resolved")):
        Alert.objects.create(kind="ticket_surge", title=f"Surge {i}", message="m", dedup_key=f"k{i}", first_seen=NOW,
                             last_seen=NOW, status=status)
    month = month_back(1)
    big = Segment.objects.create(month=month, schema_version="1", key=0, name="High hourly rate · quiet estate")
    small = Segment.objects.create(month=month, schema_version="1", key=1, name="Break-fix heavy · large company")
    for c, segment in zip(Client.objects.order_by("pk"), (big, big, small), strict=True):
        GenomeVector.objects.create(client=c, month=month, schema_version="1", values=[0.5] * 50, raw=[None] * 50,
                                    financial_health=50, operational_efficiency=50, engagement=50, growth_potential=50,
                                    risk_factors=50, segment=segment, computed_at=NOW)
    page = viewer_client.get("/").content.decode()
    leaks = chart(page, "leaks-chart-data")
    identified, recovered = trace(leaks, "Identified"), trace(leaks, "Recovered")
    assert identified["x"] == [month_back(5).isoformat(), month_back(2).isoformat()]
    assert identified["y"] == [60.25, 140.5]  # dismissed money is not "identified"
    assert recovered["y"] == [0.0, 35.0]
    assert f"{money(Decimal('200.75'))} identified" in page and f"{money(Decimal('35'))} recovered" in page
    alerts = page[page.index('data-figure="alerts"'):].split("</div>")[0]
    assert '<span class="value">3</span>' in alerts
    mix = chart(page, "segment-mix-data")["data"][0]
    assert dict(zip(mix["y"], mix["x"], strict=True)) == {"High hourly rate · quiet estate": 2,
                                                          "Break-fix heavy · large company": 1}


def test_empty_parts_of_the_portfolio_say_what_to_run(viewer_client):
    book(2)
    page = viewer_client.get("/").content.decode()
    assert "No leak findings yet" in page and "detect_leaks" in page
    assert "No genome for" in page and "build_features" in page
    assert "no churn model serves yet" in page and "train --kind all" in page


def portfolio_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    return len(queries)


def test_portfolio_queries_do_not_grow_with_the_number_of_clients(viewer_client, django_assert_max_num_queries):
    book(5, months=14)
    few = portfolio_queries(viewer_client)
    for i in range(5, 15):  # three times as many clients
        c = make_client(i)
        for n in range(1, 15):
            kpi(c, n, Decimal(2000 + i), Decimal(700), mrr=Decimal(900), active_endpoints=3)
    with django_assert_max_num_queries(few):
        page = viewer_client.get("/").content.decode()
    assert page.count('"/clients/') >= 15  # every client is on the quadrant


# --- the client page ------------------------------------------------------------------------------
@pytest.fixture
def acme():
    """Acme and four peers with 14 months each; Acme's genome and its nearest peer's."""
    rows = book(5, months=14)
    c = Client.objects.get(name="Client 002")
    month = month_back(1)
    vectors = {
        "Client 000": [0.9] * 25 + [0.1] * 25, "Client 001": [0.1] * 25 + [0.9] * 25,
        "Client 002": [0.85] * 25 + [0.2] * 25, "Client 003": [0.5] * 50, "Client 004": [0.3] * 50,
    }
    for other in Client.objects.all():
        values = vectors[other.name]
        GenomeVector.objects.create(client=other, month=month, schema_version="1", values=values,
                                    raw=[round(v * 10, 2) for v in values], missing=[3] if other == c else [],
                                    financial_health=81.0 if other == c else 50, operational_efficiency=64.5,
                                    engagement=22.0, growth_potential=40.0, risk_factors=71.5, computed_at=NOW)
    return {"client": c, "rows": rows}


def test_client_page_margin_chart_is_its_kpi_rows_with_links_to_their_sources(viewer_client, acme):
    c = acme["client"]
    page = viewer_client.get(f"/clients/{c.pk}/").content.decode()
    mine = sorted((r for r in acme["rows"] if r.client_id == c.pk), key=lambda r: r.month)[-24:]
    fig = chart(page, "client-margin-data")
    assert trace(fig, "Revenue")["x"] == [r.month.isoformat() for r in mine]
    for name, field in (("Revenue", "revenue_total"), ("Labour cost", "labour_cost"), ("Licence cost", "license_cost"),
                        ("Other costs", "other_cost"), ("Gross margin", "gross_margin")):
        assert trace(fig, name)["y"] == pytest.approx([float(getattr(r, field)) for r in mine]), name
    assert trace(fig, "Labour cost")["customdata"][-2] == f"/clients/{c.pk}/sources/{month_back(1):%Y-%m}/labour_cost/"
    assert 'id="client-margin"' in page


def test_client_kpis_stand_beside_the_portfolios_medians(viewer_client, acme):
    c = acme["client"]
    page = viewer_client.get(f"/clients/{c.pk}/").content.decode()
    last = [r for r in acme["rows"] if r.month == month_back(1)]
    mine = next(r for r in last if r.client_id == c.pk)
    for field in ("revenue_total", "labour_cost", "gross_margin"):
        row = page[page.index(f'data-kpi="{field}"'):].split("</tr>")[0]
        assert money(getattr(mine, field)) in row
        assert money(statistics.median(getattr(r, field) for r in last)) in row
        assert f"/clients/{c.pk}/sources/{month_back(1):%Y-%m}/" in row
    pct = page[page.index('data-kpi="margin_pct"'):].split("</tr>")[0]
    median_pct = statistics.median(r.margin_pct for r in last) * 100
    assert f"{mine.margin_pct * 100:.1f}%" in pct and f"{median_pct:.1f}%" in pct


def test_genome_radar_strip_and_similar_clients(viewer_client, acme):
    c = acme["client"]
    page = viewer_client.get(f"/clients/{c.pk}/").content.decode()
    radar = chart(page, "genome-radar-data")
    mine = trace(radar, "This client")
    assert mine["theta"][:5] == ["Financial Health", "Operational Efficiency", "Engagement", "Growth Potential",
                                 "Risk Factors"]
    assert mine["r"] == [81.0, 64.5, 22.0, 40.0, 71.5, 81.0]  # closed loop
    strip = chart(page, "genome-strip-data")["data"][0]
    assert strip["z"] == [[0.85] * 25 + [0.2] * 25] and len(strip["x"]) == 50
    assert "missing (set to the median)" in strip["text"][0][3] and "Recurring revenue share" in strip["text"][0][3]
    similar = page[page.index('id="similar"'):page.index('id="forecast"')]
    ids = re.findall(r'data-client="(\d+)"', similar)
    assert ids[0] == str(Client.objects.get(name="Client 000").pk)  # same side of the median everywhere
    assert ids[-1] == str(Client.objects.get(name="Client 001").pk)  # the mirror image comes last
    assert 'id="genome-radar"' in page and 'id="genome-strip"' in page


def test_forecast_and_churn_come_from_the_serving_versions_rows(viewer_client, acme):
    c = acme["client"]
    profit, churn = active_version("profitability"), active_version("churn")
    Prediction.objects.create(
        model_version=profit, kind="profitability", client=c, as_of=month_back(1), value=8123.0, lower=6001.0,
        upper=9950.0, explanation={"text": "Margin is expected to rise by $1,200 next quarter (to $8,123), mainly "
                                           "because RHEM fell from 1.20 to 0.80.", "baseline": 6923.0, "change": 1200.0,
                                   "contributions": [{"feature": "rhem", "words": "RHEM", "effect": 900.0}]})
    Prediction.objects.create(
        model_version=churn, kind="churn", client=c, as_of=month_back(1), value=38.2,
        explanation={"tier": "critical", "text": "Churn risk 38/100 (critical).",
                     "reasons": [{"feature": "qbr_last_12m", "text": "no QBR in 12 months",
                                  "action": "schedule a QBR"}],
                     "actions": ["schedule a QBR"]})
    Intervention.objects.create(client=c, action="Service review call", date=month_back(0), outcome="retained")
    finding = LeakFinding.objects.create(finding_type="unbilled_worklog", client=c, period=month_back(1),
                                         estimated_amount=Decimal("412.50"), detector="x", rule_version="1",
                                         last_detected_at=NOW, recommendation="invoice 3.3 hours")
    page = viewer_client.get(f"/clients/{c.pk}/").content.decode()
    assert "$8,123" in page and "$6,001 to $9,950" in page and "RHEM fell from 1.20 to 0.80" in page
    bars = chart(page, "profitability-forecast-data")["data"][0]
    assert bars["y"] == [6923.0, 8123.0] and bars["error_y"]["array"][-1] == pytest.approx(1827.0)
    assert bars["error_y"]["arrayminus"][-1] == pytest.approx(2122.0)
    churn_card = page[page.index('id="churn"'):page.index('id="open-leaks"')]
    assert "38/100" in churn_card and "critical" in churn_card and "no QBR in 12 months" in churn_card
    assert "schedule a QBR" in churn_card
    assert "Service review call" in page and "Retained" in page
    assert f'href="/leaks/{finding.pk}/sources/"' in page and "$412.50" in page


def test_a_retired_versions_predictions_are_not_shown(viewer_client, acme):
    c = acme["client"]
    old = active_version("churn")
    Prediction.objects.create(model_version=old, kind="churn", client=c, as_of=month_back(1), value=91.0,
                              explanation={"tier": "critical"})
    ModelVersion.objects.filter(pk=old.pk).update(status=ModelVersion.Status.RETIRED)
    page = viewer_client.get(f"/clients/{c.pk}/").content.decode()
    assert "91/100" not in page and "No model trained yet" in page  # a retired version serves nothing


def test_client_page_empty_states_say_what_to_do(viewer_client):
    c = make_client(1)
    page = viewer_client.get(f"/clients/{c.pk}/").content.decode()
    assert "No KPIs yet" in page and "build_features" in page
    assert "No genome yet" in page
    assert page.count('No model trained yet: an admin retrains from <a href="/models/">Models</a> or runs') == 2
    assert "train --kind all" in page
    assert "No open or confirmed leaks" in page and "No interventions logged" in page
    assert 'id="client-margin"' not in page


def test_a_signed_client_not_live_yet_says_when_it_goes_live(viewer_client):
    c = make_client(1)
    go_live = timezone.localdate() + timedelta(days=20)
    Client.objects.filter(pk=c.pk).update(onboarded_on=go_live)
    page = viewer_client.get(f"/clients/{c.pk}/").content.decode()
    assert f"goes live on {go_live.day} {go_live:%b %Y}" in page and "build_features" not in page
    assert "client since" not in page and 'href="/capacity/"' in page


def test_client_page_needs_a_role(client, django_user_model):
    c = make_client(1)
    response = client.get(f"/clients/{c.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(django_user_model.objects.create_user("nora-norole", "n@msp.example", "pw-123-secret"))
    response = client.get(f"/clients/{c.pk}/")
    assert response.status_code == 403 and "grant nora-norole viewer" in response.content.decode()
    assert "Client 001" not in response.content.decode()


def test_unknown_client_is_not_found(viewer_client):
    assert viewer_client.get("/clients/424242/").status_code == 404


def test_the_portfolio_needs_a_role_too(client, django_user_model):
    book(1, months=2)
    assert client.get("/").status_code == 302
    client.force_login(django_user_model.objects.create_user("nora-norole", "n@msp.example", "pw-123-secret"))
    response = client.get("/")
    assert response.status_code == 403 and "Client 000" not in response.content.decode()


def test_the_pages_scripts_are_served_from_the_project_never_a_cdn(viewer_client):
    from django.contrib.staticfiles import finders

    book(2)
    c = Client.objects.first()
    for url in ("/", f"/clients/{c.pk}/"):
        page = viewer_client.get(url).content.decode()
        sources = re.findall(r'<script[^>]+src="([^"]+)"', page)
        assert any(s.endswith("vendor/plotly/plotly.min.js") for s in sources)
        assert all(s.startswith("/static/") for s in sources), sources
    assert finders.find("vendor/plotly/plotly.min.js") and finders.find("js/charts.js")
