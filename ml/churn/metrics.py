"""How a churn probability is scored: ROC-AUC, PR-AUC (average precision), churn-class F1 at a
decision threshold, Brier score; and the threshold that maximises F1 on validation rows."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, f1_score, precision_recall_curve, roc_auc_score

METRICS = ("roc_auc", "pr_auc", "f1", "brier")


def best_f1_threshold(y: np.ndarray, proba: np.ndarray) -> float:
    """The probability cut (churn when proba >= cut) with the highest churn-class F1 on (y, proba).
    Meant for validation rows only: choosing it on the rows being scored would flatter F1."""
    precision, recall, thresholds = precision_recall_curve(y, proba)
    # The last precision/recall pair has no threshold (it is the "predict nothing" end).
    precision, recall = precision[:-1], recall[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return float(thresholds[int(np.argmax(f1))])


def score(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    """The four figures for churn probabilities `proba` of labels `y` (1 = churned)."""
    y = np.asarray(y)
    return {
        "roc_auc": float(roc_auc_score(y, proba)),
        "pr_auc": float(average_precision_score(y, proba)),
        "f1": float(f1_score(y, (proba >= threshold).astype(int), zero_division=0.0)),
        "brier": float(brier_score_loss(y, proba)),
        "threshold": float(threshold),
    }
