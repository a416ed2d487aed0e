"""Query-string filters of the list endpoints (django-filter). Month ranges take YYYY-MM or a
date; a client's figures are those of the portfolio's latest complete month."""

from __future__ import annotations

from datetime import date

import django_filters as df
from django import forms

from clients.models import Client
from insights.alerts.models import Alert
from insights.models import FindingType, LeakFinding
from ml.models import GenomeVector, ModelVersion, Prediction


class MonthField(forms.DateField):
    """YYYY-MM (or a full date) -> the first day of that month."""

    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace(day=1) if isinstance(value, date) else value


class MonthFilter(df.DateFilter):
    field_class = MonthField


class ClientFilter(df.FilterSet):
    name = df.CharFilter(field_name="name", lookup_expr="icontains", help_text="Part of the client's name")
    status = df.ChoiceFilter(choices=Client.Status.choices)
    segment = df.NumberFilter(method="in_segment", help_text="Segment id of the client's newest genome")
    min_revenue = df.NumberFilter(field_name="revenue", lookup_expr="gte", help_text="Revenue of the month, at least")
    max_revenue = df.NumberFilter(field_name="revenue", lookup_expr="lte", help_text="Revenue of the month, at most")
    churn_risk_min = df.NumberFilter(field_name="churn_risk", lookup_expr="gte",
                                     help_text="Stored churn risk (0-100) of the active model, at least")

    class Meta:
        model = Client
        fields = ["name", "status", "segment", "min_revenue", "max_revenue", "churn_risk_min"]

    def in_segment(self, queryset, name, value):
        members = GenomeVector.objects.for_month().filter(segment_id=value).values("client_id")
        return queryset.filter(pk__in=members)


class PredictionFilter(df.FilterSet):
    kind = df.CharFilter()
    client = df.NumberFilter(field_name="client_id")
    as_of = MonthFilter()
    as_of_after = MonthFilter(field_name="as_of", lookup_expr="gte")
    as_of_before = MonthFilter(field_name="as_of", lookup_expr="lte")
    role = df.ChoiceFilter(choices=Prediction.Role.choices)

    class Meta:
        model = Prediction
        fields = ["kind", "client", "as_of", "as_of_after", "as_of_before", "role"]


class LeakFindingFilter(df.FilterSet):
    status = df.MultipleChoiceFilter(choices=LeakFinding.Status.choices)
    finding_type = df.MultipleChoiceFilter(choices=FindingType.choices)
    detector = df.CharFilter()
    client = df.NumberFilter(field_name="client_id")
    period_after = MonthFilter(field_name="period", lookup_expr="gte", help_text="From this month (YYYY-MM)")
    period_before = MonthFilter(field_name="period", lookup_expr="lte", help_text="Up to this month (YYYY-MM)")
    min_amount = df.NumberFilter(field_name="estimated_amount", lookup_expr="gte")

    class Meta:
        model = LeakFinding
        fields = ["status", "finding_type", "detector", "client", "period_after", "period_before", "min_amount"]


class AlertFilter(df.FilterSet):
    status = df.MultipleChoiceFilter(choices=Alert.Status.choices)
    severity = df.MultipleChoiceFilter(choices=Alert.Severity.choices)
    kind = df.MultipleChoiceFilter(choices=Alert.Kind.choices)
    client = df.NumberFilter(field_name="client_id")

    class Meta:
        model = Alert
        fields = ["status", "severity", "kind", "client"]


class ModelVersionFilter(df.FilterSet):
    kind = df.CharFilter()
    status = df.ChoiceFilter(choices=ModelVersion.Status.choices)

    class Meta:
        model = ModelVersion
        fields = ["kind", "status"]
