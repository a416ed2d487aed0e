"""Churn risk: clients by the serving churn model's latest risk, with the reasons and
retention actions stored on each prediction, the early warnings (a client's tier rose) and the
retention interventions people logged; people holding ml.add_intervention log one here (everyone
else sees no form, and their POST answers 403 and writes nothing)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models.fields.json import KT
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients.models import Client
from ml.models import ChurnWarning, Intervention
from ml.models.churn import TIERS
from ml.predictions import latest

from .access import needs_view
from .lists_common import page_of, query_without

VIEW, LOG = "ml.view_prediction", "ml.add_intervention"
WARNINGS_SHOWN = 25
INTERVENTIONS_SHOWN = 25


class InterventionForm(forms.ModelForm):
    class Meta:
        model = Intervention
        fields = ("client", "action", "date", "outcome", "notes")
        widgets = {"date": forms.DateInput(attrs={"type": "date"}), "notes": forms.Textarea(attrs={"rows": 2}),
                   "action": forms.TextInput(attrs={"list": "retention-actions"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.order_by("name")


def _page(request: HttpRequest, form: InterventionForm | None, status: int = 200) -> HttpResponse:
    risks = latest("churn")
    tier = request.GET.get("tier", "")
    rows = risks.annotate(tier=KT("explanation__tier"))
    if tier in TIERS:
        rows = rows.filter(tier=tier)
    page = page_of(request, rows.order_by("-value", "client__name"))
    # The latest intervention of each client on this page, in one query.
    last_done = {}
    for done in Intervention.objects.filter(client_id__in=[p.client_id for p in page.object_list]).order_by("date"):
        last_done[done.client_id] = done
    for p in page.object_list:
        p.last_intervention = last_done.get(p.client_id)
    may_log = request.user.has_perm(LOG)
    actions = sorted({a for p in page.object_list for a in (p.explanation or {}).get("actions", [])})
    return render(request, "insights/lists/churn.html", {
        "page": page, "tier": tier if tier in TIERS else "", "tiers": TIERS, "keep": query_without(request, "page"),
        "has_model": risks.exists(), "as_of": page.object_list[0].as_of if page.object_list else None,
        "warnings": ChurnWarning.objects.select_related("client").order_by("-as_of", "-risk")[:WARNINGS_SHOWN],
        "interventions": Intervention.objects.select_related("client", "who")[:INTERVENTIONS_SHOWN],
        "may_log": may_log, "form": form if may_log else None, "actions": actions,
    }, status=status)


@needs_view(VIEW)
def churn_page(request: HttpRequest) -> HttpResponse:
    form = None
    if request.user.has_perm(LOG):
        initial = {"date": timezone.localdate()}
        if request.GET.get("client", "").isdigit():
            initial["client"] = int(request.GET["client"])
        form = InterventionForm(initial=initial)
    return _page(request, form)


@login_required
@require_POST
def log_intervention(request: HttpRequest) -> HttpResponse:
    """Log a retention intervention (who: the person signed in)."""
    if not request.user.has_perm(LOG):
        raise PermissionDenied("You may not log retention interventions.")
    form = InterventionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing logged: correct the fields marked below.")
        return _page(request, form, status=400)
    done = form.save(commit=False)
    done.who = request.user
    done.save()
    messages.success(request, f"Logged “{done.action}” with {done.client.name} on {done.date:%d %b %Y}.")
    return redirect(reverse("insights:churn"))
