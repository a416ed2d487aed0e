"""Batches of live predictions: answered inline up to API_BATCH_INLINE_MAX client ids (default
100), otherwise recorded as an ApiJob and run by a django-q2 task queued after commit, whose
row `GET /api/v1/jobs/{id}/` reads. Unknown or ineligible client ids are reported per id."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from clients.models import Client
from clients.tasks import queue_after_commit
from insights.models import ApiJob

from . import predicting

logger = logging.getLogger(__name__)
DEFAULT_INLINE_MAX = 100


def inline_max() -> int:
    return int(getattr(settings, "API_BATCH_INLINE_MAX", DEFAULT_INLINE_MAX))


def run_batch(kind: str, client_ids: list[int]) -> dict:
    """Each asked id's prediction, or why there is none ("unknown_client", "not_eligible"),
    in the order asked. Raises LookupError when the kind has no active version."""
    version = predicting.active_version(kind)
    if version is None:
        raise LookupError(f"No {kind} model is active: train one first (Retrain now, or manage.py train)")
    known = set(Client.objects.filter(pk__in=client_ids).values_list("pk", flat=True))
    rows = predicting.predict_many(kind, known) if known else {}
    results = []
    for client_id in client_ids:
        if client_id not in known:
            results.append({"client_id": client_id, "error": "unknown_client", "message": "No client has this id."})
        elif client_id not in rows:
            results.append({"client_id": client_id, "error": "not_eligible",
                            "message": "No prediction this month (a partial month, too little history, or gone)."})
        else:
            results.append(rows[client_id])
    return {"kind": kind, "model_version": version, "count": len(results), "results": results}


def queue_batch(kind: str, client_ids: list[int], user) -> ApiJob:
    job = ApiJob.objects.create(kind=ApiJob.Kind.PREDICTION_BATCH, params={"kind": kind, "client_ids": client_ids},
                                requested_by=user if getattr(user, "pk", None) else None)
    queue_after_commit("insights.api.jobs.batch_task", job.pk, task_name=f"api batch {kind} (job {job.pk})")
    return job


def batch_task(job_id: int) -> str:
    """The django-q2 task: run a queued job once (a job no longer queued is left alone, so a
    task delivered twice runs once)."""
    claimed = ApiJob.objects.filter(pk=job_id, status=ApiJob.Status.QUEUED).update(
        status=ApiJob.Status.RUNNING, started_at=timezone.now())
    if not claimed:
        return "skipped"
    job = ApiJob.objects.get(pk=job_id)
    try:
        result = run_batch(job.params["kind"], job.params["client_ids"])
    except Exception as exc:  # recorded on the job so the caller polling it sees why
        logger.exception("API batch job %s failed", job_id)
        job.status, job.error = ApiJob.Status.FAILED, f"{type(exc).__name__}: {exc}"
    else:
        job.status, job.result = ApiJob.Status.SUCCEEDED, _json(result)
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "result", "error", "finished_at"])
    return job.status


def _json(value):
    """Dates to ISO strings so the result fits a JSONField."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
