"""The Alerts page and its Acknowledge / Resolve buttons (POST forms with CSRF). Seeing alerts
needs alerts.view_alert; acknowledging or resolving needs alerts.change_alert (403 without)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .models import Alert
from .services import acknowledge, open_count, resolve

VIEW, CHANGE = "alerts.view_alert", "alerts.change_alert"
SHOWN = 200  # rows on the page, newest first
FILTERS = {"open": [Alert.Status.OPEN], "acknowledged": [Alert.Status.ACKNOWLEDGED],
           "resolved": [Alert.Status.RESOLVED], "all": Alert.Status.values}


@login_required
@permission_required(VIEW, raise_exception=True)
def alert_list(request: HttpRequest) -> HttpResponse:
    shown = request.GET.get("status", "open")
    if shown not in FILTERS:
        shown = "open"
    alerts = (Alert.objects.filter(status__in=FILTERS[shown])
              .select_related("client", "acknowledged_by", "resolved_by").order_by("-last_seen", "-pk")[:SHOWN])
    return render(request, "alerts/list.html", {
        "alerts": alerts, "shown": shown, "filters": list(FILTERS), "open_count": open_count(),
        "may_change": request.user.has_perm(CHANGE),
    })


def _change(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    if not request.user.has_perm(CHANGE):
        raise PermissionDenied("You may not change alerts.")
    alert = get_object_or_404(Alert, pk=pk)
    if action(alert, request.user):
        messages.success(request, f"{done}: {alert.title}")
    else:
        messages.info(request, f"Already {alert.get_status_display().lower()}: {alert.title}")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        back = reverse("alerts:list")
    return redirect(back)


@login_required
@require_POST
def acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _change(request, pk, acknowledge, "Acknowledged")


@login_required
@require_POST
def resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _change(request, pk, resolve, "Resolved")
