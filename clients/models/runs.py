"""Every load of outside data is a run with its counts; records that could not be
loaded are kept aside with their payload and the reason."""

from __future__ import annotations

import hashlib
import json

from django.db import models


class SyncRun(models.Model):
    class Trigger(models.TextChoices):
        COMMAND = "command", "Management command"
        SCHEDULE = "schedule", "Schedule"
        ADMIN = "admin", "Admin"
        WEBHOOK = "webhook", "Webhook"
        DUMP = "dump", "Dump import"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        # Records set aside, or one connected company failed while the others were read.
        PARTIAL = "partial", "Partly succeeded: see the error and the set-aside records"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=16)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    set_aside = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    detail = models.CharField(max_length=500, blank=True, help_text="e.g. the dump folder or the sync mode")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.source} {self.trigger} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class RejectedRecord(models.Model):
    """A payload record that could not be loaded, kept so a person can see why."""

    source = models.CharField(max_length=16)
    realm = models.CharField(max_length=32, blank=True, default="",
                             help_text="The QuickBooks company the record came from (blank for SuperOps)")
    entity = models.CharField(max_length=50, help_text="API list or entity, e.g. getTicketList, Invoice")
    external_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField()
    payload_hash = models.CharField(max_length=64, editable=False)
    reason = models.TextField()
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="rejects")
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["-first_seen_at"]
        # The same bad payload seen on every run is one row, not one per run.
        constraints = [
            models.UniqueConstraint(fields=["source", "realm", "entity", "payload_hash"],
                                    name="rejected_payload_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.source}/{self.entity} {self.external_id or '?'}: {self.reason}"

    @staticmethod
    def hash_payload(payload) -> str:
        raw = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(raw).hexdigest()
