"""LIME for any model: a local linear surrogate around one row, fitted on perturbations of it.

The background (the rows the perturbations are scaled by) is the month's frame of every client;
holes are filled with the column's median for LIME only, and a feature the client is missing
gets no effect (LIME would otherwise explain the median, not the client). Continuous features
are not binned: LIME samples around the row with each feature's spread, standardises, and fits
a weighted ridge; a feature's effect is its coefficient times the client's standardised
distance from the book's mean, the linear analogue of a SHAP value (zero at the mean client).
Seeded, so a page shows the same answer twice.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SAMPLES = 2000
FEATURES_SHOWN = 10
SEED = 0


def lime_effects(predict: Callable[[np.ndarray], np.ndarray], background: np.ndarray, row: np.ndarray,
                 names: list[str], mode: str = "regression", samples: int = SAMPLES,
                 shown: int = FEATURES_SHOWN) -> np.ndarray:
    """Per feature of `row`, its local effect on `predict`'s output (regression), or on the
    probability of class 1 (classification, `predict` returning both columns)."""
    from lime.lime_tabular import LimeTabularExplainer

    background = np.asarray(background, dtype="float64")
    row = np.asarray(row, dtype="float64")
    medians = np.nanmedian(np.where(np.isfinite(background), background, np.nan), axis=0)
    medians = np.where(np.isfinite(medians), medians, 0.0)
    filled = np.where(np.isfinite(background), background, medians)
    missing = ~np.isfinite(row)
    point = np.where(missing, medians, row)
    explainer = LimeTabularExplainer(
        filled, mode=mode, feature_names=names, discretize_continuous=False,
        sample_around_instance=True, random_state=SEED,
    )
    label = 1 if mode == "classification" else 0
    explained = explainer.explain_instance(point, predict, labels=(label,), num_features=min(shown, len(names)),
                                           num_samples=samples)
    local = explained.local_exp[label if mode == "classification" else 0]
    scaler = explainer.scaler
    standardised = (point - scaler.mean_) / scaler.scale_
    effects = np.zeros(len(names))
    for j, coefficient in local:
        effects[j] = coefficient * standardised[j]
    effects[missing] = 0.0
    return effects
