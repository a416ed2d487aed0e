"""Findings as rows for other tools: JSON (a list of objects) and CSV, the same fields in both.

Each row names the client both ways: `client_superops_id` (the SuperOps account id) and
`client_qbo_id` (the QuickBooks customer that bills it: its top-level customer, the first
linked one when there are several; empty when none is linked yet). `period` is YYYY-MM and
`amount` the estimated recoverable amount as a decimal string.
"""

from __future__ import annotations

import csv
import json
from typing import TextIO

from django.db.models import QuerySet

from clients.models import Customer, Source
from insights.models import LeakFinding

FIELDS = ("id", "type", "client_superops_id", "client_qbo_id", "client_name", "period", "amount", "status",
          "confidence", "recovered_amount", "dismiss_reason", "recommendation", "still_detected", "rule_version",
          "first_detected_at", "last_detected_at", "evidence")


def _qbo_ids(client_ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    rows = list(Customer.objects.filter(client_id__in=client_ids, deleted_at_source__isnull=True).order_by(
        "parent_external_id", "pk").values_list("client_id", "external_id", "parent_external_id"))
    for client_id, external_id, parent in rows:
        # Top-level customers sort first (blank parent): a branch never wins over its parent.
        if client_id not in out and not parent:
            out[client_id] = external_id
    for client_id, _, parent in rows:
        out.setdefault(client_id, parent)
    return out


def finding_rows(findings: QuerySet[LeakFinding] | None = None) -> list[dict]:
    """Export rows of the findings (default: all), ordered by period, type and client."""
    qs = findings if findings is not None else LeakFinding.objects.all()
    findings = list(qs.select_related("client").order_by("period", "finding_type", "client__name", "pk"))
    qbo = _qbo_ids({f.client_id for f in findings})
    rows = []
    for f in findings:
        c = f.client
        rows.append({
            "id": f.pk, "type": f.finding_type,
            "client_superops_id": c.external_id if c.source == Source.SUPEROPS else "",
            "client_qbo_id": qbo.get(f.client_id, ""), "client_name": c.name, "period": f.period_label,
            "amount": f"{f.estimated_amount:.2f}", "status": f.status, "confidence": f.confidence,
            "recovered_amount": None if f.recovered_amount is None else f"{f.recovered_amount:.2f}",
            "dismiss_reason": f.dismiss_reason, "recommendation": f.recommendation,
            "still_detected": f.still_detected, "rule_version": f"{f.detector}/{f.rule_version}",
            "first_detected_at": f.first_detected_at.isoformat(), "last_detected_at": f.last_detected_at.isoformat(),
            "evidence": f.evidence,
        })
    return rows


def write_json(rows: list[dict], out: TextIO) -> None:
    json.dump(rows, out, indent=2)
    out.write("\n")


def write_csv(rows: list[dict], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "evidence": json.dumps(row["evidence"], sort_keys=True),
                         "recovered_amount": row["recovered_amount"] or ""})
