"""/api/v1/forecasts/ and /api/v1/capacity/ (issue 14): the stored forecasts and the capacity gap
as JSON, equal to the Forecast rows read back here with the ORM; filters; rights (anonymous and
no role refused, viewer allowed, by session or token); 404 before any forecast.

A small simulated MSP (4 clients x 7 months ending last month), forecast once for the module
(ETS only, 5 weeks, top 2 clients), inside a transaction rolled back at the end.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clients.models import Client, Technician
from insights.roles import grant
from integrations.dump import import_dump
from integrations.sandbox.testing import simulated_world
from ml.forecasting.store import forecast_demand
from ml.models import Forecast

HORIZON = 5


@pytest.fixture(scope="module")
def world(tmp_path_factory, django_db_setup, django_db_blocker):
    folder = tmp_path_factory.mktemp("forecast-api") / "msp"
    with django_db_blocker.unblock(), transaction.atomic():
        simulated_world(folder, clients=4, months=7, seed=6161, end_month=None)
        import_dump(folder, progress=False)
        yield forecast_demand(HORIZON, top=2, members=("ets",))
        transaction.set_rollback(True)


@pytest.fixture
def api(django_user_model):
    user = django_user_model.objects.create_user("val-viewer", "val@msp.example", "pw-123-secret")
    grant(user, "viewer")
    client = APIClient()
    client.force_authenticate(user)
    return client


def _served(key: str) -> list[Forecast]:
    rows = Forecast.objects.filter(series_key=key, served=True)
    origin = max(rows.values_list("origin", flat=True))
    return list(rows.filter(origin=origin).order_by("step"))


def test_nothing_stored_is_an_empty_list_and_no_capacity(api):
    # First in the file: runs before the module's world is loaded.
    response = api.get("/api/v1/forecasts/")
    assert response.status_code == 200 and response.json()["count"] == 0
    response = api.get("/api/v1/capacity/")
    assert response.status_code == 404 and "forecast_demand" in str(response.json())


def test_rights(world, django_user_model, db):
    anonymous = APIClient()
    for url in ("/api/v1/forecasts/", "/api/v1/forecasts/hours:desk/", "/api/v1/capacity/"):
        assert anonymous.get(url).status_code in (401, 403)
    nobody = django_user_model.objects.create_user("ned-nobody", "ned@msp.example", "pw-123-secret")
    client = APIClient()
    client.force_authenticate(nobody)
    for url in ("/api/v1/forecasts/", "/api/v1/forecasts/hours:desk/", "/api/v1/capacity/"):
        assert client.get(url).status_code == 403
    # A viewer with a token (no session) reads.
    grant(nobody, "viewer")
    nobody = django_user_model.objects.get(pk=nobody.pk)  # permissions are cached on the instance
    token = Token.objects.create(user=nobody)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/capacity/").status_code == 200


def test_series_list_holds_each_latest_forecast(world, api):
    body = api.get("/api/v1/forecasts/", {"limit": 200}).json()
    keys = set(Forecast.objects.filter(served=True).values_list("series_key", flat=True))
    assert body["count"] == len(keys) == world.series
    assert {s["key"] for s in body["results"]} == keys
    first = body["results"][0]
    assert first["key"] == "tickets:desk"  # the whole desk first
    rows = _served("tickets:desk")
    assert [p["mean"] for p in first["forecast"]] == [r.mean for r in rows]
    assert [p["hi_95"] for p in first["forecast"]] == [r.hi_95 for r in rows]
    assert first["model"] == rows[0].model and first["backtest_mase"] == rows[0].backtest_mase
    assert first["origin"] == rows[0].origin.isoformat()
    # Filters by kind and key.
    hours = api.get("/api/v1/forecasts/", {"measure": "hours", "scope": "client"}).json()
    assert hours["count"] == 2 and all(s["key"].startswith("hours:client:") for s in hours["results"])
    one = api.get("/api/v1/forecasts/", {"key": "hours:desk"}).json()
    assert [s["key"] for s in one["results"]] == ["hours:desk"]
    assert api.get("/api/v1/forecasts/", {"scope": "planet"}).status_code == 400


def test_series_detail_has_points_history_and_models(world, api):
    response = api.get(api.get("/api/v1/forecasts/", {"key": "hours:desk"}).json()["results"][0]["url"])
    assert response.status_code == 200
    body = response.json()
    rows = _served("hours:desk")
    assert [p["period"] for p in body["points"]] == [r.period.isoformat() for r in rows]
    for name in ("mean", "lo_80", "hi_80", "lo_95", "hi_95"):
        assert [p[name] for p in body["points"]] == [getattr(r, name) for r in rows]
    assert body["history"][-1]["period"] == rows[0].origin.isoformat()
    models = {m["model"]: m for m in body["models"]}
    assert {"naive", "seasonal_naive", rows[0].model} <= set(models)
    assert models[rows[0].model]["served"] is True
    naive = api.get("/api/v1/forecasts/hours:desk/", {"model": "naive"}).json()
    naive_rows = Forecast.objects.filter(series_key="hours:desk", model="naive", origin=rows[0].origin).order_by("step")
    assert [p["mean"] for p in naive["points"]] == [r.mean for r in naive_rows]
    assert api.get("/api/v1/forecasts/hours:nowhere/").status_code == 404
    client_key = Forecast.objects.filter(scope="client", served=True).values_list("series_key", flat=True).first()
    assert api.get(f"/api/v1/forecasts/{client_key}/").json()["client_id"] == int(client_key.rsplit(":", 1)[1])


def test_capacity_is_the_stored_hours_against_the_roster(world, api):
    body = api.get("/api/v1/capacity/").json()
    rows = _served("hours:desk")
    technicians = Technician.objects.filter(active=True, deleted_at_source__isnull=True).count()
    assert body["utilisation"] == 0.75 and body["hours_per_fte"] == 40
    assert [w["week"] for w in body["weeks"]] == [r.period.isoformat() for r in rows]
    for week, row in zip(body["weeks"], rows, strict=True):
        assert week["forecast_hours"] == row.mean
        assert week["needed_hours"] == pytest.approx(row.mean / 0.75)
        assert week["needed_lo_80"] == pytest.approx(row.lo_80 / 0.75)
        assert week["technicians"] == technicians
        assert week["roster_hours"] == technicians * 40 - 8 * technicians * week["holidays"]
        assert week["gap_fte"] == pytest.approx((row.mean / 0.75 - week["roster_hours"]) / 40)
        assert week["gap_fte_lo_80"] <= week["gap_fte"] <= week["gap_fte_hi_80"]
    assert body["recommendations"] and {"action", "words", "hours", "cost"} <= set(body["recommendations"][0])


def test_capacity_names_the_clients_going_live_in_its_weeks(world, api):
    rows = _served("hours:desk")
    signed = Client.objects.create(source="superops", external_id="signed-1", name="Signed Surveyors",
                                   onboarded_on=rows[0].period, employee_count=12)
    body = api.get("/api/v1/capacity/").json()
    assert {"client": signed.pk, "name": "Signed Surveyors", "go_live": rows[0].period.isoformat(),
            "users": 12} in body["onboardings"]
    assert all(rows[0].origin.isoformat() < o["go_live"] <= rows[-1].period.isoformat() for o in body["onboardings"])
