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
AGREEING_MEMBERS = 2  # a row scores as high as its two strongest accusers (see `ml.anomaly`)


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


def agreement(ranks: np.ndarray) -> np.ndarray:
    """Each member's weight from its agreement with the others: the correlation of its
    percentile ranks with the mean rank of the other members, clipped at 0 and divided by the
    largest (the most agreeing member weighs 1). With one member, fewer than three rows, or when
    no member agrees with the rest at all, every weight is 1."""
    rows, members = ranks.shape
    if members < 2 or rows < 3:  # fewer than three rows: no correlation worth the name
        return np.ones(members)
    weights = np.zeros(members)
    for j in range(members):
        others = np.delete(ranks, j, axis=1).mean(axis=1)
        if ranks[:, j].std() > 0 and others.std() > 0:
            weights[j] = max(0.0, float(np.corrcoef(ranks[:, j], others)[0, 1]))
    top = weights.max()
    return weights / top if top > 0 else np.ones(members)


def combine(scores: dict[str, np.ndarray]) -> np.ndarray:
    """The ensemble score per row, in [0, 1]: each member's percentile ranks pulled towards 0.5
    (no opinion) by its `agreement` weight, then the mean of the row's two highest (one member
    alone counts fully). Why this rule is in the package docstring."""
    ranks = np.column_stack([percentile_ranks(member) for member in scores.values()])
    if ranks.shape[1] == 1:
        return ranks[:, 0]
    weighted = 0.5 + agreement(ranks) * (ranks - 0.5)
    top_two = np.sort(weighted, axis=1)[:, -AGREEING_MEMBERS:]
    return top_two.mean(axis=1)


def ensemble_scores(X, random_state: int = RANDOM_STATE) -> np.ndarray:
    """Anomaly score per row of X (higher = more anomalous), in [0, 1]."""
    return combine(member_scores(X, random_state=random_state))
