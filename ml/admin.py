"""Admin views of the KPI snapshot, genome vectors, segments, predictions, demand forecasts
with their live accuracy, and feature builds
(the derived rows are read-only: a list and a detail view, never add, change or delete, since
the next build or scoring would overwrite an edit), and of the model
registry: versions with "Promote", "Roll back to previous" and "Retrain now", a version's
metrics beside the active version's, and training runs with their progress."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from . import registry
from .models import ClientMonthKPI, FeatureBuild, GenomeVector, ModelVersion, Prediction, Segment, TrainingRun
from .models.churn import ChurnWarning, Intervention
from .models.forecasts import Forecast, ForecastAccuracy
from .registry import actions as registry_actions


class DerivedRowAdmin(admin.ModelAdmin):
    """Rows computed by feature builds and batch scoring: people with the view permission
    read them; nobody adds, edits or deletes one here (superusers included)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ClientMonthKPI)
class ClientMonthKPIAdmin(DerivedRowAdmin):
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


@admin.register(GenomeVector)
class GenomeVectorAdmin(DerivedRowAdmin):
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
class SegmentAdmin(DerivedRowAdmin):
    list_display = ("name", "month", "size", "k", "silhouette", "schema_version")
    list_filter = ("month", "schema_version")


@admin.register(Prediction)
class PredictionAdmin(DerivedRowAdmin):
    list_display = ("client", "kind", "as_of", "value", "lower", "upper", "role", "model_version", "created_at")
    list_filter = ("kind", "role", "as_of")
    search_fields = ("client__name",)
    list_select_related = ("client", "model_version")


@admin.register(Forecast)
class ForecastAdmin(DerivedRowAdmin):
    list_display = ("series_key", "model", "served", "origin", "step", "period", "mean", "lo_80", "hi_80", "actual")
    list_filter = ("served", "measure", "scope", "frequency", "model")
    search_fields = ("series_key", "label")
    date_hierarchy = "origin"


@admin.register(ForecastAccuracy)
class ForecastAccuracyAdmin(DerivedRowAdmin):
    list_display = ("series_key", "model", "served", "origin", "periods_scored", "mase", "smape", "drift_ratio",
                    "drifted")
    list_filter = ("served", "drifted", "model")
    search_fields = ("series_key",)


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


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("kind", "version", "status", "key_metrics", "held_out", "trigger", "created_at", "created_by")
    list_filter = ("kind", "status", "trigger")
    list_select_related = ("created_by",)
    # The actions need ml.change_modelversion (the admin role): a viewer of versions may not act.
    actions = ["promote_version", "roll_back_kind", "retrain_now"]
    fields = (
        "kind", "version", "status", "metrics_beside_active", "held_out_months", "window_first", "window_last",
        "params", "data_hash", "trigger", "created_at", "created_by", "activated_at", "rolled_back_at",
        "artifact_path", "format", "format_version", "artifact_class", "library_versions", "sha256", "size_bytes",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # versions come from training, through the registry

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a row is the only record of its artifact's hash

    @admin.display(description="metrics (baseline)")
    def key_metrics(self, obj: ModelVersion) -> str:
        shown = [k for k in obj.metrics if not k.startswith("baseline_") and k != "shadow"][:4]
        return " · ".join(
            f"{k} {_fmt(obj.metrics[k])}"
            + (f" ({_fmt(obj.metrics['baseline_' + k])})" if f"baseline_{k}" in obj.metrics else "")
            for k in shown
        ) or "-"

    @admin.display(description="held-out months")
    def held_out(self, obj: ModelVersion) -> str:
        months = obj.held_out_months or []
        return "-" if not months else months[0] if len(months) == 1 else f"{months[0]}..{months[-1]}"

    @admin.display(description="metrics beside the active version")
    def metrics_beside_active(self, obj: ModelVersion) -> str:
        current = registry.active(obj.kind)
        this = f"v{obj.version} ({obj.get_status_display().lower()})"
        if current is None or current.pk == obj.pk:
            heading = (this, "no active version" if current is None else "this is the active version")
            theirs: dict = {}
            held = (obj.held_out_months, [])
        else:
            heading = (this, f"active v{current.version}")
            theirs = current.metrics
            held = (obj.held_out_months, current.held_out_months)
        keys = [k for k in list(obj.metrics) + [k for k in theirs if k not in obj.metrics] if k != "shadow"]
        rows = [("held-out months", self._months(held[0]), self._months(held[1]))]
        rows += [(k, _fmt(obj.metrics.get(k)), _fmt(theirs.get(k)) if theirs else "") for k in keys]
        shadow = obj.metrics.get("shadow")
        if shadow:  # the challenger's live comparison with the champion (ml.registry.shadow)
            rows.append((
                f"in shadow: {shadow['metric']} on {shadow['with_outcome']} client-months with known outcomes "
                f"({self._months(shadow['months'])}) vs v{shadow['champion_version']}",
                _fmt(shadow["challenger"]), _fmt(shadow["champion"]),
            ))
        return format_html(
            '<table><thead><tr><th>metric</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>',
            *heading,
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @staticmethod
    def _months(months: list) -> str:
        return ", ".join(months) if months else "-"

    # The actions' work and words are ml.registry.actions', shared with the Models page.
    @admin.action(description="Promote (make it the active version of its kind)", permissions=["change"])
    def promote_version(self, request, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to promote.", messages.WARNING)
            return
        version = queryset.get()
        outcome = registry_actions.promote_version(version)
        self.log_change(request, version, "Promoted to active")
        self.message_user(request, outcome.message, messages.SUCCESS)

    @admin.action(description="Roll back to previous (re-activate the version active before)", permissions=["change"])
    def roll_back_kind(self, request, queryset) -> None:
        for kind in sorted(set(queryset.values_list("kind", flat=True))):
            outcome = registry_actions.roll_back_kind(kind)
            if outcome.ok:
                self.log_change(request, outcome.version, "Re-activated by a roll back")
            self.message_user(request, outcome.message, messages.SUCCESS if outcome.ok else messages.WARNING)

    @admin.action(description="Retrain now (the kinds of the selected versions)", permissions=["change"])
    def retrain_now(self, request, queryset) -> None:
        kinds = queryset.values_list("kind", flat=True)
        for outcome in registry_actions.retrain_kinds(kinds, user=request.user, trigger="admin"):
            self.message_user(request, outcome.message, messages.INFO if outcome.ok else messages.WARNING)


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("kind", "status", "progress_bar", "message", "trigger", "queued_at", "finished_at", "version",
                    "requested_by")
    list_filter = ("kind", "status", "trigger")
    list_select_related = ("version", "requested_by")
    fields = ("kind", "status", "progress", "message", "trigger", "queued_at", "started_at", "finished_at", "version",
              "requested_by")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, obj: TrainingRun) -> str:
        return format_html('<progress max="100" value="{}"></progress> {}%', obj.progress, obj.progress)


@admin.register(ChurnWarning)
class ChurnWarningAdmin(admin.ModelAdmin):
    """Early warnings: written by churn scoring when a client's tier rises; read-only."""

    list_display = ("client", "as_of", "previous_tier", "tier", "previous_risk", "risk", "model_version", "created_at")
    list_filter = ("tier", "as_of")
    search_fields = ("client__name",)
    list_select_related = ("client", "model_version")
    readonly_fields = ("client", "model_version", "as_of", "previous_as_of", "tier", "previous_tier", "risk",
                       "previous_risk", "reasons", "created_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Intervention)
class InterventionAdmin(admin.ModelAdmin):
    """Retention actions people log per client; the churn retention report reads them."""

    list_display = ("client", "action", "date", "outcome", "who")
    list_filter = ("outcome", "date")
    search_fields = ("client__name", "action", "notes")
    list_select_related = ("client", "who")
    raw_id_fields = ("client",)

    def save_model(self, request, obj, form, change) -> None:
        if obj.who_id is None:
            obj.who = request.user
        super().save_model(request, obj, form, change)
