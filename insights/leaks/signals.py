"""Run leak detection after every load that changed data (clients.signals.data_loaded, sent by
import_dump and the sync engine). Connected when this module is imported: the insights app's
`ready()` is the place (`from insights.leaks import signals  # noqa: F401`). Turn off with
settings.LEAKS_DETECT_AFTER_SYNC = False."""

from __future__ import annotations

from django.conf import settings
from django.dispatch import receiver

from clients.signals import data_loaded


@receiver(data_loaded, dispatch_uid="insights.detect_leaks_after_load")
def detect_after_load(sender, run_id: int | None = None, **kwargs) -> None:
    if not getattr(settings, "LEAKS_DETECT_AFTER_SYNC", True):
        return
    from insights.leaks.tasks import queue_detect_leaks

    queue_detect_leaks()
