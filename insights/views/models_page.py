"""The model registry in the browser: each kind's versions with their status, training window,
held-out months and metrics (the active version's beside the newest other one's, as in the
admin), the training runs with their progress (polled live from a small JSON endpoint by
static/js/progress.js), and for people holding ml.change_modelversion the Retrain / Promote /
Roll back buttons, which call ml.registry.actions: the same functions as the admin's actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ml import registry
from ml.models import ModelVersion, TrainingRun
from ml.registry import actions

from .access import needs_view

VIEW, ACT, VIEW_RUNS = "ml.view_modelversion", "ml.change_modelversion", "ml.view_trainingrun"
RUNS_SHOWN = 20
LIVE = (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return "…"
    return "–" if value is None else str(value)


def _months(months: list) -> str:
    if not months:
        return "–"
    return months[0] if len(months) == 1 else f"{months[0]}..{months[-1]} ({len(months)})"


def _side_by_side(active: ModelVersion | None, other: ModelVersion | None) -> list[tuple[str, str, str]]:
    """(metric, active's, other's) over both versions' metric names, the challenger's live
    comparison (shadow) left to its own line."""
    mine = active.metrics if active else {}
    theirs = other.metrics if other else {}
    names = [k for k in list(mine) + [k for k in theirs if k not in mine] if k != "shadow"]
    rows = [("held-out months", _months(active.held_out_months) if active else "–",
             _months(other.held_out_months) if other else "–")]
    return rows + [(k, _fmt(mine.get(k)), _fmt(theirs.get(k))) for k in names]


def _kinds() -> list[dict]:
    """Per kind (every kind with versions or a train function): its versions newest first,
    the active one, the newest other one to set beside it, and the side-by-side metrics."""
    versions = list(ModelVersion.objects.select_related("created_by").order_by("kind", "-version"))
    kinds = sorted({v.kind for v in versions} | set(registry.TRAINERS))
    out = []
    for kind in kinds:
        mine = [v for v in versions if v.kind == kind]
        active = next((v for v in mine if v.status == ModelVersion.Status.ACTIVE), None)
        other = next((v for v in mine if v is not active), None)
        for v in mine:
            # The metrics measured against a baseline (the ones promotion looks at) lead.
            names = [k for k in v.metrics if not k.startswith("baseline_") and k != "shadow"]
            shown = sorted(names, key=lambda k: f"baseline_{k}" not in v.metrics)[:4]
            v.key_metrics = [(k, _fmt(v.metrics[k]), _fmt(v.metrics.get(f"baseline_{k}"))) for k in shown]
        out.append({"kind": kind, "versions": mine, "active": active, "other": other,
                    "trainable": kind in registry.TRAINERS, "side_by_side": _side_by_side(active, other),
                    "shadow": (other.metrics.get("shadow") if other else None),
                    "can_roll_back": any(v.status == ModelVersion.Status.RETIRED and v.activated_at for v in mine)})
    return out


@needs_view(VIEW)
def models_page(request: HttpRequest) -> HttpResponse:
    registry.discover()  # the kinds that can be trained, even before any version exists
    runs = list(TrainingRun.objects.select_related("version", "requested_by")[:RUNS_SHOWN])
    return render(request, "insights/lists/models.html", {
        "kinds": _kinds(), "runs": runs, "may_act": request.user.has_perm(ACT),
        "live": LIVE,
    })


@login_required
@require_POST
def model_action(request: HttpRequest) -> HttpResponse:
    """Retrain a kind, promote a version or roll a kind back (ml.registry.actions)."""
    if not request.user.has_perm(ACT):
        raise PermissionDenied("You may not change model versions.")
    action = request.POST.get("action", "")
    if action == "promote":
        version = get_object_or_404(ModelVersion, pk=request.POST.get("version") or 0)
        outcomes = [actions.promote_version(version)]
    elif action == "roll_back":
        outcomes = [actions.roll_back_kind(request.POST.get("kind", ""))]
    elif action == "retrain":
        outcomes = actions.retrain_kinds([request.POST.get("kind", "")], user=request.user)
    else:
        outcomes = [actions.Outcome(False, f"Unknown action {action!r}: choose retrain, promote or roll_back.")]
    for outcome in outcomes:
        (messages.success if outcome.ok else messages.warning)(request, outcome.message)
    return redirect(reverse("insights:models"))


def run_state(run: TrainingRun) -> dict:
    return {"id": run.pk, "kind": run.kind, "status": run.status, "status_label": run.get_status_display(),
            "progress": run.progress, "message": run.message, "finished": run.status not in LIVE,
            "version": run.version.version if run.version_id else None}


@require_GET
def training_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """A training run's status and progress as JSON, for the page's progress bars."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "sign in first"}, status=401)
    if not request.user.has_perm(VIEW_RUNS):
        return JsonResponse({"error": "you may not view training runs"}, status=403)
    run = get_object_or_404(TrainingRun.objects.select_related("version"), pk=pk)
    return JsonResponse(run_state(run))
