"""The clients list, churn risk and segments pages, on a small book written here relative to
today: 60 clients with last month's KPIs, two genome segments, and a churn and a profitability
model serving stored predictions. Expected figures, orders and counts are worked out from the
rows the test wrote, never read back through the pages' own querysets."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client
from insights.templatetags.money import money
from ml.models import ChurnWarning, ClientMonthKPI, GenomeVector, Intervention, ModelVersion, Prediction, Segment

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC)
SIZE = 60  # more than a page (50)


def month_back(n: int) -> date:
    index = date.today().year * 12 + date.today().month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


LAST = month_back(1)  # the last complete month


@pytest.fixture
def login(client, django_user_model):
    """Factory: sign in a new person holding `role` (None: signed in with no role)."""
    def as_role(role: str | None):
        user = django_user_model.objects.create_user(f"{role}-person", password="pw-lists-123")
        if role:
            call_command("grant", user.username, role, stdout=StringIO())
        client.force_login(user)
        return client
    return as_role


def tier_of(risk: float) -> str:
    return "critical" if risk >= 35 else "high" if risk >= 15 else "medium" if risk >= 5 else "low"


def version(kind: str) -> ModelVersion:
    return ModelVersion.objects.create(
        kind=kind, version=1, artifact_path=f"{kind}/v1", format="joblib", artifact_class="x", sha256="0" * 64,
        window_first=month_back(20), window_last=LAST, data_hash=kind, status=ModelVersion.Status.ACTIVE,
        trigger="command")


@pytest.fixture
def book():
    """60 clients: revenue 1,000 + 37 x i (i = 0..59), every fifth one losing money, a genome
    segment "Steady earners" for the first 40 and "Thin margins" for the rest, churn risk
    (i x 7) % 60 and next quarter's margin forecast 100 x i - 2,000."""
    clients = Client.objects.bulk_create([
        Client(source="superops", external_id=str(i), name=f"Client {i:02d}") for i in range(SIZE)])
    steady = Segment.objects.create(month=LAST, schema_version="1", key=0, name="Steady earners", size=40)
    thin = Segment.objects.create(month=LAST, schema_version="1", key=1, name="Thin margins", size=20)
    churn, margin = version("churn"), version("profitability")
    kpis, vectors, risks, forecasts, truth = [], [], [], [], {}
    for i, c in enumerate(clients):
        revenue = Decimal(1000 + 37 * i)
        gross = revenue * Decimal("-0.10") if i % 5 == 0 else revenue * Decimal("0.30")
        risk = float((i * 7) % 60)
        segment = steady if i < 40 else thin
        truth[c.name] = {"client": c, "revenue": revenue, "margin": gross, "pct": gross / revenue * 100,
                         "mrr": Decimal(800 + i), "endpoints": 10 + i, "risk": risk, "tier": tier_of(risk),
                         "forecast": 100.0 * i - 2000, "segment": segment}
        kpis.append(ClientMonthKPI(client=c, month=LAST, features_version=1, computed_at=NOW, revenue_total=revenue,
                                   gross_margin=gross, margin_pct=float(gross / revenue), mrr=Decimal(800 + i),
                                   active_endpoints=10 + i, csat_avg=3.0 + (i % 3)))
        # The running month is partial and must not be what the list reports.
        kpis.append(ClientMonthKPI(client=c, month=month_back(0), features_version=1, computed_at=NOW,
                                   partial_month=True, revenue_total=Decimal("99999"), mrr=Decimal("77777")))
        vectors.append(GenomeVector(client=c, month=LAST, schema_version="1", values=[0.5] * 50, raw=[None] * 50,
                                    financial_health=0.5, operational_efficiency=0.5, engagement=0.5,
                                    growth_potential=0.5, risk_factors=0.5, segment=segment, computed_at=NOW))
        risks.append(Prediction(model_version=churn, kind="churn", client=c, as_of=LAST, value=risk, explanation={
            "tier": tier_of(risk), "text": "...", "actions": ["service review"] if i % 2 else ["schedule a QBR"],
            "reasons": [{"feature": "sla", "text": f"SLA met on {50 + i}% of tickets", "action": "service review"}]}))
        forecasts.append(Prediction(model_version=margin, kind="profitability", client=c, as_of=LAST,
                                    value=100.0 * i - 2000, lower=100.0 * i - 2500, upper=100.0 * i - 1500))
    ClientMonthKPI.objects.bulk_create(kpis)
    GenomeVector.objects.bulk_create(vectors)
    Prediction.objects.bulk_create(risks + forecasts)
    return truth


def names(page: str) -> list[str]:
    """The client names of the table's rows, in the order shown."""
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return [part.split("</a>")[0].split(">")[-1] for part in body.split('<td><a href="/clients/')[1:]]


def row(page: str, name: str) -> str:
    """The table row (from its <tr>) of the client named `name`."""
    start = page.rindex("<tr", 0, page.index(f">{name}</a>"))
    return page[start:].split("</tr>")[0]


# --- who may see it ----------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/clients/", "/churn/", "/segments/"])
def test_pages_need_a_sign_in_and_a_role(client, login, url):
    assert client.get(url)["Location"].startswith("/accounts/login/")
    page = login(None).get(url)
    assert page.status_code == 403 and b"No role yet" in page.content


# --- clients list ------------------------------------------------------------------------------
def test_clients_list_shows_last_months_figures_and_predictions(login, book):
    page = login("viewer").get("/clients/").content.decode()
    assert f"Figures of {LAST:%B %Y}" in page
    # Largest revenue first, fifty to a page.
    by_revenue = sorted(book, key=lambda n: -book[n]["revenue"])
    assert names(page) == by_revenue[:50]
    for name in ("Client 59", "Client 45", "Client 10"):
        want, shown = book[name], row(page, name)
        assert money(want["revenue"]) in shown and money(want["margin"]) in shown and money(want["mrr"]) in shown
        assert f"{want['pct']:.1f}%" in shown and f">{want['endpoints']}<" in shown
        assert f"{want['risk']:.0f}/100 {want['tier']}" in shown
        assert money(want["forecast"]) in shown and want["segment"].name in shown
        assert f'href="/clients/{want["client"].pk}/"' in shown
    assert "99,999" not in page and "77,777" not in page  # the partial month is not reported
    assert 'class="num bad"' in row(page, "Client 45")  # loses money: marked


def test_clients_list_pages_keep_the_filters(login, book):
    client = login("viewer")
    steady = Segment.objects.get(name="Steady earners")
    first = client.get("/clients/", {"segment": steady.pk, "sort": "name"}).content.decode()
    want = sorted(n for n in book if book[n]["segment"] == steady)
    assert len(want) == 40 and names(first) == want
    thin_all = client.get("/clients/", {"sort": "name"}).content.decode()
    assert names(thin_all) == sorted(book)[:50]
    # The second page of the unfiltered list has the ten left, and its links carry the sort.
    second = client.get("/clients/", {"sort": "name", "page": 2}).content.decode()
    assert names(second) == sorted(book)[50:]
    assert 'href="?sort=name&amp;page=1"' in second
    losing = client.get("/clients/", {"negative": "1", "q": "client 1", "sort": "-revenue"}).content.decode()
    assert names(losing) == ["Client 15", "Client 10"]
    assert 'href="?negative=1&amp;q=client+1&amp;sort=-name"' in losing  # sorting keeps the filters
    # Paging a filtered list keeps the filter: its next link names it, and following it gives the rest.
    searched = client.get("/clients/", {"q": "Client", "sort": "name"}).content.decode()
    assert 'href="?q=Client&amp;sort=name&amp;page=2" rel="next"' in searched
    assert names(client.get("/clients/?q=Client&sort=name&page=2").content.decode()) == sorted(book)[50:]


def test_clients_list_filters_by_churn_tier_and_pages_carry_it(login, book):
    client = login("viewer")
    critical = client.get("/clients/", {"tier": "critical", "sort": "-churn"}).content.decode()
    want = sorted((n for n in book if book[n]["tier"] == "critical"), key=lambda n: (-book[n]["risk"], n))
    assert names(critical) == want and len(want) > 5
    low = client.get("/clients/", {"tier": "low"}).content.decode()
    assert set(names(low)) == {n for n in book if book[n]["tier"] == "low"}
    nobody = client.get("/clients/", {"q": "no such client"}).content.decode()
    assert "No client matches these filters" in nobody


@pytest.mark.parametrize("key,field", [("churn", "risk"), ("forecast", "forecast"), ("endpoints", "endpoints"),
                                       ("margin_pct", "pct"), ("gross_margin", "margin"), ("mrr", "mrr")])
def test_clients_list_sorts_by_each_column_both_ways(login, book, key, field):
    client = login("viewer")
    up = names(client.get("/clients/", {"sort": key}).content.decode())
    down = names(client.get("/clients/", {"sort": f"-{key}"}).content.decode())
    assert up == sorted(book, key=lambda n: (book[n][field], n))[:50]
    assert down == sorted(book, key=lambda n: (-book[n][field], n))[:50]


def test_clients_list_sorts_by_segment_and_ignores_an_unknown_sort(login, book):
    client = login("viewer")
    by_segment = names(client.get("/clients/", {"sort": "-segment"}).content.decode())
    assert by_segment[:20] == sorted(n for n in book if book[n]["segment"].name == "Thin margins")
    unknown = names(client.get("/clients/", {"sort": "password"}).content.decode())
    assert unknown == sorted(book, key=lambda n: -book[n]["revenue"])[:50]


def test_clients_list_query_count_does_not_grow_with_the_book(login, book):
    client = login("viewer")
    with CaptureQueriesContext(connection) as big:
        assert client.get("/clients/").status_code == 200
    Client.objects.filter(name__gte="Client 10").delete()
    with CaptureQueriesContext(connection) as small:
        page = client.get("/clients/").content.decode()
    assert len(names(page)) == 10
    assert len(big.captured_queries) == len(small.captured_queries) <= 16


@pytest.mark.parametrize("url", ["/churn/", "/segments/"])
def test_churn_and_segments_query_counts_do_not_grow_with_the_book(login, book, url):
    client = login("manager")
    Intervention.objects.bulk_create([Intervention(client=t["client"], action="call", date=date.today())
                                      for t in book.values()])
    with CaptureQueriesContext(connection) as big:
        assert client.get(url).status_code == 200
    Client.objects.filter(name__gte="Client 10").exclude(name__gte="Client 50").delete()  # both segments keep some
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    assert len(big.captured_queries) == len(small.captured_queries) <= 20


def test_clients_without_figures_for_the_month_are_listed_only_when_asked(login, book):
    gone = Client.objects.create(source="superops", external_id="x", name="Aardvark Former Client",
                                 status=Client.Status.CHURNED)
    client = login("viewer")
    assert "Aardvark Former Client" not in client.get("/clients/", {"sort": "name"}).content.decode()
    page = client.get("/clients/", {"sort": "name", "all": "1"}).content.decode()
    assert names(page)[0] == "Aardvark Former Client"
    assert '<td class="num">–</td>' in row(page, "Aardvark Former Client") and f"/clients/{gone.pk}/" in page


def test_clients_list_without_kpis_says_to_build_features(login):
    Client.objects.create(source="superops", external_id="1", name="Acme Dental")
    page = login("viewer").get("/clients/").content.decode()
    assert "python manage.py build_features" in page and "Acme Dental" not in page


# --- churn -------------------------------------------------------------------------------------
def test_churn_page_lists_clients_by_risk_with_reasons_and_actions(login, book):
    ChurnWarning.objects.create(client=book["Client 17"]["client"], as_of=LAST, previous_as_of=month_back(2),
                                tier="critical", previous_tier="medium", risk=59, previous_risk=8,
                                reasons=[{"text": "CSAT fell to 2.1"}])
    page = login("viewer").get("/churn/").content.decode()
    want = sorted(book, key=lambda n: (-book[n]["risk"], n))
    assert names(page[:page.index('id="warnings"')]) == want[:50]
    top = row(page, want[0])
    assert f"{book[want[0]]['risk']:.0f}/100 critical" in top
    assert f"SLA met on {50 + int(want[0][-2:])}% of tickets" in top
    warnings = page[page.index('id="warnings"'):]
    assert "CSAT fell to 2.1" in warnings and "medium → <strong>critical</strong>" in warnings
    assert 'id="intervention-form"' not in page and "Log intervention" not in page  # a viewer logs nothing


def test_viewer_cannot_log_an_intervention(login, book):
    answer = login("viewer").post("/churn/interventions/", {
        "client": book["Client 03"]["client"].pk, "action": "call", "date": str(date.today()), "outcome": "pending"})
    assert answer.status_code == 403
    assert not Intervention.objects.exists()


def test_manager_logs_an_intervention_and_sees_it(login, book):
    client = login("manager")
    acme = book["Client 17"]["client"]
    form = client.get("/churn/", {"client": acme.pk}).content.decode()
    assert 'id="intervention-form"' in form and f'<option value="{acme.pk}" selected>' in form
    answer = client.post("/churn/interventions/", {"client": acme.pk, "action": "Service review booked",
                                                    "date": str(date.today()), "outcome": "pending", "notes": ""},
                         follow=True)
    page = answer.content.decode()
    done = Intervention.objects.get()
    assert (done.client, done.action, done.who.username) == (acme, "Service review booked", "manager-person")
    assert "Logged “Service review booked” with Client 17" in page
    assert "Service review booked" in row(page, "Client 17")  # the client's last intervention
    bad = client.post("/churn/interventions/", {"client": acme.pk, "action": "", "date": "soon"})
    assert bad.status_code == 400 and "Nothing logged" in bad.content.decode()
    assert Intervention.objects.count() == 1


def test_churn_page_without_a_model_says_how_to_train_one(login):
    page = login("viewer").get("/churn/").content.decode()
    assert "No churn model serves yet" in page and "manage.py train --kind all" in page


# --- segments ----------------------------------------------------------------------------------
def test_segments_page_counts_clients_and_gives_their_medians(login, book):
    page = login("viewer").get("/segments/").content.decode()
    for name in ("Steady earners", "Thin margins"):
        members = [n for n in book if book[n]["segment"].name == name]
        shown = page[page.index(f">{name}</a>"):].split("</tr>")[0]
        assert f'<td class="num">{len(members)}</td>' in shown
        assert money(statistics.median(book[n]["revenue"] for n in members)) in shown
        assert money(statistics.median(book[n]["margin"] for n in members)) in shown
        assert f"{statistics.median(book[n]['pct'] for n in members):.1f}%" in shown
    thin = page[page.index('<h2>Thin margins'):]
    assert "Client 40" in thin and "Client 59" in thin and "Client 39" not in thin.split("</section>")[0]
    assert money(statistics.median(t["revenue"] for t in book.values())) in page  # the whole book


def test_segments_page_without_segments_says_to_build_features(login):
    acme = Client.objects.create(source="superops", external_id="1", name="Acme Dental")
    ClientMonthKPI.objects.create(client=acme, month=LAST, features_version=1, computed_at=NOW)
    page = login("viewer").get("/segments/").content.decode()
    assert "No segments" in page and "python manage.py build_features" in page


# --- every page on a real simulated MSP ---------------------------------------------------------
@pytest.fixture(scope="module")
def simulated(make_world, django_db_setup, django_db_blocker, tmp_path_factory):
    """A small simulated MSP (30 clients x 24 months, leaks and churn planted) loaded, its
    features built, leaks detected and churn trained, in a transaction rolled back at the end."""
    from django.db import transaction
    from django.test import override_settings

    from integrations.dump import import_dump

    folder = make_world(clients=30, months=24, seed=5, leak_rate=0.2, churn_rate=0.3)
    with django_db_blocker.unblock(), override_settings(MODEL_DIR=tmp_path_factory.mktemp("models")), \
            transaction.atomic():
        import_dump(folder, progress=False)
        for command in (("build_features",), ("detect_leaks",), ("train", "--kind", "churn", "--no-progress")):
            call_command(*command, stdout=StringIO())
        yield folder
        transaction.set_rollback(True)


def test_every_page_shows_the_simulated_books_rows(simulated, login):
    from insights.models import LeakFinding

    client = login("admin")
    month = ClientMonthKPI.objects.filter(partial_month=False).order_by("-month").values_list("month", flat=True)[0]
    biggest = ClientMonthKPI.objects.filter(month=month).order_by("-revenue_total").select_related("client")[0]
    clients = client.get("/clients/").content.decode()
    assert names(clients)[0] == biggest.client.name
    assert money(biggest.revenue_total) in row(clients, biggest.client.name)

    risks = Prediction.objects.filter(kind="churn", model_version__status="active")
    riskiest = risks.order_by("-as_of", "-value").select_related("client")[0]
    churn = client.get("/churn/").content.decode()
    assert names(churn[:churn.index('id="warnings"')])[0] == riskiest.client.name
    assert riskiest.explanation["reasons"][0]["text"] in row(churn, riskiest.client.name)

    segments = client.get("/segments/").content.decode()
    for segment in Segment.objects.filter(month=month):
        assert segment.name in segments

    leak = LeakFinding.objects.order_by("-estimated_amount")[0]
    assert f'data-finding="{leak.pk}"' in client.get("/leaks/").content.decode()
    detail = client.get(f"/leaks/{leak.pk}/").content.decode()
    assert leak.recommendation in detail and 'value="confirm"' in detail

    models = client.get("/models/").content.decode()
    assert "v1 active" in models[models.index('id="kind-churn"'):]
