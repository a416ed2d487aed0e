"""QuickBooks Online connect, OAuth callback and webhook endpoints. Thin: each parses the
request and calls one function of integrations.quickbooks."""

from __future__ import annotations

import logging
import secrets

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations import tasks
from integrations.conf import setting
from integrations.quickbooks import oauth, webhooks
from integrations.sync.errors import SyncError

log = logging.getLogger(__name__)
STATE_KEY = "quickbooks_oauth_state"


@staff_member_required
@require_GET
def quickbooks_connect(request: HttpRequest) -> HttpResponse:
    state = secrets.token_urlsafe(24)
    request.session[STATE_KEY] = state
    try:
        return redirect(oauth.authorization_url(state))
    except SyncError as exc:
        messages.error(request, f"Cannot start the QuickBooks connection: {exc}")
        return redirect(reverse("admin:integrations_quickbooksconnection_changelist"))


@staff_member_required
@require_GET
def quickbooks_callback(request: HttpRequest) -> HttpResponse:
    back = redirect(reverse("admin:integrations_quickbooksconnection_changelist"))
    expected = request.session.pop(STATE_KEY, None)
    if not expected or not secrets.compare_digest(expected, request.GET.get("state", "")):
        messages.error(request, "The QuickBooks answer did not match a connection started here; try again.")
        return back
    if request.GET.get("error"):
        messages.error(request, f"QuickBooks did not connect: {request.GET['error']}")
        return back
    code, realm_id = request.GET.get("code"), request.GET.get("realmId")
    if not code or not realm_id:
        return HttpResponseBadRequest("code and realmId are required")
    try:
        oauth.complete_connection(code, realm_id, request.user)
    except SyncError as exc:
        messages.error(request, str(exc))
        return back
    messages.success(request, f"QuickBooks company {realm_id} connected; a first full sync is queued.")
    tasks.enqueue_sync("quickbooks", "admin", full=True)
    return back


@csrf_exempt
@require_POST
def quickbooks_webhook(request: HttpRequest) -> HttpResponse:
    """401 and nothing stored unless intuit-signature proves the body came from Intuit."""
    body = request.body
    if not webhooks.signature_ok(body, request.headers.get("intuit-signature"),
                                 setting("QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN")):
        return HttpResponse(status=401)
    try:
        events = webhooks.parse(body)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("QuickBooks webhook with an unreadable body: %s", exc)
        return HttpResponseBadRequest("unreadable webhook payload")
    with transaction.atomic():
        new = webhooks.record(events)
        if new:
            transaction.on_commit(lambda: tasks.enqueue_webhook_events(new))
    return HttpResponse(status=200)
