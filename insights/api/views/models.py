"""/api/v1/model-versions/ and /api/v1/training-runs/: the registry's versions (kind, version,
status, metrics, training window) and runs. Retrain, promote and roll back call the same
functions as the admin's actions (ml.registry.actions) and need ml.change_modelversion."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse

from ml.models import ModelVersion, TrainingRun
from ml.models.registry import Trigger
from ml.registry import actions

from ..errors import Conflict
from ..filters import ModelVersionFilter
from ..serializers import (
    ModelVersionDetailSerializer,
    ModelVersionSerializer,
    RetrainSerializer,
    TrainingRunSerializer,
)
from .base import ReadOnlyViewSet

CHANGE = "ml.change_modelversion"


@extend_schema_view(
    list=extend_schema(summary="Model versions of every kind",
                       description="Filter by kind and status (candidate, active, retired)."),
    retrieve=extend_schema(summary="One version with its parameters and library versions",
                           responses=ModelVersionDetailSerializer),
)
class ModelVersionViewSet(ReadOnlyViewSet):
    queryset = ModelVersion.objects.all()
    serializer_class = ModelVersionSerializer
    filterset_class = ModelVersionFilter
    read_permission = "ml.view_modelversion"
    write_permission = CHANGE
    ordering_fields = ["kind", "version", "created_at", "activated_at"]
    ordering = ["kind", "-version"]

    def get_serializer_class(self):
        return ModelVersionSerializer if self.action == "list" else ModelVersionDetailSerializer

    @extend_schema(
        summary="Retrain a kind now",
        description="Queues a training run (ml.registry.enqueue_training, trigger \"api\") and answers 202 at "
                    "once with the run; poll `GET /api/v1/training-runs/{id}/`. A version that beats the active "
                    "one on the same held-out months is promoted by the run.",
        request=RetrainSerializer, responses={202: TrainingRunSerializer},
        examples=[OpenApiExample("Retrain churn", request_only=True, value={"kind": "churn"})],
    )
    @action(detail=False, methods=["post"])
    def retrain(self, request):
        asked = RetrainSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        (outcome,) = actions.retrain_kinds([asked.validated_data["kind"]], user=request.user, trigger=Trigger.API)
        if not outcome.ok:
            raise ValidationError({"kind": [outcome.message]})
        url = reverse("api:trainingrun-detail", args=[outcome.run.pk], request=request)
        return Response({**TrainingRunSerializer(outcome.run).data, "url": url, "message": outcome.message},
                        status=status.HTTP_202_ACCEPTED, headers={"Location": url})

    @extend_schema(summary="Make this version the active one of its kind (the active one is retired)",
                   request=None, responses=ModelVersionDetailSerializer)
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        outcome = actions.promote_version(self.get_object())
        outcome.version.refresh_from_db()  # the registry saved a copy it locked
        return Response({**ModelVersionDetailSerializer(outcome.version).data, "message": outcome.message})

    @extend_schema(summary="Roll this version's kind back to the version active before",
                   description="409 when there is no earlier active version to go back to (nothing changes).",
                   request=None, responses=ModelVersionDetailSerializer)
    @action(detail=True, methods=["post"], url_path="roll-back")
    def roll_back(self, request, pk=None):
        outcome = actions.roll_back_kind(self.get_object().kind)
        if not outcome.ok:
            raise Conflict(outcome.message, code="nothing_to_roll_back")
        return Response({**ModelVersionDetailSerializer(outcome.version).data, "message": outcome.message})


@extend_schema_view(
    list=extend_schema(summary="Training runs, newest first"),
    retrieve=extend_schema(summary="One training run's status, progress and message"),
)
class TrainingRunViewSet(ReadOnlyViewSet):
    queryset = TrainingRun.objects.select_related("version")
    serializer_class = TrainingRunSerializer
    read_permission = "ml.view_trainingrun"
    filterset_fields = ["kind", "status"]
    ordering_fields = ["queued_at"]
    ordering = ["-queued_at", "-pk"]
