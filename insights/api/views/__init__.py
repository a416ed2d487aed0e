"""The API's views, one module per resource (clients, predictions and jobs, leaks, alerts,
model versions and training runs, the token), on the shared base in `base`."""

from .alerts import AlertViewSet
from .auth import TokenView
from .base import NotFoundView
from .clients import ClientViewSet
from .leaks import LeakFindingViewSet
from .models import ModelVersionViewSet, TrainingRunViewSet
from .predictions import JobViewSet, PredictionViewSet

__all__ = ["AlertViewSet", "ClientViewSet", "JobViewSet", "LeakFindingViewSet", "ModelVersionViewSet",
           "NotFoundView", "PredictionViewSet", "TokenView", "TrainingRunViewSet"]
