"""The API's one door to the models: each kind's own predict functions
(ml/estimators/<kind>/predict.py) with the version the registry says is active, answered in one
shape per kind. Nothing here trains or changes a figure; it only calls and reshapes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from ml.models import ModelVersion

KINDS = ("profitability", "churn")


def active_version(kind: str) -> int | None:
    """The version number serving the kind, or None (one query)."""
    return (ModelVersion.objects.filter(kind=kind, status=ModelVersion.Status.ACTIVE)
            .values_list("version", flat=True).first())


def _profitability_row(row: dict) -> dict:
    explanation = row.get("explanation") or {}
    return {"client_id": row["client_id"], "as_of": row["as_of"], "value": row["value"], "lower": row["lower"],
            "upper": row["upper"], "text": explanation.get("text", ""),
            "contributions": explanation.get("contributions", [])}


def predict_one(kind: str, client_id: int, as_of: date | None = None) -> dict | None:
    """One client's live prediction, or None when the client has no eligible row that month.
    Raises LookupError when the kind has no active version."""
    if kind == "profitability":
        from ml.estimators.profitability.predict import predict_client

        row = predict_client(client_id, as_of)
        return None if row is None else _profitability_row(row)
    from ml.estimators.churn.predict import explain_client

    row = explain_client(client_id, as_of)
    if row is None:
        return None
    return {"client_id": client_id, "as_of": row["as_of"], "value": row["value"], "tier": row["tier"],
            "text": row["text"], "reasons": row["reasons"], "actions": row["actions"]}


def predict_many(kind: str, client_ids: Iterable[int]) -> dict[int, dict]:
    """The clients' live predictions as of the latest month, scored in one pass of the kind's
    batch predict (client id -> row; an ineligible client is left out)."""
    wanted = set(client_ids)
    if kind == "profitability":
        from ml.estimators.profitability.predict import predict

        return {r["client_id"]: _profitability_row(r) for r in predict() if r["client_id"] in wanted}
    from ml.estimators.churn.predict import predict

    return {s.client_id: {"client_id": s.client_id, "as_of": None, "value": s.risk, "tier": s.tier,
                          "text": s.explanation["text"], "reasons": s.explanation["reasons"],
                          "actions": s.explanation["actions"]}
            for s in predict() if s.client_id in wanted}
