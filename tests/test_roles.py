"""People and rights: a viewer reads, a manager also acts on leaks, alerts and retention, an
admin also runs integrations and the model registry; anonymous visitors are sent to log in.
Each test asserts what the person would notice: the status code, what the page shows, and
that a refused action changed nothing."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from insights.alerts.models import Alert
from insights.alerts.services.raising import raise_alert
from insights.models import LeakFinding
from insights.roles import ROLES, ensure_roles
from ml.models import Intervention, ModelVersion

pytestmark = pytest.mark.django_db
PASSWORD = "pw-role-123"


@pytest.fixture
def person(django_user_model):
    """Factory: a user holding one role (or none), made through `grant` as an operator would."""
    def make(role: str | None, name: str | None = None):
        user = django_user_model.objects.create_user(name or f"{role}-person", password=PASSWORD)
        if role:
            call_command("grant", user.username, role, stdout=StringIO())
            user.refresh_from_db()
        return user
    return make


@pytest.fixture
def as_role(client, person):
    def login(role: str | None):
        client.force_login(person(role))
        return client
    return login


@pytest.fixture
def finding():
    acme = Client.objects.create(source="superops", external_id="1", name="Acme Dental")
    return LeakFinding.objects.create(
        finding_type="unbilled_worklog", client=acme, period=date(2026, 9, 1), estimated_amount="480.00",
        detector="unbilled_worklog", rule_version="1", last_detected_at=timezone.now())


@pytest.fixture
def alert():
    return raise_alert("payment_reversal", "warning", None, "Payment 7 deleted", "words", {"payment": 7}, "roles:1")


def leak_action(client, finding, action: str = "confirm_findings"):
    return client.post(reverse("admin:insights_leakfinding_changelist"),
                       {"action": action, "_selected_action": [finding.pk], "amount": "", "reason": "not ours"})


# --- the groups ------------------------------------------------------------------------------
def test_migrate_leaves_the_three_groups_and_remaking_them_changes_nothing():
    before = {g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()}
    assert set(ROLES) <= set(before)
    ensure_roles()
    ensure_roles()
    after = {g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()}
    assert after == before and Group.objects.filter(name__in=ROLES).count() == 3
    viewer, manager, admin = (before[r] for r in ROLES)
    assert viewer < manager < admin
    assert {"view_clientmonthkpi", "view_leakfinding", "view_alert"} <= viewer
    assert not any(code.startswith(("add_", "change_", "delete_")) for code in viewer)
    assert manager - viewer == {"change_leakfinding", "add_intervention", "change_intervention", "change_alert"}
    assert {"change_modelversion", "change_fieldmap", "change_valuemap"} <= admin - manager


def test_grant_command_gives_one_role_at_a_time(person):
    user = person(None, "nina")
    out = StringIO()
    call_command("grant", "nina", "manager", stdout=out)
    assert "nina is now a manager" in out.getvalue()
    call_command("grant", "nina", "viewer", stdout=StringIO())
    user.refresh_from_db()
    assert list(user.groups.values_list("name", flat=True)) == ["viewer"]
    assert user.is_staff and not user.is_superuser
    assert not user.has_perm("alerts.change_alert") and user.has_perm("alerts.view_alert")
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("grant", "nobody", "viewer")
    with pytest.raises(CommandError):
        call_command("grant", "nina", "owner")


# --- anonymous visitors ----------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/", "/alerts/", "/admin/", "/admin/ml/clientmonthkpi/"])
def test_anonymous_pages_redirect_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_anonymous_api_and_actions_are_refused(client, alert):
    assert client.get("/api/v1/alerts/").status_code == 401
    assert client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 401
    assert client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 302
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN


def test_login_and_logout_pages(client, person):
    person("viewer", "vic")
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b"Log in" in page.content
    bad = client.post("/accounts/login/", {"username": "vic", "password": "wrong"})
    assert b"didn't match" in bad.content
    good = client.post("/accounts/login/", {"username": "vic", "password": PASSWORD})
    assert good.status_code == 302 and good["Location"] == "/"
    home = client.get("/").content.decode()
    assert "Log out vic" in home
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_a_signed_in_person_without_a_role_sees_no_figures_and_is_told_what_to_do(as_role):
    page = as_role(None).get("/")
    assert page.status_code == 403
    text = page.content.decode()
    assert "No role yet" in text and "grant None-person viewer" in text
    assert "<h1>Portfolio</h1>" not in text


# --- viewer ----------------------------------------------------------------------------------
def test_viewer_reads_but_sees_no_action_buttons(as_role, alert, finding):
    client = as_role("viewer")
    assert client.get("/").status_code == 200
    alerts = client.get("/alerts/")
    assert alerts.status_code == 200 and b"Payment 7 deleted" in alerts.content
    assert b"Acknowledge</button>" not in alerts.content
    leaks = client.get(reverse("admin:insights_leakfinding_changelist"))
    assert leaks.status_code == 200 and b"Acme Dental" in leaks.content
    assert b"confirm_findings" not in leaks.content
    assert client.get(reverse("admin:ml_clientmonthkpi_changelist")).status_code == 200


def test_viewer_attempts_to_act_get_403_and_change_nothing(as_role, alert, finding):
    client = as_role("viewer")
    assert client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 403
    assert client.post(f"/alerts/{alert.pk}/resolve/").status_code == 403
    assert client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 403
    change = reverse("admin:insights_leakfinding_change", args=[finding.pk])
    assert client.post(change, {"status": "dismissed"}).status_code == 403
    leak_action(client, finding, "dismiss_findings")  # an action the viewer is not offered
    assert client.get(reverse("admin:ml_intervention_add")).status_code == 403
    assert client.post(reverse("admin:ml_intervention_add"), {"client": finding.client_id, "action": "call",
                                                               "date": "2026-10-01"}).status_code == 403
    alert.refresh_from_db()
    finding.refresh_from_db()
    assert alert.status == Alert.Status.OPEN and alert.acknowledged_by is None
    assert finding.status == LeakFinding.Status.OPEN and finding.events.count() == 0
    assert not Intervention.objects.exists()


def test_viewer_and_manager_may_not_touch_integrations_or_models(as_role):
    for role in ("viewer", "manager"):
        client = as_role(role)
        assert client.get(reverse("admin:integrations_fieldmap_changelist")).status_code == 403
        assert client.get(reverse("admin:integrations_quickbooksconnection_changelist")).status_code == 403
        versions = client.get(reverse("admin:ml_modelversion_changelist"))
        assert versions.status_code == 200 and b"promote_version" not in versions.content
        client.logout()


# --- manager ---------------------------------------------------------------------------------
def test_manager_acknowledges_alerts_and_works_leaks(as_role, alert, finding):
    client = as_role("manager")
    page = client.get("/alerts/")
    assert b"Acknowledge</button>" in page.content
    assert client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 302
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED and alert.acknowledged_by.username == "manager-person"

    assert b"confirm_findings" in client.get(reverse("admin:insights_leakfinding_changelist")).content
    assert leak_action(client, finding).status_code == 302
    finding.refresh_from_db()
    assert finding.status == LeakFinding.Status.CONFIRMED
    assert list(finding.events.values_list("to_status", "username")) == [("confirmed", "manager-person")]


def test_manager_logs_a_retention_intervention(as_role, finding):
    client = as_role("manager")
    answer = client.post(reverse("admin:ml_intervention_add"), {
        "client": finding.client_id, "action": "Quarterly review moved up", "date": "2026-10-01",
        "outcome": Intervention.Outcome.values[0], "notes": ""})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    logged = Intervention.objects.get()
    assert (logged.client_id, logged.who.username) == (finding.client_id, "manager-person")


# --- admin -----------------------------------------------------------------------------------
def test_admin_role_configures_integrations_and_promotes_versions(as_role):
    client = as_role("admin")
    assert client.get(reverse("admin:integrations_fieldmap_changelist")).status_code == 200
    assert client.get(reverse("admin:integrations_valuemap_changelist")).status_code == 200
    version = ModelVersion.objects.create(
        kind="churn", version=1, artifact_path="churn/v1.json", format="xgboost-json", artifact_class="x",
        sha256="0" * 64, window_first=date(2025, 1, 1), window_last=date(2026, 9, 1), data_hash="h",
        trigger="command")
    url = reverse("admin:ml_modelversion_changelist")
    assert b"promote_version" in client.get(url).content
    client.post(url, {"action": "promote_version", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.ACTIVE


def test_derived_rows_are_read_only_even_for_the_admin_role(admin_client):
    from ml.models import ClientMonthKPI

    acme = Client.objects.create(source="superops", external_id="1", name="Acme Dental")
    row = ClientMonthKPI.objects.create(client=acme, month=date(2026, 9, 1), features_version=1,
                                        computed_at=timezone.now(), revenue_total="100.00")
    for model in ("clientmonthkpi", "genomevector", "segment", "prediction"):
        assert admin_client.get(reverse(f"admin:ml_{model}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:ml_{model}_add")).status_code == 403
    change = reverse("admin:ml_clientmonthkpi_change", args=[row.pk])
    page = admin_client.get(change)
    assert page.status_code == 200 and b"Acme Dental" in page.content and b'name="_save"' not in page.content
    assert admin_client.post(change, {"revenue_total": "999"}).status_code == 403
    assert admin_client.post(reverse("admin:ml_clientmonthkpi_delete", args=[row.pk]), {"post": "yes"}).status_code \
        == 403
    row.refresh_from_db()
    assert row.revenue_total == 100
