"""Queue a feature build after each finished sync: when a SyncRun is saved as succeeded (or
succeeded with records set aside), build_features_task is queued on commit. Builds are
incremental and idempotent, so the runs of one sync queueing several builds costs only the
cheap change detection of the later ones. Turn off with settings.ML_BUILD_AFTER_SYNC = False."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from clients.models import SyncRun

FINISHED = (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL)


@receiver(post_save, sender=SyncRun, dispatch_uid="ml.build_after_sync")
def build_after_sync(sender, instance: SyncRun, created: bool, **kwargs) -> None:
    if not getattr(settings, "ML_BUILD_AFTER_SYNC", True) or instance.status not in FINISHED:
        return
    from ml.tasks import queue_build_features

    queue_build_features()
