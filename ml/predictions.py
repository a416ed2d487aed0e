"""Writing and reading prediction rows (ml.models.Prediction). Batch scoring calls
`store_predictions` once per (model version, month); pages and the API read `latest`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction

from ml.models import ModelVersion, Prediction


def store_predictions(version: ModelVersion, as_of: date, rows: Iterable[dict],
                      role: str = Prediction.Role.CHAMPION) -> int:
    """Replace the version's predictions for the month with `rows` (dicts with client_id,
    value and optionally lower, upper, explanation); returns how many were written."""
    objects = [Prediction(model_version=version, kind=version.kind, as_of=as_of, role=role,
                          client_id=row["client_id"], value=float(row["value"]),
                          lower=None if row.get("lower") is None else float(row["lower"]),
                          upper=None if row.get("upper") is None else float(row["upper"]),
                          explanation=row.get("explanation") or {})
               for row in rows]
    with transaction.atomic():
        Prediction.objects.filter(model_version=version, as_of=as_of).delete()
        Prediction.objects.bulk_create(objects, batch_size=2000)
    return len(objects)


def latest(kind: str, role: str = Prediction.Role.CHAMPION):
    """Each client's newest prediction of the kind by the version now active."""
    version = ModelVersion.objects.filter(kind=kind, status=ModelVersion.Status.ACTIVE).first()
    if version is None:
        return Prediction.objects.none()
    rows = Prediction.objects.filter(model_version=version, role=role)
    newest = rows.order_by("-as_of").values_list("as_of", flat=True).first()
    return rows.filter(as_of=newest).select_related("client") if newest else rows.none()
