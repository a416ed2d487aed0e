"""/api/v1/alerts/: alerts with acknowledge and resolve through insights.alerts.services
(alerts.change_alert to act). Acting on an alert already past that state changes nothing and
says so (`changed: false`)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from insights.alerts.models import Alert
from insights.alerts.services import acknowledge, open_count, resolve

from ..filters import AlertFilter
from ..serializers import AlertDetailSerializer, AlertSerializer
from .base import ReadOnlyViewSet

ActedSerializer = inline_serializer("AlertActed", {
    "changed": serializers.BooleanField(), "alert": AlertDetailSerializer(), "open_count": serializers.IntegerField()})


@extend_schema_view(
    list=extend_schema(summary="Alerts, newest first",
                       description="Filter by status, severity, kind (each repeatable) and client."),
    retrieve=extend_schema(summary="One alert with its evidence", responses=AlertDetailSerializer),
)
class AlertViewSet(ReadOnlyViewSet):
    queryset = Alert.objects.select_related("client", "acknowledged_by", "resolved_by")
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    read_permission = "alerts.view_alert"
    write_permission = "alerts.change_alert"
    ordering_fields = ["last_seen", "first_seen", "severity", "count"]
    ordering = ["-last_seen", "-pk"]

    def get_serializer_class(self):
        return AlertSerializer if self.action == "list" else AlertDetailSerializer

    def _act(self, request, service):
        alert = self.get_object()
        changed = service(alert, request.user)
        fresh = self.get_queryset().get(pk=alert.pk)
        return Response({"changed": changed, "alert": AlertDetailSerializer(fresh).data, "open_count": open_count()})

    @extend_schema(summary="Acknowledge an open alert (stops its escalation)", request=None, responses=ActedSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._act(request, acknowledge)

    @extend_schema(summary="Resolve an alert", request=None, responses=ActedSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._act(request, resolve)
