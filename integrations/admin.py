"""Admin for the live sync: sources with "Sync now", watermarks, QuickBooks connections
(adding one starts the OAuth flow; tokens are never shown), webhook events, client-match
candidates to accept or reject, the clients no customer is linked to, and the tenant's field
map and value maps (what its custom fields and its own stages and priorities mean to us)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse

from . import tasks
from .matching_fuzzy import decide, unmatched_clients
from .models import (
    ClientMatchCandidate,
    FieldMap,
    QuickBooksConnection,
    SyncCursor,
    SyncLease,
    UnmatchedClient,
    ValueMap,
    WebhookEvent,
)


@admin.register(SyncLease)
class SyncSourceAdmin(admin.ModelAdmin):
    list_display = ("source", "owner", "run", "heartbeat_at")
    readonly_fields = ("source", "owner", "run", "heartbeat_at")
    actions = ["sync_now", "sync_now_full"]

    def get_queryset(self, request):
        for source in ("superops", "quickbooks"):  # one row per source, whatever happened to the table
            SyncLease.objects.get_or_create(source=source)
        return super().get_queryset(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Sync now (changes since the last run)")
    def sync_now(self, request, queryset) -> None:
        for lease in queryset:
            tasks.enqueue_sync(lease.source, "admin", full=False)
        self.message_user(request, f"Queued {queryset.count()} sync run(s); see Sync runs for progress.")

    @admin.action(description="Sync now (full read, also finds deletions)")
    def sync_now_full(self, request, queryset) -> None:
        for lease in queryset:
            tasks.enqueue_sync(lease.source, "admin", full=True)
        self.message_user(request, f"Queued {queryset.count()} full sync run(s).")


@admin.register(SyncCursor)
class SyncCursorAdmin(admin.ModelAdmin):
    list_display = ("source", "entity", "watermark", "last_full_at", "last_run", "updated_at")
    list_filter = ("source",)
    readonly_fields = ("last_run", "updated_at")


@admin.register(QuickBooksConnection)
class QuickBooksConnectionAdmin(admin.ModelAdmin):
    # Only these columns: the encrypted tokens never reach a page.
    list_display = ("realm_id", "connected_at", "refreshed_at", "access_expires_at", "refresh_expires_at",
                    "refresh_count", "last_error")
    fields = ("realm_id", "connected_at", "refreshed_at", "access_expires_at", "refresh_expires_at",
              "refresh_count", "connected_by", "last_error")
    readonly_fields = fields

    def add_view(self, request, form_url="", extra_context=None):
        # "Add" means connecting a company through Intuit's consent page.
        return redirect(reverse("integrations:quickbooks_connect"))


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("entity", "entity_id", "operation", "realm_id", "received_at", "processed_at", "run")
    list_filter = ("entity", "operation")
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ClientMatchCandidate)
class ClientMatchCandidateAdmin(admin.ModelAdmin):
    list_display = ("customer", "client", "score", "reason", "status", "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("customer__display_name", "client__name")
    readonly_fields = ("customer", "client", "score", "reason", "status", "decided_by", "decided_at")
    actions = ["accept", "reject"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Accept: this customer is this client")
    def accept(self, request, queryset) -> None:
        for candidate in queryset.filter(status=ClientMatchCandidate.Status.PENDING):
            decide(candidate, True, request.user)
        self.message_user(request, "Linked; invoices and payments now count for the client.", messages.SUCCESS)

    @admin.action(description="Reject: not the same company")
    def reject(self, request, queryset) -> None:
        for candidate in queryset.filter(status=ClientMatchCandidate.Status.PENDING):
            decide(candidate, False, request.user)
        self.message_user(request, "Rejected; the pair will not be proposed again.")


@admin.register(UnmatchedClient)
class UnmatchedClientAdmin(admin.ModelAdmin):
    list_display = ("name", "email_domain", "status", "external_id")
    search_fields = ("name", "email_domain")

    def get_queryset(self, request):
        return unmatched_clients()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FieldMap)
class FieldMapAdmin(admin.ModelAdmin):
    """Which custom field of the tenant holds each concept; the next sync reads the new label."""

    list_display = ("concept", "label", "note", "updated_at")
    list_editable = ("label",)
    search_fields = ("concept", "label")
    readonly_fields = ("updated_at",)


@admin.register(ValueMap)
class ValueMapAdmin(admin.ModelAdmin):
    """What the tenant's own stages, statuses, priorities and categories mean; the next sync
    applies a change. Values no row names get their default meaning."""

    list_display = ("kind", "source_value", "our_value", "seeded", "updated_at")
    list_editable = ("our_value",)
    list_filter = ("kind", "seeded")
    search_fields = ("source_value",)
    readonly_fields = ("seeded", "updated_at")
