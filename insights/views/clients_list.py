"""The clients list: every client of the book in the last complete month with that month's
revenue, gross margin, margin %, MRR and endpoints (the KPI store), its segment (the genome),
its churn risk and next quarter's margin forecast (the serving models' stored predictions).
Filters, sorting by any column and paging happen in the database: one query for the rows of
a page whatever the size of the book, each figure a subquery over the read layer's querysets."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.fields.json import KT
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clients.models import Client
from ml.models import ClientMonthKPI, GenomeVector, Segment
from ml.models.churn import TIERS
from ml.predictions import latest

from .access import needs_view
from .lists_common import ordering, page_of, query_without, sort_key, sort_links

VIEW = "ml.view_clientmonthkpi"
KPI_COLUMNS = {  # annotation -> KPI store column
    "revenue": "revenue_total", "gross_margin": "gross_margin", "margin_pct": "margin_pct", "mrr": "mrr",
    "endpoints": "active_endpoints",
}
SORTS = {
    "name": F("name"), "segment": F("segment_name"), "revenue": F("revenue"), "gross_margin": F("gross_margin"),
    "margin_pct": F("margin_pct"), "mrr": F("mrr"), "endpoints": F("endpoints"), "churn": F("churn"),
    "forecast": F("forecast"),
}
DEFAULT_SORT = "-revenue"


def _one(rows, column: str) -> Subquery:
    return Subquery(rows.filter(client=OuterRef("pk")).values(column)[:1])


def book(month) -> tuple:
    """The clients annotated with the month's figures, segment and predictions (not yet
    filtered), and whether a churn and a profitability model serve."""
    kpis = ClientMonthKPI.objects.filter(month=month)
    genome = GenomeVector.objects.for_month(month)
    churn, margin = latest("churn"), latest("profitability")
    rows = Client.objects.annotate(
        in_book=Exists(kpis.filter(client=OuterRef("pk"))),
        **{name: _one(kpis, column) for name, column in KPI_COLUMNS.items()},
        segment_id=_one(genome, "segment_id"), segment_name=_one(genome, "segment__name"),
        churn=_one(churn, "value"), churn_tier=_one(churn.annotate(tier=KT("explanation__tier")), "tier"),
        forecast=_one(margin, "value"), forecast_lower=_one(margin, "lower"), forecast_upper=_one(margin, "upper"),
    )
    return rows, churn.exists(), margin.exists()


def filtered(request: HttpRequest, rows):
    """Apply the filters the person chose: name, segment, churn tier, losing money, and
    whether clients with no figures for the month are listed."""
    chosen = {k: request.GET.get(k, "").strip() for k in ("q", "segment", "tier", "negative", "all")}
    if not chosen["all"]:
        rows = rows.filter(in_book=True)
    if chosen["q"]:
        rows = rows.filter(name__icontains=chosen["q"])
    if chosen["segment"].isdigit():
        rows = rows.filter(segment_id=int(chosen["segment"]))
    if chosen["tier"] in TIERS:
        rows = rows.filter(churn_tier=chosen["tier"])
    if chosen["negative"]:
        rows = rows.filter(Q(gross_margin__lt=0))
    return rows, chosen


@needs_view(VIEW)
def clients_list(request: HttpRequest) -> HttpResponse:
    month = ClientMonthKPI.objects.latest_complete_month()
    context: dict = {"month": month, "home_currency": settings.HOME_CURRENCY, "tiers": TIERS}
    if month is None:
        context["has_clients"] = Client.objects.exists()
        return render(request, "insights/lists/clients.html", context)
    rows, has_churn, has_forecast = book(month)
    rows, chosen = filtered(request, rows)
    sort = sort_key(request, SORTS, DEFAULT_SORT)
    page = page_of(request, rows.order_by(*ordering(sort, SORTS, "name")))
    for client in page.object_list:
        client.margin_pct_shown = None if client.margin_pct is None else client.margin_pct * 100
    context.update(
        page=page, chosen=chosen, sort=sort, sorts=sort_links(request, SORTS, sort),
        keep=query_without(request, "page"), has_churn=has_churn, has_forecast=has_forecast,
        segments=Segment.objects.filter(month=month).order_by("key"),
    )
    return render(request, "insights/lists/clients.html", context)
