"""What ml/ stores: the monthly KPI snapshot, the genome vectors and segments, a row per feature
build, the model registry's versions and training runs, and predictions (see each module)."""

from .churn import ChurnWarning, Intervention
from .features import ClientMonthKPI, FeatureBuild
from .forecasts import Forecast as Forecast
from .forecasts import ForecastAccuracy as ForecastAccuracy
from .genome import GenomeVector, Segment
from .predictions import Prediction
from .registry import ModelVersion, TrainingRun

__all__ = [
    "ChurnWarning", "ClientMonthKPI", "FeatureBuild", "GenomeVector", "Intervention", "ModelVersion", "Prediction",
    "Segment", "TrainingRun",
]
