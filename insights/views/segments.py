"""Segments of the Client Profitability Genome in the last complete month: each segment with
what sets it apart, its client count, the median KPIs of its clients (the read layer's
portfolio_medians over the members' rows) and the clients in it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clients.models import Client
from ml.models import ClientMonthKPI, GenomeVector, Segment

from .access import needs_view

VIEW = "ml.view_segment"
MEDIANS = ("revenue_total", "gross_margin", "margin_pct", "effective_hourly_rate", "rhem", "dso_days", "csat_avg")
MEMBERS_SHOWN = 30  # per segment; the clients list filtered by the segment has them all


@needs_view(VIEW)
def segments_page(request: HttpRequest) -> HttpResponse:
    kpis = ClientMonthKPI.objects
    month = kpis.latest_complete_month()
    context: dict = {"month": month, "home_currency": settings.HOME_CURRENCY, "shown": MEMBERS_SHOWN}
    if month is None:
        context["has_clients"] = Client.objects.exists()
        return render(request, "insights/lists/segments.html", context)
    vectors = GenomeVector.objects.for_month(month)
    members: dict[int | None, list] = {}
    rows = vectors.order_by("client__name").values_list("segment", "client", "client__name")
    for segment_id, client_id, name in rows:
        members.setdefault(segment_id, []).append({"pk": client_id, "name": name})
    counts = {segment_id: len(clients) for segment_id, clients in members.items()}
    segments = list(Segment.objects.filter(pk__in=[k for k in members if k is not None]).order_by("key"))
    for segment in segments:
        ids = [m["pk"] for m in members.get(segment.pk, [])]
        segment.count = counts.get(segment.pk, 0)
        segment.clients = members.get(segment.pk, [])[:MEMBERS_SHOWN]
        segment.medians = kpis.filter(client_id__in=ids).portfolio_medians(month, MEDIANS)
        pct = segment.medians["margin_pct"]
        segment.median_margin_pct = None if pct is None else pct * 100
    book = kpis.portfolio_medians(month, MEDIANS)
    context.update(
        segments=segments, unsegmented=counts.get(None, 0), vectors=sum(counts.values()),
        book=book, book_margin_pct=None if book["margin_pct"] is None else book["margin_pct"] * 100,
    )
    return render(request, "insights/lists/segments.html", context)
