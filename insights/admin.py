"""Admin for revenue-leak findings: what detection found (read-only: the next run would
overwrite an edit), the recovery workflow as actions (confirm, recover with an amount,
dismiss with a reason; the fields sit beside the action menu), every status change inline,
and the detection runs with what each rule did."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils.html import format_html

from .leaks import workflow
from .models import ApiJob, LeakDetectionRun, LeakFinding, LeakFindingEvent


class LeakActionForm(ActionForm):
    amount = forms.CharField(required=False, label="Recovered amount",
                             help_text="For Mark recovered; blank = each finding's estimate")
    reason = forms.CharField(required=False, label="Reason / note", help_text="Required to dismiss")


class LeakFindingEventInline(admin.TabularInline):
    model = LeakFindingEvent
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "username", "amount", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LeakFinding)
class LeakFindingAdmin(admin.ModelAdmin):
    list_display = ("finding_type", "client", "period_label", "estimated_amount", "confidence", "status",
                    "recovered_amount", "still_detected")
    list_filter = ("finding_type", "status", "still_detected", "period")
    search_fields = ("client__name", "client__external_id", "recommendation")
    list_select_related = ("client",)
    date_hierarchy = "period"
    ordering = ("-period", "-estimated_amount")
    action_form = LeakActionForm
    actions = ("confirm_findings", "recover_findings", "dismiss_findings")
    inlines = (LeakFindingEventInline,)
    fields = ("finding_type", "client", "period_label", "status", "estimated_amount", "confidence",
              "recommendation", "evidence_pretty", "recovered_amount", "dismiss_reason", "detector", "rule_version",
              "still_detected", "first_detected_at", "last_detected_at", "status_changed_at")
    readonly_fields = fields

    @admin.display(description="Period", ordering="period")
    def period_label(self, obj: LeakFinding) -> str:
        return obj.period_label

    @admin.display(description="Evidence")
    def evidence_pretty(self, obj: LeakFinding) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.evidence, indent=2, sort_keys=True))

    def has_add_permission(self, request) -> bool:
        return False  # findings come from detection

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the audit trail stays

    def _apply(self, request, queryset, move, done: str) -> None:
        moved, refused = 0, []
        for finding in queryset.order_by("pk"):
            try:
                move(finding)
                moved += 1
            except workflow.IllegalTransition as exc:
                refused.append(str(exc))
        if moved:
            self.message_user(request, f"{moved} finding(s) {done}.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description="Confirm selected findings", permissions=["change"])
    def confirm_findings(self, request, queryset) -> None:
        note = request.POST.get("reason", "")
        self._apply(request, queryset, lambda f: workflow.confirm(f, request.user, note), "confirmed")

    @admin.action(description="Mark selected findings recovered", permissions=["change"])
    def recover_findings(self, request, queryset) -> None:
        text = request.POST.get("amount", "").strip().replace(",", "").lstrip("$")
        try:
            amount = Decimal(text) if text else None
        except InvalidOperation:
            self.message_user(request, f"Recovered amount {text!r} is not a number.", messages.ERROR)
            return
        note = request.POST.get("reason", "")
        self._apply(request, queryset, lambda f: workflow.recover(
            f, request.user, f.estimated_amount if amount is None else amount, note), "marked recovered")

    @admin.action(description="Dismiss selected findings (reason required)", permissions=["change"])
    def dismiss_findings(self, request, queryset) -> None:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "Give a reason to dismiss findings.", messages.ERROR)
            return
        self._apply(request, queryset, lambda f: workflow.dismiss(f, request.user, reason), "dismissed")


@admin.register(LeakDetectionRun)
class LeakDetectionRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "trigger", "status", "finished_at", "failed_rules")
    list_filter = ("status", "trigger")
    fields = ("started_at", "finished_at", "trigger", "status", "results_pretty")
    readonly_fields = fields

    @admin.display(description="Failed rules")
    def failed_rules(self, obj: LeakDetectionRun) -> str:
        return ", ".join(name for name, r in (obj.results or {}).items() if not r.get("ok")) or "-"

    @admin.display(description="Per rule")
    def results_pretty(self, obj: LeakDetectionRun) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.results, indent=2, sort_keys=True))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApiJob)
class ApiJobAdmin(admin.ModelAdmin):
    """Batch jobs asked for through the API: read-only, since the worker owns each row's status."""

    list_display = ("pk", "kind", "status", "requested_by", "created_at", "finished_at")
    list_filter = ("kind", "status")
    readonly_fields = ("kind", "params", "status", "result", "error", "requested_by", "created_at", "started_at",
                       "finished_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
