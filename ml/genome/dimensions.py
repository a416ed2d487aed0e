"""The 50 dimensions of the Client Profitability Genome: five named groups of ten, each
dimension computed from the monthly KPI snapshot (so from data we really have), with its
formula and the direction of its raw value.

Scaled values are oriented per group: in the first four groups a higher scaled value is
better (healthier, more efficient, more engaged, more room to grow); in Risk Factors a higher
scaled value is riskier. `sense` says how the raw value maps: +1 when a higher raw value
means more of the group's quality, -1 when it means less (the scaled value is then flipped).

Trailing windows: "T3M" = the 3 months ending with the month, sums before ratios (so a ratio
is weighted by volume, not an average of monthly ratios).
Changing any formula here requires bumping SCHEMA_VERSION, so old vectors never mix with new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.features import months

SCHEMA_VERSION = "1"

GROUPS = (
    ("financial_health", "Financial Health"),
    ("operational_efficiency", "Operational Efficiency"),
    ("engagement", "Engagement"),
    ("growth_potential", "Growth Potential"),
    ("risk_factors", "Risk Factors"),
)


@dataclass(frozen=True)
class Dimension:
    index: int
    code: str
    name: str
    formula: str
    sense: int  # +1: higher raw = more of the group's quality; -1: less
    high: str  # how a manager would describe a client high on the scaled value
    low: str
    compute: Callable[[KPIs], pd.Series]

    @property
    def group(self) -> str:
        return GROUPS[self.index // 10][0]

    @property
    def group_name(self) -> str:
        return GROUPS[self.index // 10][1]

    @property
    def direction(self) -> str:
        return "higher = riskier" if self.index >= 40 else "higher = better"


class KPIs:
    """The KPI frame (client_id, mi) with window helpers; every client's months contiguous."""

    def __init__(self, frame: pd.DataFrame):
        self.f = frame
        self._cache: dict = {}

    def col(self, name: str) -> pd.Series:
        return self.f[name].astype("float64")

    def t(self, name: str, window: int, shift: int = 0, partial: bool = False) -> pd.Series:
        key = (name, window, shift, partial)
        if key not in self._cache:
            if name not in self.f:
                self.f[name] = self._derived(name)
            self._cache[key] = months.rolling(self.f, name, window, shift, partial)
        return self._cache[key]

    def ratio(self, num: str, den: str, window: int, minimum: float = 0.0, shift: int = 0) -> pd.Series:
        return _div(self.t(num, window, shift), self.t(den, window, shift), minimum)

    def mean(self, name: str, window: int) -> pd.Series:
        """Mean of the monthly values present in the window (months with no value skipped)."""
        present = self.f[name].notna().astype("float64")
        tmp = f"_n_{name}"
        self.f[tmp] = present
        count = months.rolling(self.f, tmp, window, partial=True)
        return _div(months.rolling(self.f, name, window, partial=True), count)

    def _derived(self, name: str) -> pd.Series:
        """One derived monthly series, computed when a dimension first asks for it."""
        f = self.f
        derived = {
            "_net": lambda: f["revenue_total"] - f["license_cost"] - f["other_cost"],
            "_attrib": lambda: f["license_cost"] + f["other_cost"],
            "_hours": lambda: f["labour_minutes"] / 60,
            "_reactive_hours": lambda: f["reactive_minutes"] / 60,
            "_score_sum": lambda: f["csat_avg"].fillna(0) * f["surveys"],
            "_sentiment_n": lambda: f["interaction_sentiment"].notna() * f["interactions"],
            "_sentiment_sum": lambda: f["interaction_sentiment"].fillna(0) * f["interactions"],
            "_reopened": lambda: f["reopen_rate"].fillna(0) * f["tickets"],
            "_late": lambda: f["late_invoice_share"].fillna(0) * f["invoices_due"],
            "_days_late": lambda: f["avg_days_late"].fillna(0) * f["invoices_paid"],
            "_after_hours": lambda: f["after_hours_share"].fillna(0) * f["labour_minutes"],
            "_top_minutes": lambda: f["technician_concentration"].fillna(0) * f["labour_minutes"],
            "_negative_month": lambda: (f["gross_margin"] < 0).astype("float64"),
            "_months": lambda: pd.Series(1.0, index=f.index),
        }
        return derived[name]().astype("float64")


def _div(num: pd.Series, den: pd.Series, minimum: float = 0.0) -> pd.Series:
    return (num / den.where(den > minimum)).replace([np.inf, -np.inf], np.nan)


def _std6(k: KPIs) -> pd.Series:
    """Sample standard deviation of monthly margin % over the last 6 months (>= 3 present),
    from rolling sums of x and x^2 so it stays vectorised."""
    pct = k.col("margin_pct")
    k.f["_m_n"], k.f["_m_x"], k.f["_m_xx"] = pct.notna().astype("float64"), pct, pct * pct
    n = months.rolling(k.f, "_m_n", 6, partial=True)
    s1, s2 = months.rolling(k.f, "_m_x", 6, partial=True), months.rolling(k.f, "_m_xx", 6, partial=True)
    var = ((s2 - s1 * s1 / n) / (n - 1)).clip(lower=0)
    return np.sqrt(var).where(n >= 3)


def _months_since_qbr(k: KPIs) -> pd.Series:
    f = k.f
    mi = pd.Series(f.index.get_level_values(1), index=f.index, dtype="float64")
    last = mi.where(f["qbr_count"] > 0).groupby(level=0).ffill()
    return (mi - last).fillna(12).clip(upper=12)


def _portfolio_share(k: KPIs) -> pd.Series:
    t12 = k.t("revenue_total", 12, partial=True)
    total = t12.groupby(level=1).transform("sum")
    return _div(t12, total)


def _employees(k: KPIs) -> pd.Series:
    return k.col("employee_count") if "employee_count" in k.f else pd.Series(np.nan, index=k.f.index)


D = Dimension
# A table reads better one dimension to a few lines, so the formatter leaves it alone.
# fmt: off
DIMENSIONS: tuple[Dimension, ...] = (
    # Financial Health (0-9): higher = healthier
    D(0, "margin_pct", "Gross margin %", "sum(gross margin) / sum(revenue), T3M", 1, "high margin", "thin margin",
      lambda k: k.ratio("gross_margin", "revenue_total", 3, 99)),
    D(1, "effective_hourly_rate", "Effective hourly rate",
      "sum(revenue - license - other costs) / sum(labour hours), T3M", 1, "high hourly rate", "low hourly rate",
      lambda k: k.ratio("_net", "_hours", 3, 1)),
    D(2, "contribution_per_hour", "Contribution per labour hour", "sum(gross margin) / sum(labour hours), T3M", 1,
      "high contribution", "low contribution", lambda k: k.ratio("gross_margin", "_hours", 3, 1)),
    D(3, "recurring_share", "Recurring revenue share", "sum(recurring revenue) / sum(revenue), T3M", 1,
      "recurring revenue", "one-off revenue", lambda k: k.ratio("revenue_recurring", "revenue_total", 3, 99)),
    D(4, "mrr", "Contracted MRR", "monthly value of agreements in force at month end", 1, "large agreement",
      "small agreement", lambda k: k.col("mrr")),
    D(5, "revenue_12m", "Revenue, last 12 months", "sum(revenue) over up to 12 months", 1, "large account",
      "small account", lambda k: k.t("revenue_total", 12, partial=True)),
    D(6, "billing_efficiency", "Billing efficiency", "T&M billed / billable time value, T3M", 1, "bills its time",
      "unbilled time", lambda k: k.col("billing_efficiency")),
    D(7, "labour_cost_ratio", "Labour cost ratio", "sum(labour cost) / sum(revenue), T3M", -1, "light on labour",
      "labour-heavy", lambda k: k.ratio("labour_cost", "revenue_total", 3, 99)),
    D(8, "attributable_cost_ratio", "License and other cost ratio", "sum(license + other costs) / sum(revenue), T3M",
      -1, "low pass-through cost", "high pass-through cost", lambda k: k.ratio("_attrib", "revenue_total", 3, 99)),
    D(9, "margin_volatility", "Margin volatility", "standard deviation of monthly margin %, last 6 months", -1,
      "steady margin", "erratic margin", _std6),
    # Operational Efficiency (10-19): higher = cheaper to serve well
    D(10, "rhem", "RHEM", "sum(reactive hours) / sum(active endpoints), T3M", -1, "few break-fix hours",
      "break-fix heavy", lambda k: k.ratio("_reactive_hours", "active_endpoints", 3)),
    D(11, "tickets_per_endpoint", "Tickets per endpoint", "sum(tickets) / sum(active endpoints), T3M", -1,
      "quiet estate", "noisy estate", lambda k: k.ratio("tickets", "active_endpoints", 3)),
    D(12, "avg_resolution_hours", "Average resolution time", "mean of monthly average resolution hours, T3M", -1,
      "quick fixes", "slow fixes", lambda k: k.mean("avg_resolution_hours", 3)),
    D(13, "p90_resolution_hours", "P90 resolution time", "mean of monthly p90 resolution hours, T3M", -1,
      "few long tickets", "long-tail tickets", lambda k: k.mean("p90_resolution_hours", 3)),
    D(14, "first_response_sla", "First-response SLA", "mean of monthly first-response compliance, T3M", 1,
      "fast first response", "missed responses", lambda k: k.mean("first_response_sla", 3)),
    D(15, "resolution_sla", "Resolution SLA", "mean of monthly resolution compliance, T3M", 1, "meets SLAs",
      "misses SLAs", lambda k: k.mean("resolution_sla", 3)),
    D(16, "reopen_rate", "Reopen rate", "sum(reopened tickets) / sum(tickets), T3M", -1, "fixed first time",
      "reopened tickets", lambda k: k.ratio("_reopened", "tickets", 3)),
    D(17, "escalation_rate", "Escalation rate", "sum(escalations) / sum(tickets), T3M", -1, "rarely escalates",
      "escalation-prone", lambda k: k.ratio("escalations", "tickets", 3)),
    D(18, "proactive_share", "Proactive work share", "1 - sum(reactive minutes) / sum(labour minutes), T3M", 1,
      "planned work", "firefighting", lambda k: 1 - k.ratio("reactive_minutes", "labour_minutes", 3)),
    D(19, "after_hours_share", "After-hours share", "sum(after-hours minutes) / sum(labour minutes), T3M", -1,
      "business hours", "after-hours work", lambda k: k.ratio("_after_hours", "labour_minutes", 3)),
    # Engagement (20-29): higher = more engaged
    D(20, "csat", "CSAT", "sum(scores) / sum(surveys), last 6 months", 1, "happy users", "unhappy users",
      lambda k: k.ratio("_score_sum", "surveys", 6)),
    D(21, "csat_trend", "CSAT trend", "CSAT last 3 months - CSAT 3 months before", 1, "CSAT rising", "CSAT falling",
      lambda k: k.col("csat_trend")),
    D(22, "survey_response_rate", "Survey response rate", "surveys / tickets, T3M", 1, "answers surveys",
      "ignores surveys", lambda k: k.col("survey_response_rate")),
    D(23, "qbr_last_12m", "QBRs, last 12 months", "QBR meetings in the last 12 months", 1, "regular QBRs",
      "no QBRs", lambda k: k.col("qbr_last_12m")),
    D(24, "interactions_3m", "Interactions, last 3 months", "calls, emails, visits and QBRs, T3M", 1,
      "in touch", "out of touch", lambda k: k.t("interactions", 3, partial=True)),
    D(25, "days_since_contact", "Days since last contact", "days from the last interaction to month end", -1,
      "recently contacted", "long silent", lambda k: k.col("days_since_contact")),
    D(26, "interaction_sentiment", "Interaction sentiment", "mean sentiment (-1..1) of interactions, last 6 months",
      1, "warm relationship", "cool relationship", lambda k: k.ratio("_sentiment_sum", "_sentiment_n", 6)),
    D(27, "ticket_trend", "Service-desk usage trend", "tickets T3M / tickets the 3 months before - 1", 1,
      "using the service desk", "drifting away", lambda k: _div(k.t("tickets", 3), k.t("tickets", 3, 3)) - 1),
    D(28, "tenure_months", "Tenure", "months since onboarding", 1, "long-standing", "new client",
      lambda k: k.col("tenure_months")),
    D(29, "low_csat_share", "Low-score share", "surveys scored 1-2 / all surveys, last 6 months", -1,
      "no complaints", "clustered complaints", lambda k: k.ratio("low_csat_surveys", "surveys", 6)),
    # Growth Potential (30-39): higher = more room to grow
    D(30, "revenue_growth_3m", "Revenue growth, 3 months", "revenue T3M / the 3 months before - 1", 1, "growing",
      "shrinking", lambda k: k.col("revenue_growth_3m")),
    D(31, "revenue_growth_12m", "Revenue growth, 12 months", "revenue T3M / same 3 months a year earlier - 1", 1,
      "growing year on year", "shrinking year on year", lambda k: k.col("revenue_growth_12m")),
    D(32, "endpoint_growth_12m", "Endpoint growth, 12 months", "active endpoints / 12 months earlier - 1", 1,
      "adding endpoints", "losing endpoints",
      lambda k: _div(k.col("active_endpoints"), months.lag(k.f, "active_endpoints", 12).astype("float64")) - 1),
    D(33, "seat_growth_12m", "Billed seat growth, 12 months", "invoiced recurring quantity / 12 months earlier - 1",
      1, "adding seats", "cutting seats", lambda k: k.col("seat_growth_12m")),
    D(34, "project_share", "Project revenue share", "project revenue / revenue, last 12 months", 1, "buys projects",
      "no projects",
      lambda k: _div(k.t("revenue_project", 12, partial=True), k.t("revenue_total", 12, partial=True), 99)),
    D(35, "product_share", "Product revenue share", "product and license revenue / revenue, last 12 months", 1,
      "buys products", "no product sales",
      lambda k: _div(k.t("revenue_product", 12, partial=True), k.t("revenue_total", 12, partial=True), 99)),
    D(36, "tm_share", "T&M revenue share", "time-and-materials revenue / revenue, last 12 months (agreement upsell)",
      1, "T&M buyer", "fully contracted",
      lambda k: _div(k.t("revenue_time", 12, partial=True), k.t("revenue_total", 12, partial=True), 99)),
    D(37, "employees", "Client size", "employee count from the service desk", 1, "large company", "small company",
      _employees),
    D(38, "months_since_price_change", "Price age", "months since a recurring unit price last changed", 1,
      "price review due", "recently repriced", lambda k: k.col("months_since_price_change")),
    D(39, "unbilled_endpoints", "Unbilled endpoints", "max(0, 1 - billed devices / active endpoints)", 1,
      "true-up due", "fully billed", lambda k: (1 - k.col("billed_vs_active")).clip(lower=0)),
    # Risk Factors (40-49): higher = riskier
    D(40, "dso_days", "Days sales outstanding", "open AR / invoiced T3M x days", 1, "slow payer", "prompt payer",
      lambda k: k.col("dso_days")),
    D(41, "late_invoice_share", "Late invoices", "invoices not paid by due date / invoices due, last 6 months", 1,
      "pays late", "pays on time", lambda k: k.ratio("_late", "invoices_due", 6)),
    D(42, "avg_days_late", "Days late", "mean days past due of invoices paid, last 6 months", 1, "long overdue",
      "never overdue", lambda k: k.ratio("_days_late", "invoices_paid", 6)),
    D(43, "negative_margin_months", "Loss-making months", "months with negative gross margin / 6", 1,
      "loss-making", "reliably profitable", lambda k: k.ratio("_negative_month", "_months", 6)),
    D(44, "months_to_renewal", "Renewal proximity", "months to the nearest agreement end", -1, "renewal due",
      "renewal far off", lambda k: k.col("months_to_renewal")),
    D(45, "technician_concentration", "Key-technician dependence", "busiest technician's minutes / all, T3M", 1,
      "one-tech account", "shared across team", lambda k: k.ratio("_top_minutes", "labour_minutes", 3)),
    D(46, "revenue_concentration", "Share of MSP revenue", "client revenue / portfolio revenue, last 12 months", 1,
      "key account", "minor account", _portfolio_share),
    D(47, "sla_decline", "SLA slipping", "resolution SLA 3 months before - last 3 months", 1, "SLA slipping",
      "SLA steady", lambda k: _shifted_mean(k, "resolution_sla") - k.mean("resolution_sla", 3)),
    D(48, "months_since_qbr", "Months since QBR", "months since the last QBR (12 = none in a year)", 1, "QBR overdue",
      "QBR recent", _months_since_qbr),
    D(49, "reactive_spike", "Break-fix spike", "reactive hours T3M / the 3 months before - 1", 1, "break-fix spike",
      "calm estate", lambda k: _div(k.t("_reactive_hours", 3), k.t("_reactive_hours", 3, 3), 1) - 1),
)
# fmt: on


def _shifted_mean(k: KPIs, name: str) -> pd.Series:
    return k.mean(name, 3).groupby(level=0).shift(3)


assert len(DIMENSIONS) == 50 and all(d.index == i for i, d in enumerate(DIMENSIONS))
BY_CODE = {d.code: d for d in DIMENSIONS}
KPI_INPUTS = (
    "revenue_total",
    "revenue_recurring",
    "revenue_time",
    "revenue_project",
    "revenue_product",
    "license_cost",
    "other_cost",
    "labour_cost",
    "gross_margin",
    "margin_pct",
    "labour_minutes",
    "reactive_minutes",
    "mrr",
    "billing_efficiency",
    "active_endpoints",
    "tickets",
    "avg_resolution_hours",
    "p90_resolution_hours",
    "first_response_sla",
    "resolution_sla",
    "reopen_rate",
    "escalations",
    "after_hours_share",
    "csat_avg",
    "surveys",
    "low_csat_surveys",
    "csat_trend",
    "survey_response_rate",
    "qbr_count",
    "qbr_last_12m",
    "interactions",
    "interaction_sentiment",
    "days_since_contact",
    "tenure_months",
    "revenue_growth_3m",
    "revenue_growth_12m",
    "seat_growth_12m",
    "months_since_price_change",
    "billed_vs_active",
    "dso_days",
    "late_invoice_share",
    "invoices_due",
    "avg_days_late",
    "invoices_paid",
    "months_to_renewal",
    "technician_concentration",
)
# How far back the windows reach: 12 months (12-month sums and lags, months since the last
# QBR) for these inputs; every other window reaches at most RECENT_LOOKBACK months back
# (6-month windows, 3 months shifted by 3). A rebuild from a month reads the months before
# it for these alone (ml/genome/build.py kpi_frame); tests/test_genome.py proves each matters.
LONG_WINDOW_INPUTS = (
    "revenue_total",
    "revenue_time",
    "revenue_project",
    "revenue_product",
    "active_endpoints",
    "qbr_count",
)
RECENT_LOOKBACK = 5
