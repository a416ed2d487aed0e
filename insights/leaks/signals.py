"""Run leak detection after every feature build that changed something (ml.features.signals.features_built):
every load that changed data (a sync, a webhook, import_dump) queues a feature build, and the
rules read the KPIs it writes (billing_anomaly) besides the synced rows, so detection follows
the build rather than the load, once per load. Connected by the insights app's `ready()`. Turn
off with settings.LEAKS_DETECT_AFTER_SYNC = False."""

from __future__ import annotations

from django.conf import settings
from django.dispatch import receiver

from ml.features.signals import features_built


@receiver(features_built, dispatch_uid="insights.detect_leaks_after_build")
def detect_after_build(sender, build_id: int | None = None, changed: bool = True, **kwargs) -> None:
    if not changed or not getattr(settings, "LEAKS_DETECT_AFTER_SYNC", True):
        return
    from insights.leaks.tasks import queue_detect_leaks

    queue_detect_leaks()
