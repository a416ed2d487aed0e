"""The model registry: the only code that writes or loads model artifacts.

Pages, the API, tasks and commands ask it for the active version of a kind and load it through
it. Artifacts live under settings.MODEL_DIR in native formats where they exist (XGBoost JSON,
LightGBM text), joblib for scikit-learn objects; each is written through a temp file and a
rename, and its sha256 is checked before every load (a pickle is never unpickled before).

- artifacts: file formats, atomic writes, verified reads
- versions: register, load (load_serving: kept in memory), active, promote, roll_back,
  already_trained, promote_if_better
- training: TRAINERS (kind -> train function), TrainingRun bookkeeping, the django-q2 task
- scoring: SCORERS (kind -> batch scorer writing Prediction rows), run after training and builds
- shadow: the challenger (a candidate not promoted) scores beside the champion; compare() once
  outcomes are known
"""

from .artifacts import ArtifactError, ArtifactMissing, ArtifactTampered
from .data import frame_hash
from .scoring import SCORERS, discover, score, score_all, scorer
from .training import TRAINERS, AlreadyTrained, Trained, TrainingContext, enqueue_training, execute_run, trainer
from .versions import (
    Decision,
    Window,
    active,
    already_trained,
    load,
    load_serving,
    promote,
    promote_if_better,
    register,
    roll_back,
)

__all__ = [
    "SCORERS",
    "TRAINERS",
    "AlreadyTrained",
    "ArtifactError",
    "ArtifactMissing",
    "ArtifactTampered",
    "Decision",
    "Trained",
    "TrainingContext",
    "Window",
    "active",
    "already_trained",
    "discover",
    "enqueue_training",
    "execute_run",
    "frame_hash",
    "load",
    "load_serving",
    "promote",
    "promote_if_better",
    "register",
    "roll_back",
    "score",
    "score_all",
    "scorer",
    "trainer",
]
