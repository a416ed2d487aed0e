"""Service-desk KPIs per client per month: endpoints, ticket load, RHEM, resolution times,
SLA compliance, reopens, after-hours work, escalations and technician concentration.

Definitions (also in docs/kpis.md):
- active_endpoints: endpoints with added_on on or before the month end and retired_on empty or
  on or after the month start (an endpoint with no added_on counts from the first month).
- tickets_per_endpoint = tickets created in the month / active endpoints.
- rhem = reactive hours (worklog minutes on tickets flagged reactive / 60) / active endpoints.
- avg_resolution_hours = mean of (resolved_at - created_at) over tickets created in the month
  and resolved; p90_resolution_hours = the nearest-rank 90th percentile of the same.
- first_response_sla / resolution_sla = tickets that met the SLA / tickets where it could be
  measured (SuperOps' violated flag, or both due and actual times).
- reopen_rate = tickets reopened at least once / tickets created.
- after_hours_share = after-hours worklog minutes / all worklog minutes.
- escalations = tickets created in the month and escalated.
- technician_concentration = minutes of the busiest named technician / all minutes.
Per-endpoint ratios are missing when the client has no active endpoint.
"""

from __future__ import annotations

import pandas as pd

from . import months

TICKET_COLUMNS = (
    "tickets",
    "reactive_tickets",
    "avg_resolution_hours",
    "p90_resolution_hours",
    "first_response_sla",
    "resolution_sla",
    "reopen_rate",
    "escalations",
)


def ticket_kpis(tickets: pd.DataFrame) -> pd.DataFrame:
    """Per (client_id, mi) ticket KPIs from the grouped ticket query."""
    t = tickets.set_index(["client_id", "mi"])
    out = pd.DataFrame(index=t.index)
    out["tickets"] = t["tickets"].astype("int64")
    out["reactive_tickets"] = t["reactive_tickets"].astype("int64")
    out["avg_resolution_hours"] = months.safe_ratio(t["res_hours_sum"], t["resolved"]).to_numpy()
    out["p90_resolution_hours"] = t["p90_res"].astype("float64")
    out["first_response_sla"] = months.safe_ratio(t["fr_ok"], t["fr_n"]).to_numpy()
    out["resolution_sla"] = months.safe_ratio(t["res_ok"], t["res_n"]).to_numpy()
    out["reopen_rate"] = months.safe_ratio(t["reopened"], t["tickets"]).to_numpy()
    out["escalations"] = t["escalations"].astype("int64")
    return out


def active_endpoints(cohorts: pd.DataFrame, grid: pd.DataFrame) -> pd.Series:
    """Active endpoints per (client_id, mi) from the (added month, retired month) cohorts."""
    if cohorts.empty:
        return pd.Series(0, index=grid.index, dtype="int64")
    c = cohorts.copy()
    # No added_on: the endpoint counts from the client's first month (cumulative() clamps).
    c["added_mi"] = c["added_mi"].fillna(-1)
    added = c[["client_id", "added_mi", "endpoints"]].rename(columns={"added_mi": "mi"})
    # retired_on on or after the month start is still active that month; it stops counting
    # the month after.
    retired = c[c["retired_mi"].notna()][["client_id", "retired_mi", "endpoints"]].rename(columns={"retired_mi": "mi"})
    retired["mi"] = retired["mi"] + 1
    active = months.cumulative(added, "endpoints", grid) - months.cumulative(retired, "endpoints", grid)
    return active.clip(lower=0).astype("int64")


def derive(f: pd.DataFrame) -> None:
    endpoints = f["active_endpoints"].where(f["active_endpoints"] > 0)
    f["tickets_per_endpoint"] = (f["tickets"] / endpoints).to_numpy()
    f["rhem"] = (f["reactive_minutes"] / 60 / endpoints).to_numpy()
