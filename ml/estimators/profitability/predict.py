"""Profitability predictions from the active version: next quarter's gross margin per client
with its 90% interval and explanation, loaded through the registry (sha256 checked).

The registry keeps the loaded model in memory (per sha256, and the file's size and mtime, so a
file changed since is checked again); its Attributor is kept with it. The month's feature frame
is kept too, keyed on the state of the KPI store for that month (the latest feature build, the
month's row count and newest computed_at, one query), so a single client's prediction on a page
is a row lookup, one booster call and one TreeSHAP call; the first call after a feature build
builds the month's frame for every client, as batch scoring does.
"""

from __future__ import annotations

from datetime import date

from ml import registry
from ml.features import months
from ml.features.queries import latest_complete_month
from ml.models import ClientMonthKPI, FeatureBuild, ModelVersion, Prediction
from ml.predictions import store_predictions

from . import dataset
from .attribution import Attributor
from .explain import explain_rows
from .train import KIND

_attributors: dict[int, Attributor] = {}  # version pk -> its model's Attributor
_frames: dict[date, tuple[tuple, dataset.Frame]] = {}  # as-of month -> (store state, frame)


class NoActiveModel(LookupError):
    pass


def _active() -> ModelVersion:
    version = registry.active(KIND)
    if version is None:
        raise NoActiveModel("No profitability model is active: train one (Retrain now, or manage.py train)")
    return version


_versions: dict[int, ModelVersion] = {}  # pk -> row; what serving reads of it (params) never changes


def _serving(as_of: date | None) -> tuple[ModelVersion, date]:
    """The active version and the month to predict as of, in one query: a page's what-if
    asks per call, and the ORM's two queries were a third of a single client's time."""
    from django.db import connection

    versions, kpis = ModelVersion._meta.db_table, ClientMonthKPI._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT id FROM {versions} WHERE kind = %s AND status = %s), "
                       f"(SELECT MAX(month) FROM {kpis} WHERE partial_month = %s)",
                       [KIND, ModelVersion.Status.ACTIVE, False])
        pk, latest = cursor.fetchone()
    if pk is None:
        raise NoActiveModel("No profitability model is active: train one (Retrain now, or manage.py train)")
    version = _versions.get(pk)
    if version is None:
        if len(_versions) > 4:
            _versions.clear()
        version = _versions[pk] = ModelVersion.objects.get(pk=pk)
    if as_of is not None:
        return version, as_of.replace(day=1)
    if latest is None:
        raise ValueError("The KPI store has no complete month yet: build features first")
    return version, latest if isinstance(latest, date) else date.fromisoformat(str(latest)[:10])


def _loaded(version: ModelVersion) -> Attributor:
    # The registry keeps the model in memory (and reads a changed file again, refusing it);
    # the Attributor is built once per model object it hands out.
    artifact = registry.load_serving(version)
    hit = _attributors.get(version.pk)
    if hit is None or hit.artifact is not artifact:
        hit = Attributor(artifact)
        if len(_attributors) >= 2:  # a champion and a challenger; older versions are not kept alive
            _attributors.clear()
        _attributors[version.pk] = hit
    return hit


def _store_state(month: date) -> tuple:
    """What the month's frame depends on, in one query: a feature build or any rewrite of the
    month's KPI rows changes it."""
    from django.db import connection

    kpi, builds = ClientMonthKPI._meta.db_table, FeatureBuild._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX(computed_at), (SELECT MAX(id) FROM {builds}) "
                       f"FROM {kpi} WHERE month = %s", [month])
        return tuple(cursor.fetchone())


def month_frame(month: date) -> dataset.Frame:
    """Every eligible client's features as of `month`, built once per state of the store."""
    state = _store_state(month)
    hit = _frames.get(month)
    if hit is None or hit[0] != state:
        if len(_frames) > 3:
            _frames.clear()
        hit = (state, dataset.build(as_of=month, with_target=False))
        _frames[month] = hit
    return hit[1]


def _score(version: ModelVersion, frame: dataset.Frame) -> list[dict]:
    from .dataset import scale

    if not len(frame):
        return []
    attributor = _loaded(version)
    X = frame.X[version.params.get("features", list(frame.X.columns))]
    s = scale(X)
    baseline = frame.baseline.to_numpy(dtype="float64")
    values = baseline + attributor.change(X) * s
    half = float(version.params["conformal_quantile"]) * s * attributor.spread(X)
    explanations = explain_rows(X, attributor.contributions(X, s), values, baseline)
    return [
        {
            "client_id": int(client_id),
            "as_of": months.to_date(mi),
            "value": float(values[i]),
            "lower": float(values[i] - half[i]),
            "upper": float(values[i] + half[i]),
            "explanation": explanations[i],
        }
        for i, (client_id, mi) in enumerate(X.index)
    ]


def _as_of(as_of: date | None) -> date:
    month = as_of.replace(day=1) if as_of else latest_complete_month()
    if month is None:
        raise ValueError("The KPI store has no complete month yet: build features first")
    return month


def predict(as_of: date | None = None) -> list[dict]:
    """Every eligible client's predicted margin over the quarter after `as_of` (the latest
    complete month when None): dicts with client_id, as_of, value, lower, upper, explanation."""
    version = _active()
    return _score(version, month_frame(_as_of(as_of)))


def predict_client(client_id: int, as_of: date | None = None) -> dict | None:
    """One client's prediction (the what-if path); None when the client has no eligible row
    that month (not stored, a partial month, or under three months of history)."""
    version, month = _serving(as_of)
    frame = month_frame(month)
    mask = frame.X.index.get_level_values("client_id") == client_id
    rows = _score(version, frame.rows(mask)) if mask.any() else []
    return rows[0] if rows else None


def score_and_store(as_of: date | None = None, version: ModelVersion | None = None,
                    role: str = Prediction.Role.CHAMPION) -> int:
    """Batch scoring: predict every eligible client and store the rows for the active version
    (or `version`, e.g. a challenger scoring in shadow with role "challenger")."""
    version = version or _active()
    month = _as_of(as_of)
    rows = _score(version, month_frame(month))
    return store_predictions(version, month, rows, role)


SHADOW_METRIC = "mae"


def observed(pairs: list[tuple[int, date]]) -> dict[tuple[int, date], float]:
    """The actual margin over the quarter after each (client, as-of month) whose three months
    are now complete: the training target's one definition (dataset.build)."""
    frame = dataset.build(clients=sorted({c for c, _ in pairs}), with_target=True)
    actual = {(int(c), months.to_date(mi)): float(v) for (c, mi), v in frame.target.items()}
    return {pair: actual[pair] for pair in pairs if pair in actual}


def shadow_errors(predicted, actual):
    return abs(predicted - actual)


def loaded_model(version: ModelVersion | None = None):
    """The active (or given) version's model, through the cache (for benches)."""
    return _loaded(version or _active()).model


def explain_client(client_id: int, as_of: date | None = None, method: str = "shap") -> dict | None:
    """One client's predicted margin and why (ml.explanations.explain): "shap" is what batch
    scoring stores (TreeSHAP); "lime" fits a local surrogate of the model's whole output
    (baseline + change x scale, in dollars) around the client, with the month's clients as
    the background, and puts its effects in the same words."""
    version = _active()
    month = _as_of(as_of)
    frame = month_frame(month)
    mask = frame.X.index.get_level_values("client_id") == client_id
    if not mask.any():
        return None
    one = _score(version, frame.rows(mask))[0]
    explanation = one["explanation"]
    if method == "lime":
        import pandas as pd

        from ml.explanations.lime import lime_effects

        from .dataset import scale

        features = version.params.get("features", list(frame.X.columns))
        attributor = _loaded(version)

        def margin(Z):
            X = pd.DataFrame(Z, columns=features)
            return X["margin_q"].to_numpy() + attributor.change(X) * scale(X)

        X = frame.X[features]
        effects = lime_effects(margin, X.to_numpy(dtype="float64"), X[mask].to_numpy(dtype="float64")[0], features)
        explanation = explain_rows(X[mask], effects[None, :], [one["value"]], frame.baseline[mask].to_numpy())[0]
    return {"as_of": one["as_of"], "value": one["value"], "lower": one["lower"], "upper": one["upper"],
            "text": explanation["text"], "contributions": explanation["contributions"],
            "model_version": version.version}


def feature_words(feature: str) -> str:
    from .explain import driver_of, words

    return words(driver_of(feature))


__all__ = ["NoActiveModel", "explain_client", "loaded_model", "predict", "predict_client", "score_and_store"]
