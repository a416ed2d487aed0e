"""Billing anomalies: client-months whose billing is far off the client's own pattern, scored
by the unsupervised ensemble (`ml.anomaly.ensemble_scores`), for leaks no rule knows.

Rows are the KPI snapshot's client-months (ml.ClientMonthKPI: one definition per figure;
nothing here recomputes revenue or seats), complete months with at least HISTORY months
before them. Each column is the month's value against the client's median of the HISTORY
months before it (log ratio), so a large client and a small one are judged by their own
pattern: recurring, time and expense revenue, the invoiced total, billed seats, labour
minutes, billable value and licence cost, plus billing efficiency and billed-vs-active as
they are.

The cut comes from people: `ml.anomaly.threshold_from_feedback` over earlier billing_anomaly
findings (confirmed or recovered = a real anomaly, dismissed = not), falling back to the top
FALLBACK_SHARE of all scored rows until enough have been reviewed. Only anomalies where the
month billed less than the client's median are findings (a leak is money missing); the
estimate is that shortfall. Without a feature build there is nothing to score.
"""

from __future__ import annotations

from decimal import Decimal

from .base import ZERO, Candidate, dollars, label, money, rule
from .books import Books

HISTORY = 6
MIN_ROWS = 50
FALLBACK_SHARE = 0.01  # flag the top 1% until people have reviewed enough findings
COLUMNS = ("revenue_recurring", "revenue_time", "revenue_expense", "invoiced_total", "billed_seats",
           "labour_minutes", "billable_value", "license_cost")
RAW = ("billing_efficiency", "billed_vs_active")


def _frame():
    """One row per scorable client-month: ids, the features, and the shortfall in money."""
    import numpy as np

    from ml.models import ClientMonthKPI

    rows = list(ClientMonthKPI.objects.order_by("client_id", "month").values_list(
        "client_id", "month", "partial_month", *COLUMNS, *RAW))
    keys, features, shortfall, medians = [], [], [], []
    start = 0
    while start < len(rows):
        end = start
        while end < len(rows) and rows[end][0] == rows[start][0]:
            end += 1
        series = rows[start:end]
        values = np.array([[float(v or 0) for v in r[3:3 + len(COLUMNS)]] for r in series])
        for i in range(HISTORY, len(series)):
            client_id, month, partial = series[i][:3]
            if partial:
                continue
            median = np.median(values[i - HISTORY:i], axis=0)
            ratio = np.log1p(values[i]) - np.log1p(median)
            raw = [float(v) if v is not None else np.nan for v in series[i][3 + len(COLUMNS):]]
            keys.append((client_id, month))
            features.append(np.r_[ratio, raw])
            total = COLUMNS.index("invoiced_total")
            medians.append(median[total])
            shortfall.append(median[total] - values[i][total])
        start = end
    return keys, np.array(features), np.array(shortfall), np.array(medians)


def _threshold(scores) -> float:
    import numpy as np

    from insights.models import LeakFinding
    from ml.anomaly import threshold_from_feedback

    reviewed, verdicts = [], []
    for status, evidence in LeakFinding.objects.filter(finding_type="billing_anomaly").exclude(
            status=LeakFinding.Status.OPEN).values_list("status", "evidence"):
        score = (evidence or {}).get("score")
        if score is None:
            continue
        reviewed.append(float(score))
        verdicts.append(0.0 if status == LeakFinding.Status.DISMISSED else 1.0)
    return threshold_from_feedback(np.array(reviewed), np.array(verdicts), population=scores,
                                   fallback_quantile=1 - FALLBACK_SHARE)


@rule("billing_anomaly", "1")
def billing_anomaly(books: Books) -> list[Candidate]:
    keys, features, shortfall, medians = _frame()
    if len(keys) < MIN_ROWS:
        return []  # too few client-months to tell a pattern from an anomaly
    from ml.anomaly import ensemble_scores  # scikit-learn: only when there is something to score

    scores = ensemble_scores(features)
    cut = _threshold(scores)
    out = []
    names = COLUMNS + RAW
    for i, (client_id, month) in enumerate(keys):
        score = float(scores[i])
        amount = money(Decimal(str(round(float(shortfall[i]), 2))))
        if score < cut or amount <= ZERO:
            continue
        median = money(Decimal(str(round(float(medians[i]), 2))))
        out.append(Candidate(
            "billing_anomaly", client_id, month, amount, round(score, 3),
            {"score": round(score, 4), "threshold": round(float(cut), 4), "median_invoiced": str(median),
             "features": {n: (None if v != v else round(float(v), 4)) for n, v in zip(names, features[i],
                                                                                      strict=True)}},
            f"{label(month)} billed {dollars(amount)} less than this client's usual month ({dollars(median)}), "
            f"unlike its pattern (anomaly score {score:.2f}): check the month's invoices against its agreements "
            f"and logged work",
        ))
    return out
