"""/api/v1/leaks/: revenue-leak findings and what people do with them, through the recovery
workflow (insights/leaks/workflow.py): confirm, dismiss (with a reason), recover (with the
amount). A move the workflow refuses is a 409; acting needs insights.change_leakfinding."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from insights.leaks import workflow
from insights.models import LeakFinding, LeakFindingEvent

from ..errors import Conflict
from ..filters import LeakFindingFilter
from ..serializers import (
    DismissSerializer,
    LeakFindingDetailSerializer,
    LeakFindingSerializer,
    NoteSerializer,
    RecoverSerializer,
)
from .base import ReadOnlyViewSet

ILLEGAL_EXAMPLE = OpenApiExample(
    "Refused move", response_only=True, status_codes=["409"],
    value={"error": {"status": 409, "code": "illegal_transition",
                     "message": "finding #41 is dismissed: it cannot become confirmed; it can become nothing "
                                "(it is final)"}})


@extend_schema_view(
    list=extend_schema(summary="Revenue-leak findings",
                       description="Filter by status, finding_type (repeatable), detector, client, "
                                   "period_after / period_before (YYYY-MM) and min_amount; order by "
                                   "estimated_amount, period or last_detected_at."),
    retrieve=extend_schema(summary="One finding with its evidence and audit trail",
                           responses=LeakFindingDetailSerializer),
)
class LeakFindingViewSet(ReadOnlyViewSet):
    serializer_class = LeakFindingSerializer
    filterset_class = LeakFindingFilter
    read_permission = "insights.view_leakfinding"
    write_permission = "insights.change_leakfinding"
    ordering_fields = ["estimated_amount", "period", "last_detected_at", "confidence"]
    ordering = ["-period", "-estimated_amount", "pk"]

    def get_queryset(self):
        rows = LeakFinding.objects.select_related("client")
        if self.action != "list":
            rows = rows.prefetch_related(Prefetch("events", queryset=LeakFindingEvent.objects.order_by("at", "pk")))
        return rows

    def get_serializer_class(self):
        return LeakFindingSerializer if self.action == "list" else LeakFindingDetailSerializer

    def _move(self, request, move, serializer_class):
        finding = self.get_object()
        given = serializer_class(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            move(finding.pk, request.user, **given.validated_data)
        except workflow.IllegalTransition as exc:
            raise Conflict(str(exc), code="illegal_transition") from None
        return Response(LeakFindingDetailSerializer(self.get_queryset().get(pk=finding.pk)).data)

    @extend_schema(summary="Confirm: the money was not billed", request=NoteSerializer,
                   responses=LeakFindingDetailSerializer, examples=[ILLEGAL_EXAMPLE])
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._move(request, workflow.confirm, NoteSerializer)

    @extend_schema(summary="Dismiss: not a leak (a reason is required)", request=DismissSerializer,
                   responses=LeakFindingDetailSerializer,
                   examples=[OpenApiExample("Dismiss", request_only=True, value={"reason": "documented discount"}),
                             ILLEGAL_EXAMPLE])
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        return self._move(request, workflow.dismiss, DismissSerializer)

    @extend_schema(summary="Recover: the amount billed or collected since", request=RecoverSerializer,
                   responses=LeakFindingDetailSerializer,
                   examples=[OpenApiExample("Recover", request_only=True,
                                            value={"amount": "1234.50", "note": "on INV-9001"}), ILLEGAL_EXAMPLE])
    @action(detail=True, methods=["post"])
    def recover(self, request, pk=None):
        return self._move(request, workflow.recover, RecoverSerializer)
