"""Revenue leaks in the browser: the findings with filters, sorting and paging, the totals
identified against recovered (insights.leaks.reports), a finding's detail with its audit trail,
and the recovery workflow's buttons (insights.leaks.workflow: confirm, dismiss with a reason,
record a recovery) for people holding insights.change_leakfinding. Everyone else sees no
button, and a POST from them answers 403 and changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from clients.models import Client
from insights.leaks import workflow
from insights.leaks.reports import identified_vs_recovered
from insights.models import FindingType, LeakDetectionRun, LeakFinding

from .access import needs_view
from .lists_common import ordering, page_of, query_without, sort_key, sort_links

VIEW, CHANGE = "insights.view_leakfinding", "insights.change_leakfinding"
SORTS = {"amount": F("estimated_amount"), "period": F("period"), "detected": F("last_detected_at"),
         "client": F("client__name"), "confidence": F("confidence")}
DEFAULT_SORT = "-amount"
FIGURES = ("identified", "confirmed", "recovered", "dismissed")


def _month(text: str) -> date | None:
    """'YYYY-MM' as the month's first day; None for anything else."""
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        return None


def _filters(request: HttpRequest) -> tuple[dict, dict]:
    """The filters the person chose (as typed) and the ones that parse (for the queries)."""
    chosen = {k: request.GET.get(k, "").strip() for k in ("status", "type", "client", "month")}
    valid: dict = {}
    if chosen["status"] in LeakFinding.Status.values:
        valid["status"] = chosen["status"]
    if chosen["type"] in FindingType.values:
        valid["finding_type"] = chosen["type"]
    if chosen["client"].isdigit():
        valid["client_id"] = int(chosen["client"])
    if _month(chosen["month"]):
        valid["period"] = _month(chosen["month"])
    return chosen, valid


def _totals(valid: dict) -> dict:
    """Identified, confirmed, recovered and dismissed summed over the leak months of the month,
    type and client filters (identified_vs_recovered: one definition of each figure)."""
    period, kind, client = valid.get("period"), valid.get("finding_type"), valid.get("client_id")
    months = identified_vs_recovered(period, period, [kind] if kind else None, [client] if client else None)
    totals = {name: sum((getattr(m, name) for m in months), Decimal("0.00")) for name in FIGURES}
    totals["findings"] = sum(m.findings for m in months)
    totals["open"] = sum(m.open_findings for m in months)
    return totals


@needs_view(VIEW)
def leak_list(request: HttpRequest) -> HttpResponse:
    chosen, valid = _filters(request)
    sort = sort_key(request, SORTS, DEFAULT_SORT)
    rows = LeakFinding.objects.filter(**valid).select_related("client").order_by(*ordering(sort, SORTS))
    page = page_of(request, rows)
    any_findings = LeakFinding.objects.exists()
    return render(request, "insights/lists/leaks.html", {
        "page": page, "chosen": chosen, "sort": sort, "sorts": sort_links(request, SORTS, sort),
        "keep": query_without(request, "page"), "totals": _totals(valid) if any_findings else None,
        "any_findings": any_findings, "statuses": LeakFinding.Status.choices, "types": FindingType.choices,
        "clients": Client.objects.filter(leak_findings__isnull=False).distinct().order_by("name").values("pk", "name"),
        "months": LeakFinding.objects.dates("period", "month", order="DESC"),
        "totals_scope": _scope(valid), "home_currency": settings.HOME_CURRENCY,
        "last_run": LeakDetectionRun.objects.first(),
    })


def _scope(valid: dict) -> str:
    words = []
    if "finding_type" in valid:
        words.append(FindingType(valid["finding_type"]).label.lower())
    words.append(f"leaks of {valid['period']:%B %Y}" if "period" in valid else "every leak month")
    words.append("one client" if "client_id" in valid else "every client")
    return ", ".join(words)


@needs_view(VIEW)
def leak_detail(request: HttpRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(LeakFinding.objects.select_related("client"), pk=pk)
    may_act = request.user.has_perm(CHANGE)
    return render(request, "insights/lists/leak.html", {
        "finding": finding, "events": finding.events.all(), "may_act": may_act,
        "next_moves": [str(s) for s in workflow.ALLOWED[finding.status]] if may_act else [],
        "home_currency": settings.HOME_CURRENCY,
    })


@login_required
@require_POST
def leak_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, dismiss (reason required) or record a recovery (amount), through the workflow.
    A move it refuses is shown as its message and changes nothing."""
    if not request.user.has_perm(CHANGE):
        raise PermissionDenied("You may not change leak findings.")
    finding = get_object_or_404(LeakFinding, pk=pk)
    action = request.POST.get("action", "")
    note = request.POST.get("note", "").strip()
    try:
        if action == "confirm":
            workflow.confirm(finding, request.user, note)
            messages.success(request, f"Finding #{finding.pk} confirmed.")
        elif action == "dismiss":
            workflow.dismiss(finding, request.user, request.POST.get("reason", ""))
            messages.success(request, f"Finding #{finding.pk} dismissed.")
        elif action == "recover":
            amount = request.POST.get("amount", "").strip().replace(",", "")
            if not amount:
                raise workflow.IllegalTransition("enter the amount recovered")
            workflow.recover(finding, request.user, amount, note)
            messages.success(request, f"Recovery of {finding.recovered_amount} recorded on finding #{finding.pk}.")
        else:
            messages.error(request, f"Unknown action {action!r}: choose confirm, dismiss or recover.")
    except workflow.IllegalTransition as refused:
        messages.error(request, f"Nothing changed: {refused}.")
    return redirect(reverse("insights:leak", args=[finding.pk]))
