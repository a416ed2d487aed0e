"""Churn early warnings and retention interventions: a ChurnWarning row when a client's churn
tier rises between two scored months (the alerts push these live), and an Intervention row
per retention action a person logs for a client (what, when, by whom, how it went)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from clients.models import Client

from .registry import ModelVersion

TIERS = ("low", "medium", "high", "critical")


class ChurnWarning(models.Model):
    """A client moved into a higher churn tier than at its previous scored month."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="churn_warnings")
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    as_of = models.DateField(help_text="First day of the month whose end the new tier was scored at")
    previous_as_of = models.DateField()
    tier = models.CharField(max_length=10)
    previous_tier = models.CharField(max_length=10)
    risk = models.FloatField(help_text="Churn risk 0-100")
    previous_risk = models.FloatField()
    reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-as_of", "client"]
        constraints = [models.UniqueConstraint(fields=["client", "as_of"], name="churnwarning_client_month_uniq")]

    def __str__(self) -> str:
        return f"{self.client} {self.previous_tier} -> {self.tier} ({self.as_of:%Y-%m})"


class Intervention(models.Model):
    """A retention action taken with a client, and how it turned out."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        RETAINED = "retained", "Retained"
        LOST = "lost", "Lost"
        NO_EFFECT = "no_effect", "No visible effect"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="interventions")
    action = models.CharField(max_length=200, help_text="e.g. service review, billing conversation, QBR")
    date = models.DateField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    notes = models.TextField(blank=True)
    who = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+", help_text="Who took the action")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date"]
        indexes = [models.Index(fields=["client", "date"])]

    def __str__(self) -> str:
        return f"{self.client}: {self.action} ({self.date})"
