"""Champion and challenger: a version trained but not promoted keeps scoring in shadow, beside
the active one, and the two are compared once the outcomes are known (the A/B part of the plan).

- The challenger of a kind is its newest candidate registered after the active version became
  active (a retrain that did not beat the champion on the held-out months, or one an admin has
  not promoted yet). Pages and the API read only champion rows (`ml.predictions.latest`).
- Batch scoring (`score_all`, after every feature build and every training) writes the
  challenger's predictions with role "challenger" for the same month as the champion's.
- `compare(kind)` pairs the two roles' predictions on the same (client, month) whose outcome the
  kind can now observe, and measures both with the kind's error (profitability: absolute error
  of next quarter's margin in dollars; churn: Brier score of the risk against leaving within
  90 days). The comparison is kept on the challenger's metrics under "shadow", so the admin and
  `manage.py models --json` show it beside the held-out metrics it was registered with.

A kind takes part by defining, in `ml/estimators/<kind>/predict.py`:
    score_and_store(as_of=None, version=None, role="champion") -> int
    observed(pairs: list[tuple[int, date]]) -> dict[tuple[int, date], float]
    shadow_errors(predicted: numpy array, observed: numpy array) -> numpy array
    SHADOW_METRIC: str   (the name of the mean error, e.g. "mae")
"""

from __future__ import annotations

import importlib
import logging

import numpy as np

from ml.models import ModelVersion, Prediction

from .versions import active

logger = logging.getLogger(__name__)
HOOKS = ("score_and_store", "observed", "shadow_errors", "SHADOW_METRIC")


def _kind_module(kind: str):
    try:
        module = importlib.import_module(f"ml.estimators.{kind}.predict")
    except ModuleNotFoundError:
        return None
    return module if all(hasattr(module, name) for name in HOOKS) else None


def challenger(kind: str) -> ModelVersion | None:
    """The newest candidate of the kind registered after the active version was activated."""
    champion = active(kind)
    if champion is None or champion.activated_at is None:
        return None
    return (ModelVersion.objects.filter(kind=kind, status=ModelVersion.Status.CANDIDATE,
                                        created_at__gte=champion.activated_at)
            .order_by("-version").first())


def score_challenger(kind: str) -> int:
    """Write the challenger's shadow predictions for the champion's newest month (0 without one)."""
    version, module = challenger(kind), _kind_module(kind)
    if version is None or module is None:
        return 0
    newest = (Prediction.objects.filter(kind=kind, role=Prediction.Role.CHAMPION)
              .order_by("-as_of").values_list("as_of", flat=True).first())
    return int(module.score_and_store(as_of=newest, version=version, role=Prediction.Role.CHALLENGER) or 0)


def compare(kind: str, version: ModelVersion | None = None, save: bool = True) -> dict | None:
    """The challenger's (or `version`'s) shadow predictions against the champion's on the same
    clients and months whose outcomes are known; None when there is no challenger."""
    version = version or challenger(kind)
    champion, module = active(kind), _kind_module(kind)
    if version is None or champion is None or module is None:
        return None
    theirs = {(r["client_id"], r["as_of"]): r["value"] for r in Prediction.objects.filter(
        model_version=champion, role=Prediction.Role.CHAMPION).values("client_id", "as_of", "value")}
    ours = {(r["client_id"], r["as_of"]): r["value"] for r in Prediction.objects.filter(
        model_version=version, role=Prediction.Role.CHALLENGER).values("client_id", "as_of", "value")}
    both = sorted(set(theirs) & set(ours))
    outcomes = module.observed(both) if both else {}
    known = [pair for pair in both if pair in outcomes]
    result = {
        "metric": module.SHADOW_METRIC, "champion_version": champion.version,
        "paired_predictions": len(both), "with_outcome": len(known),
        "months": sorted({f"{as_of:%Y-%m}" for _, as_of in known}),
        "champion": None, "challenger": None, "challenger_better": None,
    }
    if known:
        actual = np.array([outcomes[p] for p in known], dtype="float64")
        result["champion"] = float(np.mean(module.shadow_errors(np.array([theirs[p] for p in known]), actual)))
        result["challenger"] = float(np.mean(module.shadow_errors(np.array([ours[p] for p in known]), actual)))
        result["challenger_better"] = result["challenger"] < result["champion"]
    if save:
        metrics = dict(version.metrics or {})
        metrics["shadow"] = result
        ModelVersion.objects.filter(pk=version.pk).update(metrics=metrics)
        version.metrics = metrics
    return result
