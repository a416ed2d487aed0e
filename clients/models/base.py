"""Shared pieces of every synced record: where it came from and which run last wrote it."""

from __future__ import annotations

from django.db import models


class Source(models.TextChoices):
    SUPEROPS = "superops", "SuperOps"
    QUICKBOOKS = "quickbooks", "QuickBooks Online"
    # Records an MSP keeps outside both systems (QBR calendar, CRM export).
    LOCAL = "local", "Local import"


# Money columns: 14 digits is enough for a large MSP's yearly revenue in cents;
# unit prices keep four places because QuickBooks accepts them (e.g. $0.4500 per GB).
def money_field(**kwargs) -> models.DecimalField:
    kwargs.setdefault("max_digits", 14)
    kwargs.setdefault("decimal_places", 2)
    kwargs.setdefault("default", 0)
    return models.DecimalField(**kwargs)


def price_field(**kwargs) -> models.DecimalField:
    kwargs.setdefault("max_digits", 14)
    kwargs.setdefault("decimal_places", 4)
    kwargs.setdefault("default", 0)
    return models.DecimalField(**kwargs)


def currency_field() -> models.CharField:
    return models.CharField(max_length=3, default="USD", help_text="ISO 4217 code")


class SyncedModel(models.Model):
    """A row that mirrors one record of an outside system.

    (source, realm, external_id) is unique so loading the same payload twice updates
    the row instead of adding another one. `realm` is the QuickBooks company (realm id) a
    row came from: two connected companies number their records independently, so the same
    Id in both is two rows. SuperOps and local rows keep "".
    """

    source = models.CharField(max_length=16, choices=Source.choices)
    realm = models.CharField(
        max_length=32, blank=True, default="",
        help_text="QuickBooks company (realm id) the row came from; blank elsewhere",
    )
    external_id = models.CharField(max_length=64)
    source_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="Last-modified time reported by the source system"
    )
    sync_run = models.ForeignKey(
        "clients.SyncRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The run that last wrote this row",
    )
    deleted_at_source = models.DateTimeField(
        null=True, blank=True, help_text="Set when the source reports the record deleted"
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.source}:{self.realm + '/' if self.realm else ''}{self.external_id}"


def source_unique(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=["source", "realm", "external_id"], name=f"{name}_source_realm_extid_uniq")
