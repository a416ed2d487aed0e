"""Registering, loading and choosing versions: which version of a kind serves predictions.

Status moves: a new version is a candidate; promote() makes it active and retires the version
that was active (retired, not candidate: it had its turn and was replaced; roll_back() is the
way back to it). roll_back() retires the active version, marking it rolled back, and
re-activates the version that was active before it; a second roll back goes one further back,
past the rolled-back version, as an undo history would.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ml.models import ModelVersion
from ml.models.registry import Trigger

from . import artifacts

KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Window:
    """The training data's months: first and last month (held-out months included) and the
    months the metrics were measured on ('YYYY-MM', oldest first)."""

    first: date
    last: date
    held_out: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, window: Window | tuple) -> Window:
        if isinstance(window, Window):
            return window
        first, last, *rest = window
        return cls(_month(first), _month(last), tuple(rest[0]) if rest else ())


def _month(value: date | str) -> date:
    if isinstance(value, str):
        from ml.features.months import parse

        return parse(value[:7])
    return value.replace(day=1)


@dataclass(frozen=True)
class Decision:
    """What promote_if_better decided and why, in words for a run's message."""

    promoted: bool
    reason: str

    def __bool__(self) -> bool:
        return self.promoted


def register(
    kind: str,
    artifact: Any,
    fmt: str,
    params: dict,
    window: Window | tuple,
    data_hash: str,
    metrics: dict,
    trigger: str,
    user=None,
) -> ModelVersion:
    """Write the artifact under MODEL_DIR/<kind>/ and record it as the next candidate version
    of the kind. Nothing is recorded if the file cannot be written, and no file stays behind
    if the row cannot be saved."""
    if not KIND_RE.match(kind):
        raise ValueError(f"Model kind {kind!r} must be lower-case letters, digits and _ (at most 32)")
    if trigger not in Trigger.values:
        raise ValueError(f"Unknown trigger {trigger!r}; use one of {', '.join(Trigger.values)}")
    artifacts.check_format(artifact, fmt)
    window = Window.of(window)
    if window.first > window.last:
        raise ValueError(f"Training window starts ({window.first:%Y-%m}) after it ends ({window.last:%Y-%m})")
    with transaction.atomic():
        number = (ModelVersion.objects.of_kind(kind).aggregate(n=Max("version"))["n"] or 0) + 1
        relative, sha256, size, created = artifacts.write(artifact, fmt, kind, f"{kind}-v{number}")
        try:
            return ModelVersion.objects.create(
                kind=kind,
                version=number,
                artifact_path=relative,
                format=fmt,
                format_version=artifacts.FORMAT_VERSION,
                artifact_class=artifacts.class_path(artifact),
                library_versions=artifacts.library_versions(fmt),
                sha256=sha256,
                size_bytes=size,
                params=params,
                window_first=window.first,
                window_last=window.last,
                held_out_months=list(window.held_out),
                data_hash=data_hash,
                metrics=metrics,
                trigger=trigger,
                created_by=user,
            )
        except BaseException:
            if created:
                (artifacts.model_dir() / relative).unlink(missing_ok=True)
            raise


def load(version: ModelVersion | int) -> Any:
    """The version's model object, after its file's sha256 matched the recorded one.
    Raises ArtifactMissing or ArtifactTampered (both ArtifactError) naming the file."""
    if not isinstance(version, ModelVersion):
        version = ModelVersion.objects.get(pk=version)
    data = artifacts.read_verified(version.artifact_path, version.sha256)
    artifacts.warn_on_library_drift(version.format, version.library_versions, str(version))
    return artifacts.deserialise(data, version.format, version.artifact_class)


_serving: dict[str, tuple[tuple, Any]] = {}  # kind -> (file key, model): one version per kind
_serving_lock = threading.Lock()


def load_serving(version: ModelVersion) -> Any:
    """`load`, kept in memory for the pages and batch scoring that call it again and again.
    The key holds the file's size and mtime beside the recorded sha256, so a file changed after
    it was loaded is read (and refused) again, never served from memory."""
    try:
        stat = artifacts.resolve(version.artifact_path).stat()
        key = (version.pk, version.sha256, stat.st_size, stat.st_mtime_ns)
    except OSError:  # missing: load() says so, naming the file
        return load(version)
    with _serving_lock:
        hit = _serving.get(version.kind)
    if hit is not None and hit[0] == key:
        return hit[1]
    model = load(version)
    with _serving_lock:
        _serving[version.kind] = (key, model)
    return model


def active(kind: str) -> ModelVersion | None:
    """The version of the kind that serves predictions, if any."""
    return ModelVersion.objects.active_of(kind)


def already_trained(kind: str, data_hash: str) -> ModelVersion | None:
    """The version of the kind already trained on data with this hash (training again would
    make the same model), or None."""
    return ModelVersion.objects.trained_on(kind, data_hash)


def promote(version: ModelVersion) -> ModelVersion:
    """Make the version active; the previously active version of its kind is retired."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if version.status == ModelVersion.Status.ACTIVE:
            return version
        _activate(version)
    return version


def _activate(version: ModelVersion, rolled_back: ModelVersion | None = None) -> None:
    now = timezone.now()
    # The old active row goes first: the one-active-per-kind constraint is checked per row.
    current = ModelVersion.objects.select_for_update().filter(kind=version.kind, status=ModelVersion.Status.ACTIVE)
    current.exclude(pk=version.pk).update(
        status=ModelVersion.Status.RETIRED, rolled_back_at=now if rolled_back else None
    )
    version.status = ModelVersion.Status.ACTIVE
    version.activated_at = now
    version.rolled_back_at = None
    version.save(update_fields=["status", "activated_at", "rolled_back_at"])


def roll_back(kind: str) -> ModelVersion | None:
    """Re-activate the version that was active before the current one; None when there is
    none to go back to (nothing changes then)."""
    with transaction.atomic():
        current = ModelVersion.objects.select_for_update().filter(kind=kind, status=ModelVersion.Status.ACTIVE).first()
        earlier = ModelVersion.objects.select_for_update().filter(
            kind=kind, status=ModelVersion.Status.RETIRED, activated_at__isnull=False, rolled_back_at__isnull=True
        )
        if current is not None:
            earlier = earlier.filter(activated_at__lt=current.activated_at)
        previous = earlier.order_by("-activated_at").first()
        if previous is None:
            return None
        _activate(previous, rolled_back=current)
    return previous


def _number(metrics: dict, name: str) -> float | None:
    value = metrics.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def promote_if_better(candidate: ModelVersion, metric: str, higher_is_better: bool) -> Decision:
    """Promote the candidate only if it beats the active version on `metric`, both measured on
    the same held-out months (versions measured on other months are not compared). With no
    active version, the candidate must beat its own baseline (`baseline_<metric>`) when it
    reports one. Ties do not promote. The reason says why, e.g. "... does not beat ..." when not
    promoted."""

    def beats(a: float, b: float) -> bool:
        return a > b if higher_is_better else a < b

    label = f"{candidate.kind} v{candidate.version}"
    score = _number(candidate.metrics, metric)
    if score is None:
        return Decision(False, f"{label} has no {metric}")
    if candidate.status == ModelVersion.Status.ACTIVE:
        return Decision(False, f"{label} is already active")
    current = active(candidate.kind)
    if current is None:
        baseline = _number(candidate.metrics, f"baseline_{metric}")
        if baseline is not None and not beats(score, baseline):
            return Decision(False, f"{label} {metric}={score:g} does not beat its baseline ({baseline:g})")
        promote(candidate)
        return Decision(True, f"{label} promoted: no version of {candidate.kind} was active")
    theirs = f"{current.kind} v{current.version}"
    if not candidate.held_out_months or list(candidate.held_out_months) != list(current.held_out_months):
        return Decision(
            False,
            f"{label} was measured on {_months(candidate.held_out_months)}, active {theirs} on "
            f"{_months(current.held_out_months)}: not comparable",
        )
    incumbent = _number(current.metrics, metric)
    if incumbent is None:
        return Decision(False, f"active {theirs} has no {metric} to compare with; not promoted")
    if not beats(score, incumbent):
        return Decision(False, f"{label} {metric}={score:g} does not beat active {theirs} ({incumbent:g})")
    promote(candidate)
    return Decision(True, f"{label} promoted: {metric}={score:g} beats {theirs} ({incumbent:g}) on the same months")


def _months(months: list[str]) -> str:
    if not months:
        return "no recorded held-out months"
    return months[0] if len(months) == 1 else f"{months[0]}..{months[-1]} ({len(months)} months)"
