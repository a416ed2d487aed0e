"""Alerts in the admin: filter by kind, severity and status; acknowledge or resolve a selection
(through the same services as the page, so the counts pushed to browsers stay right)."""

from django.contrib import admin, messages

from .models import Alert
from .services import acknowledge, resolve


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "severity", "client", "status", "count", "first_seen", "last_seen",
                    "escalated_at")
    list_filter = ("kind", "severity", "status")
    search_fields = ("title", "message", "client__name", "dedup_key")
    list_select_related = ("client",)
    date_hierarchy = "first_seen"
    readonly_fields = ("kind", "severity", "client", "title", "message", "evidence", "dedup_key", "first_seen",
                       "last_seen", "count", "status", "acknowledged_at", "acknowledged_by", "resolved_at",
                       "resolved_by", "escalated_at")
    actions = ("acknowledge_selected", "resolve_selected")

    def has_add_permission(self, request) -> bool:
        return False  # alerts come from detectors, churn warnings and leak findings

    @admin.action(description="Acknowledge selected alerts", permissions=["change"])
    def acknowledge_selected(self, request, queryset) -> None:
        done = sum(acknowledge(alert, request.user) for alert in queryset)
        self.message_user(request, f"Acknowledged {done} alert(s).", messages.SUCCESS)

    @admin.action(description="Resolve selected alerts", permissions=["change"])
    def resolve_selected(self, request, queryset) -> None:
        done = sum(resolve(alert, request.user) for alert in queryset)
        self.message_user(request, f"Resolved {done} alert(s).", messages.SUCCESS)
