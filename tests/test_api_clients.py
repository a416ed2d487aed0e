"""/api/v1/clients/ and /api/v1/predictions/ on a hand-written book dated from today: each
client's last complete month of KPIs, genome and stored predictions; filters, ordering and
paging; one client's history and genome; similar clients; stored predictions; bounded queries."""

from __future__ import annotations

import pytest

from tests.test_api_world import *  # noqa: F403  (the role fixtures)
from tests.test_api_world import book, error_of, month_back

pytestmark = pytest.mark.django_db
URL = "/api/v1/clients/"


def test_list_shows_each_clients_last_complete_month_genome_and_predictions(viewer_api):
    clients = book(4)
    r = viewer_api.get(URL)
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 4
    # Largest revenue first: client 3 (1000 + 300 - 10 in the last complete month).
    assert [row["name"] for row in body["results"]] == ["Client 003", "Client 002", "Client 001", "Client 000"]
    top = body["results"][0]
    assert top["id"] == clients[3].pk
    assert top["kpis"]["month"] == month_back(1).isoformat()  # not the running, partial month
    assert top["kpis"]["revenue_total"] == 1290.0 and top["kpis"]["gross_margin"] == 890.0
    assert top["kpis"]["margin_pct"] == pytest.approx(890 / 1290)
    assert top["genome"]["segment"]["name"] == "Small"
    assert top["genome"]["scores"]["financial_health"] == pytest.approx(0.3)
    assert top["predictions"]["churn"]["value"] == 15.0 and top["predictions"]["churn"]["model_version"] == 1
    assert top["predictions"]["profitability"]["value"] == 530.0
    assert top["predictions"]["profitability"]["upper"] == 630.0


def test_filters_by_name_status_segment_revenue_and_churn_risk(viewer_api):
    book(10)

    def names(**params):
        r = viewer_api.get(URL, params)
        assert r.status_code == 200, r.content
        return sorted(row["name"][-3:] for row in r.json()["results"])

    assert names(name="client 00") == [f"00{i}" for i in range(10)]
    assert names(name="007") == ["007"]
    assert names(status="churned") == ["004", "009"]
    assert names(min_revenue=1500, max_revenue=1700) == ["006", "007"]  # 1490 is under, 1790 over
    assert names(churn_risk_min=35) == ["007", "008", "009"]
    from ml.models import Segment

    big = Segment.objects.get(name="Big")
    assert names(segment=big.pk) == ["000", "002", "004", "006", "008"]
    r = viewer_api.get(URL, {"min_revenue": "lots"})
    assert r.status_code == 400 and "min_revenue" in error_of(r)["fields"]


def test_ordering_and_paging(viewer_api):
    book(6)
    r = viewer_api.get(URL, {"ordering": "name"})
    assert [row["name"][-1] for row in r.json()["results"]] == list("012345")
    r = viewer_api.get(URL, {"ordering": "-churn_risk"})
    assert [row["predictions"]["churn"]["value"] for row in r.json()["results"]] == [25, 20, 15, 10, 5, 0]
    r = viewer_api.get(URL, {"ordering": "margin_pct"})
    assert [row["name"][-1] for row in r.json()["results"]] == list("012345")  # margin % grows with revenue
    page = viewer_api.get(URL, {"ordering": "name", "limit": 2, "offset": 2}).json()
    assert page["count"] == 6 and [row["name"][-1] for row in page["results"]] == ["2", "3"]
    assert "offset=4" in page["next"] and "offset" not in page["previous"]


def test_list_queries_do_not_grow_with_the_book(viewer_api, django_assert_max_num_queries):
    book(3)
    viewer_api.get(URL)  # warm the permission cache of the user object
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert viewer_api.get(URL).status_code == 200
    book(6, first=3)
    with django_assert_max_num_queries(len(few)):
        r = viewer_api.get(URL)
    assert r.json()["count"] == 9


def test_prediction_list_queries_do_not_grow(viewer_api, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    book(2)
    viewer_api.get("/api/v1/predictions/")
    with CaptureQueriesContext(connection) as few:
        viewer_api.get("/api/v1/predictions/")
    book(4, first=2)
    with django_assert_max_num_queries(len(few)):
        assert viewer_api.get("/api/v1/predictions/").json()["count"] == 12


def test_detail_has_kpi_history_and_the_50_dimension_genome(viewer_api):
    clients = book(3)
    r = viewer_api.get(f"{URL}{clients[2].pk}/")
    assert r.status_code == 200
    body = r.json()
    assert [row["month"] for row in body["history"]] == [month_back(n).isoformat() for n in (3, 2, 1, 0)]
    assert [row["revenue_total"] for row in body["history"]] == [1170.0, 1180.0, 1190.0, 5.0]
    assert body["kpis"]["month"] == month_back(1).isoformat()
    dims = body["genome_dimensions"]
    assert len(dims) == 50 and dims[0]["value"] == pytest.approx(2 / 3) and dims[0]["index"] == 0
    assert len({d["group"] for d in dims}) == 5
    assert body["predictions"]["churn"]["value"] == 10.0
    assert viewer_api.get(f"{URL}{clients[2].pk}/", {"months": 2}).json()["history"][0]["month"] == \
        month_back(1).isoformat()
    r = viewer_api.get(f"{URL}999999/")
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"


def test_similar_clients_are_the_nearest_genomes(viewer_api):
    clients = book(6)
    r = viewer_api.get(f"{URL}{clients[0].pk}/similar/", {"k": 2})
    assert r.status_code == 200
    rows = r.json()
    # Only the first dimension differs (i / 6, the rest sit at the centre 0.5): after centring,
    # clients 1 and 2 point the same way as client 0 (cosine 1), 3 is at the centre, 4 and 5 opposite.
    assert sorted(row["client_id"] for row in rows) == [clients[1].pk, clients[2].pk]
    assert [row["similarity"] for row in rows] == [1.0, 1.0]
    far = viewer_api.get(f"{URL}{clients[0].pk}/similar/", {"k": 5}).json()
    assert [row["similarity"] for row in far][-2:] == [-1.0, -1.0]


def test_stored_predictions_filter_by_kind_client_and_month(viewer_api):
    clients = book(3)
    r = viewer_api.get("/api/v1/predictions/", {"kind": "churn"})
    assert r.status_code == 200 and r.json()["count"] == 3
    r = viewer_api.get("/api/v1/predictions/", {"client": clients[1].pk, "as_of": month_back(1).strftime("%Y-%m")})
    assert sorted((p["kind"], p["value"]) for p in r.json()["results"]) == [("churn", 5.0), ("profitability", 510.0)]
    assert viewer_api.get("/api/v1/predictions/", {"as_of_after": month_back(0).strftime("%Y-%m")}).json()["count"] == 0
    one = r.json()["results"][0]["id"]
    assert "explanation" in viewer_api.get(f"/api/v1/predictions/{one}/").json()


@pytest.mark.parametrize("path", ["/api/v1/clients/", "/api/v1/predictions/", "/api/v1/leaks/", "/api/v1/alerts/",
                                  "/api/v1/model-versions/", "/api/v1/training-runs/", "/api/v1/jobs/"])
def test_rights_anonymous_401_no_role_403_viewer_reads(path, anon_api, norole_api, viewer_api, manager_api,
                                                       admin_api):
    book(1)
    r = anon_api.get(path)
    assert r.status_code == 401 and error_of(r)["code"] == "not_authenticated"
    assert r["WWW-Authenticate"] == 'Token'
    r = norole_api.get(path)
    assert r.status_code == 403 and error_of(r)["code"] == "permission_denied"
    for api in (viewer_api, manager_api, admin_api):
        assert api.get(path).status_code == 200
