"""/api/v1/predictions/: stored prediction rows (what batch scoring wrote), and
`POST /api/v1/predictions/batch/`: live predictions for many clients, inline up to
API_BATCH_INLINE_MAX ids, otherwise a job (202) to poll at /api/v1/jobs/{id}/."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from insights.models import ApiJob
from ml.models import Prediction

from .. import jobs
from ..errors import NoModel
from ..filters import PredictionFilter
from ..serializers import BatchRequestSerializer, JobSerializer, PredictionDetailSerializer, StoredPredictionSerializer
from .base import ReadOnlyViewSet

BATCH_RESULT_EXAMPLE = {
    "kind": "churn", "model_version": 2, "count": 2,
    "results": [
        {"client_id": 12, "as_of": None, "value": 6.3, "tier": "medium", "text": "Churn risk 6/100 (medium). ...",
         "reasons": [], "actions": []},
        {"client_id": 999, "error": "unknown_client", "message": "No client has this id."},
    ],
}


@extend_schema_view(
    list=extend_schema(summary="Stored predictions",
                       description="Prediction rows written by batch scoring (champion and challenger), newest "
                                   "month first. Filter by kind, client, as_of (YYYY-MM), a month range, role."),
    retrieve=extend_schema(summary="One stored prediction with its explanation",
                           responses=PredictionDetailSerializer),
)
class PredictionViewSet(ReadOnlyViewSet):
    queryset = Prediction.objects.select_related("model_version")
    serializer_class = StoredPredictionSerializer
    filterset_class = PredictionFilter
    read_permission = "ml.view_prediction"
    action_permissions = {"batch": "ml.view_prediction"}
    action_scopes = {"batch": "batch"}
    ordering_fields = ["as_of", "value", "created_at", "client"]
    ordering = ["-as_of", "kind", "client_id", "pk"]

    def get_serializer_class(self):
        return PredictionDetailSerializer if self.action == "retrieve" else StoredPredictionSerializer

    @extend_schema(
        summary="Live predictions for many clients",
        description="Scores the listed clients with the active version of the kind. Up to API_BATCH_INLINE_MAX "
                    "ids (default 100) the answer is inline (200); above it a job is queued and 202 answers at "
                    "once with its id and URL: poll `GET /api/v1/jobs/{id}/`. Unknown or ineligible ids are "
                    "reported per id (`error`: unknown_client / not_eligible). 409 when no model is active.",
        request=BatchRequestSerializer,
        responses={200: OpenApiResponse(description="Results inline"),
                   202: OpenApiResponse(JobSerializer, description="Queued as a job")},
        examples=[
            OpenApiExample("Request", request_only=True, value={"kind": "churn", "client_ids": [12, 999]}),
            OpenApiExample("Inline answer", response_only=True, status_codes=["200"], value=BATCH_RESULT_EXAMPLE),
        ],
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        asked = BatchRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        kind, client_ids = asked.validated_data["kind"], asked.validated_data["client_ids"]
        if len(client_ids) > jobs.inline_max():
            if jobs.predicting.active_version(kind) is None:
                raise NoModel(f"No {kind} model is active yet: train one first.")
            job = jobs.queue_batch(kind, client_ids, request.user)
            data = JobSerializer(job, context=self.get_serializer_context()).data
            return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})
        try:
            return Response(jobs.run_batch(kind, client_ids))
        except LookupError as exc:
            raise NoModel(str(exc)) from None


@extend_schema_view(
    retrieve=extend_schema(summary="A background job's status and, once done, its result",
                           examples=[OpenApiExample("Done", response_only=True, value={
                               "id": 7, "url": "http://127.0.0.1:8000/api/v1/jobs/7/", "kind": "prediction_batch",
                               "status": "succeeded", "params": {"kind": "churn", "client_ids": [12, 999]},
                               "result": BATCH_RESULT_EXAMPLE, "error": "",
                               "created_at": "2026-12-01T10:00:00Z", "started_at": "2026-12-01T10:00:01Z",
                               "finished_at": "2026-12-01T10:00:03Z"})]),
    list=extend_schema(summary="Your background jobs, newest first"),
)
class JobViewSet(ReadOnlyViewSet):
    serializer_class = JobSerializer
    read_permission = "insights.view_apijob"
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-pk"]
    filterset_fields = ["status"]

    def get_queryset(self):
        # A person sees the jobs they asked for; an admin of the API jobs sees all.
        rows = ApiJob.objects.all()
        if getattr(self, "swagger_fake_view", False):
            return rows.none()
        if not self.request.user.has_perm("insights.change_apijob"):
            rows = rows.filter(requested_by=self.request.user)
        return rows
