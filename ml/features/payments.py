"""Payment KPIs per client per month: open AR, days sales outstanding, late invoices and
average days late. Amounts in home-currency cents, each invoice at its own exchange rate.

Definitions (also in docs/kpis.md):
- open_ar = everything invoiced up to the month end - everything applied to those invoices by
  payments dated up to the month end. An invoice QuickBooks shows as settled (balance 0) with
  less applied than its total was closed by something we cannot see (credit memo, write-off);
  the remainder is treated as settled on its due date.
- dso_days = open_ar / invoiced in the last 3 months x the days in those 3 months (the
  "average-balance" DSO most MSP dashboards show); missing when less than $1 was invoiced.
- late_invoice_share = invoices due in the month that were not fully paid by their due date /
  invoices due in the month (only invoices whose due date has passed by the data's as-of date).
- avg_days_late = mean of max(0, last payment date - due date) over invoices fully paid in the
  month (on-time invoices count as 0 days).
Zero or negative invoices (credits) are left out of the late figures.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from . import months

CENT_TOLERANCE = 1  # rounding each application to the cent can leave a cent unpaid


def derive(f: pd.DataFrame, invoices: pd.DataFrame, applied: pd.DataFrame, as_of: date) -> None:
    grid = f[[]]
    inv = invoices[invoices["client_id"].isin(f.index.get_level_values(0).unique())].copy()
    total = inv["total_cents"].astype("int64")
    applied_total = inv["applied_cents"].astype("int64")
    settled_elsewhere = (inv["balance_cents"] <= 0) & (applied_total < total - CENT_TOLERANCE)

    invoiced = inv.groupby(["client_id", "mi"])["total_cents"].sum().reindex(grid.index, fill_value=0)
    f["invoiced_total"] = invoiced.astype("int64")
    other = (
        inv.loc[settled_elsewhere, ["client_id", "due_mi"]]
        .assign(cents=(total - applied_total)[settled_elsewhere])
        .rename(columns={"due_mi": "mi"})
    )
    outstanding = (
        months.cumulative(inv[["client_id", "mi", "total_cents"]], "total_cents", grid)
        - months.cumulative(applied, "applied_cents", grid)
        - months.cumulative(other, "cents", grid)
    )
    f["open_ar"] = outstanding.astype("int64")

    last3 = months.rolling(f, "invoiced_total", 3)
    days = pd.Series([months.days_in(m) for m in f.index.get_level_values(1)], index=f.index)
    f["_days"] = days
    days3 = months.rolling(f, "_days", 3)
    f["dso_days"] = (months.safe_ratio(f["open_ar"], last3, 99) * days3).to_numpy()
    f.drop(columns="_days", inplace=True)

    positive = inv[total > 0]
    due_date = pd.to_datetime(positive["due_date"])
    due = positive[due_date <= pd.Timestamp(as_of)]
    paid_by_due = (due["applied_by_due_cents"] >= due["total_cents"] - CENT_TOLERANCE) | settled_elsewhere[due.index]
    late = due.assign(late=(~paid_by_due).astype("int64"), n=1).groupby(["client_id", "due_mi"])[["late", "n"]].sum()
    late.index = late.index.set_names(["client_id", "mi"])
    late = late.reindex(grid.index, fill_value=0)
    f["invoices_due"] = late["n"].astype("int64")
    f["late_invoice_share"] = months.safe_ratio(late["late"], late["n"]).to_numpy()

    fully = positive[positive["applied_cents"] >= positive["total_cents"] - CENT_TOLERANCE]
    fully = fully[fully["last_payment"].notna()]
    paid_on = pd.to_datetime(fully["last_payment"])
    paid_mi = paid_on.dt.year * 12 + paid_on.dt.month - 1
    lateness = (
        fully.assign(mi=paid_mi, days=np.maximum(fully["days_to_last_payment"].astype("float64"), 0), n=1)
        .groupby(["client_id", "mi"])[["days", "n"]]
        .sum()
        .reindex(grid.index, fill_value=0)
    )
    f["invoices_paid"] = lateness["n"].astype("int64")
    f["avg_days_late"] = months.safe_ratio(lateness["days"], lateness["n"]).to_numpy()
