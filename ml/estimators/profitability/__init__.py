"""The profitability kind: next quarter's gross margin per client, with a 90% interval and a
plain-language explanation.

- dataset: the frame as of each month end, from the KPI store and the genome
- train: time-ordered search over XGBoost and Random Forest, split conformal intervals,
  registered with the model registry as kind "profitability"
- predict: loads the active version through the registry; predict, predict_client, score_and_store
- explain: SHAP contributions and the sentence a person reads; global importance per version
"""

from . import train  # noqa: F401  (registers the train function with the registry)
from .predict import predict, predict_client, score_and_store

__all__ = ["predict", "predict_client", "score_and_store"]
