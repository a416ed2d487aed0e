"""Batch scoring: each kind's scorer writes Prediction rows with its active version, after each
training that registered a version and after each feature build, so pages and the API only
read rows.

A kind registers its scorer with @scorer("kind"), or by defining `score_and_store(as_of=None)`
in `ml/estimators/<kind>/predict.py` (found by `discover`, which every entry point that needs
the kinds calls first: importing them costs pandas and more, so not at every process start).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable

logger = logging.getLogger(__name__)
Scorer = Callable[[], int]
SCORERS: dict[str, Scorer] = {}
_discovered: list[str] | None = None


def scorer(kind: str) -> Callable[[Scorer], Scorer]:
    """Decorator: register the batch scorer of a model kind (returns the rows written)."""

    def add(fn: Scorer) -> Scorer:
        SCORERS[kind] = fn
        return fn

    return add


def discover() -> list[str]:
    """Import every kind under ml/estimators/ so its @trainer registers, and take its
    `predict.score_and_store` as its scorer; returns the kinds found. Once per process."""
    global _discovered
    if _discovered is None:
        _discovered = _import_kinds()
    return _discovered


def _import_kinds() -> list[str]:
    try:
        package = importlib.import_module("ml.estimators")
    except ModuleNotFoundError:
        return []
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if not info.ispkg:
            continue
        for part in ("train", "predict"):
            try:
                module = importlib.import_module(f"ml.estimators.{info.name}.{part}")
            except ModuleNotFoundError as exc:
                if exc.name != f"ml.estimators.{info.name}.{part}":
                    raise  # a missing dependency inside the module is a real error
                continue
            if part == "predict" and hasattr(module, "score_and_store"):
                SCORERS.setdefault(info.name, module.score_and_store)
        found.append(info.name)
    return found


def score(kind: str) -> int:
    """Write the kind's predictions with its active version; 0 when it has no scorer."""
    discover()
    fn = SCORERS.get(kind)
    return int(fn() or 0) if fn else 0


def score_all() -> dict[str, int | str]:
    """Every kind with an active version, each on its own: one kind failing (logged, and its
    error returned) does not stop the others."""
    from ml.models import ModelVersion

    discover()
    active = set(ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).values_list("kind", flat=True))
    out: dict[str, int | str] = {}
    for kind in sorted(active & set(SCORERS)):
        try:
            out[kind] = score(kind)
        except Exception as exc:  # scoring must not undo the build or training that ran first
            logger.exception("Scoring %s failed", kind)
            out[kind] = f"{type(exc).__name__}: {exc}"
            continue
        shadow_scoring(kind, out)
    return out


def shadow_scoring(kind: str, out: dict | None = None) -> None:
    """The kind's challenger scores in shadow and is compared with the champion (shadow.py);
    a failure there is logged and reported, never raised: the champion's rows are written."""
    from .shadow import compare, score_challenger

    try:
        written = score_challenger(kind)
        if written:
            compare(kind)
            if out is not None:
                out[f"{kind} (challenger)"] = written
    except Exception as exc:
        logger.exception("Shadow scoring of %s failed", kind)
        if out is not None:
            out[f"{kind} (challenger)"] = f"{type(exc).__name__}: {exc}"
