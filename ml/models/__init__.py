"""What ml/ stores: the monthly KPI snapshot, the genome vectors and segments, a row per feature
build, the model registry's versions and training runs, and predictions (see each module)."""

from .features import ClientMonthKPI, FeatureBuild
from .genome import GenomeVector, Segment
from .predictions import Prediction
from .registry import ModelVersion, TrainingRun

__all__ = ["ClientMonthKPI", "FeatureBuild", "GenomeVector", "ModelVersion", "Prediction", "Segment", "TrainingRun"]
