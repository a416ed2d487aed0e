"""State of the live sync: watermarks per source and entity, the lease that keeps two runs
of one source apart, QuickBooks connections (tokens encrypted at rest), webhook events
waiting to be fetched, client-match candidates waiting for a person, and the tenant's field
map and value maps (what its custom fields and its own vocabulary mean to us)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from clients.models import Client, Customer, SyncRun

from . import tokens
from .tenant import DEFAULT_FIELD_MAP, VALUE_CHOICES


class SyncCursor(models.Model):
    """How far a source/entity has been read. Advanced in the same transaction as the last
    rows it covers, so a crash never leaves a watermark ahead of the data."""

    source = models.CharField(max_length=16)
    entity = models.CharField(max_length=50)
    watermark = models.CharField(max_length=40, blank=True, help_text="Source time to read changes after")
    last_full_at = models.DateTimeField(null=True, blank=True)
    last_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["source", "entity"]
        constraints = [models.UniqueConstraint(fields=["source", "entity"], name="synccursor_uniq")]

    def __str__(self) -> str:
        return f"{self.source}/{self.entity} after {self.watermark or '(never read)'}"


class SyncLease(models.Model):
    """Who is syncing a source now: "host:pid". A lease whose process is gone is taken over
    and its run marked interrupted."""

    source = models.CharField(max_length=16, unique=True)
    owner = models.CharField(max_length=200, blank=True)
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "sync source"

    def __str__(self) -> str:
        return f"{self.source}: {self.owner or 'free'}"


class QuickBooksConnection(models.Model):
    """One connected QuickBooks company (realm). Tokens are stored encrypted; use the
    properties, never the columns."""

    realm_id = models.CharField(max_length=32, unique=True)
    access_token_encrypted = models.TextField(blank=True, editable=False)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_count = models.PositiveIntegerField(default=0)
    connected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # Why the company's last sync or webhook fetch failed (a revoked refresh token, say);
    # cleared when it is read again. Other companies are read regardless.
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "QuickBooks connection"

    def __str__(self) -> str:
        return f"QuickBooks company {self.realm_id}"

    def __repr__(self) -> str:  # never show a token, even in a traceback
        return f"<QuickBooksConnection realm={self.realm_id}>"

    @property
    def access_token(self) -> str:
        return tokens.decrypt(self.access_token_encrypted)

    @access_token.setter
    def access_token(self, value: str) -> None:
        self.access_token_encrypted = tokens.encrypt(value)

    @property
    def refresh_token(self) -> str:
        return tokens.decrypt(self.refresh_token_encrypted)

    @refresh_token.setter
    def refresh_token(self, value: str) -> None:
        self.refresh_token_encrypted = tokens.encrypt(value)


class WebhookEvent(models.Model):
    """One entity change QuickBooks told us about. The unique key makes duplicate
    deliveries harmless: the second one adds nothing and fetches nothing."""

    realm_id = models.CharField(max_length=32)
    entity = models.CharField(max_length=50)
    entity_id = models.CharField(max_length=64)
    operation = models.CharField(max_length=20)
    # A Merge names the surviving entity; the merged one (deletedId) is gone.
    merged_id = models.CharField(max_length=64, blank=True, help_text="Merge: the id merged into entity_id")
    occurred_at = models.CharField(max_length=40, help_text="lastUpdated / time as sent")
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(
            fields=["realm_id", "entity", "entity_id", "operation", "occurred_at"], name="webhookevent_uniq")]

    def __str__(self) -> str:
        return f"{self.entity} {self.entity_id} {self.operation}"


class ClientMatchCandidate(models.Model):
    """A QuickBooks customer that may be a SuperOps client, found by fuzzy name or email
    domain with too little confidence to link on its own. A person accepts or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="match_candidates")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="match_candidates")
    score = models.FloatField(help_text="0-100")
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "-score"]
        constraints = [models.UniqueConstraint(fields=["customer", "client"], name="matchcandidate_uniq")]

    def __str__(self) -> str:
        return f"{self.customer} ~ {self.client} ({self.score:.0f})"


class UnmatchedClient(Client):
    """SuperOps clients no QuickBooks customer is linked to, listed for a person."""

    class Meta:
        proxy = True
        verbose_name = "unmatched client"


class CustomerLink(models.Model):
    """SuperOps' own link from a client to its QuickBooks customer (the client's
    customFields.quickbooksCustomerId), kept from the SuperOps sync for the exact-id match."""

    quickbooks_customer_id = models.CharField(max_length=64, unique=True)
    account_id = models.CharField(max_length=64, help_text="SuperOps client accountId")

    def __str__(self) -> str:
        return f"QuickBooks customer {self.quickbooks_customer_id} -> SuperOps client {self.account_id}"


class FieldMap(models.Model):
    """Which custom field of the tenant holds a concept we read ("client.industry" ->
    "Industry"). Seeded with the project's conventions; a person renames a label when the
    tenant calls the field something else, or blanks it when the tenant does not keep it
    (the concept is then unknown, never a reason to refuse a record)."""

    concept = models.CharField(max_length=60, unique=True, help_text='e.g. "client.industry"')
    label = models.CharField(max_length=100, blank=True,
                             help_text="The custom field's label in SuperOps (blank: not kept)")
    note = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["concept"]
        verbose_name = "custom field map"

    def __str__(self) -> str:
        return f"{self.concept} <- {self.label or '(not kept)'}"

    def clean(self) -> None:
        if self.concept not in DEFAULT_FIELD_MAP:
            raise ValidationError({"concept": f"not a concept we read; one of: {', '.join(DEFAULT_FIELD_MAP)}"})


class ValueMap(models.Model):
    """What one of the tenant's own values means to us: a client stage or status, a ticket
    priority, status or category. Rows are added with the default meaning from SuperOps' stage
    and priority lists and for every value a load meets; a person changes `our_value` and the
    next load applies it."""

    class Kind(models.TextChoices):
        CLIENT_STAGE = "client_stage", "Client stage"
        CLIENT_STATUS = "client_status", "Client status"
        TICKET_PRIORITY = "ticket_priority", "Ticket priority"
        TICKET_STATUS = "ticket_status", "Ticket status"
        TICKET_CATEGORY = "ticket_category", "Ticket category"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    source_value = models.CharField(max_length=100, help_text="The value as SuperOps sends it")
    our_value = models.CharField(
        max_length=20, blank=True,
        help_text="Client: active / churned / prospect. Priority: critical / high / medium / low. "
                  "Ticket status: open / waiting / resolved / closed. Category: reactive / proactive / blank",
    )
    seeded = models.BooleanField(
        default=False, help_text="Added by a sync (from SuperOps' lists or first seen in a record), not by a person")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "source_value"]
        constraints = [models.UniqueConstraint(fields=["kind", "source_value"], name="valuemap_uniq")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.source_value!r} -> {self.our_value or '(default)'}"

    def clean(self) -> None:
        allowed = VALUE_CHOICES.get(self.kind, ())
        if self.our_value not in allowed:
            raise ValidationError({"our_value": f"must be one of: {', '.join(v or '(blank)' for v in allowed)}"})
