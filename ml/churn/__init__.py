"""Churn model family: logistic regression, a small neural network and gradient boosting,
calibrated and stacked, usable on any tabular frame.

Pure machine learning: no Django models and no database. The churn trainer builds its frame
from the KPI store and the genome and hands it to `fit_family`; `cross_validate_frame` measures
the same family on any frame (the public telco set keeps it honest).

- `columns`: what each column of a frame is (number, number stored as text, category, id) and
  the fold-local imputation, scaling and encoding.
- `members`: the three learners and their a-priori hyperparameters.
- `family`: `ChurnFamily`, which fits the members, calibrates them, stacks them (each kept at
  a floor share) and picks the decision threshold on validation data carved from its own
  training rows.
- `metrics`: ROC-AUC, PR-AUC, churn-class F1, Brier and the F1-maximising threshold.
- `crossval`: `cross_validate_frame`, stratified outer folds over the whole family.
"""

from ml.churn.crossval import cross_validate_frame
from ml.churn.family import ChurnFamily, build_family, fit_family
from ml.churn.members import MEMBER_NAMES, make_members

__all__ = ["MEMBER_NAMES", "ChurnFamily", "build_family", "cross_validate_frame", "fit_family", "make_members"]
