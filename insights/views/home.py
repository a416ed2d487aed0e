"""The portfolio page: the last complete month and the twelve months up to it, read from the
KPI store (revenue net of tax, labour at each technician's burdened cost; docs/kpis.md), the
largest clients with their churn risk where a churn model serves, and the data's freshness."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clients.models import Client, RejectedRecord, SyncRun
from ml.models import ClientMonthKPI
from ml.models.querysets import months_before
from ml.predictions import latest

TOP = 10  # clients listed, by revenue over the twelve months
WINDOW = 12


VIEW = "ml.view_clientmonthkpi"  # every role (viewer, manager, admin) holds it


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(VIEW):
        # Signed in but given no role yet: the portfolio's figures are not for everyone with
        # an account. Say what to do instead of showing them or a bare 403.
        return render(request, "insights/no_role.html", status=403)
    kpis = ClientMonthKPI.objects
    month = kpis.latest_complete_month()
    context = {
        "month": month,
        "home_currency": settings.HOME_CURRENCY,
        "last_sync": SyncRun.objects.order_by("-started_at").first(),
        "open_rejects": RejectedRecord.objects.filter(resolved=False).count(),
    }
    if month is None:
        context["has_clients"] = Client.objects.exists()  # loaded, features not built yet
        return render(request, "insights/home.html", context)
    window = kpis.trailing(month, WINDOW)
    top = list(window.by_client()[:TOP])
    risks = {p.client_id: p for p in latest("churn").filter(client_id__in=[row["client_id"] for row in top])}
    for row in top:
        row["margin_pct"] = row["gross_margin"] / row["revenue"] * 100 if row["revenue"] else None
        row["churn"] = risks.get(row["client_id"])
    year = window.totals()
    context.update(
        period_start=months_before(month, WINDOW - 1),
        this_month=kpis.portfolio_totals(month),
        year=year,
        year_margin_pct=None if year["margin_pct"] is None else year["margin_pct"] * 100,
        top_clients=top,
        has_churn=bool(risks),
    )
    return render(request, "insights/home.html", context)
