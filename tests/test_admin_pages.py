"""The admin site: every registered model's list opens for a superuser, and the row-change
journal is shown read-only."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib import admin
from django.urls import reverse

from clients.models import Client, RowChange, Technician, Worklog

pytestmark = pytest.mark.django_db


def test_every_admin_list_opens(admin_client):
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert admin_client.get(url).status_code == 200, url


def test_row_change_journal_is_listed_and_read_only(admin_client):
    client = Client.objects.create(source="superops", external_id="1", name="Acme Dental")
    tech = Technician.objects.create(source="superops", external_id="t1", name="Dana")
    worklog = Worklog.objects.create(
        source="superops", external_id="w1", client=client, technician=tech, work_date=date(2025, 3, 4), minutes=30
    )
    worklog.work_date = date(2025, 4, 1)
    worklog.save()  # a person re-dates it: both months are journalled
    assert set(RowChange.objects.values_list("table_key", "client_id", "day")) == {
        ("worklogs", client.pk, date(2025, 3, 4)),
        ("worklogs", client.pk, date(2025, 4, 1)),
    }
    page = admin_client.get(reverse("admin:clients_rowchange_changelist"))
    assert page.status_code == 200 and b"worklogs" in page.content
    assert admin_client.get(reverse("admin:clients_rowchange_add")).status_code == 403
