"""The monthly KPI snapshot: one row per client per calendar month, one typed column per
KPI (definitions in docs/kpis.md and ml/features/), and one row per feature build.

Money columns are home-currency Decimals (settings.HOME_CURRENCY); ratios and durations are
floats. A KPI that cannot be computed honestly (no tickets, a revenue base under the
threshold) is NULL, never 0 — see "Missing values" in docs/kpis.md.
"""

from __future__ import annotations

from django.db import models

from clients.models import Client

from .querysets import ClientMonthKPIQuerySet


def _money(**kwargs) -> models.DecimalField:
    kwargs.setdefault("max_digits", 14)
    kwargs.setdefault("decimal_places", 2)
    kwargs.setdefault("default", 0)
    return models.DecimalField(**kwargs)


def _ratio(help_text: str = "") -> models.FloatField:
    return models.FloatField(null=True, blank=True, help_text=help_text)


class ClientMonthKPI(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="monthly_kpis")
    month = models.DateField(help_text="First day of the calendar month")
    features_version = models.PositiveSmallIntegerField(
        help_text="Definition version; rows of another version are rebuilt, never mixed"
    )
    computed_at = models.DateTimeField()
    source_fingerprint = models.JSONField(
        default=dict, help_text="Hashes of the client record with its agreements, and of technician costs"
    )
    partial_month = models.BooleanField(
        default=False, help_text="Onboarding, churn or still-running month: not a full month of data"
    )
    quality_notes = models.JSONField(default=list, blank=True, help_text="Documented rules applied")

    # Financial
    revenue_recurring = _money()
    revenue_time = _money(help_text="Time and materials")
    revenue_project = _money()
    revenue_product = _money(help_text="Products and licenses resold")
    revenue_expense = _money(help_text="Rebilled expenses")
    revenue_other = _money()
    revenue_total = _money()
    invoiced_total = _money(help_text="Invoice totals incl. tax, for AR and DSO")
    labour_minutes = models.PositiveIntegerField(default=0)
    labour_cost = _money()
    license_cost = _money()
    other_cost = _money()
    gross_margin = _money()
    margin_pct = _ratio("Gross margin / revenue")
    effective_hourly_rate = _money(null=True, blank=True, default=None)
    contribution_per_hour = _money(null=True, blank=True, default=None)
    billable_value = _money(help_text="Billable time at the worklog's hourly price")
    billing_efficiency = _ratio("T&M billed / billable time value, trailing 3 months")
    revenue_growth_3m = _ratio("Last 3 months' revenue vs the 3 before")
    revenue_growth_12m = _ratio("Last 3 months' revenue vs the same 3 months a year earlier")
    mrr = _money(help_text="Contracted monthly recurring value at month end")

    # Payments
    open_ar = _money(help_text="Invoiced and not yet paid at month end")
    dso_days = _ratio("Open AR / invoiced in the last 3 months x days in those months")
    invoices_due = models.PositiveIntegerField(default=0)
    late_invoice_share = _ratio("Invoices due this month not fully paid by their due date")
    invoices_paid = models.PositiveIntegerField(default=0)
    avg_days_late = _ratio("Mean days past due of invoices fully paid this month")

    # Operations
    active_endpoints = models.PositiveIntegerField(default=0)
    tickets = models.PositiveIntegerField(default=0)
    reactive_tickets = models.PositiveIntegerField(default=0)
    tickets_per_endpoint = _ratio()
    reactive_minutes = models.PositiveIntegerField(default=0)
    rhem = _ratio("Reactive hours per endpoint per month")
    avg_resolution_hours = _ratio()
    p90_resolution_hours = _ratio("Nearest-rank 90th percentile")
    first_response_sla = _ratio("Share of measured tickets whose first response met the SLA")
    resolution_sla = _ratio("Share of measured tickets resolved within the SLA")
    reopen_rate = _ratio()
    after_hours_share = _ratio("After-hours minutes / all minutes")
    escalations = models.PositiveIntegerField(default=0)
    technician_concentration = _ratio("Share of labour minutes done by the busiest technician")

    # Engagement and satisfaction
    surveys = models.PositiveIntegerField(default=0)
    low_csat_surveys = models.PositiveIntegerField(default=0, help_text="Scores of 1 or 2")
    csat_avg = _ratio("Mean survey score, 1-5")
    csat_trend = _ratio("CSAT of the last 3 months minus the 3 before")
    survey_response_rate = _ratio("Surveys / tickets, trailing 3 months")
    qbr_count = models.PositiveIntegerField(default=0)
    qbr_last_12m = models.PositiveIntegerField(default=0)
    interactions = models.PositiveIntegerField(default=0)
    interaction_sentiment = _ratio("Mean sentiment, -1..1")
    days_since_contact = models.IntegerField(null=True, blank=True)

    # Contract
    tenure_months = models.IntegerField(null=True, blank=True)
    months_to_renewal = models.IntegerField(null=True, blank=True)
    billed_seats = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    seat_growth_12m = _ratio("Invoiced recurring quantity vs 12 months earlier")
    months_since_price_change = models.IntegerField(null=True, blank=True)
    billed_devices = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    billed_vs_active = _ratio("Billed devices / active endpoints")

    objects = ClientMonthKPIQuerySet.as_manager()

    class Meta:
        ordering = ["client", "month"]
        verbose_name = "client month KPIs"
        verbose_name_plural = "client month KPIs"
        constraints = [models.UniqueConstraint(fields=["client", "month"], name="clientmonthkpi_uniq")]
        indexes = [models.Index(fields=["month"])]

    def __str__(self) -> str:
        return f"{self.client_id} {self.month:%Y-%m}"

    @property
    def labour_hours(self) -> float:
        return self.labour_minutes / 60


class FeatureBuild(models.Model):
    """One run of build_features: what triggered it, what it rebuilt and how long it took."""

    class Trigger(models.TextChoices):
        COMMAND = "command", "Management command"
        TASK = "task", "Task after sync"
        ADMIN = "admin", "Admin"
        TEST = "test", "Test or bench"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.COMMAND)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    since = models.DateField(null=True, blank=True, help_text="Forced rebuild from this month")
    full = models.BooleanField(default=False)
    clients_rebuilt = models.PositiveIntegerField(default=0)
    kpi_rows_written = models.PositiveIntegerField(default=0)
    genome_rows_written = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    sync_watermark = models.BigIntegerField(
        null=True, blank=True, help_text="Sync runs up to this id were fully seen by this build"
    )
    source_state = models.JSONField(
        default=dict, blank=True, help_text="Per source table: row count and highest id when the build started"
    )
    features_version = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"feature build {self.started_at:%Y-%m-%d %H:%M} {self.status}"
