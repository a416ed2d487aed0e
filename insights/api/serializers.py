"""Shapes of /api/v1/'s answers. They only read what the querysets and the stored rows hold
(ClientMonthKPI, GenomeVector, Prediction...): no figure is computed here."""

from __future__ import annotations

from rest_framework import serializers

from clients.models import Client
from insights.alerts.models import Alert
from insights.models import ApiJob, LeakFinding, LeakFindingEvent
from ml.models import ClientMonthKPI, GenomeVector, ModelVersion, Prediction, TrainingRun

from .predicting import KINDS

Money = dict(max_digits=14, decimal_places=2, coerce_to_string=False, read_only=True)
KPI_FIELDS = (
    "month", "partial_month", "revenue_total", "revenue_recurring", "labour_cost", "license_cost", "other_cost",
    "gross_margin", "margin_pct", "mrr", "effective_hourly_rate", "open_ar", "dso_days", "active_endpoints",
    "tickets", "rhem", "first_response_sla", "csat_avg", "labour_minutes",
)


class KPISerializer(serializers.ModelSerializer):
    """A stored month of KPIs (docs/kpis.md); money as JSON numbers, not strings, so integrators
    can chart them."""

    class Meta:
        model = ClientMonthKPI
        fields = KPI_FIELDS
        read_only_fields = KPI_FIELDS

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if field_class is serializers.DecimalField:
            kwargs["coerce_to_string"] = False
        return field_class, kwargs


class SegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GenomeSummarySerializer(serializers.ModelSerializer):
    segment = SegmentSerializer(allow_null=True)
    scores = serializers.DictField(source="group_scores", child=serializers.FloatField())

    class Meta:
        model = GenomeVector
        fields = ("month", "schema_version", "segment", "scores")


class StoredPredictionSerializer(serializers.ModelSerializer):
    model_version = serializers.IntegerField(source="model_version.version")
    text = serializers.SerializerMethodField()
    tier = serializers.SerializerMethodField()

    class Meta:
        model = Prediction
        fields = ("id", "kind", "client", "as_of", "value", "lower", "upper", "tier", "text", "model_version", "role",
                  "created_at")

    def get_text(self, obj: Prediction) -> str:
        return (obj.explanation or {}).get("text", "")

    def get_tier(self, obj: Prediction) -> str | None:
        return (obj.explanation or {}).get("tier")


class PredictionDetailSerializer(StoredPredictionSerializer):
    class Meta(StoredPredictionSerializer.Meta):
        fields = (*StoredPredictionSerializer.Meta.fields, "explanation")


class ClientListSerializer(serializers.ModelSerializer):
    """A client with its portfolio month's KPIs, genome summary and latest stored predictions
    (each attached by the view in one query per kind, whatever the page's size)."""

    kpis = serializers.SerializerMethodField()
    genome = serializers.SerializerMethodField()
    predictions = serializers.SerializerMethodField()

    class Meta:
        model = Client
        fields = ("id", "name", "status", "industry", "onboarded_on", "churned_on", "kpis", "genome", "predictions")

    @staticmethod
    def _first(obj, attr):
        rows = getattr(obj, attr, None) or []
        return rows[0] if rows else None

    def get_kpis(self, obj) -> dict | None:
        row = self._first(obj, "kpi_rows")
        return KPISerializer(row).data if row else None

    def get_genome(self, obj) -> dict | None:
        row = self._first(obj, "genome_rows")
        return GenomeSummarySerializer(row).data if row else None

    def get_predictions(self, obj) -> dict:
        out = {}
        for kind in KINDS:
            row = self._first(obj, f"{kind}_rows")
            out[kind] = StoredPredictionSerializer(row).data if row else None
        return out


class GenomeDimensionSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    group = serializers.CharField()
    direction = serializers.CharField()
    value = serializers.FloatField()
    raw = serializers.FloatField(allow_null=True)
    missing = serializers.BooleanField()


class SimilarClientSerializer(serializers.Serializer):
    client_id = serializers.IntegerField()
    name = serializers.CharField()
    similarity = serializers.FloatField(help_text="Cosine similarity of the genomes, -1..1")
    shared = serializers.ListField(child=serializers.DictField(), help_text="Dimensions both are high or low on")


class LivePredictionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    model_version = serializers.IntegerField()
    client_id = serializers.IntegerField()
    as_of = serializers.DateField(allow_null=True)
    value = serializers.FloatField(help_text="Profitability: next quarter's gross margin; churn: risk 0-100")
    lower = serializers.FloatField(required=False, help_text="Profitability: 90% interval")
    upper = serializers.FloatField(required=False)
    tier = serializers.CharField(required=False, help_text="Churn: low, medium, high or critical")
    text = serializers.CharField()
    contributions = serializers.ListField(child=serializers.DictField(), required=False)
    reasons = serializers.ListField(child=serializers.DictField(), required=False)
    actions = serializers.ListField(child=serializers.CharField(), required=False)


class BatchRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    client_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False,
                                       max_length=10000)


class JobSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:job-detail")

    class Meta:
        model = ApiJob
        fields = ("id", "url", "kind", "status", "params", "result", "error", "created_at", "started_at",
                  "finished_at")


class LeakEventSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(allow_null=True, **Money)

    class Meta:
        model = LeakFindingEvent
        fields = ("from_status", "to_status", "username", "at", "note", "amount")


class LeakFindingSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    finding_type_label = serializers.CharField(source="get_finding_type_display", read_only=True)
    estimated_amount = serializers.DecimalField(**Money)
    recovered_amount = serializers.DecimalField(allow_null=True, **Money)

    class Meta:
        model = LeakFinding
        fields = ("id", "finding_type", "finding_type_label", "client", "client_name", "period", "estimated_amount",
                  "confidence", "recommendation", "status", "recovered_amount", "dismiss_reason", "detector",
                  "still_detected", "first_detected_at", "last_detected_at", "status_changed_at")


class LeakFindingDetailSerializer(LeakFindingSerializer):
    events = LeakEventSerializer(many=True, read_only=True)

    class Meta(LeakFindingSerializer.Meta):
        fields = (*LeakFindingSerializer.Meta.fields, "evidence", "rule_version", "events")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why it is not a leak (required)")


class RecoverSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AlertSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", default="", read_only=True)
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", default=None, read_only=True)
    resolved_by = serializers.CharField(source="resolved_by.username", default=None, read_only=True)

    class Meta:
        model = Alert
        fields = ("id", "kind", "severity", "status", "title", "message", "client", "client_name", "count",
                  "first_seen", "last_seen", "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by",
                  "escalated_at")


class AlertDetailSerializer(AlertSerializer):
    class Meta(AlertSerializer.Meta):
        fields = (*AlertSerializer.Meta.fields, "evidence")


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ("id", "kind", "version", "status", "metrics", "window_first", "window_last", "held_out_months",
                  "format", "trigger", "created_at", "activated_at", "rolled_back_at")


class ModelVersionDetailSerializer(ModelVersionSerializer):
    class Meta(ModelVersionSerializer.Meta):
        fields = (*ModelVersionSerializer.Meta.fields, "params", "library_versions", "sha256", "size_bytes",
                  "artifact_class", "data_hash")


class RetrainSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="A registered model kind, e.g. profitability or churn")


class TrainingRunSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.version", default=None, read_only=True)

    class Meta:
        model = TrainingRun
        fields = ("id", "kind", "trigger", "status", "progress", "message", "queued_at", "started_at", "finished_at",
                  "version")
