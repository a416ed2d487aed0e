"""The Alert: one row per anomaly a person should look at, deduplicated within a suppression
window (a repeat bumps `count` and `last_seen` instead of adding a row), with its status
(open -> acknowledged -> resolved, each with who and when) and when it was escalated."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Alert(models.Model):
    class Kind(models.TextChoices):
        TICKET_SURGE = "ticket_surge", "Ticket surge"
        LONG_WORKLOG = "long_worklog", "Worklog far longer than its kind"
        INVOICE_OFF_PATTERN = "invoice_off_pattern", "Invoice off the client's pattern"
        PAYMENT_REVERSAL = "payment_reversal", "Payment reversal"
        SLA_BREACH_RUN = "sla_breach_run", "Run of SLA breaches"
        CHURN_WARNING = "churn_warning", "Churn early warning"
        LEAK_FINDING = "leak_finding", "Revenue leak finding"
        FORECAST_DRIFT = "forecast_drift", "Forecast drift"

    class Severity(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    client = models.ForeignKey("clients.Client", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="alerts")
    title = models.CharField(max_length=200)
    message = models.TextField(help_text="What happened, in words, with the figures that made it an alert")
    evidence = models.JSONField(default=dict, blank=True, help_text="Ids of the rows behind the alert")
    dedup_key = models.CharField(max_length=200, help_text="Repeats with this key inside the window are one alert")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    count = models.PositiveIntegerField(default=1, help_text="How many times it was raised inside the window")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    escalated_at = models.DateTimeField(null=True, blank=True,
                                        help_text="When the unacknowledged critical alert was e-mailed")

    class Meta:
        ordering = ["-last_seen"]
        indexes = [
            # The dedup look-up on every raise, and the escalation sweep.
            models.Index(fields=["dedup_key", "last_seen"]),
            models.Index(fields=["status", "severity", "first_seen"]),
            models.Index(fields=["client", "last_seen"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_severity_display()}: {self.title}"
