"""Admin views of the KPI snapshot, genome vectors, segments and feature builds (read-mostly:
these rows are computed, so edits would be overwritten by the next build)."""

from django.contrib import admin

from .models import ClientMonthKPI, FeatureBuild, GenomeVector, Segment


@admin.register(ClientMonthKPI)
class ClientMonthKPIAdmin(admin.ModelAdmin):
    list_display = (
        "client",
        "month",
        "revenue_total",
        "gross_margin",
        "margin_pct",
        "effective_hourly_rate",
        "rhem",
        "dso_days",
        "csat_avg",
        "partial_month",
    )
    list_filter = ("month", "partial_month")
    search_fields = ("client__name",)
    date_hierarchy = "month"
    list_select_related = ("client",)
    readonly_fields = ("computed_at", "source_fingerprint", "features_version")


@admin.register(GenomeVector)
class GenomeVectorAdmin(admin.ModelAdmin):
    list_display = (
        "client",
        "month",
        "schema_version",
        "financial_health",
        "operational_efficiency",
        "engagement",
        "growth_potential",
        "risk_factors",
        "segment",
    )
    list_filter = ("schema_version", "month")
    search_fields = ("client__name",)
    list_select_related = ("client", "segment")


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "month", "size", "k", "silhouette", "schema_version")
    list_filter = ("month", "schema_version")


@admin.register(FeatureBuild)
class FeatureBuildAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "trigger",
        "status",
        "full",
        "clients_rebuilt",
        "kpi_rows_written",
        "genome_rows_written",
        "seconds",
    )
    list_filter = ("status", "trigger")
