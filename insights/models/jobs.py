"""Background jobs asked for through the API (a batch of predictions too large to answer
inline): one row per request with its status, what was asked and, once done, the result, so
`GET /api/v1/jobs/{id}/` can answer from the database whichever worker ran it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiJob(models.Model):
    class Kind(models.TextChoices):
        PREDICTION_BATCH = "prediction_batch", "Batch of predictions"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    params = models.JSONField(default=dict, help_text="What was asked, e.g. {kind, client_ids}")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    result = models.JSONField(null=True, blank=True, help_text="The answer once succeeded")
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"
