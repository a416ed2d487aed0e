"""Training the churn kind: `@trainer("churn")`, called by the registry's training runs.

Time-ordered validation, nothing shuffled across months:
- test: the final TEST_MONTHS labelled as-of months (their three months of outcome are known);
- train: every earlier labelled month. The family (`ml.churn.fit_family`) learns its
  calibration, its ensemble's stacking weights and its decision thresholds on an inner split
  that is also by month
  (`MonthSplit`: each fold validates on a block of later months, training on the months
  before it), so no validation row comes before a row it was trained on.
Reported on the test months: the ensemble's roc_auc, pr_auc, f1, brier; each member's under
its prefix (lr_*, mlp_*, gbm_*; logistic regression is the baseline, also as baseline_pr_auc);
the plan's F1 target (0.85) as f1_target; rows and churners in train and test. The params
hold the feature list, each model's decision threshold, the ensemble's weight per member and
the version's global importance (mean absolute contribution per feature on the held-out rows,
`reasons.global_importance`). `fit_and_measure` is the whole fit-and-score, also run by
bench/churn_design.py on pickled world frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.features import months as mo
from ml.registry import Trained, TrainingContext, Window, trainer

from .dataset import FEATURES, build_frame
from .reasons import global_importance

TEST_MONTHS = 4
INNER_FOLDS = 3
F1_TARGET = 0.85  # the original plan's target, reported beside the measured F1
SEED = 0


class MonthSplit:
    """Time-ordered inner split by month (groups = month index): the training months are cut
    into `n_splits + 1` consecutive blocks; fold i validates on block i + 1 and trains on the
    blocks before it. A block whose validation rows hold a single class is merged forward."""

    def __init__(self, n_splits: int = INNER_FOLDS):
        self.n_splits = n_splits

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def split(self, X, y, groups):
        groups = np.asarray(groups)
        y = np.asarray(y)
        months = np.unique(groups)
        blocks = [b for b in np.array_split(months, self.n_splits + 1) if len(b)]
        for i in range(1, len(blocks)):
            train = np.flatnonzero(groups < blocks[i][0])
            held = np.flatnonzero(np.isin(groups, blocks[i]))
            if len(np.unique(y[train])) == 2 and len(held):
                yield train, held


def split_held_out(labelled: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """(training rows, held-out rows, held-out month indexes): the final TEST_MONTHS labelled
    months are held out, every earlier labelled month trains."""
    months = sorted(labelled["mi"].unique())
    test_months = months[-TEST_MONTHS:]
    is_test = labelled["mi"].isin(test_months).to_numpy()
    train_rows, test_rows = labelled[~is_test].reset_index(drop=True), labelled[is_test].reset_index(drop=True)
    if train_rows["label"].nunique() < 2 or test_rows["label"].nunique() < 2:
        raise ValueError("The held-out months or the months before them have no churner: too little history")
    return train_rows, test_rows, test_months


def fit_and_measure(labelled: pd.DataFrame, progress=None):
    """The family fitted on the training months of `labelled` (`ChurnFrame.training()` rows)
    and scored on the held-out ones: (family, metrics, held-out rows). The trainer's code path,
    also what bench/churn_design.py runs to measure a world."""
    # scikit-learn and LightGBM load here, not when ml.apps discovers this kind at start-up.
    from ml.churn import fit_family
    from ml.churn.family import ENSEMBLE
    from ml.churn.metrics import METRICS, score

    say = progress or (lambda percent, message: None)
    train_rows, test_rows, _ = split_held_out(labelled)
    say(20, f"Fitting the churn family on {len(train_rows)} client-months")
    family = fit_family(train_rows.loc[:, list(FEATURES)], train_rows["label"].to_numpy(), seed=SEED,
                        cv=MonthSplit(), groups=train_rows["mi"].to_numpy())
    say(80, f"Scoring {len(test_rows)} held-out client-months")
    y = test_rows["label"].to_numpy()
    probabilities = family.member_proba(test_rows.loc[:, list(FEATURES)])
    metrics: dict = {}
    for name, proba in probabilities.items():
        figures = score(y, proba, family.thresholds_[name])
        prefix = "" if name == ENSEMBLE else f"{name}_"
        metrics.update({f"{prefix}{key}": figures[key] for key in (*METRICS, "threshold")})
    metrics["baseline_pr_auc"] = metrics["lr_pr_auc"]  # logistic regression alone is the baseline
    metrics.update(
        f1_target=F1_TARGET,
        train_rows=len(train_rows), test_rows=len(test_rows),
        train_churn_rows=int(train_rows["label"].sum()), test_churn_rows=int(y.sum()),
        train_churners=int(train_rows.loc[train_rows["label"] == 1, "client_id"].nunique()),
        test_churners=int(test_rows.loc[test_rows["label"] == 1, "client_id"].nunique()),
        validation_rows=family.validation_rows_,
    )
    return family, metrics, test_rows


@trainer("churn")
def train(ctx: TrainingContext) -> Trained:
    ctx.progress(5, "Building the churn frame from the KPI store")
    frame = build_frame()
    labelled = frame.training().reset_index(drop=True)
    if labelled.empty or labelled["label"].nunique() < 2:
        raise ValueError("Not enough labelled client-months with both churned and kept clients to train churn")
    data_hash = frame.hash()
    ctx.check_data_hash(data_hash)

    family, metrics, test_rows = fit_and_measure(labelled, ctx.progress)
    months = sorted(labelled["mi"].unique())
    test_months = months[-TEST_MONTHS:]
    held_out = tuple(f"{mo.to_date(m):%Y-%m}" for m in test_months)
    window = Window(mo.to_date(months[0]), mo.to_date(months[-1]), held_out)
    params = {
        "features": list(FEATURES),
        "thresholds": {name: float(t) for name, t in family.thresholds_.items()},
        "threshold": float(family.threshold_),
        "test_months": TEST_MONTHS,
        "inner_split": f"MonthSplit({INNER_FOLDS}): by month, validation after training",
        "members": list(family.members_),
        # The stack's weight per member on its calibrated log-odds (0 = left out by validation).
        "ensemble_weights": dict(family.weights_),
        "seed": SEED,
        "label": "leaves within 3 calendar months after the as-of month (ml.estimators.churn.dataset)",
        # Global importance of this version: mean |contribution| (log-odds) on the held-out rows.
        "importance": global_importance(family, test_rows.loc[:, list(FEATURES)]),
    }
    ctx.progress(95, f"Held-out PR-AUC {metrics['pr_auc']:.3f} (logistic regression {metrics['lr_pr_auc']:.3f})")
    return Trained(artifact=family, fmt="joblib", params=params, window=window, data_hash=data_hash,
                   metrics=metrics, metric="pr_auc", higher_is_better=True)
