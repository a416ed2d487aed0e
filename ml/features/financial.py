"""Financial KPIs per client per month: revenue by kind, labour and attributable costs,
gross margin, effective hourly rate, contribution per labour hour, billing efficiency and
revenue growth. Money is carried as integer cents in the home currency until it is written.

Definitions (one line each, also in docs/kpis.md):
- revenue_<kind>: sum of invoice line amounts x the invoice's exchange rate, by line kind, for
  non-voided invoices dated in the month.
- labour_cost: worklog minutes / 60 x the technician's burdened hourly cost (worklogs with no
  technician, or one without a cost, use the median burdened cost of the costed technicians).
- license_cost / other_cost: expenses attributed to the client (category "license" / the rest)
  x their exchange rate, by expense date.
- gross_margin = revenue_total - labour_cost - license_cost - other_cost.
- margin_pct = gross_margin / revenue_total (missing when revenue is under $1).
- effective_hourly_rate = (revenue_total - license_cost - other_cost) / labour hours
  (missing under one labour hour).
- contribution_per_hour = gross_margin / labour hours (same rule).
- billable_value: billable minutes / 60 x the worklog's hourly price (time covered by the
  agreement or written off is not billable).
- billing_efficiency = time-and-materials revenue / billable_value, both over the trailing 3
  months, because time is usually invoiced the month after it is worked.
- revenue_growth_3m = revenue of the last 3 months / the 3 months before - 1;
  revenue_growth_12m = last 3 months / the same 3 months a year earlier - 1 (seasonally fair);
  both missing when the base is under $100.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import months

KINDS = ("recurring", "time", "project", "product", "expense", "other")
MIN_REVENUE_CENTS = 100  # $1: below this a margin % is noise
MIN_GROWTH_BASE_CENTS = 10_000  # $100: growth on a smaller base is not meaningful
MIN_LABOUR_MINUTES = 60  # one hour: per-hour rates on a few minutes explode

WORKLOG_COLUMNS = (
    "labour_minutes",
    "labour_cost",
    "billable_value",
    "reactive_minutes",
    "after_hours_share",
    "technician_concentration",
    "median_cost_minutes",
)


def median_cost(costs: dict[int, int]) -> int:
    """Median burdened cost (x10,000) of the technicians that have one; 0 if none do."""
    return int(np.median(list(costs.values()))) if costs else 0


def labour(worklogs: pd.DataFrame, costs: dict[int, int], fx: pd.Series) -> pd.DataFrame:
    """Per (client_id, mi) labour figures from the per-technician worklog aggregates."""
    if worklogs.empty:
        return pd.DataFrame(columns=list(WORKLOG_COLUMNS), index=_empty_index())
    w = worklogs.copy()
    fallback = median_cost(costs)
    tech_cost = w["technician_id"].map(costs)
    w["median_cost_minutes"] = np.where(tech_cost.isna(), w["minutes"], 0)
    w["cost_e4min"] = w["minutes"].astype("int64") * tech_cost.fillna(fallback).astype("int64")
    # Only named technicians can concentrate a client's work; unassigned time dilutes it.
    w["named_minutes"] = np.where(w["technician_id"].isna(), 0, w["minutes"])
    g = w.groupby(["client_id", "mi"])
    out = g[
        [
            "minutes",
            "cost_e4min",
            "billable_value_e4min",
            "reactive_minutes",
            "after_hours_minutes",
            "median_cost_minutes",
        ]
    ].sum()
    top = g["named_minutes"].max()
    rate = fx.reindex(out.index).fillna(1.0).to_numpy()
    result = pd.DataFrame(index=out.index)
    result["labour_minutes"] = out["minutes"].astype("int64")
    # minutes x (price x 10,000) / 60 / 100 = cents
    result["labour_cost"] = np.rint(out["cost_e4min"].to_numpy(dtype="float64") / 6000).astype("int64")
    result["billable_value"] = np.rint(out["billable_value_e4min"].to_numpy(dtype="float64") * rate / 6000).astype(
        "int64"
    )
    result["reactive_minutes"] = out["reactive_minutes"].astype("int64")
    result["after_hours_share"] = months.safe_ratio(
        out["after_hours_minutes"].to_numpy(), out["minutes"].to_numpy()
    ).to_numpy()
    result["technician_concentration"] = months.safe_ratio(top.to_numpy(), out["minutes"].to_numpy()).to_numpy()
    result["median_cost_minutes"] = out["median_cost_minutes"].astype("int64")
    return result


def revenue(lines: pd.DataFrame) -> pd.DataFrame:
    """Per (client_id, mi): revenue_<kind> and revenue_total in cents."""
    if lines.empty:
        return pd.DataFrame(columns=[f"revenue_{k}" for k in KINDS] + ["revenue_total"], index=_empty_index())
    kind = lines["kind"].where(lines["kind"].isin(KINDS), "other")
    pivot = lines.assign(kind=kind).pivot_table(
        index=["client_id", "mi"], columns="kind", values="cents", aggfunc="sum", fill_value=0
    )
    out = pd.DataFrame(index=pivot.index)
    for k in KINDS:
        out[f"revenue_{k}"] = pivot[k].astype("int64") if k in pivot else 0
    out["revenue_total"] = out[[f"revenue_{k}" for k in KINDS]].sum(axis=1)
    return out


def costs(expenses: pd.DataFrame) -> pd.DataFrame:
    """Per (client_id, mi): license_cost and other_cost in cents."""
    if expenses.empty:
        return pd.DataFrame(columns=["license_cost", "other_cost"], index=_empty_index())
    is_license = expenses["category"].fillna("").str.lower().eq("license")
    e = expenses.assign(
        license_cost=np.where(is_license, expenses["cents"], 0),
        other_cost=np.where(is_license, 0, expenses["cents"]),
    )
    return e.groupby(["client_id", "mi"])[["license_cost", "other_cost"]].sum().astype("int64")


def derive(f: pd.DataFrame) -> None:
    """Add the financial ratios to the assembled frame (money columns are cents)."""
    net_of_costs = f["revenue_total"] - f["license_cost"] - f["other_cost"]
    f["gross_margin"] = net_of_costs - f["labour_cost"]
    f["margin_pct"] = months.safe_ratio(f["gross_margin"], f["revenue_total"], MIN_REVENUE_CENTS - 1).to_numpy()
    hours = f["labour_minutes"].where(f["labour_minutes"] >= MIN_LABOUR_MINUTES) / 60
    f["effective_hourly_rate"] = np.rint(net_of_costs / hours)
    f["contribution_per_hour"] = np.rint(f["gross_margin"] / hours)
    billed_time = months.rolling(f, "revenue_time", 3)
    billable = months.rolling(f, "billable_value", 3)
    f["billing_efficiency"] = months.safe_ratio(billed_time, billable, MIN_REVENUE_CENTS - 1).to_numpy()
    last3 = months.rolling(f, "revenue_total", 3)
    prior3 = months.rolling(f, "revenue_total", 3, shift=3)
    year_ago3 = months.rolling(f, "revenue_total", 3, shift=12)
    f["revenue_growth_3m"] = (months.safe_ratio(last3, prior3, MIN_GROWTH_BASE_CENTS - 1) - 1).to_numpy()
    f["revenue_growth_12m"] = (months.safe_ratio(last3, year_ago3, MIN_GROWTH_BASE_CENTS - 1) - 1).to_numpy()


def _empty_index() -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([[], []], names=["client_id", "mi"])
