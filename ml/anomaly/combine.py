"""Scoring rows with every member and combining the members by rank (the rule is in the package
docstring, `ml.anomaly`)."""

from __future__ import annotations

import numpy as np

from ml.anomaly.density import dbscan_noise
from ml.anomaly.members import autoencoder, isolation_forest, one_class_svm, robust_z
from ml.anomaly.prepare import as_matrix, robust_standardise

MEMBERS = {
    "isolation_forest": isolation_forest,
    "one_class_svm": one_class_svm,
    "dbscan_noise": dbscan_noise,
    "autoencoder": autoencoder,
    "robust_z": robust_z,
}
RANDOM_STATE = 0
AGREEING_MEMBERS = 2  # a row scores as high as its second-strongest accuser (see `ml.anomaly`)


def member_scores(X, random_state: int = RANDOM_STATE) -> dict[str, np.ndarray]:
    """Each member's raw score per row (higher = more anomalous), keyed by member name."""
    z = robust_standardise(as_matrix(X))
    return {name: member(z, random_state=random_state) for name, member in MEMBERS.items()}


def percentile_ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1] (ties share their average rank; one row, or all tied, is 0.5)."""
    from scipy.stats import rankdata

    scores = np.asarray(scores, dtype=float)
    if scores.size == 0:
        return scores.copy()
    if scores.size == 1:
        return np.full(1, 0.5)
    return (rankdata(scores) - 1.0) / (scores.size - 1.0)


def combine(scores: dict[str, np.ndarray]) -> np.ndarray:
    """The ensemble score per row: the mean of the row's two highest member percentile ranks
    (one member alone counts fully). In [0, 1]; why this rule is in the package docstring."""
    ranks = np.column_stack([percentile_ranks(member) for member in scores.values()])
    if ranks.shape[1] == 1:
        return ranks[:, 0]
    top_two = np.sort(ranks, axis=1)[:, -AGREEING_MEMBERS:]
    return top_two.mean(axis=1)


def ensemble_scores(X, random_state: int = RANDOM_STATE) -> np.ndarray:
    """Anomaly score per row of X (higher = more anomalous), in [0, 1]."""
    return combine(member_scores(X, random_state=random_state))
