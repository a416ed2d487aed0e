"""Training runs: the one place a kind's train function is called, by the admin's "Retrain now"
(through django-q2), by a command or by a schedule, each recorded as a TrainingRun.

Extension point: a kind registers its train function in TRAINERS (with @trainer("churn") in
its own module, imported from ml.apps or the kind's package). The function receives a
TrainingContext, reports progress through it, calls ctx.check_data_hash(h) once it knows the
hash of its training data (an unchanged hash ends the run as skipped, saying which version was
trained on it), and returns a Trained. The run registers it and promotes it only if it beats
the active version on the same held-out months (promote_if_better).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from ml.models import ModelVersion, TrainingRun

from .scoring import discover, score, shadow_scoring
from .versions import Window, active, already_trained, promote_if_better, register

logger = logging.getLogger(__name__)


@dataclass
class Trained:
    """What a train function returns: the fitted artifact and how it measured."""

    artifact: Any
    fmt: str
    params: dict
    window: Window
    data_hash: str
    metrics: dict  # held-out metrics with the baseline's beside: {"mae": .., "baseline_mae": ..}
    metric: str  # the one promote_if_better compares
    higher_is_better: bool
    extra: dict = field(default_factory=dict)


class AlreadyTrained(Exception):
    def __init__(self, version: ModelVersion, data_hash: str):
        self.version = version
        super().__init__(
            f"Training data unchanged (data hash {data_hash[:12]}) since {version.kind} v{version.version}: "
            "training skipped"
        )


class TrainingContext:
    """Handed to a train function: progress reports and the unchanged-data check."""

    def __init__(self, run: TrainingRun, progress: Callable[[int, str], None] | None = None):
        self.run = run
        self._echo = progress

    @property
    def kind(self) -> str:
        return self.run.kind

    def progress(self, percent: int, message: str = "") -> None:
        percent = max(0, min(100, int(percent)))
        TrainingRun.objects.filter(pk=self.run.pk).update(progress=percent, message=message)
        self.run.progress, self.run.message = percent, message
        if self._echo:
            self._echo(percent, message)

    def check_data_hash(self, data_hash: str) -> None:
        """Raise AlreadyTrained (ending the run as skipped) if a version was trained on this data."""
        version = already_trained(self.kind, data_hash)
        if version is not None:
            raise AlreadyTrained(version, data_hash)


Trainer = Callable[[TrainingContext], Trained]
TRAINERS: dict[str, Trainer] = {}


def trainer(kind: str) -> Callable[[Trainer], Trainer]:
    """Decorator: register the train function of a model kind."""

    def add(fn: Trainer) -> Trainer:
        TRAINERS[kind] = fn
        return fn

    return add


def enqueue_training(kind: str, trigger: str, user=None) -> TrainingRun:
    """Record a queued run and queue it once the current transaction commits; returns at once."""
    discover()
    if kind not in TRAINERS:
        raise KeyError(f"No train function is registered for model kind {kind!r}")
    run = TrainingRun.objects.create(kind=kind, trigger=trigger, requested_by=user)

    def enqueue() -> None:
        from django_q.tasks import async_task

        async_task("ml.registry.training.training_task", run.pk, task_name=f"train {kind} (run {run.pk})")

    transaction.on_commit(enqueue)
    return run


def training_task(run_id: int) -> dict:
    """The django-q2 task: run a queued TrainingRun (a run no longer queued is left alone, so a
    task delivered twice trains once)."""
    run = execute_run(run_id)
    return {"run": run.pk, "status": run.status, "version": run.version_id, "message": run.message}


def execute_run(run_id: int, progress: Callable[[int, str], None] | None = None) -> TrainingRun:
    """Train, register and maybe promote, recording each step on the run."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run_id)
        if run.status != TrainingRun.Status.QUEUED:
            return run
        run.status, run.started_at = TrainingRun.Status.RUNNING, timezone.now()
        run.save(update_fields=["status", "started_at"])
    discover()
    fn = TRAINERS.get(run.kind)
    try:
        if fn is None:
            raise KeyError(f"No train function is registered for model kind {run.kind!r}")
        result = fn(TrainingContext(run, progress))
        version = register(
            run.kind, result.artifact, result.fmt, result.params, result.window, result.data_hash,
            result.metrics, run.trigger, user=run.requested_by,
        )
        decision = promote_if_better(version, result.metric, result.higher_is_better)
        run.version = version
        run.status, run.progress = TrainingRun.Status.SUCCEEDED, 100
        run.message = f"Registered {version.kind} v{version.version}. {decision.reason}"
        if decision:
            # The new version serves now: its predictions replace the old ones' on pages. A
            # scoring failure is reported, not fatal: the version is trained and promoted, and
            # the next feature build scores again.
            try:
                written = score(run.kind)
            except Exception as exc:
                logger.exception("Scoring %s with v%s failed", run.kind, version.version)
                run.message += f" Scoring failed ({type(exc).__name__}: {exc}); the next feature build retries."
            else:
                if written:
                    run.message += f" Scored {written} clients."
        elif active(run.kind) is not None:
            # Not promoted: it becomes the challenger, scoring in shadow beside the champion.
            shadow_scoring(run.kind)
    except AlreadyTrained as skipped:
        run.status, run.progress, run.message = TrainingRun.Status.SKIPPED, 100, str(skipped)
        run.version = skipped.version
    except Exception as exc:
        logger.exception("Training %s (run %s) failed", run.kind, run.pk)
        run.status, run.message = TrainingRun.Status.FAILED, f"{type(exc).__name__}: {exc}"
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "progress", "message", "version", "finished_at"])
    return run
