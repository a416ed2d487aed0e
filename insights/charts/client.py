"""The client page's figures: margin trend with its cost breakdown (each point opens the month's
source rows), the genome's five group scores as a radar, its 50 dimensions as a strip, and the
profitability forecast with its interval."""

from __future__ import annotations

from .base import PALETTE, figure, month_axis, num

GROUP_NAMES = ("Financial Health", "Operational Efficiency", "Engagement", "Growth Potential", "Risk Factors")


def margin_trend(rows: list, source_url) -> dict:
    """Revenue and gross margin as lines over stacked cost bars (labour, licence, other), one
    point per stored month; `source_url(month, figure)` gives each point's drill-down path."""
    x = [r.month.isoformat() for r in rows]

    def links(code: str) -> list[str]:
        return [source_url(r.month, code) for r in rows]

    def bars(field: str, code: str, name: str, colour: str) -> dict:
        return {"type": "bar", "name": name, "x": x, "y": [num(getattr(r, field)) for r in rows],
                "customdata": links(code), "marker": {"color": colour},
                "hovertemplate": f"{name} %{{x|%b %Y}}: %{{y:$,.2f}}<br>click for the source rows<extra></extra>"}

    def line(field: str, code: str, name: str, colour: str) -> dict:
        return {"type": "scatter", "mode": "lines+markers", "name": name, "x": x,
                "y": [num(getattr(r, field)) for r in rows], "customdata": links(code),
                "line": {"color": colour, "width": 2.5}, "marker": {"size": 7},
                "hovertemplate": f"{name} %{{x|%b %Y}}: %{{y:$,.2f}}<br>click for the source rows<extra></extra>"}

    data = [
        bars("labour_cost", "labour_cost", "Labour cost", PALETTE["labour"]),
        bars("license_cost", "license_cost", "Licence cost", PALETTE["license"]),
        bars("other_cost", "other_cost", "Other costs", PALETTE["other"]),
        line("revenue_total", "revenue", "Revenue", PALETTE["revenue"]),
        line("gross_margin", "gross_margin", "Gross margin", PALETTE["margin"]),
    ]
    return figure(data, barmode="stack",
                  yaxis={"tickprefix": "$", "tickformat": ",.0f", "gridcolor": "#eef1f5", "zerolinecolor": "#94a3b8"},
                  xaxis=month_axis(len(rows)), height=360)


def genome_radar(scores: dict[str, float], groups: tuple[tuple[str, str], ...]) -> dict:
    """The five group scores (0-100) on a radar, closed, with the portfolio median ring (50:
    every dimension is a percentile among the month's clients)."""
    names = [name for _, name in groups]
    values = [num(scores[key]) for key, _ in groups]
    return figure([
        {"type": "scatterpolar", "name": "Portfolio median", "r": [50] * (len(names) + 1), "theta": names + names[:1],
         "mode": "lines", "line": {"color": PALETTE["median"], "dash": "dot", "width": 1}, "hoverinfo": "skip"},
        {"type": "scatterpolar", "name": "This client", "r": values + values[:1], "theta": names + names[:1],
         "fill": "toself", "mode": "lines+markers", "line": {"color": PALETTE["revenue"], "width": 2},
         "fillcolor": "rgba(31,111,235,0.18)", "hovertemplate": "%{theta}: %{r:.0f}/100<extra></extra>"},
    ], polar={"radialaxis": {"range": [0, 100], "tickvals": [25, 50, 75, 100], "gridcolor": "#e2e8f0"},
              "angularaxis": {"gridcolor": "#e2e8f0"}},
        height=340, margin={"l": 70, "r": 70, "t": 30, "b": 30}, showlegend=True)


def genome_strip(values: list[float], raw: list, missing: list[int], dimensions) -> dict:
    """The 50 scaled values as one strip of cells in five blocks of ten (0 = lowest of the
    portfolio, 1 = highest; Risk Factors read higher = riskier), hover says the dimension,
    its raw value and whether it was imputed at the median."""
    missing_set = set(missing or [])
    text = []
    for d in dimensions:
        value = raw[d.index] if raw and d.index < len(raw) else None
        shown = "missing (set to the median)" if d.index in missing_set or value is None else f"{value:,.3g}"
        text.append(f"<b>{d.name}</b> ({d.group_name})<br>percentile {values[d.index]:.2f}, {d.direction}"
                    f"<br>raw: {shown}")
    return figure([{
        "type": "heatmap", "z": [[num(v) for v in values]], "x": [d.code for d in dimensions], "y": ["genome"],
        "text": [text], "hovertemplate": "%{text}<extra></extra>", "zmin": 0, "zmax": 1, "xgap": 2,
        "colorscale": [[0, "#b42318"], [0.5, "#f8fafc"], [1, "#1f6feb"]],
        "colorbar": {"thickness": 10, "len": 0.9, "tickvals": [0, 0.5, 1], "ticktext": ["low", "median", "high"]},
    }], xaxis={"showticklabels": False, "ticks": ""}, yaxis={"showticklabels": False},
        shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": i - 0.5, "x1": i - 0.5, "y0": -0.05, "y1": 1.05,
                 "line": {"color": "#1d2733", "width": 2}} for i in (10, 20, 30, 40)],
        annotations=[{"xref": "x", "yref": "paper", "x": 10 * g + 4.5, "y": -0.12, "showarrow": False,
                      "text": name, "font": {"size": 11}} for g, name in enumerate(GROUP_NAMES)],
        height=150, margin={"l": 10, "r": 10, "t": 10, "b": 40}, showlegend=False)


def forecast(baseline: float | None, value: float, lower: float | None, upper: float | None,
             as_of_label: str) -> dict:
    """Last quarter's margin beside next quarter's predicted margin with its 90% interval."""
    x, y, colours = [], [], []
    if baseline is not None:
        x.append(f"Last quarter (to {as_of_label})")
        y.append(baseline)
        colours.append(PALETTE["median"])
    x.append("Next quarter (forecast)")
    y.append(value)
    colours.append(PALETTE["margin"] if value >= 0 else PALETTE["bad"])
    error = None
    if lower is not None and upper is not None:
        plus = [0] * (len(x) - 1) + [max(upper - value, 0)]
        minus = [0] * (len(x) - 1) + [max(value - lower, 0)]
        error = {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "color": "#1d2733",
                 "thickness": 1.5, "width": 8}
    trace = {"type": "bar", "x": x, "y": y, "marker": {"color": colours}, "name": "Gross margin",
             "hovertemplate": "%{x}: %{y:$,.0f}<extra></extra>"}
    if error:
        trace["error_y"] = error
    return figure([trace], yaxis={"tickprefix": "$", "tickformat": ",.0f", "gridcolor": "#eef1f5",
                                  "zerolinecolor": "#94a3b8"}, height=260, showlegend=False)
