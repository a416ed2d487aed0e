"""The demand pages (issue 14): /forecasts/, /capacity/ and a client's outlook show the stored
forecasts -- the figures in the HTML and in the charts' JSON are the Forecast rows, read back
here with the ORM, and the capacity gap is recomputed here from the stored labour hours and the
technicians -- with an empty state before any forecast, and rights (anonymous: login; no role:
403).

A small simulated MSP (5 clients x 8 months ending last month) is loaded and forecast once for
the module (ETS only, 6 weeks, the top 2 clients), inside a transaction rolled back at the end.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clients.models import Client, Technician, Ticket
from insights.roles import grant
from integrations.dump import import_dump
from integrations.sandbox.testing import simulated_world
from ml.forecasting.store import forecast_demand
from ml.models import Forecast

HORIZON = 6


@pytest.fixture(scope="module")
def world(tmp_path_factory, django_db_setup, django_db_blocker):
    folder = tmp_path_factory.mktemp("forecast-pages") / "msp"
    with django_db_blocker.unblock(), transaction.atomic():
        simulated_world(folder, clients=5, months=8, seed=5151, end_month=None)
        import_dump(folder, progress=False)
        run = forecast_demand(HORIZON, top=2, members=("ets",))
        yield run
        transaction.set_rollback(True)


@pytest.fixture
def reader(client, django_user_model):
    user = django_user_model.objects.create_user("rosa-reader", "rosa@msp.example", "pw-123-secret")
    grant(user, "viewer")
    client.force_login(user)
    return client


def _figure(html: str, element_id: str) -> dict:
    found = re.search(rf'<script id="{re.escape(element_id)}" type="application/json">(.*?)</script>', html, re.S)
    assert found, f"no chart data {element_id}"
    return json.loads(found.group(1))


def _served(key: str) -> list[Forecast]:
    rows = Forecast.objects.filter(series_key=key, served=True)
    origin = max(rows.values_list("origin", flat=True))
    return list(rows.filter(origin=origin).order_by("step"))


def test_pages_say_how_to_make_a_forecast_when_none_is_stored(reader):
    # First in the file: runs before the module's world is loaded.
    for name in ("insights:forecasts", "insights:capacity"):
        response = reader.get(reverse(name))
        assert response.status_code == 200
        assert "No forecast stored yet" in response.text and "manage.py forecast_demand" in response.text


def test_anonymous_is_sent_to_sign_in_and_no_role_gets_403(client, django_user_model, db):
    for url in ("/forecasts/", "/capacity/", "/forecasts/clients/1/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(django_user_model.objects.create_user("nora-norole", "n@msp.example", "pw-123-secret"))
    for url in ("/forecasts/", "/capacity/", "/forecasts/clients/1/"):
        response = client.get(url)
        assert response.status_code == 403 and "manage.py grant nora-norole viewer" in response.text
        assert "fan-chart" not in response.text and "No forecast stored" not in response.text


def test_fan_chart_is_the_stored_forecast(world, reader):
    assert world.failed == {} and world.series > 0
    response = reader.get(reverse("insights:forecasts"))
    assert response.status_code == 200
    html = response.text
    for key in ("tickets:desk", "hours:desk"):
        rows = _served(key)
        assert len(rows) == HORIZON
        figure = _figure(html, "fan-" + key.replace(":", "-"))
        traces = {t["name"]: t for t in figure["data"]}
        mean = next(t for name, t in traces.items() if name.startswith("forecast ("))
        assert mean["x"] == [r.period.isoformat() for r in rows]
        assert mean["y"] == [r.mean for r in rows]
        assert traces["80% interval"]["y"] == [r.lo_80 for r in rows]
        assert traces["80% interval upper"]["y"] == [r.hi_80 for r in rows]
        assert traces["95% interval"]["y"] == [r.lo_95 for r in rows]
        assert traces["95% interval upper"]["y"] == [r.hi_95 for r in rows]
        # History runs up to the origin and ends there; the forecast starts the week after.
        history = traces["history"]
        assert history["x"][-1] == rows[0].origin.isoformat()
        assert rows[0].period == rows[0].origin + timedelta(weeks=1)
        assert f"{rows[0].mean:.1f}" in html
    # Every model behind the desk's forecast is listed with its backtest MASE.
    models = set(Forecast.objects.filter(series_key="hours:desk", step=1).values_list("model", flat=True))
    for model in models | {"naive", "seasonal_naive"}:
        assert f'data-model="{model}"' in html


def test_history_is_the_weeks_the_desk_logged(world, reader):
    rows = _served("tickets:desk")
    origin = rows[0].origin
    html = reader.get(reverse("insights:forecasts"), {"series": "tickets:desk"}).text
    history = next(t for t in _figure(html, "fan-tickets-desk")["data"] if t["name"] == "history")
    last_week = [origin - timedelta(days=6), origin]
    stamps = Ticket.objects.filter(deleted_at_source__isnull=True).values_list("created_at", flat=True)
    expected = sum(1 for at in stamps if last_week[0] <= timezone.localtime(at).date() <= last_week[1])
    assert history["y"][-1] == expected


def test_a_series_can_be_chosen(world, reader):
    key = Forecast.objects.filter(scope="category", served=True).values_list("series_key", flat=True).first()
    html = reader.get(reverse("insights:forecasts"), {"series": key}).text
    rows = _served(key)
    mean = next(t for t in _figure(html, "fan-" + re.sub(r"[^0-9A-Za-z]", "-", key))["data"]
                if t["name"].startswith("forecast ("))
    assert mean["y"] == [r.mean for r in rows]
    assert reader.get(reverse("insights:forecasts"), {"series": "tickets:desk:nope"}).status_code == 404


def test_capacity_gap_is_the_stored_hours_against_the_roster(world, reader, settings):
    rows = _served("hours:desk")
    response = reader.get(reverse("insights:capacity"))
    assert response.status_code == 200
    html = response.text
    technicians = Technician.objects.filter(active=True, deleted_at_source__isnull=True).count()
    assert technicians > 0
    figure = _figure(html, "capacity-hours")
    needed = next(t for t in figure["data"] if t["name"] == "hours needed")
    roster = next(t for t in figure["data"] if t["name"] == "roster hours")
    gap = _figure(html, "capacity-gap")["data"][0]
    for i, row in enumerate(rows):
        assert needed["y"][i] == pytest.approx(row.mean / 0.75)
        # Full weeks: every technician at 40 h; a week with public holidays a multiple of 8 h less.
        assert roster["y"][i] <= technicians * 40 and (technicians * 40 - roster["y"][i]) % (8 * technicians) == 0
        assert gap["y"][i] == pytest.approx((row.mean / 0.75 - roster["y"][i]) / 40)
        assert f'data-week="{row.period.isoformat()}"' in html
    assert 'data-action="' in html  # at least one recommendation, in words with its cost


def test_capacity_lists_the_clients_going_live_in_its_weeks(world, reader):
    origin = _served("hours:desk")[0].origin
    last = _served("hours:desk")[-1].period
    signed = Client.objects.create(source="superops", external_id="signed-1", name="Harbor Signed Dental",
                                   onboarded_on=origin + timedelta(days=10), employee_count=42)
    later = Client.objects.create(source="superops", external_id="signed-2", name="Too Late Legal",
                                  onboarded_on=last + timedelta(days=1), employee_count=7)
    html = reader.get(reverse("insights:capacity")).text
    listed = re.findall(r'<tr data-client="(\d+)">', html)
    expected = Client.objects.filter(onboarded_on__gt=origin, onboarded_on__lte=last).order_by("onboarded_on", "name")
    assert listed == [str(pk) for pk in expected.values_list("pk", flat=True)]
    assert str(signed.pk) in listed and str(later.pk) not in listed
    assert escape("Harbor Signed Dental") in html and (origin + timedelta(days=10)).isoformat() in html
    # Whether the forecast counted go-lives is what its stored row says.
    used = json.loads(Forecast.objects.filter(series_key="hours:desk", served=True).first().parameters)["regressors"]
    assert ("counts known go-lives" in html) == bool(used.get("members"))
    assert ("does not count these go-lives" in html) == (not used.get("members"))


def test_client_outlook_shows_its_own_series(world, reader):
    key = Forecast.objects.filter(scope="client", measure="hours", served=True).values_list(
        "series_key", flat=True).first()
    client_id = int(key.rsplit(":", 1)[1])
    html = reader.get(reverse("insights:client-forecast", args=[client_id])).text
    assert escape(Client.objects.get(pk=client_id).name) in html
    mean = next(t for t in _figure(html, f"fan-hours-client-{client_id}")["data"] if t["name"].startswith("forecast ("))
    assert mean["y"] == [r.mean for r in _served(key)]
    # A client outside the top 2 has no series of its own: the page says why instead of a chart.
    other = Client.objects.exclude(pk__in=[int(k.rsplit(":", 1)[1]) for k in Forecast.objects.filter(
        scope="client").values_list("series_key", flat=True)]).first()
    html = reader.get(reverse("insights:client-forecast", args=[other.pk])).text
    assert "No forecast of" in html and "fan-chart" not in html
    assert reader.get(reverse("insights:client-forecast", args=[999999])).status_code == 404


def test_history_of_every_stored_series_is_its_forecast_input(world, reader):
    from ml.forecasting.desk import desk_series
    from ml.forecasting.read import history

    origin = _served("hours:desk")[0].origin
    inputs = {s.key: s.values for s in desk_series(origin + timedelta(days=1), top=2)}
    assert set(inputs) == set(Forecast.objects.values_list("series_key", flat=True))
    for key, values in inputs.items():
        shown = history(key, origin)
        assert list(shown.index) == list(values.index[-len(shown):]) and len(shown) == min(len(values), 104)
        assert shown.tolist() == pytest.approx(values.iloc[-len(shown):].tolist(), rel=1e-12), key
