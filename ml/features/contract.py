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
    first_of, last_of = spans["min"].to_dict(), spans["max"].to_dict()  # dicts: .loc per contract is slow
    rows = []
    for r in c.itertuples(index=False):
        first, last = first_of[r.client_id], last_of[r.client_id]
        lo = max(r.start_mi, first)
        hi = last
        if not np.isnan(r.cancel_mi):
            hi = min(hi, int(r.cancel_mi) - 1)  # cancelled during a month: not in force at its end
        if not np.isnan(r.end_mi) and not r.auto_renew:
            hi = min(hi, int(r.end_mi) - (0 if r.end_is_month_end else 1))
        if lo > hi:
            continue
        span = np.arange(lo, hi + 1)
        qty, price = float(r.billed_quantity), float(r.unit_price)
        if r.kind in ("per_device", "per_user"):
            monthly = qty * price
        elif r.kind == "block_hours":
            monthly = price / max(int(r.frequency or 1), 1)
        else:
            monthly = 0.0
        if np.isnan(r.end_mi):
            renewal = np.full(len(span), np.nan)
        else:
            gap = r.end_mi - span
            if r.auto_renew:
                gap = np.where(gap < 0, gap + 12 * np.ceil(-gap / 12), gap)
            renewal = gap
        n = len(span)
        rows.append(
            (
                np.full(n, r.client_id),
                span,
                np.full(n, monthly),
                np.full(n, qty if r.kind == "per_device" else 0.0),
                renewal,
                np.full(n, r.currency != home),
                np.full(n, int(r.kind == "per_device")),
            )
        )
    if not rows:
        return out
    m = pd.DataFrame(
        {
            name: np.concatenate([row[i] for row in rows])
            for i, name in enumerate(("client_id", "mi", "value", "devices", "renewal", "foreign", "per_device"))
        }
    )
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
