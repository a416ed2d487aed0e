"""Contract KPIs per client per month: MRR, tenure, months to renewal, billed seats and their
growth, the last price change, and billed devices against active endpoints.

Definitions (also in docs/kpis.md):
- mrr = sum over agreements in force at the month end of their monthly value (per device or
  per user: billed quantity x unit price; block hours: block price / billing months), in the
  home currency. In force: started by the month end, not cancelled by it, and not past its end
  date unless it auto-renews. SuperOps gives the current billed quantity only, so past months
  use today's quantity (documented limitation; invoiced seats below are historical).
- tenure_months = months from onboarding (or the first month with data) to the month.
- months_to_renewal = months from the month to the nearest end date among agreements in force
  (an auto-renewing agreement past its end renews every 12 months); missing when none has one.
- billed_seats = quantity on recurring invoice lines in the month; seat_growth_12m = billed_seats
  / billed_seats 12 months earlier - 1 (missing on a zero base).
- months_since_price_change = months since any recurring item's unit price on the client's
  invoices differed from that item's previous invoiced price (or since recurring billing
  began, if it never changed).
- billed_devices = billed quantity of per-device agreements in force; billed_vs_active =
  billed_devices / active endpoints (below 1: endpoints managed but not billed); missing when
  no per-device agreement is in force (per-user agreements bill people, not endpoints).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import months

RECURRING_KINDS = ("per_device", "per_user", "block_hours")


def _months_of(series: pd.Series) -> pd.Series:
    d = pd.to_datetime(series)
    return d.dt.year * 12 + d.dt.month - 1


def contract_months(contracts: pd.DataFrame, grid: pd.DataFrame, fx: pd.Series, home: str) -> pd.DataFrame:
    """Per (client_id, mi): mrr (cents), billed_devices, months_to_renewal."""
    out = pd.DataFrame(index=grid.index)
    out["mrr"], out["billed_devices"], out["months_to_renewal"], out["_per_device"] = 0, 0.0, np.nan, 0
    c = contracts[contracts["client_id"].isin(out.index.get_level_values(0).unique())]
    c = c[(c["status"] != "draft") & c["start_date"].notna()]
    if c.empty:
        return out
    c = c.assign(
        start_mi=_months_of(c["start_date"]),
        end_mi=_months_of(c["end_date"]),
        cancel_mi=_months_of(c["cancelled_on"]),
        end_is_month_end=pd.to_datetime(c["end_date"]).dt.is_month_end,
    )
    spans = grid.reset_index().groupby("client_id")["mi"].agg(["min", "max"])
    m = _in_force_months(c, spans, home)
    if m.empty:
        return out
    rate = pd.Series(fx.reindex(pd.MultiIndex.from_frame(m[["client_id", "mi"]])).fillna(1.0).to_numpy())
    m["cents"] = np.rint(m["value"] * np.where(m["foreign"], rate, 1.0) * 100)
    g = m.groupby(["client_id", "mi"]).agg(
        mrr=("cents", "sum"),
        billed_devices=("devices", "sum"),
        months_to_renewal=("renewal", "min"),
        _per_device=("per_device", "sum"),
    )
    columns = ["mrr", "billed_devices", "months_to_renewal", "_per_device"]
    out.loc[g.index, columns] = g[columns]
    out["mrr"] = out["mrr"].astype("int64")
    return out


def _in_force_months(c: pd.DataFrame, spans: pd.DataFrame, home: str) -> pd.DataFrame:
    """One row per agreement and month it is in force at the month end, within its client's
    months: client_id, mi, value (monthly, agreement currency), devices, renewal (months to
    its end date), foreign, per_device. Vectorised: every agreement's run of months is laid
    out with one repeat."""
    first = c["client_id"].map(spans["min"]).to_numpy(dtype="float64")
    last = c["client_id"].map(spans["max"]).to_numpy(dtype="float64")
    start_mi, end_mi, cancel_mi = (c[k].to_numpy(dtype="float64") for k in ("start_mi", "end_mi", "cancel_mi"))
    auto_renew = c["auto_renew"].fillna(False).to_numpy(dtype=bool)
    lo = np.maximum(start_mi, first)
    hi = last.copy()
    cancelled = ~np.isnan(cancel_mi)
    hi[cancelled] = np.minimum(hi[cancelled], cancel_mi[cancelled] - 1)  # cancelled during a month: not in force
    ends = ~np.isnan(end_mi) & ~auto_renew
    last_month = end_mi - np.where(c["end_is_month_end"].fillna(False).to_numpy(dtype=bool), 0, 1)
    hi[ends] = np.minimum(hi[ends], last_month[ends])
    lengths = np.where(lo <= hi, hi - lo + 1, 0).astype("int64")
    kind = c["kind"].to_numpy()
    qty = c["billed_quantity"].astype("float64").to_numpy()
    price = c["unit_price"].astype("float64").to_numpy()
    frequency = np.maximum(pd.to_numeric(c["frequency"], errors="coerce").fillna(1).to_numpy(dtype="float64"), 1)
    monthly = np.select(
        [np.isin(kind, ("per_device", "per_user")), kind == "block_hours"], [qty * price, price / frequency], 0.0
    )
    per_device = kind == "per_device"
    mi = months.runs(lo, lengths)
    gap = np.repeat(end_mi, lengths) - mi
    # An auto-renewing agreement past its end date renews every 12 months.
    renews = np.repeat(auto_renew, lengths) & (gap < 0)
    gap = np.where(renews, gap + 12 * np.ceil(-gap / 12), gap)
    return pd.DataFrame(
        {
            "client_id": np.repeat(c["client_id"].to_numpy(dtype="int64"), lengths),
            "mi": mi,
            "value": np.repeat(monthly, lengths),
            "devices": np.repeat(np.where(per_device, qty, 0.0), lengths),
            "renewal": gap,
            "foreign": np.repeat((c["currency"] != home).to_numpy(), lengths),
            "per_device": np.repeat(per_device.astype("int64"), lengths),
        }
    )


def seats_and_prices(lines: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
    """Per (client_id, mi): billed_seats and months_since_price_change from invoice lines."""
    out = pd.DataFrame(index=grid.index)
    out["billed_seats"], out["months_since_price_change"] = 0.0, np.nan
    rec = lines[(lines["kind"] == "recurring") & lines["client_id"].isin(out.index.get_level_values(0).unique())]
    if rec.empty:
        return out
    seats = rec.groupby(["client_id", "mi"])["quantity"].sum()
    out["billed_seats"] = seats.reindex(grid.index, fill_value=0.0).astype("float64")
    items = rec.groupby(["client_id", "item_id", "mi"], dropna=False)["price_max"].max().reset_index()
    items = items.sort_values(["client_id", "item_id", "mi"])
    previous = items.groupby(["client_id", "item_id"], dropna=False)["price_max"].shift(1)
    first_billed = previous.isna()
    changed = previous.notna() & (previous != items["price_max"])
    # The month recurring billing began counts as the first "price set" event.
    events = items[changed | first_billed][["client_id", "mi"]]
    starts = grid.reset_index().groupby("client_id")["mi"].min()
    events = events.assign(mi=np.maximum(events["mi"].to_numpy(), events["client_id"].map(starts).to_numpy()))
    last_change = events.groupby(["client_id", "mi"])["mi"].max().reindex(grid.index)
    last_change = last_change.groupby(level=0).cummax().groupby(level=0).ffill()
    out["months_since_price_change"] = grid.index.get_level_values(1).to_numpy() - last_change.to_numpy()
    return out


def derive(f: pd.DataFrame, first_mi: pd.Series) -> None:
    """tenure, seat growth and billed vs active (needs active_endpoints and billed_seats)."""
    mi = pd.Series(f.index.get_level_values(1), index=f.index)
    f["tenure_months"] = (mi - f.index.get_level_values(0).map(first_mi).to_numpy()).to_numpy()
    f["seat_growth_12m"] = (months.safe_ratio(f["billed_seats"], months.lag(f, "billed_seats", 12)) - 1).to_numpy()
    # Only per-device agreements bill endpoints; per-user agreements bill people.
    ratio = months.safe_ratio(f["billed_devices"], f["active_endpoints"])
    f["billed_vs_active"] = ratio.where(f["_per_device"].to_numpy() > 0).to_numpy()
