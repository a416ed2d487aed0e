"""Who the MSP serves and with what: clients, their QuickBooks customers, technicians,
the service catalogue, contracts (agreements) and managed endpoints."""

from __future__ import annotations

from django.db import models

from .base import SyncedModel, currency_field, money_field, price_field, source_unique


class Client(SyncedModel):
    """A client account as the service desk (SuperOps) knows it."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CHURNED = "churned", "Churned"
        PROSPECT = "prospect", "Prospect"

    name = models.CharField(max_length=200)
    email_domain = models.CharField(max_length=200, blank=True)
    stage = models.CharField(max_length=50, blank=True, help_text="The tenant's stage, as SuperOps sends it")
    # `status` is what the stage and status mean to us (integrations ValueMap); the tenant's
    # own status text is kept as sent, so a value no one mapped yet still shows.
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_label = models.CharField(max_length=50, blank=True, help_text="The tenant's status, as SuperOps sends it")
    industry = models.CharField(max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    account_manager = models.CharField(max_length=200, blank=True)
    onboarded_on = models.DateField(null=True, blank=True)
    churned_on = models.DateField(null=True, blank=True)
    churn_reason = models.CharField(max_length=200, blank=True)
    currency = currency_field()

    class Meta:
        ordering = ["name"]
        constraints = [source_unique("client")]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["email_domain"])]

    def __str__(self) -> str:
        return self.name


class Customer(SyncedModel):
    """A QuickBooks Online customer; linked to the service-desk client it bills."""

    class MatchMethod(models.TextChoices):
        NONE = "", "Unmatched"
        EXTERNAL_ID = "external_id", "Linked id"
        NAME = "name", "Exact name"
        EMAIL_DOMAIN = "email_domain", "Email domain"
        FUZZY = "fuzzy", "Fuzzy name"
        MANUAL = "manual", "Set by a person"
        PARENT = "parent", "Parent customer's client"

    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers"
    )
    display_name = models.CharField(max_length=200)
    company_name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    currency = currency_field()
    balance = money_field()
    payment_terms_days = models.PositiveSmallIntegerField(null=True, blank=True)
    match_method = models.CharField(max_length=16, choices=MatchMethod.choices, blank=True)
    match_confidence = models.FloatField(null=True, blank=True)
    # A sub-customer (a site or a job: QuickBooks Job=true) bills for its parent's client.
    parent_external_id = models.CharField(
        max_length=64, blank=True, help_text="QuickBooks Id of the parent customer (ParentRef) of a sub-customer"
    )

    class Meta:
        ordering = ["display_name"]
        constraints = [source_unique("customer")]

    def __str__(self) -> str:
        return self.display_name


class Technician(SyncedModel):
    """A technician. SuperOps has no labour cost: the burdened cost comes from the linked
    QuickBooks employee's CostRate (integrations.technician_costs), unless a person set it."""

    name = models.CharField(max_length=200)
    email = models.CharField(max_length=200, blank=True)
    designation = models.CharField(max_length=100, blank=True)
    team = models.CharField(max_length=100, blank=True)
    tier = models.PositiveSmallIntegerField(null=True, blank=True)
    burdened_hourly_cost = price_field(
        help_text="Wage plus benefits, taxes and overhead per hour (from QuickBooks' employee CostRate unless set "
                  "here)"
    )
    # Set when a person edits the cost in the admin: a loaded CostRate never overwrites it.
    # Untick it to hand the cost back to QuickBooks.
    cost_set_locally = models.BooleanField(
        default=False, help_text="The cost was set by a person; QuickBooks' CostRate does not replace it"
    )
    cost_currency = currency_field()
    active = models.BooleanField(default=True)

    # Columns a person may own: while the flag is set, no load writes the column (the loader
    # reads this; technician_costs keeps to the same rule).
    SET_LOCALLY = {"burdened_hourly_cost": "cost_set_locally"}

    class Meta:
        ordering = ["name"]
        constraints = [source_unique("technician")]

    def __str__(self) -> str:
        return self.name


class ServiceItem(SyncedModel):
    """A billable item of the catalogue: a SuperOps service item or a QuickBooks Item."""

    class QuantityType(models.TextChoices):
        UNITS = "units", "Units"
        HOURS = "hours", "Hours"
        BLOCK_HOURS = "block_hours", "Block hours"
        BLOCK_MONEY = "block_money", "Block money"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    quantity_type = models.CharField(max_length=16, choices=QuantityType.choices, default="units")
    unit_price = price_field()
    after_hours_unit_price = price_field(null=True, blank=True)
    cost_price = price_field(null=True, blank=True)
    currency = currency_field()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [source_unique("serviceitem")]

    def __str__(self) -> str:
        return self.name


class Contract(SyncedModel):
    """An agreement with a client and how it is priced."""

    class Kind(models.TextChoices):
        PER_DEVICE = "per_device", "Per device"
        PER_USER = "per_user", "Per user"
        BLOCK_HOURS = "block_hours", "Block hours"
        TIME_AND_MATERIALS = "time_and_materials", "Time and materials"
        PROJECT = "project", "Project"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        CANCELLED = "cancelled", "Cancelled"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contracts")
    service_item = models.ForeignKey(
        ServiceItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="contracts"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    billed_quantity = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    unit_price = price_field(help_text="Price per device/user/month, or block price")
    included_hours = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    hourly_rate = price_field(help_text="Rate for time billed outside the agreement")
    after_hours_rate = price_field(null=True, blank=True)
    annual_escalator_pct = models.DecimalField(
        max_digits=5, decimal_places=2, default=0, help_text="Yearly price increase, percent"
    )
    billing_frequency_months = models.PositiveSmallIntegerField(default=1)
    frequency_type = models.CharField(max_length=12, blank=True, help_text="SuperOps: ONCE, PERPETUAL or RECURRING")
    discount_pct = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, help_text="Discount on the agreement, percent"
    )
    auto_renew = models.BooleanField(default=False)
    included_item_ids = models.JSONField(
        default=list, blank=True, help_text="Service items the agreement covers (SuperOps includedItems ids)"
    )
    cancelled_on = models.DateField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=200, blank=True)
    currency = currency_field()

    class Meta:
        ordering = ["client", "start_date"]
        constraints = [source_unique("contract")]
        indexes = [models.Index(fields=["client", "status"]), models.Index(fields=["end_date"])]

    def __str__(self) -> str:
        return f"{self.client} — {self.name}"

    @property
    def monthly_value(self):
        """Recurring value per month of a per-seat agreement (0 for time-based ones)."""
        if self.kind in (self.Kind.PER_DEVICE, self.Kind.PER_USER):
            return self.billed_quantity * self.unit_price
        if self.kind == self.Kind.BLOCK_HOURS:
            return self.unit_price / max(self.billing_frequency_months, 1)
        return 0


class Asset(SyncedModel):
    """A managed endpoint (workstation, server, network device)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="assets")
    name = models.CharField(max_length=200)
    asset_class = models.CharField(max_length=50, blank=True)
    platform = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=30, blank=True)
    added_on = models.DateField(null=True, blank=True)
    retired_on = models.DateField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["client", "name"]
        constraints = [source_unique("asset")]
        indexes = [models.Index(fields=["client", "added_on", "retired_on"])]

    def __str__(self) -> str:
        return self.name
