"""Profitability predictions from the active version: next quarter's gross margin per client
with its 90% interval and explanation, loaded through the registry (sha256 checked).

The loaded model and its SHAP explainer are kept per (version pk, sha256) in this process (and
the file's size and mtime, so a file changed since is checked again), so a single-client
what-if costs a feature read and one tree walk, not a file read.
"""

from __future__ import annotations

from datetime import date

from ml import registry
from ml.features import months
from ml.features.queries import latest_complete_month
from ml.models import ModelVersion
from ml.predictions import store_predictions

from . import dataset
from .explain import Explainer, explain_row
from .train import KIND

_explainers: dict[int, tuple[object, Explainer]] = {}  # version pk -> (model, its SHAP explainer)


class NoActiveModel(LookupError):
    pass


def _active() -> ModelVersion:
    version = registry.active(KIND)
    if version is None:
        raise NoActiveModel("No profitability model is active: train one (Retrain now, or manage.py train)")
    return version


def _loaded(version: ModelVersion) -> tuple[object, Explainer]:
    # The registry keeps the model in memory (and reads a changed file again, refusing it);
    # the SHAP explainer is built once per model object it hands out.
    model = registry.load_serving(version)
    hit = _explainers.get(version.pk)
    if hit is None or hit[0] is not model:
        hit = (model, Explainer(model))
        _explainers.clear()  # one version serves at a time; an old one is not kept alive
        _explainers[version.pk] = hit
    return hit


def _score(version: ModelVersion, frame: dataset.Frame) -> list[dict]:
    from .train import scale

    if not len(frame):
        return []
    model, explainer = _loaded(version)
    X = frame.X[version.params.get("features", list(frame.X.columns))]
    s = scale(X)
    values = frame.baseline.to_numpy() + model.predict(X) * s
    half = float(version.params["conformal_quantile"]) * s
    contributions = explainer.contributions(X, s)
    rows = []
    for i, (client_id, mi) in enumerate(X.index):
        value = float(values[i])
        rows.append({
            "client_id": int(client_id),
            "as_of": months.to_date(mi),
            "value": value,
            "lower": value - float(half[i]),
            "upper": value + float(half[i]),
            "explanation": explain_row(X.iloc[i], contributions[i], value, float(frame.baseline.iloc[i])),
        })
    return rows


def _as_of(as_of: date | None) -> date:
    month = as_of.replace(day=1) if as_of else latest_complete_month()
    if month is None:
        raise ValueError("The KPI store has no complete month yet: build features first")
    return month


def predict(as_of: date | None = None) -> list[dict]:
    """Every eligible client's predicted margin over the quarter after `as_of` (the latest
    complete month when None): dicts with client_id, as_of, value, lower, upper, explanation."""
    version = _active()
    return _score(version, dataset.build(as_of=_as_of(as_of), with_target=False))


def predict_client(client_id: int, as_of: date | None = None) -> dict | None:
    """One client's prediction (the what-if path); None when the client has no eligible row
    that month (not stored, a partial month, or under three months of history)."""
    version = _active()
    rows = _score(version, dataset.build(clients=[client_id], as_of=_as_of(as_of), with_target=False))
    return rows[0] if rows else None


def score_and_store(as_of: date | None = None) -> int:
    """Batch scoring: predict every eligible client and store the rows for the active version."""
    version = _active()
    month = _as_of(as_of)
    rows = _score(version, dataset.build(as_of=month, with_target=False))
    return store_predictions(version, month, rows)


def loaded_model(version: ModelVersion | None = None):
    """The active (or given) version's model, through the cache (for benches)."""
    return _loaded(version or _active())[0]


__all__ = ["NoActiveModel", "loaded_model", "predict", "predict_client", "score_and_store"]
