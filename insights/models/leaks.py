"""Revenue-leak findings and what people did with them.

A `LeakFinding` is money a reconciliation rule (insights/leaks/) believes the MSP earned and
did not bill: one per (type, client, month), so running detection again updates the finding
instead of adding another, and a finding someone dismissed or recovered keeps its verdict.
A `LeakFindingEvent` records every status change (who, when, from, to, note, amount), and a
`LeakDetectionRun` each detection run with what every rule did.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from clients.models import Client


class FindingType(models.TextChoices):
    UNBILLED_WORKLOG = "unbilled_worklog", "Unbilled worklog"
    SEAT_UNDERBILLING = "seat_underbilling", "Seats above the billed quantity"
    EXPIRED_CONTRACT_WORK = "expired_contract_work", "Work under an expired agreement"
    RATE_BELOW_CONTRACT = "rate_below_contract", "Invoiced below the contract price"
    MISSED_ESCALATOR = "missed_escalator", "Price escalator not applied"
    MISSING_RECURRING_INVOICE = "missing_recurring_invoice", "Recurring invoice missing"
    UNBILLED_EXPENSE = "unbilled_expense", "Billable expense never rebilled"
    LICENSE_UNDERBILLING = "license_underbilling", "Licences rebilled short"
    AFTER_HOURS_UNDERBILLING = "after_hours_underbilling", "After-hours work at the business rate"
    OUT_OF_SCOPE_COVERED = "out_of_scope_covered", "Out-of-scope work logged as covered"
    BILLING_ANOMALY = "billing_anomaly", "Billing anomaly"


class LeakFinding(models.Model):
    """Money that should have been billed, with the rows that show it and what to do."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CONFIRMED = "confirmed", "Confirmed"
        RECOVERED = "recovered", "Recovered"
        DISMISSED = "dismissed", "Dismissed"

    finding_type = models.CharField(max_length=32, choices=FindingType.choices)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="leak_findings")
    period = models.DateField(help_text="First day of the month the leak belongs to")
    evidence = models.JSONField(default=dict, blank=True, help_text="Ids of the rows that show the leak")
    estimated_amount = models.DecimalField(
        max_digits=14, decimal_places=2, default=0, help_text="Estimated recoverable amount (home currency)"
    )
    confidence = models.FloatField(default=0.0, help_text="0-1: how sure the rule is")
    recommendation = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    recovered_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    dismiss_reason = models.TextField(blank=True)
    detector = models.CharField(max_length=64, help_text="The rule that found it")
    rule_version = models.CharField(max_length=16)
    first_detected_at = models.DateTimeField(auto_now_add=True)
    last_detected_at = models.DateTimeField()
    # False once a run of its rule no longer finds it (billed since, data corrected): kept,
    # not deleted, because someone may already be acting on it.
    still_detected = models.BooleanField(default=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period", "-estimated_amount"]
        constraints = [
            models.UniqueConstraint(fields=["finding_type", "client", "period"], name="leakfinding_type_client_month"),
        ]
        indexes = [models.Index(fields=["status", "period"]), models.Index(fields=["client", "period"])]

    def __str__(self) -> str:
        return f"{self.get_finding_type_display()}: {self.client} {self.period_label}"

    @property
    def period_label(self) -> str:
        return self.period.strftime("%Y-%m")


class LeakFindingEvent(models.Model):
    """One status change of a finding (its creation by a detection run included)."""

    finding = models.ForeignKey(LeakFinding, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    # The name is kept as it was, so the trail still reads after the account is removed.
    username = models.CharField(max_length=150, blank=True, help_text="Blank: a detection run")
    at = models.DateTimeField()
    note = models.TextField(blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["finding", "at", "pk"]

    def __str__(self) -> str:
        who = self.username or "detection"
        return f"{self.from_status or '-'} -> {self.to_status} by {who} at {self.at:%Y-%m-%d %H:%M}"


class LeakDetectionRun(models.Model):
    """One run of detect_leaks: when, why, and what each rule did (or the error it raised)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Some rules failed"
        FAILED = "failed", "Failed"

    trigger = models.CharField(max_length=16, help_text="command, task, admin or test")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    results = models.JSONField(default=dict, blank=True, help_text="Per rule: status, counts, seconds or error")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Leak detection {self.started_at:%Y-%m-%d %H:%M} ({self.status})"
