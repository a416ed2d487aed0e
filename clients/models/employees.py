"""The MSP's own staff as its books know them: QuickBooks `Employee` records, with the hourly
cost (CostRate) an MSP uses for job costing. SuperOps has no technician cost, so a
technician's burdened cost comes from the employee linked to it (integrations.technician_costs)."""

from __future__ import annotations

from django.db import models

from .accounts import Technician
from .base import SyncedModel, price_field, source_unique


class Employee(SyncedModel):
    """A QuickBooks employee. `technician` is filled by matching (email, then name) or by a
    person; an employee no technician matches is kept with none (office staff, say)."""

    name = models.CharField(max_length=200, help_text="QuickBooks DisplayName")
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=200, blank=True)
    employee_number = models.CharField(max_length=100, blank=True)
    cost_rate = price_field(
        null=True, blank=True, default=None, help_text="Hourly cost (QuickBooks CostRate); empty when not set there"
    )
    active = models.BooleanField(default=True)
    hired_on = models.DateField(null=True, blank=True)
    released_on = models.DateField(null=True, blank=True)
    technician = models.ForeignKey(
        Technician, null=True, blank=True, on_delete=models.SET_NULL, related_name="employees",
        help_text="The technician this employee is (matched by email, then name; a person may change it)",
    )

    class Meta:
        ordering = ["name"]
        constraints = [source_unique("employee")]

    def __str__(self) -> str:
        return self.name
