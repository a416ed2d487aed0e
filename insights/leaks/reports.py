"""Identified against recovered, per month of the leak: what detection found, what people
confirmed, recovered and dismissed. One grouped query; money stays Decimal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from insights.models import LeakFinding

ZERO = Decimal("0.00")
Status = LeakFinding.Status


@dataclass
class MonthFigures:
    period: date
    findings: int
    identified: Decimal  # estimated amount of findings not dismissed
    confirmed: Decimal  # estimated amount of findings confirmed or recovered
    recovered: Decimal  # amount actually recovered
    dismissed: Decimal  # estimated amount of dismissed findings
    open_findings: int

    @property
    def recovery_rate(self) -> float | None:
        """Recovered / identified (None when nothing was identified)."""
        return float(self.recovered / self.identified) if self.identified else None

    def as_dict(self) -> dict:
        return {"period": self.period.strftime("%Y-%m"), "findings": self.findings, "open": self.open_findings,
                "identified": str(self.identified), "confirmed": str(self.confirmed),
                "recovered": str(self.recovered), "dismissed": str(self.dismissed),
                "recovery_rate": None if self.recovery_rate is None else round(self.recovery_rate, 4)}


def identified_vs_recovered(first: date | None = None, last: date | None = None,
                            types: list[str] | None = None, clients: list[int] | None = None) -> list[MonthFigures]:
    """One row per leak month (oldest first) between `first` and `last`, for the given types
    and clients (every one when None)."""
    qs = LeakFinding.objects.all()
    if clients is not None:
        qs = qs.filter(client_id__in=clients)
    if first:
        qs = qs.filter(period__gte=first)
    if last:
        qs = qs.filter(period__lte=last)
    if types:
        qs = qs.filter(finding_type__in=types)
    money = DecimalField(max_digits=16, decimal_places=2)

    def total(field: str, condition: Q) -> Coalesce:
        return Coalesce(Sum(field, filter=condition), Value(ZERO), output_field=money)

    rows = qs.values("period").annotate(
        findings=Count("pk"),
        open_findings=Count("pk", filter=Q(status=Status.OPEN)),
        identified=total("estimated_amount", ~Q(status=Status.DISMISSED)),
        confirmed=total("estimated_amount", Q(status__in=(Status.CONFIRMED, Status.RECOVERED))),
        recovered=total("recovered_amount", Q(status=Status.RECOVERED)),
        dismissed=total("estimated_amount", Q(status=Status.DISMISSED)),
    ).order_by("period")
    cents = Decimal("0.01")
    return [MonthFigures(r["period"], r["findings"], *(Decimal(r[k]).quantize(cents) for k in
                                                       ("identified", "confirmed", "recovered", "dismissed")),
                         r["open_findings"]) for r in rows]
