"""Every MSP record in the admin. Large tables use raw-id widgets and select_related so
a change list costs a fixed number of queries."""

from django.contrib import admin

from . import models

# realm: the QuickBooks company a row came from (blank for SuperOps and local rows).
SYNC_FIELDS = ("source", "realm", "external_id", "source_updated_at", "sync_run", "deleted_at_source")


class SyncedAdmin(admin.ModelAdmin):
    list_filter = ("source", "realm")
    readonly_fields = SYNC_FIELDS
    show_full_result_count = False
    list_per_page = 50


@admin.register(models.Client)
class ClientAdmin(SyncedAdmin):
    list_display = ("name", "status", "stage", "status_label", "industry", "employee_count", "onboarded_on",
                    "churned_on", "source")
    list_filter = ("status", "stage", "status_label", "industry", "source")
    search_fields = ("name", "email_domain", "external_id")


@admin.register(models.Customer)
class CustomerAdmin(SyncedAdmin):
    list_display = ("display_name", "client", "match_method", "match_confidence", "parent_external_id", "balance",
                    "currency", "active")
    list_filter = ("match_method", "active", "currency")
    search_fields = ("display_name", "company_name", "email", "external_id", "parent_external_id")
    list_select_related = ("client",)
    autocomplete_fields = ("client",)


@admin.register(models.Technician)
class TechnicianAdmin(SyncedAdmin):
    list_display = ("name", "designation", "tier", "burdened_hourly_cost", "cost_set_locally", "cost_currency",
                    "active")
    list_editable = ("burdened_hourly_cost",)
    list_filter = ("source", "cost_set_locally", "active")
    search_fields = ("name", "email")

    def save_model(self, request, obj, form, change):
        # A cost typed here is a person's: QuickBooks' CostRate no longer replaces it (untick
        # "cost set locally" to hand it back).
        if "burdened_hourly_cost" in form.changed_data:
            obj.cost_set_locally = True
        super().save_model(request, obj, form, change)


@admin.register(models.Employee)
class EmployeeAdmin(SyncedAdmin):
    list_display = ("name", "email", "technician", "cost_rate", "active", "realm")
    list_filter = ("active", "realm")
    search_fields = ("name", "email", "employee_number", "external_id")
    list_select_related = ("technician",)
    autocomplete_fields = ("technician",)


@admin.register(models.ServiceItem)
class ServiceItemAdmin(SyncedAdmin):
    list_display = ("name", "source", "quantity_type", "unit_price", "after_hours_unit_price", "active")
    list_filter = ("source", "quantity_type", "active")
    search_fields = ("name",)


@admin.register(models.Contract)
class ContractAdmin(SyncedAdmin):
    list_display = (
        "name", "client", "kind", "status", "start_date", "end_date",
        "billed_quantity", "unit_price", "hourly_rate", "annual_escalator_pct", "discount_pct",
    )
    list_filter = ("kind", "status", "auto_renew", "frequency_type")
    search_fields = ("name", "client__name", "external_id")
    list_select_related = ("client",)
    raw_id_fields = ("client", "service_item")
    date_hierarchy = "start_date"


@admin.register(models.Asset)
class AssetAdmin(SyncedAdmin):
    list_display = ("name", "client", "asset_class", "platform", "status", "added_on", "retired_on")
    list_filter = ("asset_class", "status", "platform")
    search_fields = ("name", "client__name", "external_id")
    list_select_related = ("client",)
    raw_id_fields = ("client",)


class WorklogInline(admin.TabularInline):
    model = models.Worklog
    fields = ("work_date", "technician", "minutes", "billable", "after_hours", "unit_price", "billing_status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(models.Ticket)
class TicketAdmin(SyncedAdmin):
    list_display = (
        "display_id", "subject", "client", "priority", "priority_label", "status", "category", "is_reactive",
        "created_at", "resolved_at", "resolution_violated",
    )
    list_filter = ("priority", "status_group", "is_reactive", "channel", "resolution_violated",
                   "first_response_violated")
    search_fields = ("display_id", "subject", "client__name", "external_id")
    list_select_related = ("client",)
    raw_id_fields = ("client", "technician", "asset")
    date_hierarchy = "created_at"
    inlines = [WorklogInline]


@admin.register(models.Worklog)
class WorklogAdmin(SyncedAdmin):
    list_display = (
        "work_date", "client", "technician", "minutes", "billable", "after_hours", "unit_price", "billing_status",
        "work_module",
    )
    list_filter = ("source", "billable", "after_hours", "billing_status", "work_module")
    search_fields = ("client__name", "notes", "external_id")
    list_select_related = ("client", "technician")
    raw_id_fields = ("client", "ticket", "technician", "contract", "service_item")
    date_hierarchy = "work_date"


class InvoiceLineInline(admin.TabularInline):
    model = models.InvoiceLine
    fields = ("line_num", "kind", "service_item", "description", "quantity", "unit_price", "amount", "service_date")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(models.Invoice)
class InvoiceAdmin(SyncedAdmin):
    list_display = ("doc_number", "client", "txn_date", "due_date", "total", "balance", "currency", "voided")
    list_filter = ("voided", "currency")
    search_fields = ("doc_number", "client__name", "customer__display_name", "external_id")
    list_select_related = ("client",)
    raw_id_fields = ("customer", "client")
    date_hierarchy = "txn_date"
    inlines = [InvoiceLineInline]


class PaymentApplicationInline(admin.TabularInline):
    model = models.PaymentApplication
    raw_id_fields = ("invoice",)
    extra = 0


@admin.register(models.Payment)
class PaymentAdmin(SyncedAdmin):
    list_display = ("txn_date", "client", "total", "unapplied", "currency", "reference")
    search_fields = ("client__name", "reference", "external_id")
    list_select_related = ("client",)
    raw_id_fields = ("customer", "client")
    date_hierarchy = "txn_date"
    inlines = [PaymentApplicationInline]


@admin.register(models.Expense)
class ExpenseAdmin(SyncedAdmin):
    list_display = ("txn_date", "txn_type", "vendor", "client", "category", "amount", "billable_status")
    list_filter = ("txn_type", "category", "billable_status")
    search_fields = ("vendor", "description", "client__name", "external_id")
    list_select_related = ("client",)
    raw_id_fields = ("customer", "client")
    date_hierarchy = "txn_date"


class CreditMemoLineInline(admin.TabularInline):
    model = models.CreditMemoLine
    fields = ("line_num", "kind", "service_item", "description", "quantity", "unit_price", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(models.CreditMemo)
class CreditMemoAdmin(SyncedAdmin):
    list_display = ("doc_number", "client", "txn_date", "total", "remaining", "currency", "reason")
    list_filter = ("currency",)
    search_fields = ("doc_number", "client__name", "customer__display_name", "reason", "external_id")
    list_select_related = ("client",)
    raw_id_fields = ("customer", "client")
    date_hierarchy = "txn_date"
    inlines = [CreditMemoLineInline]


@admin.register(models.OfferedItem)
class OfferedItemAdmin(SyncedAdmin):
    """SuperOps' billing audit trail: what was offered for billing and what became of it."""

    list_display = ("bill_date", "client", "kind", "status", "service_item", "technician", "quantity",
                    "unit_price", "amount", "after_hours", "work_module", "work_id")
    list_filter = ("status", "kind", "after_hours", "work_module")
    search_fields = ("client__name", "work_id", "notes", "external_id")
    list_select_related = ("client", "service_item", "technician")
    raw_id_fields = ("client", "service_item", "technician", "ticket")
    date_hierarchy = "bill_date"


@admin.register(models.ClientUser)
class ClientUserAdmin(SyncedAdmin):
    list_display = ("name", "client", "email", "role", "site_name", "active")
    list_filter = ("active", "role")
    search_fields = ("name", "email", "client__name", "external_id")
    list_select_related = ("client",)
    raw_id_fields = ("client",)


@admin.register(models.SatisfactionSurvey)
class SatisfactionSurveyAdmin(SyncedAdmin):
    list_display = ("responded_at", "client", "score", "comment")
    list_filter = ("score",)
    search_fields = ("client__name", "comment")
    list_select_related = ("client",)
    raw_id_fields = ("client", "ticket")


@admin.register(models.Interaction)
class InteractionAdmin(SyncedAdmin):
    list_display = ("occurred_at", "client", "kind", "owner", "sentiment")
    list_filter = ("kind", "sentiment")
    search_fields = ("client__name", "summary", "owner")
    list_select_related = ("client",)
    raw_id_fields = ("client",)


@admin.register(models.SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = (
        "started_at", "source", "trigger", "status", "created", "updated", "unchanged", "deleted", "set_aside",
    )
    list_filter = ("source", "trigger", "status")
    readonly_fields = [f.name for f in models.SyncRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(models.RejectedRecord)
class RejectedRecordAdmin(admin.ModelAdmin):
    list_display = ("first_seen_at", "source", "realm", "entity", "external_id", "reason", "resolved")
    list_filter = ("source", "realm", "entity", "resolved")
    search_fields = ("external_id", "reason")
    readonly_fields = (
        "source", "realm", "entity", "external_id", "payload", "payload_hash", "reason", "first_seen_at",
        "last_run",
    )
    actions = ["mark_resolved"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Mark as resolved")
    def mark_resolved(self, request, queryset):
        self.message_user(request, f"{queryset.update(resolved=True)} record(s) marked resolved.")


@admin.register(models.RowChange)
class RowChangeAdmin(admin.ModelAdmin):
    """Months waiting for the next feature build: read-only, the triggers write it and the
    build empties it."""

    list_display = ("recorded_at", "table_key", "client_id", "day")
    list_filter = ("table_key",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
