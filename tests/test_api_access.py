"""How anyone reaches /api/v1/: a token from username and password, 429 with Retry-After past a
scope's rate, one error format for every failure (400, 401, 403, 404 incl. unknown paths, 405,
409, 429, 500), and the OpenAPI schema (valid, no warnings) with its docs served from /static/."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from insights.api.errors import handler
from tests.test_api_world import *  # noqa: F403  (the role fixtures)
from tests.test_api_world import book, error_of

pytestmark = pytest.mark.django_db


def test_token_from_username_and_password_then_used_as_authorization(viewer_api):
    book(2)
    anon = APIClient()
    r = anon.post("/api/v1/auth/token/", {"username": "val-viewer", "password": "pw-secret-123"}, format="json")
    assert r.status_code == 200
    token = r.json()["token"]
    again = anon.post("/api/v1/auth/token/", {"username": "val-viewer", "password": "pw-secret-123"}, format="json")
    assert again.json()["token"] == token
    r = anon.get("/api/v1/clients/", HTTP_AUTHORIZATION=f"Token {token}")
    assert r.status_code == 200 and r.json()["count"] == 2
    r = anon.get("/api/v1/clients/", HTTP_AUTHORIZATION="Token not-a-token")
    assert r.status_code == 401 and error_of(r)["code"] == "authentication_failed"
    r = anon.post("/api/v1/auth/token/", {"username": "val-viewer", "password": "wrong"}, format="json")
    assert r.status_code == 400 and error_of(r)["code"] == "invalid"


def _rates(settings, **rates):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}}


def test_over_the_read_rate_answers_429_with_retry_after(settings, viewer_api, manager_api):
    _rates(settings, read="2/min")
    for _ in range(2):
        assert viewer_api.get("/api/v1/leaks/").status_code == 200
    r = viewer_api.get("/api/v1/alerts/")
    assert r.status_code == 429 and error_of(r)["code"] == "throttled"
    assert 0 < int(r["Retry-After"]) <= 60
    # The rate is per person, and per scope: another person still reads.
    assert manager_api.get("/api/v1/leaks/").status_code == 200


def test_each_scope_has_its_own_rate(settings, viewer_api):
    _rates(settings, predict="1/hour", read="100/min")
    assert viewer_api.get("/api/v1/clients/1/predict/").status_code == 409  # no model yet, but it counts
    r = viewer_api.get("/api/v1/clients/1/predict/")
    assert r.status_code == 429 and int(r["Retry-After"]) > 60
    assert viewer_api.get("/api/v1/clients/").status_code == 200  # reads are not predicts


def test_one_error_format_for_404_405_400(viewer_api, anon_api):
    r = viewer_api.get("/api/v1/no-such-thing/")
    assert r.status_code == 404 and "/api/v1/no-such-thing/" in error_of(r)["message"]
    assert anon_api.get("/api/v1/nope").status_code == 404
    r = viewer_api.delete("/api/v1/clients/")
    assert r.status_code == 405 and error_of(r)["code"] == "method_not_allowed"
    r = viewer_api.post("/api/v1/predictions/batch/", {"kind": "horoscope", "client_ids": ["x"]}, format="json")
    err = error_of(r)
    assert r.status_code == 400 and err["code"] == "invalid" and set(err["fields"]) == {"kind", "client_ids"}


def test_predict_without_a_trained_model_is_409_no_active_model(viewer_api):
    from clients.models import Client

    c = Client.objects.create(source="superops", external_id="x", name="Lonely")
    for kind in ("profitability", "churn"):
        r = viewer_api.get(f"/api/v1/clients/{c.pk}/predict/", {"kind": kind})
        err = error_of(r)
        assert r.status_code == 409 and err["code"] == "no_active_model" and kind in err["message"]
    r = viewer_api.post("/api/v1/predictions/batch/", {"kind": "churn", "client_ids": [c.pk]}, format="json")
    assert r.status_code == 409 and error_of(r)["code"] == "no_active_model"
    r = viewer_api.get(f"/api/v1/clients/{c.pk}/predict/", {"kind": "pricing"})
    assert r.status_code == 400 and "kind" in error_of(r)["fields"]
    r = viewer_api.post(f"/api/v1/clients/{c.pk}/predict/", ["churn"], format="json")  # not an object: the default
    assert r.status_code == 409 and "profitability" in error_of(r)["message"]
    r = viewer_api.get(f"/api/v1/clients/{c.pk}/predict/", {"as_of": "last tuesday"})
    assert r.status_code == 400 and "as_of" in error_of(r)["fields"]


def test_an_unexpected_error_is_a_500_in_the_same_format():
    response = handler(RuntimeError("boom"), {"view": None})
    assert response.status_code == 500
    assert response.data == {"error": {"status": 500, "code": "server_error",
                                       "message": "The server failed to answer; the error is logged."}}


def test_schema_is_valid_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--generator-class", "insights.api.schema.ApiGenerator",
                 "--file", str(out))
    text = out.read_text()
    for path in ("/api/v1/clients/{id}/predict/", "/api/v1/predictions/batch/", "/api/v1/jobs/{id}/",
                 "/api/v1/leaks/{id}/dismiss/", "/api/v1/model-versions/{id}/roll-back/", "/api/v1/auth/token/"):
        assert f"  {path}:" in text


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_pages_load_their_scripts_from_static(page, viewer_api):
    r = viewer_api.get(page)
    assert r.status_code == 200
    html = r.content.decode()
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert scripts and all(src.startswith("/static/") for src in scripts), scripts
    assert "cdn" not in html.lower() and "https://" not in html
    assert viewer_api.get("/api/v1/schema/").status_code == 200
