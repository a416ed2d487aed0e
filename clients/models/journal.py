"""Where rows stood before they changed: written by database triggers, read by the feature
build.

An incremental KPI build finds new rows by id and rows a sync rewrote by their sync run, but
neither says where a row *was*: a worklog re-dated from October to November, a ticket moved to
another client, an invoice deleted in the admin. Without the old (client, month) the snapshot
would keep October's labour. Triggers on the monthly tables (migrations 0002 and 0004) record
that old position on every UPDATE and DELETE, from any writer (the loader, the admin, a SQL
console), and the new position when a row moved. One update is left out: a row a newer sync
run stamped where it stood (same client, same date), which the build finds by its stamp; a
sync that re-delivers a month would otherwise journal every row of it. The feature build
reads the rows, rebuilds those months and deletes the rows it read.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now


class RowChange(models.Model):
    """One (client, day) a changed or deleted row fed; `table_key` is the feature store's key."""

    table_key = models.CharField(max_length=20, help_text="tickets, worklogs, invoices, ...")
    # A plain id, not a foreign key: the client may be the thing being deleted.
    client_id = models.BigIntegerField(null=True)
    day = models.DateField(null=True)
    recorded_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.table_key} client {self.client_id} {self.day}"
