"""A minimal JSON API for alerts (the full API comes with the DRF issue): list, one alert,
acknowledge, resolve. 403 without the permission (view for reading, change for acting),
404 for an unknown id; session or basic authentication, CSRF enforced for sessions."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from .models import Alert
from .services import acknowledge, open_count, resolve
from .services.push import payload

LIMIT = 200


class AlertPermission(BasePermission):
    """alerts.view_alert to read, alerts.change_alert to acknowledge or resolve."""

    def has_permission(self, request, view) -> bool:
        needed = "alerts.view_alert" if request.method in ("GET", "HEAD", "OPTIONS") else "alerts.change_alert"
        return request.user.has_perm(needed)


def _row(alert: Alert) -> dict:
    row: dict = dict(payload(alert))
    row.update(evidence=alert.evidence, escalated_at=alert.escalated_at,
               acknowledged_at=alert.acknowledged_at, acknowledged_by=getattr(alert.acknowledged_by, "username", None),
               resolved_at=alert.resolved_at, resolved_by=getattr(alert.resolved_by, "username", None))
    return row


def _alerts():
    return Alert.objects.select_related("client", "acknowledged_by", "resolved_by")


@api_view(["GET"])
@permission_classes([IsAuthenticated, AlertPermission])
def alert_list(request: Request) -> Response:
    """?status=open|acknowledged|resolved (default: all), newest first, at most ?limit= (200)."""
    rows = _alerts().order_by("-last_seen", "-pk")
    status = request.query_params.get("status")
    if status:
        if status not in Alert.Status.values:
            return Response({"detail": f"status must be one of {', '.join(Alert.Status.values)}"}, status=400)
        rows = rows.filter(status=status)
    try:
        limit = max(1, min(int(request.query_params.get("limit", LIMIT)), LIMIT))
    except ValueError:
        return Response({"detail": "limit must be a whole number"}, status=400)
    return Response({"open_count": open_count(), "results": [_row(a) for a in rows[:limit]]})


@api_view(["GET"])
@permission_classes([IsAuthenticated, AlertPermission])
def alert_detail(request: Request, pk: int) -> Response:
    return Response(_row(get_object_or_404(_alerts(), pk=pk)))


def _act(request: Request, pk: int, action) -> Response:
    alert = get_object_or_404(Alert, pk=pk)
    changed = action(alert, request.user)
    return Response({"changed": changed, "alert": _row(get_object_or_404(_alerts(), pk=pk)),
                     "open_count": open_count()})


@api_view(["POST"])
@permission_classes([IsAuthenticated, AlertPermission])
def alert_acknowledge(request: Request, pk: int) -> Response:
    return _act(request, pk, acknowledge)


@api_view(["POST"])
@permission_classes([IsAuthenticated, AlertPermission])
def alert_resolve(request: Request, pk: int) -> Response:
    return _act(request, pk, resolve)
