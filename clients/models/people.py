"""The people of a client: its users as the service desk knows them (SuperOps client users),
for per-user contracts (seats billed vs users who exist) and seat checks."""

from __future__ import annotations

from django.db import models

from .accounts import Client
from .base import SyncedModel, source_unique


class ClientUser(SyncedModel):
    """A person at a client who can raise tickets (SuperOps `ClientUser`)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="users")
    name = models.CharField(max_length=200)
    email = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=100, blank=True, help_text="SuperOps role, e.g. Client User")
    site_name = models.CharField(max_length=200, blank=True)
    # SuperOps' ClientUser has no active flag: a user removed there disappears from the list
    # and the full read marks the row deleted; `active` is for people to switch off locally.
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["client", "name"]
        constraints = [source_unique("clientuser")]
        indexes = [models.Index(fields=["client", "active"])]

    def __str__(self) -> str:
        return self.name
