"""The three learners of the churn family and their hyperparameters.

Each member is an unfitted Pipeline: `columns.make_preprocessor()` then the learner, so every
fit learns its imputation, scaling and encoding from its own training rows.

Hyperparameters are fixed a priori from common small-tabular defaults, not searched, and were
not changed after seeing any score on the public telco set (its README: never tune a test
until it passes). The frames this family sees are thousands of rows and tens of columns:

- `lr`: logistic regression, L2 with C=1 (scikit-learn's default), lbfgs, up to 2,000
  iterations, `class_weight="balanced"`. The baseline the others must beat.
- `mlp`: scikit-learn MLPClassifier, one hidden layer of 32 ReLU units, L2 alpha=1e-3 (ten
  times the default: small data), Adam at 1e-3, at most 200 epochs with early stopping on 10%
  of its training rows (stop after 10 epochs without improvement). MLPClassifier has no
  `class_weight`, so `BalancedSampleWeights` passes it balanced sample weights, which its
  `fit` accepts (also for the early-stopping split).
- `gbm`: LightGBM, 300 trees at learning rate 0.03, 15 leaves, at least 30 rows a leaf, 80%
  row and column subsampling, L2 lambda 1, `class_weight="balanced"`, `n_jobs=1` (the test
  suite runs two workers on two cores), `verbose=-1`.

Class weights make the raw probabilities overstate churn; `family` calibrates them afterwards
on held-out rows, without weights. Nothing here resamples rows.
"""

from __future__ import annotations

import numpy as np
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.class_weight import compute_sample_weight

from ml.churn.columns import make_preprocessor

MEMBER_NAMES = ("lr", "mlp", "gbm")


class BalancedSampleWeights(ClassifierMixin, BaseEstimator):
    """Fits `estimator` with sample weights that give each class the same total weight: the
    class-weight treatment for learners whose constructor has no `class_weight`."""

    def __init__(self, estimator: BaseEstimator):
        self.estimator = estimator

    def fit(self, X, y) -> BalancedSampleWeights:
        self.estimator_ = clone(self.estimator).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        return self.estimator_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        return self.estimator_.predict(X)


def make_learner(name: str, seed: int = 0) -> BaseEstimator:
    """The bare learner called `name`, with the hyperparameters in the module docstring."""
    if name == "lr":
        return LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    if name == "mlp":
        mlp = MLPClassifier(
            hidden_layer_sizes=(32,),
            alpha=1e-3,
            learning_rate_init=1e-3,
            max_iter=200,
            early_stopping=True,
            validation_fraction=0.1,
            n_iter_no_change=10,
            random_state=seed,
        )
        return BalancedSampleWeights(mlp)
    if name == "gbm":
        return LGBMClassifier(
            n_estimators=300,
            learning_rate=0.03,
            num_leaves=15,
            min_child_samples=30,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            reg_lambda=1.0,
            class_weight="balanced",
            n_jobs=1,
            verbose=-1,
            random_state=seed,
        )
    raise ValueError(f"unknown churn family member {name!r}; known: {', '.join(MEMBER_NAMES)}")


def make_members(seed: int = 0, names: tuple[str, ...] = MEMBER_NAMES) -> dict[str, Pipeline]:
    """Unfitted preprocess-then-learn pipelines, by member name."""
    return {name: Pipeline([("prepare", make_preprocessor()), ("learn", make_learner(name, seed))]) for name in names}
