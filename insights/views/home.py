"""The portfolio page: the last complete month and the twelve months up to it, read from the
KPI store (revenue net of tax, labour at each technician's burdened cost; docs/kpis.md), the
24-month trends, the profitability quadrant (revenue against margin %, bubble = endpoints,
colour = churn risk from the serving churn model), best and worst clients by margin, leaks
identified against recovered, open alerts, the genome's segment mix and the data's freshness.

Every figure set is one aggregate query, so the page costs the same number of queries for
ten clients or a thousand; the figures are plain dicts (insights/charts/portfolio.py).
"""

from __future__ import annotations

import statistics

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from clients.models import Client, RejectedRecord, SyncRun
from insights.alerts.services import open_count
from insights.charts import portfolio as charts
from insights.leaks.reports import identified_vs_recovered
from ml.models import ClientMonthKPI, GenomeVector
from ml.models.querysets import months_before
from ml.predictions import latest

from .access import VIEW, needs_role

TOP = 10  # clients listed, by revenue over the twelve months
RANKED = 5  # best and worst clients by margin
WINDOW = 12
TREND = 24

__all__ = ["VIEW", "home"]


@needs_role
def home(request: HttpRequest) -> HttpResponse:
    kpis = ClientMonthKPI.objects
    month = kpis.latest_complete_month()
    context = {
        "month": month,
        "home_currency": settings.HOME_CURRENCY,
        "last_sync": SyncRun.objects.order_by("-started_at").first(),
        "open_rejects": RejectedRecord.objects.filter(resolved=False).count(),
        "open_alerts": open_count(),
    }
    if month is None:
        context["has_clients"] = Client.objects.exists()  # loaded, features not built yet
        return render(request, "insights/home.html", context)

    window = kpis.trailing(month, WINDOW)
    client_url = reverse("insights:client", args=[0]).replace("/0/", "/{}/")  # once, not per client
    clients = list(window.by_client_with_endpoints(month))
    risks = {client_id: (value, (explanation or {}).get("tier"))
             for client_id, value, explanation in latest("churn").values_list("client_id", "value", "explanation")}
    for row in clients:
        row["margin_pct"] = float(row["gross_margin"] / row["revenue"] * 100) if row["revenue"] > 0 else None
        risk = risks.get(row["client_id"])
        row["churn_risk"], row["churn_tier"] = risk if risk else (None, None)
        row["url"] = client_url.format(row["client_id"])
    year = window.totals()
    year_margin_pct = None if year["margin_pct"] is None else year["margin_pct"] * 100
    trend = kpis.trailing(month, TREND).monthly_totals()
    by_margin = sorted(clients, key=lambda r: (r["gross_margin"], r["client__name"]))
    leak_months = identified_vs_recovered(first=months_before(month, TREND - 1))
    mix = GenomeVector.objects.for_month(month).segment_mix()
    with_margin = [r for r in clients if r["margin_pct"] is not None]
    context.update(
        period_start=months_before(month, WINDOW - 1),
        trend_start=trend[0]["month"] if trend else month,
        this_month=kpis.portfolio_totals(month),
        year=year,
        year_margin_pct=year_margin_pct,
        top_clients=clients[:TOP],
        best_clients=list(reversed(by_margin[-RANKED:])),
        worst_clients=by_margin[:RANKED] if len(by_margin) > RANKED else [],
        has_churn=bool(risks),
        leak_months=leak_months,
        leak_identified=sum((m.identified for m in leak_months), 0),
        leak_recovered=sum((m.recovered for m in leak_months), 0),
        segment_mix=mix,
        charts={
            "trends": charts.trends(trend),
            "margin_pct": charts.margin_pct(trend),
            "quadrant": charts.quadrant(
                with_margin, year_margin_pct,
                float(statistics.median(r["revenue"] for r in with_margin)) if with_margin else None),
            "leaks": charts.leaks(leak_months) if leak_months else None,
            "segments": charts.segments(mix) if mix else None,
        },
    )
    return render(request, "insights/home.html", context)
