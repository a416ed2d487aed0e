"""The portfolio page's figures: monthly trends, the profitability quadrant, leaks identified
against recovered, and the segment mix. Each takes rows the view read in one query."""

from __future__ import annotations

from .base import PALETTE, figure, month_axis, num

TIER_COLOURS = {"low": "#059669", "medium": "#d97706", "high": "#ea580c", "critical": "#b42318"}


def trends(months: list[dict]) -> dict:
    """Revenue, labour cost, licence and other costs, gross margin and MRR per month
    (ClientMonthKPIQuerySet.monthly_totals rows)."""
    x = [m["month"].isoformat() for m in months]

    def line(key: str, name: str, colour: str, **extra) -> dict:
        return {"type": "scatter", "mode": "lines+markers", "name": name, "x": x,
                "y": [num(m[key]) for m in months], "line": {"color": colour, "width": 2},
                "marker": {"size": 5}, "hovertemplate": f"{name} %{{x|%b %Y}}: %{{y:$,.0f}}<extra></extra>", **extra}

    direct = [{"month": m["month"], "direct": (m["license_cost"] or 0) + (m["other_cost"] or 0)} for m in months]
    data = [
        line("revenue", "Revenue", PALETTE["revenue"]),
        line("mrr", "MRR (contracted)", PALETTE["mrr"], line_dash="dot"),
        line("labour_cost", "Labour cost", PALETTE["labour"]),
        {"type": "scatter", "mode": "lines+markers", "name": "Licence and other costs", "x": x,
         "y": [num(d["direct"]) for d in direct], "line": {"color": PALETTE["license"], "width": 2},
         "marker": {"size": 5}, "hovertemplate": "Licence and other %{x|%b %Y}: %{y:$,.0f}<extra></extra>"},
        line("gross_margin", "Gross margin", PALETTE["margin"]),
    ]
    for trace in data:  # plotly spells nested keys with underscores only in its Python API
        if "line_dash" in trace:
            trace["line"]["dash"] = trace.pop("line_dash")
    return figure(data, yaxis={"tickprefix": "$", "tickformat": ",.0f", "gridcolor": "#eef1f5"},
                  xaxis=month_axis(len(months)), hovermode="x unified")


def margin_pct(months: list[dict]) -> dict:
    """The portfolio's gross margin % per month (over the month's sums)."""
    values = [None if m["margin_pct"] is None else m["margin_pct"] * 100 for m in months]
    return figure(
        [{"type": "bar", "name": "Gross margin %", "x": [m["month"].isoformat() for m in months], "y": values,
          "marker": {"color": [PALETTE["bad"] if (v or 0) < 0 else PALETTE["margin"] for v in values]},
          "hovertemplate": "%{x|%b %Y}: %{y:.1f}%<extra></extra>"}],
        yaxis={"ticksuffix": "%", "gridcolor": "#eef1f5"}, xaxis=month_axis(len(months)),
        height=220, showlegend=False)


def quadrant(clients: list[dict], portfolio_margin_pct: float | None, median_revenue: float | None) -> dict:
    """Each client's 12-month revenue (x) against its margin % (y); bubble size = active
    endpoints, colour = churn risk (grey where no churn model scored it). A click opens the
    client's page (customdata = its URL)."""
    scored = [c for c in clients if c.get("churn_risk") is not None]
    unscored = [c for c in clients if c.get("churn_risk") is None]
    biggest = max([c["endpoints"] or 0 for c in clients] + [1])
    sizeref = 2.0 * biggest / 40.0 ** 2  # the largest bubble ~40 px across

    def trace(rows: list[dict], name: str, marker: dict) -> dict:
        return {
            "type": "scatter", "mode": "markers", "name": name,
            "x": [num(c["revenue"]) for c in rows], "y": [c["margin_pct"] for c in rows],
            "text": [c["client__name"] for c in rows], "customdata": [c["url"] for c in rows],
            "marker": {"size": [max(c["endpoints"] or 0, 1) for c in rows], "sizemode": "area", "sizeref": sizeref,
                       "sizemin": 4, "line": {"width": 0.5, "color": "#fff"}, **marker},
            "hovertemplate": "<b>%{text}</b><br>Revenue %{x:$,.0f}<br>Margin %{y:.1f}%<br>"
                             + ("Churn risk %{marker.color:.0f}/100<br>" if "colorscale" in marker else "")
                             + "<extra></extra>",
        }

    data = []
    if scored:
        data.append(trace(scored, "Churn risk scored", {
            "color": [c["churn_risk"] for c in scored], "cmin": 0, "cmax": 50,
            "colorscale": [[0, "#059669"], [0.1, "#84cc16"], [0.3, "#f59e0b"], [0.7, "#ea580c"], [1, "#b42318"]],
            "colorbar": {"title": {"text": "Churn risk"}, "thickness": 12}, "opacity": 0.85}))
    if unscored:
        data.append(trace(unscored, "No churn score", {"color": "#94a3b8", "opacity": 0.7}))
    shapes = []
    if portfolio_margin_pct is not None:
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": portfolio_margin_pct,
                       "y1": portfolio_margin_pct, "line": {"color": PALETTE["median"], "dash": "dash", "width": 1}})
    if median_revenue is not None:
        shapes.append({"type": "line", "yref": "paper", "y0": 0, "y1": 1, "x0": median_revenue, "x1": median_revenue,
                       "line": {"color": PALETTE["median"], "dash": "dash", "width": 1}})
    return figure(data, xaxis={"title": {"text": "Revenue, 12 months"}, "tickprefix": "$", "tickformat": ",.0f",
                               "gridcolor": "#eef1f5"},
                  yaxis={"title": {"text": "Gross margin %"}, "ticksuffix": "%", "gridcolor": "#eef1f5",
                         "zeroline": True, "zerolinecolor": "#b42318"},
                  shapes=shapes, height=420, showlegend=bool(unscored and scored))


def leaks(months: list) -> dict:
    """Leak money identified (not dismissed) and recovered per leak month
    (insights.leaks.reports.identified_vs_recovered rows)."""
    x = [m.period.isoformat() for m in months]
    return figure([
        {"type": "bar", "name": "Identified", "x": x, "y": [num(m.identified) for m in months],
         "marker": {"color": "#f59e0b"}, "hovertemplate": "Identified %{x|%b %Y}: %{y:$,.0f}<extra></extra>"},
        {"type": "bar", "name": "Recovered", "x": x, "y": [num(m.recovered) for m in months],
         "marker": {"color": PALETTE["margin"]}, "hovertemplate": "Recovered %{x|%b %Y}: %{y:$,.0f}<extra></extra>"},
    ], barmode="group", yaxis={"tickprefix": "$", "tickformat": ",.0f", "gridcolor": "#eef1f5"},
        xaxis=month_axis(len(months)), height=280)


def segments(mix: list[dict]) -> dict:
    """Clients per genome segment (GenomeVectorQuerySet.segment_mix rows)."""
    rows = list(reversed(mix))  # largest at the top of a horizontal bar chart
    return figure([{
        "type": "bar", "orientation": "h", "name": "Clients",
        "y": [r["segment__name"] or "Not segmented yet" for r in rows], "x": [r["clients"] for r in rows],
        "marker": {"color": PALETTE["mrr"]}, "hovertemplate": "%{y}: %{x} clients<extra></extra>",
    }], xaxis={"title": {"text": "Clients"}, "gridcolor": "#eef1f5"}, yaxis={"automargin": True},
        height=max(180, 48 * len(rows) + 60), showlegend=False, margin={"l": 20, "r": 20, "t": 16, "b": 40})
