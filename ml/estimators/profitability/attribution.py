"""Predictions and SHAP contributions from one loaded profitability model, fast enough for a
single client on a page and for ten thousand in a batch.

For XGBoost both come from the booster itself: `inplace_predict` on the feature matrix, and
`predict(pred_contribs=True)`, XGBoost's own exact TreeSHAP (the algorithm shap's
TreeExplainer runs, without its per-call Python set-up, which was most of a single client's
time). The contributions of a row plus the bias column sum to the booster's output.

A Random Forest's values are the same exact path-dependent TreeSHAP: shap's TreeExplainer for
a page's few rows, and for a batch (BATCH rows or more) `ml.explanations.treeshap`, which solves
each tree once per distinct path a batch's rows take instead of once per row (equal to shap's
to 1e-12; 10,000 demo clients in about 1.5 s instead of 9-12 s). The explainer and the numpy
layout of the trees are built once per loaded model.

The model learns (target - baseline) / scale, so contributions are multiplied by the row's
scale to be in dollars of next-quarter margin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Rows from which the numpy TreeSHAP beats shap's per-row walk (its set-up is ~0.15 s a forest).
BATCH = 256


class Attributor:
    """One loaded version's predict, SHAP contributions and interval spread; kept with the
    loaded artifact in predict's cache. The artifact is {"model", "spread"} (spread.py), or a
    bare model for versions trained before the spread model."""

    def __init__(self, artifact):
        self.artifact = artifact
        model = artifact["model"] if isinstance(artifact, dict) else artifact
        self.spread_model = artifact.get("spread") if isinstance(artifact, dict) else None
        self.model = model
        self.booster = model.get_booster() if hasattr(model, "get_booster") else None
        # One thread: a page asks for one client, and waking a thread pool per call cost more
        # than the trees (a loaded model forgets the n_jobs it was trained with).
        for part in (self.booster, getattr(self.spread_model, "get_booster", lambda: None)()):
            if part is not None:
                part.set_param({"nthread": 1})
        self._explainer = None
        self._batch = None
        self._flat = None

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        return np.ascontiguousarray(X.to_numpy(dtype="float32"))

    def change(self, X: pd.DataFrame) -> np.ndarray:
        """The model's output per row: the expected change from the baseline over the scale."""
        if self.booster is not None:
            return np.asarray(self.booster.inplace_predict(self._matrix(X), missing=np.nan), dtype="float64")
        from .forest import SMALL, FlatForest

        if len(X) <= SMALL and hasattr(self.model, "estimators_"):
            if self._flat is None:
                self._flat = FlatForest(self.model)
            return self._flat.predict(X.to_numpy(dtype="float64"))
        return np.asarray(self.model.predict(X), dtype="float64")

    def spread(self, X: pd.DataFrame) -> np.ndarray:
        """Each row's expected scaled error, which the conformal quantile multiplies."""
        from .spread import spread

        return spread(self.spread_model, X)

    def contributions(self, X: pd.DataFrame, scale: np.ndarray) -> np.ndarray:
        """SHAP values per row and feature, in dollars of next-quarter margin."""
        if self.booster is not None:
            import xgboost

            # nthread=1 as for the booster: building even a one-row matrix woke every core's
            # OpenMP thread, 2 ms on an idle machine and 20 ms on a busy one.
            matrix = xgboost.DMatrix(self._matrix(X), missing=np.nan, feature_names=list(X.columns), nthread=1)
            values = self.booster.predict(matrix, pred_contribs=True)[:, :-1]  # last column: the bias
        elif len(X) >= BATCH and hasattr(self.model, "estimators_"):
            if self._batch is None:
                from ml.explanations.treeshap import TreeShap

                self._batch = TreeShap.from_sklearn(self.model)
            values = self._batch.values(X.to_numpy(dtype="float64"))
        else:
            if self._explainer is None:
                import shap

                self._explainer = shap.TreeExplainer(self.model)
            values = self._explainer.shap_values(X, check_additivity=False)
        return np.asarray(values, dtype="float64") * np.asarray(scale, dtype="float64")[:, None]
