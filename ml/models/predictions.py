"""Predictions as rows: written by batch scoring after each training and each feature build,
read by pages and the API, which never train or score on the request path."""

from __future__ import annotations

from django.db import models

from clients.models import Client

from .querysets import PredictionQuerySet
from .registry import ModelVersion


class Prediction(models.Model):
    """One model version's answer for one client as of one month end, with its interval and
    the explanation a person reads. A challenger's predictions are stored beside the
    champion's (role) so the two can be compared once the outcome is known."""

    class Role(models.TextChoices):
        CHAMPION = "champion", "Champion (serves pages)"
        CHALLENGER = "challenger", "Challenger (shadow)"

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="predictions")
    kind = models.CharField(max_length=32, help_text="The model kind, copied for queries by kind")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="predictions")
    as_of = models.DateField(help_text="First day of the month whose end the prediction is made at")
    value = models.FloatField()
    lower = models.FloatField(null=True, blank=True, help_text="Lower bound of the interval")
    upper = models.FloatField(null=True, blank=True, help_text="Upper bound of the interval")
    explanation = models.JSONField(
        default=dict, blank=True,
        help_text='{"text": plain words, "contributions": [{"feature", "value", "effect"}, ...]}',
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CHAMPION)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PredictionQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "client", "-as_of"]
        constraints = [
            models.UniqueConstraint(fields=["model_version", "client", "as_of"], name="prediction_uniq"),
        ]
        indexes = [models.Index(fields=["kind", "as_of", "role"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_id} {self.as_of:%Y-%m}: {self.value:.3g}"
