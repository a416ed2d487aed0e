"""The profitability frame: one row per (client, as-of month) with what is known at that month
end, and the target, the client's gross margin over the next quarter.

Every figure is read, not recomputed: monthly money and counts from the KPI store
(`ClientMonthKPI`, docs/kpis.md), trailing ratios (T3M margin %, RHEM, effective hourly rate,
SLA, CSAT, DSO ...) from the genome's raw values (`GenomeVector.raw`, docs/genome.md) at the
month and three months earlier (the previous quarter, which the explanations compare with).
Quarter sums of gross margin, revenue and labour cost are sums of the stored monthly figures.

- baseline: the client's gross margin over the last quarter (months m-2..m), the naive forecast;
- target: the sum of gross_margin over months m+1..m+3, only where all three months exist and
  none is a partial month (onboarding, churn or the still-running month);
- the model learns the change from the baseline (target - baseline), so its SHAP contributions
  explain why margin is expected to rise or fall, not why a client is large.

A row needs its as-of month complete and the three months m-2..m stored (the baseline).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from ml.features import months
from ml.features.sql import flag, float_frame, in_clause, month_index, table
from ml.genome.dimensions import DIMENSIONS, SCHEMA_VERSION
from ml.models import ClientMonthKPI, GenomeVector

HORIZON = 3  # months ahead the target sums; also the gap kept between training and test rows
SCALE_FLOOR = 3000.0  # dollars: the smallest scale a client's change is measured in

KPI_COLUMNS = (
    "gross_margin", "revenue_total", "labour_cost", "license_cost", "other_cost", "mrr", "open_ar",
    "active_endpoints", "billed_vs_active", "labour_minutes", "reactive_minutes", "tickets",
    "revenue_recurring", "revenue_time", "revenue_project", "revenue_expense", "billable_value",
)
GENOME_CODES = tuple(d.code for d in DIMENSIONS)
# Genome values also taken as of the previous quarter's end (m-3): what the explanation compares.
PREVIOUS_QUARTER = (
    "margin_pct", "effective_hourly_rate", "contribution_per_hour", "labour_cost_ratio", "rhem",
    "tickets_per_endpoint", "resolution_sla", "first_response_sla", "csat", "proactive_share",
    "after_hours_share", "billing_efficiency", "dso_days",
)
GROUP_SCORES = ("financial_health", "operational_efficiency", "engagement", "growth_potential", "risk_factors")
MONEY_FEATURES = (
    "margin_q", "margin_prev_q", "margin_year_ago_q", "margin_12m_per_q", "revenue_q", "revenue_prev_q",
    "labour_cost_q", "labour_cost_prev_q", "pass_through_cost_q", "mrr_now", "open_ar_now", "margin_last_month",
    "recurring_revenue_q", "contracted_vs_billed_q", "time_revenue_q", "project_revenue_q",
    "project_revenue_last_month",
    "rebilled_expenses_q", "billable_value_q", "billable_value_last_month", "labour_cost_last_month",
)
FEATURES: tuple[str, ...] = (
    MONEY_FEATURES
    + ("active_endpoints_now", "billed_vs_active_now", "calendar_month")
    + GENOME_CODES
    + tuple(f"{code}_prev_q" for code in PREVIOUS_QUARTER)
    + GROUP_SCORES
)


@dataclass
class Frame:
    """Rows indexed by (client_id, as_of month index): features X, the baseline, and (for
    training) the target and its change from the baseline."""

    X: pd.DataFrame
    baseline: pd.Series
    target: pd.Series | None = None

    @property
    def change(self) -> pd.Series:
        return self.target - self.baseline

    @property
    def months(self) -> np.ndarray:
        return self.X.index.get_level_values("mi").to_numpy()

    def __len__(self) -> int:
        return len(self.X)

    def rows(self, mask) -> Frame:
        return Frame(self.X[mask], self.baseline[mask], None if self.target is None else self.target[mask])


def kpi_history(clients: Sequence[int] | None = None, from_mi: int | None = None) -> pd.DataFrame:
    """The stored monthly KPIs needed here, (client_id, mi) on every month of each client's run
    (a month the store lacks is a NaN row, so a window over it is missing, not short)."""
    where, params = in_clause("client_id", clients)
    if from_mi is not None:
        where += " AND month >= %s"
        params.append(months.to_date(from_mi).isoformat())
    df = float_frame(
        [("client_id", "client_id"), ("mi", month_index("month")), ("partial", flag("partial_month"))]
        + [(c, c) for c in KPI_COLUMNS],
        f"FROM {table(ClientMonthKPI)} WHERE 1 = 1{where}",
        params,
        integers=("client_id", "mi"),
    )
    df["present"] = 1.0
    df = df.set_index(["client_id", "mi"]).sort_index()
    if df.empty:
        return df
    spans = df.reset_index().groupby("client_id")["mi"].agg(["min", "max"])
    full = pd.MultiIndex.from_arrays(
        [np.repeat(spans.index.to_numpy(), spans["max"] - spans["min"] + 1),
         months.runs(spans["min"].to_numpy(), (spans["max"] - spans["min"] + 1).to_numpy())],
        names=["client_id", "mi"],
    )
    return df.reindex(full)


def genome_history(clients: Sequence[int] | None = None, from_mi: int | None = None) -> pd.DataFrame:
    """Raw genome values and group scores per (client_id, mi)."""
    rows = GenomeVector.objects.filter(schema_version=SCHEMA_VERSION)
    if clients is not None:
        rows = rows.filter(client_id__in=list(clients))
    if from_mi is not None:
        rows = rows.filter(month__gte=months.to_date(from_mi))
    records = list(rows.values_list("client_id", "month", "raw", *GROUP_SCORES))
    index = pd.MultiIndex.from_arrays(
        [[r[0] for r in records], [months.to_index(r[1]) for r in records]], names=["client_id", "mi"]
    )
    raw = np.array([[np.nan if v is None else v for v in r[2]] for r in records], dtype="float64").reshape(
        len(records), len(GENOME_CODES)
    )
    frame = pd.DataFrame(raw, index=index, columns=list(GENOME_CODES))
    for i, name in enumerate(GROUP_SCORES):
        frame[name] = np.array([r[3 + i] for r in records], dtype="float64")
    return frame.sort_index()


def _window(kpi: pd.DataFrame, column: str, length: int, shift: int) -> pd.Series:
    """Sum of `column` over the `length` months ending `shift` months before (negative: after)
    each row, within the client; missing if any of those months is not stored."""
    grouped = kpi[column].groupby(level=0)
    total = None
    for k in range(shift, shift + length):
        part = grouped.shift(k)
        total = part if total is None else total + part
    return total


def build(clients: Sequence[int] | None = None, as_of: date | None = None, with_target: bool = True) -> Frame:
    """The frame for every eligible (client, month), or only as of `as_of` (the month of that
    date), optionally for some clients. with_target=False keeps rows whose next quarter is not
    known yet (scoring); with_target=True keeps only rows with a complete next quarter."""
    from_mi = None if as_of is None else months.to_index(as_of) - 14  # 12-month windows + 3 earlier
    kpi = kpi_history(clients, from_mi)
    if kpi.empty:
        empty = pd.DataFrame(columns=list(FEATURES), dtype="float64",
                             index=pd.MultiIndex.from_arrays([[], []], names=["client_id", "mi"]))
        return Frame(empty, pd.Series(dtype="float64"), pd.Series(dtype="float64") if with_target else None)
    genome = genome_history(clients, None if from_mi is None else from_mi + 11).reindex(kpi.index)

    # Columns gathered in a dict and framed once: inserting a hundred columns one by one
    # was most of a single-client prediction's time.
    cols: dict[str, pd.Series] = {}
    cols["margin_q"] = _window(kpi, "gross_margin", 3, 0)
    cols["margin_prev_q"] = _window(kpi, "gross_margin", 3, 3)
    cols["margin_year_ago_q"] = _window(kpi, "gross_margin", 3, 9)  # the target quarter, a year earlier
    cols["margin_12m_per_q"] = _window(kpi, "gross_margin", 12, 0) / 4
    cols["revenue_q"] = _window(kpi, "revenue_total", 3, 0)
    cols["revenue_prev_q"] = _window(kpi, "revenue_total", 3, 3)
    cols["labour_cost_q"] = _window(kpi, "labour_cost", 3, 0)
    cols["labour_cost_prev_q"] = _window(kpi, "labour_cost", 3, 3)
    cols["pass_through_cost_q"] = _window(kpi, "license_cost", 3, 0) + _window(kpi, "other_cost", 3, 0)
    cols["mrr_now"] = kpi["mrr"]
    cols["open_ar_now"] = kpi["open_ar"]
    cols["margin_last_month"] = kpi["gross_margin"]
    cols["recurring_revenue_q"] = _window(kpi, "revenue_recurring", 3, 0)
    # MRR already contracted for the next three months beside what the last three billed.
    cols["contracted_vs_billed_q"] = 3 * kpi["mrr"] - cols["recurring_revenue_q"]
    cols["time_revenue_q"] = _window(kpi, "revenue_time", 3, 0)
    cols["project_revenue_q"] = _window(kpi, "revenue_project", 3, 0)
    cols["project_revenue_last_month"] = kpi["revenue_project"]
    cols["rebilled_expenses_q"] = _window(kpi, "revenue_expense", 3, 0)
    cols["billable_value_q"] = _window(kpi, "billable_value", 3, 0)
    cols["billable_value_last_month"] = kpi["billable_value"]
    cols["labour_cost_last_month"] = kpi["labour_cost"]
    cols["active_endpoints_now"] = kpi["active_endpoints"]
    # Seasonality: the calendar month of the as-of month fixes which quarter comes next.
    cols["calendar_month"] = pd.Series((kpi.index.get_level_values("mi") % 12 + 1).astype("float64"), index=kpi.index)
    cols["billed_vs_active_now"] = kpi["billed_vs_active"]
    for code in GENOME_CODES:
        cols[code] = genome[code]
    shifted = genome[list(PREVIOUS_QUARTER)].groupby(level=0).shift(3)
    for code in PREVIOUS_QUARTER:
        cols[f"{code}_prev_q"] = shifted[code]
    for name in GROUP_SCORES:
        cols[name] = genome[name]
    values = np.column_stack([cols[name].to_numpy(dtype="float64") for name in FEATURES])
    values[~np.isfinite(values)] = np.nan
    f = pd.DataFrame(values, index=kpi.index, columns=list(FEATURES))

    eligible = (kpi["present"] == 1) & (kpi["partial"] == 0) & f["margin_q"].notna()
    target = None
    if with_target:
        target = _window(kpi, "gross_margin", 3, -HORIZON)
        complete = _window(kpi, "partial", 3, -HORIZON) == 0
        eligible &= target.notna() & complete
    if as_of is not None:
        eligible &= kpi.index.get_level_values("mi") == months.to_index(as_of)
    frame = Frame(f[eligible], f.loc[eligible, "margin_q"].rename("baseline"),
                  None if target is None else target[eligible].rename("target"))
    return frame


def scale(X: pd.DataFrame) -> np.ndarray:
    """Each row's scale: the model learns (target - baseline) / scale, so one tree serves small
    and large clients alike; max(|revenue last quarter|, SCALE_FLOOR)."""
    return np.maximum(X["revenue_q"].abs().fillna(0).to_numpy(dtype="float64"), SCALE_FLOOR)


def history_months(frame: Frame) -> list[int]:
    """The as-of month indexes in the frame, oldest first."""
    return sorted(set(frame.months.tolist()))


def month_label(mi: int) -> str:
    return f"{months.to_date(mi):%Y-%m}"
