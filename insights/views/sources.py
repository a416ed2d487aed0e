"""Drill-down pages: the source rows behind one client's KPI for one month
(/clients/<id>/sources/<yyyy-mm>/<figure>/), with their total beside the KPI store's figure,
and the records a leak finding's evidence names (/leaks/<id>/sources/). Row selection lives in
sources_rows.py, by the KPI store's own rules; these views only look up and render."""

from __future__ import annotations

from datetime import date

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from clients.models import Client
from insights.models import LeakFinding
from ml.models import ClientMonthKPI
from ml.models.querysets import months_before

from .access import needs_role
from .sources_rows import FIGURES, EvidenceSection, source_rows, source_rows_for_finding

__all__ = ["EvidenceSection", "client_sources", "leak_sources", "source_rows", "source_rows_for_finding"]


def parse_month(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise Http404(f"{text!r} is not a month (YYYY-MM)") from None


@needs_role
def client_sources(request: HttpRequest, client_id: str, month: str, figure: str) -> HttpResponse:
    if figure not in FIGURES:
        raise Http404(f"No drill-down for {figure!r}")
    client = get_object_or_404(Client, pk=int(client_id))
    first = parse_month(month)
    drill = source_rows(client, first, figure)
    kpi = ClientMonthKPI.objects.filter(client=client, month=first).first()
    kpi_value = None if kpi is None else getattr(kpi, drill.figure.kpi)
    if drill.parts:
        for part, _sign in drill.parts:
            part.kpi_value = None if kpi is None else getattr(kpi, part.figure.kpi)
            part.url = reverse("insights:client-sources", args=[client.pk, month, part.figure.code])
    return render(request, "insights/sources/figure.html", {
        "client": client, "month": first, "drill": drill, "figure": drill.figure, "kpi": kpi,
        "kpi_value": kpi_value, "matches": kpi_value is not None and kpi_value == drill.total,
        "template": f"insights/sources/_{drill.figure.source}.html",
        "siblings": [f for f in FIGURES.values() if f.source == drill.figure.source and f.code != figure],
        "previous": reverse("insights:client-sources", args=[client.pk, f"{months_before(first, 1):%Y-%m}", figure]),
        "next": reverse("insights:client-sources", args=[client.pk, f"{months_before(first, -1):%Y-%m}", figure]),
    })


@needs_role
def leak_sources(request: HttpRequest, finding_id: int) -> HttpResponse:
    finding = get_object_or_404(LeakFinding.objects.select_related("client"), pk=finding_id)
    return render(request, "insights/sources/finding.html", {
        "finding": finding, "sections": source_rows_for_finding(finding),
    })
