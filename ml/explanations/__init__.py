"""One way into every model's explanations, for pages, the API and reports.

    explain(kind, client_id, as_of=None, method="shap") -> dict
    global_importance(version) -> list[dict]

`method` is "shap" (exact TreeSHAP for the tree models, the linear model's exact contributions
for logistic regression: what batch scoring stores) or "lime" (a local linear surrogate fitted
on perturbations around the client, model-agnostic: it only calls the model's predict, so it
serves any kind, including ones without trees). Both answer in the same shape:

    {"kind", "client_id", "as_of", "method", "value", "text",
     "contributions": [{"feature", "words", "value", "effect"}, ...]}   # effect in the kind's unit

Each kind provides `explain_client(client_id, as_of, method)` in `ml/estimators/<kind>/predict.py`;
the unit of `effect` is the kind's (dollars of next-quarter margin for profitability, log-odds
for churn's SHAP and probability points for its LIME).
"""

from __future__ import annotations

import importlib
from datetime import date

METHODS = ("shap", "lime")


class NotExplainable(LookupError):
    """The kind has no explainer, or the client has no prediction to explain that month."""


def explain(kind: str, client_id: int, as_of: date | None = None, method: str = "shap") -> dict:
    """Why the active version of `kind` predicts what it does for one client as of a month end."""
    from ml.registry import discover

    if method not in METHODS:
        raise ValueError(f"Unknown explanation method {method!r}: use one of {', '.join(METHODS)}")
    if kind not in discover():
        raise NotExplainable(f"No model kind called {kind!r}")
    module = importlib.import_module(f"ml.estimators.{kind}.predict")
    if not hasattr(module, "explain_client"):
        raise NotExplainable(f"The {kind} model does not explain its predictions")
    answer = module.explain_client(client_id, as_of, method)
    if answer is None:
        raise NotExplainable(f"Client {client_id} has no {kind} prediction as of {as_of or 'the latest month'}")
    return {"kind": kind, "client_id": client_id, "method": method, **answer}


def global_importance(version) -> list[dict]:
    """A version's global importance, recorded when it was trained, as a list of
    {"feature", "words", "importance"} (largest first), whatever the kind."""
    raw = (version.params or {}).get("importance") or []
    if isinstance(raw, dict):  # feature -> mean |contribution|
        module = importlib.import_module(f"ml.estimators.{version.kind}.predict")
        words = getattr(module, "feature_words", lambda f: f.replace("_", " "))
        return [{"feature": f, "words": words(f), "importance": float(v)} for f, v in raw.items()]
    return [{"feature": r["driver"], "words": r["words"], "importance": float(r["mean_abs_effect"])} for r in raw]


__all__ = ["METHODS", "NotExplainable", "explain", "global_importance"]
