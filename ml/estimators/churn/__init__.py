"""The churn model kind: will a client leave within 90 days after a month end?

- `dataset`: the frame (one row per client-month from the KPI store) and the label from what
  a tenant's data shows (status, agreements, invoices), never a simulator's truth file.
- `train`: `@trainer("churn")`, time-ordered validation, held-out metrics per member.
- `predict`: risk 0-100, tier, reasons and actions as Prediction rows; early warnings;
  retention with and without an intervention.
- `reasons`: `explain(...)`, contributions (SHAP for the tree member, linear for logistic
  regression) in plain words, with the retention action tied to each reason.

Importing the package registers the train function with the model registry.
"""

from . import train  # noqa: F401  (registers @trainer("churn"))
from .predict import predict, retention_report, score_and_store, tier_of
from .reasons import explain

__all__ = ["explain", "predict", "retention_report", "score_and_store", "tier_of"]
