"""QuickBooks Online OAuth 2.0 with intuit-oauth: the authorization URL, the code exchange
that stores realmId and tokens, and refreshing before expiry. Intuit rotates refresh tokens,
so the newest one is stored every time; tokens are encrypted at rest and never logged."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from integrations.conf import setting
from integrations.models import QuickBooksConnection
from integrations.sync.errors import PermanentError, TransientError

log = logging.getLogger(__name__)
# Refresh this long before the access token runs out, so a page never starts with a token
# that dies half-way.
REFRESH_MARGIN = timedelta(minutes=5)


def auth_client(state_token: str | None = None) -> AuthClient:
    client_id, secret = setting("QUICKBOOKS_CLIENT_ID"), setting("QUICKBOOKS_CLIENT_SECRET")
    if not client_id or not secret:
        raise PermanentError("QuickBooks is not configured: set QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET")
    try:
        return AuthClient(client_id, secret, setting("QUICKBOOKS_REDIRECT_URI"), setting("QUICKBOOKS_ENVIRONMENT"),
                          state_token=state_token)
    except AuthClientError as exc:
        raise TransientError(f"Intuit's OpenID discovery document is unavailable (HTTP {exc.status_code})") from exc


def authorization_url(state_token: str) -> str:
    return auth_client(state_token).get_authorization_url([Scopes.ACCOUNTING], state_token=state_token)


def _store(connection: QuickBooksConnection, client: AuthClient) -> None:
    now = timezone.now()
    connection.access_token = client.access_token
    connection.refresh_token = client.refresh_token
    connection.access_expires_at = now + timedelta(seconds=int(client.expires_in or 3600))
    if client.x_refresh_token_expires_in:
        connection.refresh_expires_at = now + timedelta(seconds=int(client.x_refresh_token_expires_in))


def complete_connection(code: str, realm_id: str, user=None) -> QuickBooksConnection:
    """Exchange the callback's code for tokens and store them for the realm."""
    client = auth_client()
    try:
        client.get_bearer_token(code, realm_id=realm_id)
    except AuthClientError as exc:
        raise PermanentError(
            f"QuickBooks refused the authorization code (HTTP {exc.status_code}); connect again") from exc
    connection, _ = QuickBooksConnection.objects.get_or_create(realm_id=realm_id)
    _store(connection, client)
    connection.connected_by = user if user is not None and user.is_authenticated else None
    connection.save()
    log.info("QuickBooks company %s connected", realm_id)
    return connection


def refresh_tokens(realm_id: str, failed_access_token: str | None = None) -> str:
    """A fresh access token for the realm, stored with the newest refresh token.

    The row is locked while refreshing so two workers do not both spend the same rotating
    refresh token; a worker that finds the token already replaced just uses the new one.
    """
    with transaction.atomic():
        connection = QuickBooksConnection.objects.select_for_update().get(realm_id=realm_id)
        current = connection.access_token
        fresh_enough = connection.access_expires_at and connection.access_expires_at - REFRESH_MARGIN > timezone.now()
        if failed_access_token is not None and current and current != failed_access_token and fresh_enough:
            return current
        if not connection.refresh_token:
            raise PermanentError(f"QuickBooks company {realm_id} has no refresh token: connect it again")
        client = auth_client()
        try:
            client.refresh(refresh_token=connection.refresh_token)
        except AuthClientError as exc:
            if exc.status_code in (400, 401):
                raise PermanentError(
                    f"QuickBooks refused the refresh token of company {realm_id} (HTTP {exc.status_code}): "
                    "connect it again from the admin") from exc
            raise TransientError(f"Intuit's token endpoint answered HTTP {exc.status_code}") from exc
        _store(connection, client)
        connection.refreshed_at = timezone.now()
        connection.refresh_count += 1
        connection.save()
        log.info("QuickBooks company %s: access token refreshed", realm_id)
        return connection.access_token


class TokenSource:
    """Access tokens for one realm: refreshed shortly before expiry and after a 401."""

    def __init__(self, realm_id: str):
        self.realm_id = realm_id
        self._token: str | None = None

    def current(self) -> str:
        connection = QuickBooksConnection.objects.filter(realm_id=self.realm_id).first()
        if connection is None:
            raise PermanentError(f"QuickBooks company {self.realm_id} is not connected")
        if self._token is None or self._token != connection.access_token:
            self._token = connection.access_token
        expires = connection.access_expires_at
        expiring = expires is None or expires - REFRESH_MARGIN <= timezone.now()
        if expiring or not self._token:
            self._token = refresh_tokens(self.realm_id)
        return self._token

    def after_401(self, failed: str) -> str:
        self._token = refresh_tokens(self.realm_id, failed_access_token=failed)
        return self._token
