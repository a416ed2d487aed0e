"""Queue a feature build after each load that changed data: clients.signals.data_loaded is
sent by import_dump and the sync engine for a finished run that wrote rows, and ml answers
by queueing build_features_task on commit (what ml sends others is in ml/features/signals.py).
Builds are incremental and idempotent, so several loads in a row cost only the cheap change
detection of the later builds. Turn off with settings.ML_BUILD_AFTER_SYNC = False."""

from __future__ import annotations

from django.conf import settings
from django.dispatch import receiver

from clients.signals import data_loaded


@receiver(data_loaded, dispatch_uid="ml.build_after_load")
def build_after_load(sender, run_id: int | None = None, **kwargs) -> None:
    if not getattr(settings, "ML_BUILD_AFTER_SYNC", True):
        return
    from ml.tasks import queue_build_features

    queue_build_features()
