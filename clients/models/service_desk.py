"""The service desk: tickets, the time logged against them, satisfaction surveys and
account-management interactions."""

from __future__ import annotations

from django.db import models

from .accounts import Asset, Client, Contract, ServiceItem, Technician
from .base import SyncedModel, currency_field, price_field, source_unique


class Ticket(SyncedModel):
    class Priority(models.TextChoices):
        P1 = "critical", "P1 Critical"
        P2 = "high", "P2 High"
        P3 = "medium", "P3 Medium"
        P4 = "low", "P4 Low"

    class Channel(models.TextChoices):
        FORM = "form", "Portal form"
        AGENT = "agent", "RMM agent alert"
        EMAIL = "email", "Email"
        AI = "ai", "AI"
        PHONE = "phone", "Phone"
        INTEGRATION = "integration", "Integration"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="tickets")
    technician = models.ForeignKey(
        Technician, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    display_id = models.CharField(max_length=32, blank=True)
    subject = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    ticket_type = models.CharField(max_length=20, blank=True, help_text="INCIDENT or SERVICE_REQUEST")
    request_type = models.CharField(max_length=50, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    class StatusGroup(models.TextChoices):
        OPEN = "open", "Open"
        WAITING = "waiting", "Waiting"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    # Tenant-configured values are kept as sent (status, priority_label, category); what they
    # mean to us (status_group, priority, and whether a category is planned work) comes from
    # the integrations ValueMap, so a value no one mapped yet never loses the ticket.
    status = models.CharField(max_length=30, blank=True)
    status_group = models.CharField(max_length=10, choices=StatusGroup.choices, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    priority_label = models.CharField(max_length=50, blank=True, help_text="The tenant's priority, as sent")
    category = models.CharField(max_length=100, blank=True)
    subcategory = models.CharField(max_length=100, blank=True)
    # Reactive = something broke and the client asked for help; proactive = planned work
    # (maintenance, patching, onboarding). RHEM counts only reactive hours.
    is_reactive = models.BooleanField(default=True)
    sla_name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_violated = models.BooleanField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_violated = models.BooleanField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    escalated = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [source_unique("ticket")]
        indexes = [
            models.Index(fields=["client", "created_at"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["technician", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.display_id or self.external_id} {self.subject}"


class WorklogQuerySet(models.QuerySet):
    def labour(self) -> WorklogQuerySet:
        """Time that counts as labour: the service desk's worklogs.

        MSPs often key onsite time into QuickBooks as well (TimeActivity) to bill it, so
        counting both would count those hours twice; QuickBooks time is kept for billing
        reconciliation only.
        """
        return self.filter(source=LABOUR_SOURCE, deleted_at_source__isnull=True)


LABOUR_SOURCE = "superops"


class Worklog(SyncedModel):
    """Time a technician spent: a SuperOps worklog entry or a QuickBooks TimeActivity."""

    objects = WorklogQuerySet.as_manager()

    class BillingStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        IGNORED = "ignored", "Ignored"
        INVOICED = "invoiced", "Invoiced"
        UNDER_CONTRACT = "under_contract", "Under contract"

    # Empty only for QuickBooks time whose customer is not linked to a client yet: the row is
    # kept (not set aside) and gets its client when the matcher links the customer.
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.CASCADE, related_name="worklogs")
    customer = models.ForeignKey(
        "clients.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="worklogs",
        help_text="QuickBooks customer of a TimeActivity (empty for service-desk worklogs)",
    )
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="worklogs")
    technician = models.ForeignKey(
        Technician, null=True, blank=True, on_delete=models.SET_NULL, related_name="worklogs"
    )
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="worklogs"
    )
    service_item = models.ForeignKey(
        ServiceItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="worklogs"
    )
    work_date = models.DateField()
    started_at = models.DateTimeField(null=True, blank=True)
    minutes = models.PositiveIntegerField()
    billable = models.BooleanField(default=False)
    after_hours = models.BooleanField(default=False)
    unit_price = price_field(help_text="Hourly price charged for this time")
    # QuickBooks TimeActivity.CostRate: what an hour of this time cost (empty for SuperOps
    # worklogs); a technician's cost falls back to it when no employee record has a rate.
    cost_rate = price_field(null=True, blank=True, default=None, help_text="Hourly cost of this time (QuickBooks)")
    currency = currency_field()
    billing_status = models.CharField(max_length=16, choices=BillingStatus.choices, blank=True)
    # SuperOps logs time on a ticket or on a project (no ticket then; the client comes along).
    work_module = models.CharField(max_length=10, blank=True, help_text="TICKET or PROJECT (SuperOps)")
    work_id = models.CharField(max_length=64, blank=True, help_text="The ticket or project id the time is for")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-work_date"]
        constraints = [source_unique("worklog")]
        indexes = [
            models.Index(fields=["client", "work_date"]),
            models.Index(fields=["work_date"]),
            models.Index(fields=["technician", "work_date"]),
        ]

    @property
    def hours(self):
        return self.minutes / 60


class SatisfactionSurvey(SyncedModel):
    """A client's answer to the post-ticket satisfaction survey (1 = unhappy, 5 = delighted)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="surveys")
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="surveys")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    responded_at = models.DateTimeField()

    class Meta:
        ordering = ["-responded_at"]
        constraints = [source_unique("survey")]
        indexes = [models.Index(fields=["client", "responded_at"])]


class Interaction(SyncedModel):
    """A touchpoint outside tickets: quarterly business review, call, email, site visit."""

    class Kind(models.TextChoices):
        QBR = "qbr", "Quarterly business review"
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        ONSITE = "onsite", "Site visit"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    owner = models.CharField(max_length=200, blank=True, help_text="Account manager or technician")
    summary = models.TextField(blank=True)
    sentiment = models.SmallIntegerField(null=True, blank=True, help_text="-1 negative, 0 neutral, 1 positive")

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [source_unique("interaction")]
        indexes = [models.Index(fields=["client", "occurred_at"])]

