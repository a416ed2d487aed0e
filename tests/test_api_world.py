"""Shared by the API tests (no tests of its own): people of each role with an API client
signed in, and a small hand-written book (clients with three complete months of KPIs and a
running partial month, genomes with segments, active model versions with stored predictions),
dated from today."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from clients.models import Client
from insights.roles import grant
from ml.models import ClientMonthKPI, GenomeVector, ModelVersion, Prediction, Segment

NOW = datetime.now(UTC)


def month_back(n: int) -> date:
    index = date.today().year * 12 + date.today().month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def _clear_throttles() -> None:
    """Forget the throttle counters (DRF's keys are "throttle_<scope>_<ident>"). On Redis only
    those keys go: the cache is shared with whoever else runs tests against it."""
    redis = getattr(getattr(cache, "_cache", None), "get_client", None)
    if redis is None:
        cache.clear()
        return
    client = redis(write=True)
    keys = list(client.scan_iter(match="*throttle_*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Throttle counters live in the cache: each test starts with none."""
    _clear_throttles()
    yield
    _clear_throttles()


def person(django_user_model, username: str, role: str | None) -> APIClient:
    user = django_user_model.objects.create_user(username, f"{username}@msp.example", "pw-secret-123")
    if role:
        grant(user, role)
    api = APIClient()
    api.force_authenticate(user)
    api.user = user
    return api


@pytest.fixture
def viewer_api(django_user_model):
    return person(django_user_model, "val-viewer", "viewer")


@pytest.fixture
def manager_api(django_user_model):
    return person(django_user_model, "max-manager", "manager")


@pytest.fixture
def admin_api(django_user_model):
    return person(django_user_model, "ada-admin", "admin")


@pytest.fixture
def norole_api(django_user_model):
    return person(django_user_model, "nora-norole", None)


@pytest.fixture
def anon_api():
    return APIClient()


def version(kind: str, number: int, status: str = ModelVersion.Status.ACTIVE, **extra) -> ModelVersion:
    return ModelVersion.objects.create(
        kind=kind, version=number, artifact_path=f"{kind}/v{number}.bin", format=ModelVersion.Format.JOBLIB,
        artifact_class="test", sha256="0" * 64, window_first=month_back(24), window_last=month_back(1),
        held_out_months=[month_back(1).strftime("%Y-%m")], data_hash=f"{kind}-{number}",
        metrics={"mae": 100.0 + number},
        status=status, trigger="command", **extra)


def book(n: int, first: int = 0) -> list[Client]:
    """n clients; client i: revenue 1000 + 100 i in the last complete month (less before), a
    labour cost of 400, churn risk 5 i, predicted margin 500 + 10 i; a genome whose first value is
    i / n (the rest 0.5), in segment "Big" when i is even, "Small" otherwise."""
    month = month_back(1)
    churn = ModelVersion.objects.filter(kind="churn", status="active").first() or version("churn", 1)
    profit = ModelVersion.objects.filter(kind="profitability", status="active").first() or version("profitability", 1)
    segments = {}
    for key, name in ((0, "Big"), (1, "Small")):
        segments[key], _ = Segment.objects.get_or_create(month=month, schema_version="1", key=key,
                                                         defaults={"name": name})
    made = []
    for i in range(first, first + n):
        c = Client.objects.create(source="superops", external_id=f"c{i}", name=f"Client {i:03d}",
                                  status="churned" if i % 5 == 4 else "active", industry="Legal")
        for back in (1, 2, 3):
            revenue = Decimal(1000 + 100 * i - 10 * back)
            ClientMonthKPI.objects.create(client=c, month=month_back(back), features_version=1, computed_at=NOW,
                                          revenue_total=revenue, labour_cost=Decimal(400),
                                          gross_margin=revenue - 400, margin_pct=float((revenue - 400) / revenue),
                                          mrr=Decimal(800), active_endpoints=10 + i)
        ClientMonthKPI.objects.create(client=c, month=month_back(0), features_version=1, computed_at=NOW,
                                      partial_month=True, revenue_total=Decimal(5), gross_margin=Decimal(5))
        values = [0.5] * 50
        values[0] = i / max(n + first, 1)
        GenomeVector.objects.create(client=c, month=month, schema_version="1", values=values, raw=[1.0] * 50,
                                    financial_health=0.1 * (i % 10), operational_efficiency=0.5, engagement=0.5,
                                    growth_potential=0.5, risk_factors=0.2, segment=segments[i % 2], computed_at=NOW)
        Prediction.objects.create(model_version=churn, kind="churn", client=c, as_of=month, value=5.0 * i,
                                  explanation={"text": f"Churn risk {5 * i}/100", "tier": "low"})
        Prediction.objects.create(model_version=profit, kind="profitability", client=c, as_of=month,
                                  value=500.0 + 10 * i, lower=400.0, upper=600.0 + 10 * i,
                                  explanation={"text": "margin holds"})
        made.append(c)
    return made


def error_of(response) -> dict:
    """The one error body: {"error": {"status", "code", "message"[, "fields"]}}."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == response.status_code
    assert body["error"]["code"] and body["error"]["message"]
    return body["error"]
