"""`cross_validate_frame`: the churn family measured on any tabular frame by stratified k-fold.

Each outer fold fits a fresh `ChurnFamily` on its training rows only (column roles, imputation,
encoding, class weights, calibration and the F1 threshold all come from those rows) and scores
the held-out fold. Figures are means over the folds.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from ml.churn.family import ENSEMBLE, build_family
from ml.churn.metrics import METRICS, score

_POSITIVE_WORDS = {"1", "yes", "y", "true", "t", "churn", "churned", "left"}


def churn_labels(y, positive=None) -> np.ndarray:
    """Labels as 1 (churned) / 0. `positive` names the churn label; without it a two-valued
    0/1 or boolean target, or one with a single yes-like label ("Yes", "True", "churned"), is
    understood; anything else must say which label is churn."""
    y = pd.Series(np.asarray(y))
    if y.isna().any():
        raise ValueError("churn labels have missing values")
    values = list(pd.unique(y))
    if len(values) != 2:
        raise ValueError(f"churn labels must have two values, got {len(values)}: {values[:5]}")
    if positive is None:
        if set(values) <= {0, 1}:
            positive = 1
        else:
            yes_like = [v for v in values if str(v).strip().lower() in _POSITIVE_WORDS]
            if len(yes_like) != 1:
                raise ValueError(f"cannot tell which of {values} is churn; pass positive=")
            positive = yes_like[0]
    elif positive not in values:
        raise ValueError(f"positive label {positive!r} is not among the labels {values}")
    return (y == positive).to_numpy().astype(int)


def _mean(dicts: list[dict[str, float]]) -> dict[str, float]:
    return {key: float(np.mean([d[key] for d in dicts])) for key in (*METRICS, "threshold")}


def cross_validate_frame(X: pd.DataFrame, y, folds: int = 5, seed: int = 0, positive=None) -> dict:
    """Stratified `folds`-fold cross-validation of the churn family on (X, y).

    Returns the ensemble's mean `roc_auc`, `pr_auc`, `f1` (churn class, at the threshold chosen
    inside each training fold), `brier` and `threshold`; `members` with the same per member
    (`lr`, `mlp`, `gbm`); `std` of the ensemble's figures across folds; `per_fold` (each fold's
    figures per model, threshold included); and `rows`, `churn_rate`, `folds`, `seed`,
    `column_roles` (as the first fold saw them) and `seconds`.
    """
    started = time.perf_counter()
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"cross_validate_frame needs a pandas DataFrame, got {type(X).__name__}")
    X = X.reset_index(drop=True)
    churned = churn_labels(y, positive)
    if len(churned) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(churned)}")

    per_fold = []
    column_roles = None
    outer = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train, test in outer.split(X, churned):
        family = build_family(seed=seed).fit(X.iloc[train], churned[train])
        if column_roles is None:
            column_roles = family.column_roles_
        probabilities = family.member_proba(X.iloc[test])
        per_fold.append(
            {name: score(churned[test], proba, family.thresholds_[name]) for name, proba in probabilities.items()}
        )

    names = [name for name in per_fold[0] if name != ENSEMBLE]
    ensemble = _mean([fold[ENSEMBLE] for fold in per_fold])
    return {
        **ensemble,
        "thresholds": [fold[ENSEMBLE]["threshold"] for fold in per_fold],
        "std": {key: float(np.std([fold[ENSEMBLE][key] for fold in per_fold])) for key in METRICS},
        "members": {name: _mean([fold[name] for fold in per_fold]) for name in names},
        "per_fold": per_fold,
        "rows": len(X),
        "churn_rate": float(churned.mean()),
        "folds": folds,
        "seed": seed,
        "column_roles": column_roles,
        "seconds": time.perf_counter() - started,
    }
