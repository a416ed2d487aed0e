"""The client page: margin trend with its cost breakdown, KPIs against the portfolio's medians
(each money and ticket figure one click from its source rows), the genome (radar of the five
group scores, strip of the 50 dimensions) with similar clients, the serving profitability
forecast with its interval and explanation, churn risk with its reasons and retention actions,
open leaks and interventions. It reads stored rows only: nothing is trained or scored here."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from insights.charts import client as charts
from insights.models import LeakFinding
from insights.templatetags.money import money
from ml.models import ChurnWarning, ClientMonthKPI, GenomeVector, Intervention, ModelVersion, Prediction
from ml.models.querysets import MEDIAN_FIELDS

from .access import needs_role

HISTORY = 24  # months on the margin trend

# The KPI table: (label, column, unit, which way is better, drill-down figure). Units: money,
# pct (a 0-1 ratio shown as %), hours, ratio, count, days, score. Better: +1 higher, -1 lower.
KPI_ROWS = (
    ("Revenue (net of tax)", "revenue_total", "money", 1, "revenue"),
    ("Labour cost", "labour_cost", "money", -1, "labour_cost"),
    ("Licence cost", "license_cost", "money", -1, "license_cost"),
    ("Other costs", "other_cost", "money", -1, "other_cost"),
    ("Gross margin", "gross_margin", "money", 1, "gross_margin"),
    ("Gross margin %", "margin_pct", "pct", 1, None),
    ("Labour hours", "labour_minutes", "minutes", 0, "labour_hours"),
    ("Effective hourly rate", "effective_hourly_rate", "money2", 1, None),
    ("MRR (contracted)", "mrr", "money", 1, None),
    ("Open AR at month end", "open_ar", "money", -1, "open_ar"),
    ("DSO", "dso_days", "days", -1, None),
    ("Tickets", "tickets", "count", -1, "tickets"),
    ("Tickets per endpoint", "tickets_per_endpoint", "ratio", -1, None),
    ("RHEM (reactive hours per endpoint)", "rhem", "ratio", -1, None),
    ("First-response SLA", "first_response_sla", "pct", 1, None),
    ("Reopen rate", "reopen_rate", "pct", -1, None),
    ("After-hours share", "after_hours_share", "pct", -1, None),
    ("CSAT (1-5)", "csat_avg", "ratio", 1, None),
    ("Active endpoints", "active_endpoints", "count", 0, None),
)
TABLE_FIELDS = tuple(dict.fromkeys(MEDIAN_FIELDS + tuple(row[1] for row in KPI_ROWS)))


def shown(value, unit: str) -> str:
    """A KPI as the table prints it ("–" when missing: not enough data is not zero)."""
    if value is None:
        return "–"
    if unit in ("money", "money2"):
        return money(value, 2 if unit == "money2" else 0)
    if unit == "pct":
        return f"{float(value) * 100:.1f}%"
    if unit == "hours":
        return f"{float(value):,.1f} h"
    if unit == "days":
        return f"{float(value):,.0f} days"
    if unit == "count":
        return f"{float(value):,.0f}"
    return f"{float(value):,.2f}"


def source_url(client_id: int, month: date, figure: str) -> str:
    return reverse("insights:client-sources", args=[client_id, f"{month:%Y-%m}", figure])


@needs_role
def client_page(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(Client, pk=client_id)
    history = list(ClientMonthKPI.objects.history(client, HISTORY))
    context: dict = {"client": client, "history": history}
    # Signed, not live yet: nothing to measure until its go-live, and the page says so.
    if client.onboarded_on and client.onboarded_on > timezone.localdate():
        context["goes_live"] = client.onboarded_on
    if history:
        context.update(_kpis(client, history))
    context.update(_genome(client))
    context.update(_predictions(client))
    context["leaks"] = list(LeakFinding.objects.filter(
        client=client, status__in=(LeakFinding.Status.OPEN, LeakFinding.Status.CONFIRMED)).order_by("-period"))
    context["interventions"] = list(Intervention.objects.filter(client=client).select_related("who")[:10])
    context["warnings"] = list(ChurnWarning.objects.filter(client=client)[:5])
    return render(request, "insights/client.html", context)


def _kpis(client: Client, history: list[ClientMonthKPI]) -> dict:
    """The reported month (the portfolio's last complete month, else the client's own last
    complete one: a client that left), its KPIs beside the portfolio medians, and the trend."""
    portfolio_month = ClientMonthKPI.objects.latest_complete_month()
    by_month = {r.month: r for r in history}
    row = by_month.get(portfolio_month) or next((r for r in reversed(history) if not r.partial_month), history[-1])
    medians = ClientMonthKPI.objects.portfolio_medians(row.month, fields=TABLE_FIELDS)
    table = []
    for label, field, unit, better, figure in KPI_ROWS:
        value, median = getattr(row, field), medians.get(field)
        if unit == "minutes":
            value, median, unit = value / 60, None if median is None else median / 60, "hours"
        verdict = ""
        if better and value is not None and median is not None and value != median:
            verdict = "better" if (value > median) == (better > 0) else "worse"
        table.append({"label": label, "field": field, "unit": unit, "value": value, "median": median,
                      "shown": shown(value, unit), "median_shown": shown(median, unit),
                      "verdict": verdict, "url": source_url(client.pk, row.month, figure) if figure else None})
    return {
        "row": row,
        "kpi_table": table,
        "margin_chart": charts.margin_trend(history, lambda month, code: source_url(client.pk, month, code)),
        "trend_links": [(r, {code: source_url(client.pk, r.month, code)
                             for code in ("revenue", "labour_cost", "license_cost", "other_cost", "gross_margin")})
                        for r in reversed(history)],
    }


def _genome(client: Client) -> dict:
    vector = (GenomeVector.objects.filter(client=client).select_related("segment")
              .order_by("-month", "-schema_version").first())
    if vector is None:
        return {"genome": None}
    from ml.genome.dimensions import DIMENSIONS, GROUPS, SCHEMA_VERSION
    from ml.genome.similarity import similar_clients

    current = vector.schema_version == SCHEMA_VERSION  # the dimension table describes this schema only
    similar = similar_clients(client.pk, month=vector.month, k=5, schema_version=vector.schema_version)
    for s in similar:
        s.url = reverse("insights:client", args=[s.client_id])
    return {
        "genome": vector,
        "genome_groups": [(name, vector.group_scores[key]) for key, name in GROUPS],
        "radar_chart": charts.genome_radar(vector.group_scores, GROUPS),
        "strip_chart": charts.genome_strip(vector.values, vector.raw, vector.missing, DIMENSIONS) if current else None,
        "similar": similar,
    }


def _predictions(client: Client) -> dict:
    active = set(ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).values_list("kind", flat=True))
    forecast = Prediction.objects.latest_for_client(client, "profitability") if "profitability" in active else None
    churn = Prediction.objects.latest_for_client(client, "churn") if "churn" in active else None
    context = {"active_kinds": active, "forecast": forecast, "churn": churn}
    if forecast is not None:
        explanation = forecast.explanation or {}
        context["forecast_chart"] = charts.forecast(explanation.get("baseline"), forecast.value, forecast.lower,
                                                    forecast.upper, f"{forecast.as_of:%b %Y}")
        context["forecast_drivers"] = explanation.get("contributions", [])[:5]
    if churn is not None:
        explanation = churn.explanation or {}
        context["churn_tier"] = explanation.get("tier")
        context["churn_reasons"] = explanation.get("reasons", [])
        context["churn_actions"] = explanation.get("actions", [])
    return context
