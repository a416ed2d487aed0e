"""Read helpers over the KPI snapshot for dashboards and APIs (insights/ calls these; they
never recompute anything)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Count, Max, QuerySet, Sum

from ml.models import ClientMonthKPI

from . import months


def latest_complete_month() -> date | None:
    """The most recent month that is not partial for every client (the one to report on)."""
    return ClientMonthKPI.objects.filter(partial_month=False).aggregate(m=Max("month"))["m"]


def portfolio_kpis(month: date | None = None) -> QuerySet[ClientMonthKPI]:
    """Every client's KPI row for the month (latest complete month when None), with the client."""
    month = month or latest_complete_month()
    return ClientMonthKPI.objects.filter(month=month).select_related("client").order_by("-revenue_total")


def client_history(client_id: int, last: int = 12) -> QuerySet[ClientMonthKPI]:
    """A client's last `last` months of KPIs, oldest first."""
    newest = ClientMonthKPI.objects.filter(client_id=client_id).aggregate(m=Max("month"))["m"]
    if newest is None:
        return ClientMonthKPI.objects.none()
    start = months.to_date(months.to_index(newest) - last + 1)
    return ClientMonthKPI.objects.filter(client_id=client_id, month__gte=start).order_by("month")


def portfolio_totals(month: date | None = None) -> dict:
    """Whole-MSP figures for the month: money sums, margin %, RHEM over all endpoints."""
    month = month or latest_complete_month()
    agg = ClientMonthKPI.objects.filter(month=month).aggregate(
        clients=Count("id"),
        revenue=Sum("revenue_total"),
        gross_margin=Sum("gross_margin"),
        mrr=Sum("mrr"),
        open_ar=Sum("open_ar"),
        labour_minutes=Sum("labour_minutes"),
        reactive_minutes=Sum("reactive_minutes"),
        endpoints=Sum("active_endpoints"),
        tickets=Sum("tickets"),
    )
    revenue = agg["revenue"] or Decimal("0")
    agg["month"] = month
    agg["margin_pct"] = float(agg["gross_margin"] / revenue) if revenue > 0 else None
    agg["rhem"] = (agg["reactive_minutes"] or 0) / 60 / agg["endpoints"] if agg["endpoints"] else None
    return agg
