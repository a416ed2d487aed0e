"""QuickBooks OAuth 2.0 through intuit-oauth against the sandbox over real HTTP: connecting,
storing tokens encrypted, refreshing before expiry and after a 401, keeping the newest
(rotated) refresh token, never showing or logging a token."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from clients.models import Invoice, SyncRun
from integrations.models import QuickBooksConnection
from integrations.quickbooks import sync as qb_sync
from integrations.sandbox.testing import connect_quickbooks
from integrations.sync import engine
from tests.test_sandbox import tiny_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(make_sandbox):
    return make_sandbox(tiny_world(), qb_page_size=500)


@pytest.fixture
def url(sandbox):
    return sandbox.url


@pytest.fixture
def staff(client):
    user = User.objects.create_superuser("admin", "admin@msp.example", "pw")
    client.force_login(user)
    return user


def sync_invoices(trigger="command") -> SyncRun:
    run = engine.start_run("quickbooks", trigger)
    return engine.execute(run, lambda: qb_sync.sync(run, entities=["Invoice"]))


def test_connect_view_runs_the_code_flow_and_stores_tokens_encrypted(url, sandbox, client, staff, caplog):
    start = client.get("/integrations/quickbooks/connect/")
    assert start.status_code == 302 and start["Location"].startswith(f"{url}/oauth2/v1/authorize?")
    consent = httpx.get(start["Location"], follow_redirects=False)
    callback = httpx.URL(consent.headers["Location"])
    assert callback.path == "/integrations/quickbooks/callback/"
    done = client.get(f"{callback.path}?{callback.query.decode()}")
    assert done.status_code == 302
    connection = QuickBooksConnection.objects.get()
    assert connection.realm_id == sandbox.world.realm_id
    assert connection.refresh_token == sandbox.refresh_token
    assert connection.access_token in sandbox.access_tokens
    # At rest only ciphertext; in the admin and the logs, no token at all.
    assert sandbox.refresh_token not in connection.refresh_token_encrypted
    page = client.get(f"/admin/integrations/quickbooksconnection/{connection.pk}/change/").content.decode()
    assert sandbox.world.realm_id in page
    for secret in (connection.access_token, connection.refresh_token, connection.access_token_encrypted):
        assert secret not in page
        assert secret not in caplog.text
    assert sandbox.world.realm_id in repr(connection) and connection.access_token not in repr(connection)


def test_callback_with_a_state_we_did_not_issue_stores_nothing(url, client, staff):
    client.get("/integrations/quickbooks/connect/")
    response = client.get("/integrations/quickbooks/callback/?code=abc&state=forged&realmId=1")
    assert response.status_code == 302
    assert not QuickBooksConnection.objects.exists()


def test_access_token_expired_mid_run_is_refreshed_and_the_new_refresh_token_kept(url, sandbox):
    connect_quickbooks()
    first_refresh = sandbox.refresh_token
    sandbox.faults.update(expire_token_after=3)  # dies after the third API request
    run = sync_invoices()
    assert run.status == "partial", run.error  # the tiny world's invoices name no known customer
    assert run.set_aside == 2500
    connection = QuickBooksConnection.objects.get()
    assert connection.refresh_count == 1 and sandbox.refreshes == 1
    assert connection.refresh_token == sandbox.refresh_token != first_refresh
    assert sandbox.served["quickbooks"] == 6  # 5 pages of 500 and the empty one that ends the list


def test_token_about_to_expire_is_refreshed_before_the_request(url, sandbox):
    connect_quickbooks()
    QuickBooksConnection.objects.update(access_expires_at=timezone.now() + timedelta(minutes=1))
    sync_invoices()
    assert QuickBooksConnection.objects.get().refresh_count == 1
    assert sandbox.faults_served == {}  # no 401 was needed


def test_a_refused_refresh_token_fails_the_run_once_with_a_clear_message(url, sandbox):
    connect_quickbooks()
    sandbox.refresh_token = "rotated-elsewhere"
    sandbox.expire_access_tokens()
    run = sync_invoices()
    assert run.status == "failed"
    assert "refused the refresh token" in run.error and "connect it again" in run.error
    assert sandbox.api_requests == 1  # no retry storm
    assert not Invoice.objects.exists()
