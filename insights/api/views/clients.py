"""/api/v1/clients/: the book of clients with the portfolio month's KPIs, genome and stored
predictions; one client's KPI history and 50-dimension genome; similar clients; and the live
single-client prediction (`GET|POST /api/v1/clients/{id}/predict/?kind=...`, URL name
"api:client-predict"), which is benchmarked: it runs two small queries before the model."""

from __future__ import annotations

from django.db.models import F, OuterRef, Prefetch, Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from clients.models import Client
from ml.genome.dimensions import DIMENSIONS
from ml.genome.similarity import similar_clients
from ml.models import ClientMonthKPI, GenomeVector, Prediction
from ml.predictions import latest

from .. import predicting
from ..errors import Conflict, NoModel
from ..filters import ClientFilter
from ..serializers import (
    ClientListSerializer,
    GenomeDimensionSerializer,
    KPISerializer,
    LivePredictionSerializer,
    SimilarClientSerializer,
)
from .base import ReadOnlyViewSet

CLIENT_EXAMPLE = {
    "id": 12, "name": "Harbor Dental", "status": "active", "industry": "Healthcare", "onboarded_on": "2023-02-01",
    "churned_on": None,
    "kpis": {"month": "2026-10-01", "partial_month": False, "revenue_total": 8450.0, "gross_margin": 3120.5,
             "margin_pct": 0.369, "mrr": 7200.0, "rhem": 0.42, "active_endpoints": 48, "tickets": 31},
    "genome": {"month": "2026-10-01", "schema_version": "1", "segment": {"id": 3, "name": "Steady, well-run"},
               "scores": {"financial_health": 0.71, "operational_efficiency": 0.64, "engagement": 0.58,
                          "growth_potential": 0.44, "risk_factors": 0.21}},
    "predictions": {"churn": {"value": 6.3, "tier": "medium", "as_of": "2026-10-01", "model_version": 2},
                    "profitability": {"value": 9650.0, "lower": 7900.0, "upper": 11400.0, "model_version": 4}},
}


class ClientDetailSerializer(ClientListSerializer):
    history = serializers.SerializerMethodField()
    genome_dimensions = serializers.SerializerMethodField()

    class Meta(ClientListSerializer.Meta):
        fields = (*ClientListSerializer.Meta.fields, "history", "genome_dimensions")

    def get_history(self, obj) -> list[dict]:
        return KPISerializer(self.context["history"], many=True).data

    def get_genome_dimensions(self, obj) -> list[dict]:
        vector = self.context["genome"]
        if vector is None:
            return []
        missing = set(vector.missing or [])
        rows = [{"index": d.index, "code": d.code, "name": d.name, "group": d.group_name, "direction": d.direction,
                 "value": vector.values[d.index], "raw": vector.raw[d.index],
                 "missing": d.code in missing or d.index in missing} for d in DIMENSIONS]
        return GenomeDimensionSerializer(rows, many=True).data


@extend_schema_view(
    list=extend_schema(
        summary="Clients with their KPIs, genome and predictions",
        description="Every client with the portfolio's latest complete month of KPIs (ClientMonthKPI), the "
                    "newest genome's group scores and segment, and the active models' latest stored churn and "
                    "profitability predictions. Filter by name, status, segment, revenue range and churn risk; "
                    "order by revenue, gross_margin, margin_pct, name or churn_risk (prefix - for descending).",
        examples=[OpenApiExample("A client", value=CLIENT_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One client: KPI history and the 50-dimension genome",
        parameters=[OpenApiParameter("months", int, description="Months of KPI history (default 12, at most 60)")],
        responses=ClientDetailSerializer,
    ),
)
class ClientViewSet(ReadOnlyViewSet):
    serializer_class = ClientListSerializer
    filterset_class = ClientFilter
    read_permission = "clients.view_client"
    action_permissions = {"predict": "ml.view_prediction", "similar": "ml.view_genomevector"}
    action_scopes = {"predict": "predict"}
    ordering_fields = ["revenue", "gross_margin", "margin_pct", "name", "churn_risk"]
    ordering = [F("revenue").desc(nulls_last=True), "name"]

    def get_queryset(self):
        if self.action != "list" or getattr(self, "swagger_fake_view", False):
            return Client.objects.all()
        # One read of each kind of stored row for the whole page: the portfolio month's KPI row,
        # the newest genome and each active model's newest predictions (ml.predictions.latest).
        month = ClientMonthKPI.objects.latest_complete_month()
        kpis = ClientMonthKPI.objects.for_month(month)
        churn = latest("churn")

        def kpi(field):
            return Subquery(kpis.filter(client=OuterRef("pk")).values(field)[:1])

        return (
            Client.objects.annotate(
                revenue=kpi("revenue_total"), gross_margin=kpi("gross_margin"), margin_pct=kpi("margin_pct"),
                churn_risk=Subquery(churn.filter(client=OuterRef("pk")).values("value")[:1]),
            )
            .prefetch_related(
                Prefetch("monthly_kpis", queryset=kpis.select_related(None), to_attr="kpi_rows"),
                Prefetch("genome_vectors", queryset=GenomeVector.objects.for_month().select_related("segment"),
                         to_attr="genome_rows"),
                Prefetch("predictions", queryset=churn.select_related("model_version"), to_attr="churn_rows"),
                Prefetch("predictions", queryset=latest("profitability").select_related("model_version"),
                         to_attr="profitability_rows"),
            )
        )

    def retrieve(self, request, *args, **kwargs):
        client = self.get_object()
        months = _int_param(request, "months", 12, 1, 60)
        history = list(ClientMonthKPI.objects.history(client, months))
        genome = GenomeVector.objects.history(client, 1).select_related("segment").last()
        client.kpi_rows = [row for row in history if not row.partial_month][-1:]
        client.genome_rows = [genome] if genome else []
        for kind in predicting.KINDS:
            row = Prediction.objects.latest_for_client(client, kind)
            setattr(client, f"{kind}_rows", [row] if row else [])
        context = {**self.get_serializer_context(), "history": history, "genome": genome}
        return Response(ClientDetailSerializer(client, context=context).data)

    @extend_schema(
        summary="Clients whose genome is closest to this one's",
        description="Cosine similarity of the newest genome vectors (ml.genome.similarity.similar_clients), "
                    "with the dimensions they share.",
        parameters=[OpenApiParameter("k", int, description="How many (default 5, at most 50)")],
        responses=SimilarClientSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def similar(self, request, pk=None):
        client = self.get_object()
        rows = similar_clients(client.pk, k=_int_param(request, "k", 5, 1, 50))
        return Response(SimilarClientSerializer([vars(r) for r in rows], many=True).data)

    @extend_schema(
        summary="Live prediction for one client",
        description="Scores the client now with the active version of the kind (the kind's own in-process "
                    "predict function): profitability = next quarter's gross margin with its 90% interval, "
                    "churn = risk 0-100 with tier, reasons and actions. 409 `no_active_model` when no version "
                    "of the kind is trained yet; 409 `not_eligible` when the client has no row that month.",
        parameters=[
            OpenApiParameter("kind", str, enum=list(predicting.KINDS), default="profitability"),
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="Month to predict as of (default: latest)"),
        ],
        request=None,
        responses=LivePredictionSerializer,
        examples=[OpenApiExample("Profitability", response_only=True, value={
            "kind": "profitability", "model_version": 4, "client_id": 12, "as_of": "2026-10-01", "value": 9650.0,
            "lower": 7900.0, "upper": 11400.0,
            "text": "margin is expected to rise by $1.2k next quarter, mainly because RHEM fell",
            "contributions": [{"feature": "rhem", "words": "reactive hours per endpoint", "value": 0.4,
                               "effect": 610.0}]})],
    )
    @action(detail=True, methods=["get", "post"])
    def predict(self, request, pk=None):
        kind = request.query_params.get("kind") or _body(request).get("kind") or "profitability"
        if kind not in predicting.KINDS:
            raise ValidationError({"kind": [f"must be one of {', '.join(predicting.KINDS)}"]})
        as_of = _month_param(request)
        try:
            client_id = int(pk)
        except ValueError:
            raise NotFound("No client has this id.") from None
        version = predicting.active_version(kind)
        if version is None:
            raise NoModel(f"No {kind} model is active yet: train one (Retrain now, or POST "
                          f"/api/v1/model-versions/retrain/).")
        try:
            row = predicting.predict_one(kind, client_id, as_of)
        except LookupError as exc:  # the version was retired between the two reads
            raise NoModel(str(exc)) from None
        except ValueError as exc:  # no complete month in the KPI store yet
            raise Conflict(str(exc), code="no_features") from None
        if row is None:
            if not Client.objects.filter(pk=client_id).exists():
                raise NotFound("No client has this id.")
            raise Conflict("The client has no prediction this month (a partial month, under three months of "
                           "history, or no longer a client).", code="not_eligible")
        return Response(LivePredictionSerializer({"kind": kind, "model_version": version, **row}).data)


def _int_param(request, name: str, default: int, lowest: int, highest: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: ["must be a whole number"]}) from None
    if not lowest <= value <= highest:
        raise ValidationError({name: [f"must be between {lowest} and {highest}"]})
    return value


def _body(request) -> dict:
    return request.data if isinstance(request.data, dict) else {}


def _month_param(request):
    from ..filters import MonthField

    raw = request.query_params.get("as_of") or _body(request).get("as_of")
    if not raw:
        return None
    try:
        return MonthField().clean(raw)
    except Exception:
        raise ValidationError({"as_of": ["must be YYYY-MM or YYYY-MM-DD"]}) from None

