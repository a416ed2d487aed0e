"""The read layer over derived rows: every figure a page or the API shows about clients'
months, genomes and predictions is read through these querysets, so there is one definition
of revenue, margin and the portfolio's month (docs/kpis.md), never a second one in a view.

Aggregates are done by the database (one query per figure set, whatever the portfolio's
size); medians are taken in Python from one column read, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import statistics
from datetime import date
from decimal import Decimal

from django.db import models
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import Coalesce

ZERO = Decimal("0")
# The columns whose portfolio medians a client's KPIs are set against.
MEDIAN_FIELDS = (
    "revenue_total", "gross_margin", "margin_pct", "effective_hourly_rate", "rhem", "tickets_per_endpoint",
    "dso_days", "csat_avg", "first_response_sla", "reopen_rate", "after_hours_share",
)


def months_before(month: date, months: int) -> date:
    """The first day of the month `months` before `month` (kept here so no page imports pandas)."""
    index = month.year * 12 + month.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


class ClientMonthKPIQuerySet(models.QuerySet):
    def latest_complete_month(self) -> date | None:
        """The most recent month that is not partial for every client (the one to report on)."""
        return self.filter(partial_month=False).aggregate(m=Max("month"))["m"]

    def for_month(self, month: date | None = None) -> ClientMonthKPIQuerySet:
        """Every client's row for the month (latest complete month when None), largest revenue first."""
        month = month or self.latest_complete_month()
        return self.filter(month=month).select_related("client").order_by("-revenue_total", "client__name")

    def trailing(self, month: date, months: int = 12) -> ClientMonthKPIQuerySet:
        """The rows of the `months` months ending with `month` (both ends included)."""
        return self.filter(month__gt=months_before(month, months), month__lte=month)

    def history(self, client, last: int = 12) -> ClientMonthKPIQuerySet:
        """A client's (or client id's) last `last` months of KPIs, oldest first."""
        rows = self.filter(client=client)
        newest = rows.aggregate(m=Max("month"))["m"]
        if newest is None:
            return self.none()
        return rows.trailing(newest, last).order_by("month")

    def totals(self) -> dict:
        """Sums over the rows: money, minutes, endpoints and tickets, with margin % and RHEM
        over the sums (a portfolio's margin is its margin, not the mean of its clients')."""
        agg = self.aggregate(
            rows=Count("id"), clients=Count("client", distinct=True), revenue=Sum("revenue_total"),
            labour_cost=Sum("labour_cost"), direct_cost=Sum(F("license_cost") + F("other_cost")),
            gross_margin=Sum("gross_margin"), mrr=Sum("mrr"), open_ar=Sum("open_ar"),
            labour_minutes=Sum("labour_minutes"), reactive_minutes=Sum("reactive_minutes"),
            endpoints=Sum("active_endpoints"), tickets=Sum("tickets"),
        )
        for money in ("revenue", "labour_cost", "direct_cost", "gross_margin", "mrr", "open_ar"):
            agg[money] = agg[money] if agg[money] is not None else ZERO
        revenue = agg["revenue"]
        agg["margin_pct"] = float(agg["gross_margin"] / revenue) if revenue > 0 else None
        agg["labour_hours"] = (agg["labour_minutes"] or 0) / 60
        agg["rhem"] = (agg["reactive_minutes"] or 0) / 60 / agg["endpoints"] if agg["endpoints"] else None
        return agg

    def portfolio_totals(self, month: date | None = None) -> dict:
        """Whole-MSP figures for one month (latest complete month when None)."""
        month = month or self.latest_complete_month()
        totals = self.filter(month=month).totals()
        totals["month"] = month
        return totals

    def by_client(self) -> models.QuerySet:
        """One dict per client over the rows (revenue, costs, margin), largest revenue first."""
        return (
            self.values("client_id", "client__name")
            .annotate(revenue=Sum("revenue_total"), labour_cost=Sum("labour_cost"),
                      direct_cost=Sum(F("license_cost") + F("other_cost")), gross_margin=Sum("gross_margin"),
                      labour_minutes=Sum("labour_minutes"))
            .order_by("-revenue", "client__name")
        )

    def portfolio_medians(self, month: date | None = None, fields: tuple[str, ...] = MEDIAN_FIELDS) -> dict:
        """Each field's median over the month's clients (NULLs left out; None when no client has it)."""
        month = month or self.latest_complete_month()
        rows = list(self.filter(month=month).values_list(*fields))
        medians = {}
        for i, field in enumerate(fields):
            values = [row[i] for row in rows if row[i] is not None]
            medians[field] = statistics.median(values) if values else None
        return medians

    def monthly_totals(self) -> list[dict]:
        """One dict per month over the rows, oldest first: the portfolio's revenue, labour cost,
        licence and other costs, gross margin and MRR, with margin % over the sums (one grouped
        query, whatever the number of clients)."""
        rows = list(
            self.values("month")
            .annotate(clients=Count("client", distinct=True), revenue=Sum("revenue_total"),
                      labour_cost=Sum("labour_cost"), license_cost=Sum("license_cost"), other_cost=Sum("other_cost"),
                      gross_margin=Sum("gross_margin"), mrr=Sum("mrr"))
            .order_by("month")
        )
        for row in rows:
            revenue = row["revenue"] or ZERO
            row["margin_pct"] = float(row["gross_margin"] / revenue) if revenue > 0 else None
        return rows

    def by_client_with_endpoints(self, month: date) -> models.QuerySet:
        """by_client() over the rows, each with its active endpoints in `month` (the bubble size
        of the profitability quadrant), in the same single query."""
        return self.by_client().annotate(endpoints=Coalesce(Sum("active_endpoints", filter=Q(month=month)), 0))


class GenomeVectorQuerySet(models.QuerySet):
    def latest_month(self) -> date | None:
        return self.aggregate(m=Max("month"))["m"]

    def for_month(self, month: date | None = None, schema_version: str | None = None) -> GenomeVectorQuerySet:
        """The month's vectors (newest month when None) of one schema (the newest the month has
        when None: vectors of two schemas are never compared)."""
        month = month or self.latest_month()
        rows = self.filter(month=month)
        if schema_version is None:
            schema_version = rows.order_by("-schema_version").values_list("schema_version", flat=True).first()
        return rows.filter(schema_version=schema_version).select_related("client", "segment")

    def history(self, client, last: int = 12) -> GenomeVectorQuerySet:
        rows = self.filter(client=client)
        newest = rows.aggregate(m=Max("month"))["m"]
        if newest is None:
            return self.none()
        return rows.filter(month__gt=months_before(newest, last)).order_by("month")

    def segment_mix(self) -> list[dict]:
        """Clients per segment over the vectors (one grouped query), largest segment first;
        vectors without a segment are counted under segment_id None."""
        return list(
            self.values("segment_id", "segment__name", "segment__description")
            .annotate(clients=Count("client", distinct=True))
            .order_by("-clients", "segment__name")
        )


class PredictionQuerySet(models.QuerySet):
    def of_client(self, client, kind: str) -> PredictionQuerySet:
        """A client's predictions of a kind, newest month first."""
        return self.filter(client=client, kind=kind).order_by("-as_of", "-created_at")

    def latest_for_client(self, client, kind: str):
        """The client's newest champion prediction of the kind by the version now active (what
        `ml.predictions.latest(kind)` serves for it), or None: one query."""
        return (
            self.filter(client=client, kind=kind, role="champion", model_version__status="active")
            .select_related("model_version").order_by("-as_of", "-created_at").first()
        )
