"""What a person does to the registry — promote a version, roll a kind back, retrain a kind now —
with the message they read afterwards. The admin's actions and the Models page both call these,
so a button does the same thing wherever it is pressed; each answer is an Outcome (ok or not,
and words), never a web response, so either caller shows it its own way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ml.models import ModelVersion, TrainingRun
from ml.models.registry import Trigger

from .training import TRAINERS, enqueue_training
from .versions import active, promote, roll_back


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    version: ModelVersion | None = None  # the version now active (promote, roll back)
    run: TrainingRun | None = None  # the run queued (retrain)


def promote_version(version: ModelVersion) -> Outcome:
    """Make `version` the active version of its kind; the one active before is retired."""
    was = active(version.kind)
    promote(version)
    retired = f"; v{was.version} retired" if was and was.pk != version.pk else ""
    return Outcome(True, f"{version.kind} v{version.version} is now active{retired}.", version=version)


def roll_back_kind(kind: str) -> Outcome:
    """Re-activate the version active before the current one of `kind` (nothing changes when
    there is none)."""
    was = active(kind)
    back = roll_back(kind)
    if back is None:
        return Outcome(False, f"{kind}: no earlier active version to roll back to.")
    left = f" (v{was.version} retired)" if was else ""
    return Outcome(True, f"{kind} rolled back to v{back.version}{left}.", version=back)


def retrain_kinds(kinds: Iterable[str], user=None, trigger: str = Trigger.ADMIN) -> list[Outcome]:
    """Queue a training run of each kind (its progress is on the run); a kind with no train
    function registered is refused by name."""
    from .scoring import discover

    discover()
    if not TRAINERS:
        return [Outcome(False, "No model kind is registered for training yet (ml.registry.TRAINERS is empty).")]
    outcomes = []
    for kind in sorted(set(kinds)):
        if kind not in TRAINERS:
            outcomes.append(Outcome(False, f"{kind}: no train function is registered for this kind."))
            continue
        run = enqueue_training(kind, trigger, user=user)
        outcomes.append(Outcome(True, f"Queued training of {kind}; see Training runs for progress.", run=run))
    return outcomes
