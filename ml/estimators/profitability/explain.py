"""Why a profitability prediction is what it is: SHAP contributions (attribution.py) per
prediction, in dollars of next-quarter margin, and a sentence in the MSP's words built from the
largest contributions and the client's own figures, this quarter beside the previous one.

The model learns the change from last quarter's margin, so the contributions explain the
expected rise or fall ("margin is expected to fall by $2.1k next quarter, mainly because
reactive hours per endpoint (RHEM) rose from 0.80 to 1.40"). Features that describe one thing
(RHEM now and a quarter ago) are summed into one driver before ranking.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# driver -> (words, unit, current feature, previous-quarter feature)
_PCT, _MONEY, _RATE, _NUM, _DAYS, _MONTHS = "pct", "money", "rate", "num", "days", "months"
DRIVERS: dict[str, tuple[str, str, str, str | None]] = {
    "margin_pct": ("gross margin %", _PCT, "margin_pct", "margin_pct_prev_q"),
    "effective_hourly_rate": ("effective hourly rate", _RATE, "effective_hourly_rate", "effective_hourly_rate_prev_q"),
    "contribution_per_hour": ("contribution per labour hour", _RATE, "contribution_per_hour",
                              "contribution_per_hour_prev_q"),
    "labour_cost_ratio": ("labour cost as a share of revenue", _PCT, "labour_cost_ratio", "labour_cost_ratio_prev_q"),
    "rhem": ("reactive hours per endpoint (RHEM)", _NUM, "rhem", "rhem_prev_q"),
    "tickets_per_endpoint": ("tickets per endpoint", _NUM, "tickets_per_endpoint", "tickets_per_endpoint_prev_q"),
    "resolution_sla": ("resolution SLA", _PCT, "resolution_sla", "resolution_sla_prev_q"),
    "first_response_sla": ("first-response SLA", _PCT, "first_response_sla", "first_response_sla_prev_q"),
    "csat": ("CSAT", _NUM, "csat", "csat_prev_q"),
    "proactive_share": ("proactive work share", _PCT, "proactive_share", "proactive_share_prev_q"),
    "after_hours_share": ("after-hours share", _PCT, "after_hours_share", "after_hours_share_prev_q"),
    "billing_efficiency": ("billing efficiency", _PCT, "billing_efficiency", "billing_efficiency_prev_q"),
    "dso_days": ("DSO", _DAYS, "dso_days", "dso_days_prev_q"),
    "margin_q": ("quarterly margin", _MONEY, "margin_q", "margin_prev_q"),
    "revenue_q": ("quarterly revenue", _MONEY, "revenue_q", "revenue_prev_q"),
    "labour_cost_q": ("quarterly labour cost", _MONEY, "labour_cost_q", "labour_cost_prev_q"),
    "project_revenue_q": ("project revenue last quarter", _MONEY, "project_revenue_q", None),
    "billable_value_q": ("billable time last quarter", _MONEY, "billable_value_q", None),
    "contracted_vs_billed_q": ("contracted MRR for the next quarter beside recurring billing", _MONEY,
                               "contracted_vs_billed_q", None),
    "margin_12m_per_q": ("average quarterly margin over 12 months", _MONEY, "margin_12m_per_q", None),
    "margin_year_ago_q": ("margin of the same quarter last year", _MONEY, "margin_year_ago_q", None),
    "mrr": ("MRR", _MONEY, "mrr_now", None),
    "time_revenue_q": ("T&M revenue last quarter", _MONEY, "time_revenue_q", None),
    "rebilled_expenses_q": ("rebilled expenses last quarter", _MONEY, "rebilled_expenses_q", None),
    "pass_through_cost_q": ("license and other costs last quarter", _MONEY, "pass_through_cost_q", None),
    "open_ar_now": ("open receivables", _MONEY, "open_ar_now", None),
    "active_endpoints_now": ("active endpoints", "count", "active_endpoints_now", None),
    "billed_vs_active_now": ("billed endpoints per active endpoint", _NUM, "billed_vs_active_now", None),
    "tenure_months": ("tenure", _MONTHS, "tenure_months", None),
    "months_to_renewal": ("months to renewal", _MONTHS, "months_to_renewal", None),
}
_OWNER = {}
for _name, (_w, _u, _cur, _prev) in DRIVERS.items():
    _OWNER[_cur] = _name
    if _prev:
        _OWNER[_prev] = _name
_OWNER.update({"margin_last_month": "margin_q", "revenue_prev_q": "revenue_q", "mrr": "mrr",
               "labour_cost_last_month": "labour_cost_q", "project_revenue_last_month": "project_revenue_q",
               "billable_value_last_month": "billable_value_q", "recurring_revenue_q": "contracted_vs_billed_q"})


# Units and words of the genome's raw values used as drivers of their own.
_GENOME_UNITS = {
    **dict.fromkeys((
        "recurring_share", "attributable_cost_ratio", "margin_volatility", "reopen_rate", "escalation_rate",
        "survey_response_rate", "ticket_trend", "low_csat_share", "revenue_growth_3m", "revenue_growth_12m",
        "endpoint_growth_12m", "seat_growth_12m", "project_share", "product_share", "tm_share",
        "unbilled_endpoints", "late_invoice_share", "negative_margin_months", "technician_concentration",
        "revenue_concentration", "sla_decline", "reactive_spike"), _PCT),
    **dict.fromkeys(("revenue_12m",), _MONEY),
    **dict.fromkeys(("days_since_contact", "avg_days_late"), _DAYS),
    **dict.fromkeys(("months_since_price_change", "months_since_qbr"), _MONTHS),
    **dict.fromkeys(("avg_resolution_hours", "p90_resolution_hours"), "hours"),
}
_WORDS = {
    "revenue_growth_3m": "revenue growth over 3 months",
    "revenue_growth_12m": "revenue growth over 12 months",
    "attributable_cost_ratio": "license and other costs as a share of revenue",
    "project_share": "project share of revenue",
    "product_share": "product share of revenue",
    "tm_share": "T&M share of revenue",
    "negative_margin_months": "share of loss-making months",
    "revenue_12m": "revenue over 12 months",
    "calendar_month": "the time of year",
}


def driver_of(feature: str) -> str:
    return _OWNER.get(feature, feature)


def words(driver: str) -> str:
    if driver in DRIVERS:
        return DRIVERS[driver][0]
    if driver in _WORDS:
        return _WORDS[driver]
    from ml.genome.dimensions import BY_CODE

    if driver in BY_CODE:
        return BY_CODE[driver].name[0].lower() + BY_CODE[driver].name[1:]
    return driver.replace("_", " ")


def money(value: float, signed: bool = False) -> str:
    sign = ("+" if value >= 0 else "-") if signed else ("-" if value < 0 else "")
    v = abs(value)
    text = f"${v / 1e6:.1f}M" if v >= 1e6 else f"${v / 1e3:.1f}k" if v >= 1e3 else f"${v:,.0f}"
    return sign + text


def fmt(value, unit: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "unknown"
    if unit == _PCT:
        return f"{value * 100:.0f}%"
    if unit == _MONEY:
        return money(value)
    if unit == _RATE:
        return f"${value:,.0f}/h"
    if unit == _DAYS:
        return f"{value:.0f} days"
    if unit == _MONTHS:
        return f"{value:.0f} months"
    if unit == "hours":
        return f"{value:.1f} h"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:.2f}"


def global_importance(model, X: pd.DataFrame, top: int = 15) -> list[dict]:
    """Mean |SHAP| in dollars per driver on the given rows (the held-out months), largest first."""
    from .attribution import Attributor
    from .dataset import scale

    if not len(X):
        return []
    drivers, membership = _drivers(list(X.columns))
    effects = Attributor(model).contributions(X, scale(X)) @ membership
    ranked = sorted(((float(np.mean(np.abs(effects[:, k]))), d) for k, d in enumerate(drivers)), reverse=True)[:top]
    return [{"driver": d, "words": words(d), "mean_abs_effect": round(v, 2)} for v, d in ranked]


def _drivers(columns: list[str]) -> tuple[list[str], np.ndarray]:
    """The drivers the columns belong to, and the 0/1 matrix (column x driver) that sums a
    row's feature contributions into driver contributions."""
    drivers = list(dict.fromkeys(driver_of(c) for c in columns))
    index = {d: k for k, d in enumerate(drivers)}
    membership = np.zeros((len(columns), len(drivers)))
    for j, c in enumerate(columns):
        membership[j, index[driver_of(c)]] = 1.0
    return drivers, membership


def explain_rows(X: pd.DataFrame, contributions: np.ndarray, values, baselines, top: int = 3) -> list[dict]:
    """The explanation stored with each prediction: plain words and the top drivers. Features
    describing one thing are summed into their driver before ranking; the reasons given are
    the drivers pushing the way margin is expected to move."""
    columns = list(X.columns)
    drivers, membership = _drivers(columns)
    effects = np.asarray(contributions, dtype="float64") @ membership
    data = X.to_numpy(dtype="float64")
    position = {c: j for j, c in enumerate(columns)}
    out = []
    for i in range(len(X)):
        row = _Row(data[i], position)
        value, baseline = float(values[i]), float(baselines[i])
        change = value - baseline
        direction = 1 if change >= 0 else -1
        order = np.argsort(-np.abs(effects[i]), kind="stable")
        ranked = [(drivers[k], float(effects[i, k])) for k in order]
        reasons = [(d, e) for d, e in ranked if e * direction > 0][:top] or ranked[:1]
        phrases = [_phrase(d, row) for d, _ in reasons[:2]]
        if abs(change) < max(50.0, 0.02 * abs(baseline)):
            head = f"margin is expected to hold at about {money(value)} next quarter"
        else:
            verb = "rise" if change > 0 else "fall"
            head = f"margin is expected to {verb} by {money(abs(change))} next quarter (to {money(value)})"
        text = f"{head}, mainly because {' and '.join(phrases)}"
        out.append({
            "text": text[0].upper() + text[1:] + ".",
            "baseline": round(baseline, 2),
            "change": round(change, 2),
            "contributions": [
                {"feature": d, "words": words(d), "value": _current(d, row), "effect": round(e, 2)}
                for d, e in ranked[:8]
            ],
        })
    return out


class _Row:
    """One row's feature values by name (None where the frame has no such column)."""

    __slots__ = ("values", "position")

    def __init__(self, values: np.ndarray, position: dict[str, int]):
        self.values, self.position = values, position

    def get(self, name: str | None):
        j = self.position.get(name) if name else None
        return None if j is None else self.values[j]


def _current(driver: str, features: _Row):
    feature = DRIVERS[driver][2] if driver in DRIVERS else driver
    value = features.get(feature)
    return None if value is None or np.isnan(value) else round(float(value), 4)


def _phrase(driver: str, features: _Row) -> str:
    if driver in DRIVERS:
        label, unit, cur, prev = DRIVERS[driver]
    else:
        label, unit, cur, prev = words(driver), _GENOME_UNITS.get(driver, _NUM), driver, None
    if driver == "calendar_month":
        return "of the time of year (a seasonal pattern in past quarters)"
    now = features.get(cur)
    before = features.get(prev) if prev else None
    if now is None or np.isnan(now):
        return f"{label} is not known"
    if before is None or np.isnan(before):
        return f"{label} is {fmt(now, unit)}"
    if np.isclose(now, before, rtol=0.02, atol=1e-9):
        return f"{label} stayed at {fmt(now, unit)}"
    return f"{label} {'rose' if now > before else 'fell'} from {fmt(before, unit)} to {fmt(now, unit)}"


__all__ = ["DRIVERS", "explain_rows", "global_importance"]
