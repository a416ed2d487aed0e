"""Scheduled syncs of a source nobody connected are skipped, not recorded as failures."""

import pytest

from clients.models import SyncRun
from integrations.tasks import sync_source_task

pytestmark = pytest.mark.django_db


def test_schedule_skips_unconnected_sources(settings):
    settings.SUPEROPS_API_TOKEN = ""
    settings.SUPEROPS_SUBDOMAIN = ""
    assert sync_source_task("superops", "schedule") is None
    assert sync_source_task("quickbooks", "schedule") is None
    assert not SyncRun.objects.exists()


def test_asking_for_a_sync_of_an_unconnected_source_says_why(settings):
    settings.SUPEROPS_API_TOKEN = ""
    settings.SUPEROPS_SUBDOMAIN = ""
    run = SyncRun.objects.get(pk=sync_source_task("superops", "admin"))
    assert run.status == "failed"
    assert "SUPEROPS_API_TOKEN" in run.error
