"""The Client Profitability Genome as stored: one 50-dimension vector per client per month,
tagged with the schema version that defined it, and the named segments it was clustered into."""

from __future__ import annotations

from django.db import models

from clients.models import Client

from .querysets import GenomeVectorQuerySet


class Segment(models.Model):
    """A cluster of clients for one month and genome schema, named from what sets it apart."""

    month = models.DateField()
    schema_version = models.CharField(max_length=16)
    key = models.PositiveSmallIntegerField(help_text="Cluster number within the month")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    size = models.PositiveIntegerField(default=0, help_text="Clients in the segment now")
    centroid = models.JSONField(
        default=list, help_text="Mean scaled vector of the members when clustered; clients join the nearest"
    )
    distinctive = models.JSONField(
        default=list, help_text="Dimensions furthest from the portfolio mean: [{code, delta}]"
    )
    silhouette = models.FloatField(null=True, blank=True, help_text="Of the chosen k, whole portfolio")
    k = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["month", "key"]
        constraints = [models.UniqueConstraint(fields=["month", "schema_version", "key"], name="segment_uniq")]

    def __str__(self) -> str:
        return f"{self.name} ({self.month:%Y-%m})"


class GenomeVector(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="genome_vectors")
    month = models.DateField()
    schema_version = models.CharField(max_length=16)
    values = models.JSONField(help_text="50 portfolio-scaled values in [0, 1], oriented per group")
    raw = models.JSONField(help_text="50 unscaled values (None where missing)")
    missing = models.JSONField(default=list, help_text="Dimensions imputed at the portfolio median")
    financial_health = models.FloatField()
    operational_efficiency = models.FloatField()
    engagement = models.FloatField()
    growth_potential = models.FloatField()
    risk_factors = models.FloatField(help_text="Higher = riskier")
    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    computed_at = models.DateTimeField()

    objects = GenomeVectorQuerySet.as_manager()

    class Meta:
        ordering = ["client", "month"]
        constraints = [models.UniqueConstraint(fields=["client", "month", "schema_version"], name="genomevector_uniq")]
        indexes = [models.Index(fields=["month", "schema_version"])]

    def __str__(self) -> str:
        return f"genome {self.client_id} {self.month:%Y-%m} v{self.schema_version}"

    @property
    def group_scores(self) -> dict[str, float]:
        return {
            "financial_health": self.financial_health,
            "operational_efficiency": self.operational_efficiency,
            "engagement": self.engagement,
            "growth_potential": self.growth_potential,
            "risk_factors": self.risk_factors,
        }
