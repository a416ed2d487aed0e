"""Function names for the KPI snapshot's reads, kept for the code and tests that call them.

The definitions live once, on `ClientMonthKPI.objects` (ml/models/querysets.py); these only
forward to it, so a figure can never be defined here and there differently."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from ml.models import ClientMonthKPI


def latest_complete_month() -> date | None:
    """The most recent month that is not partial for every client (the one to report on)."""
    return ClientMonthKPI.objects.latest_complete_month()


def portfolio_kpis(month: date | None = None) -> QuerySet[ClientMonthKPI]:
    """Every client's KPI row for the month (latest complete month when None), with the client."""
    return ClientMonthKPI.objects.for_month(month)


def client_history(client_id: int, last: int = 12) -> QuerySet[ClientMonthKPI]:
    """A client's last `last` months of KPIs, oldest first."""
    return ClientMonthKPI.objects.history(client_id, last)


def portfolio_totals(month: date | None = None) -> dict:
    """Whole-MSP figures for the month: money sums, margin %, RHEM over all endpoints."""
    return ClientMonthKPI.objects.portfolio_totals(month)
