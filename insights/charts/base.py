"""What every dashboard figure shares: the layout defaults, the palette and number coercion
(Decimal is not JSON; None stays None so plotly leaves a gap rather than drawing a zero)."""

from __future__ import annotations

from decimal import Decimal

PALETTE = {
    "revenue": "#1f6feb",
    "labour": "#d97706",
    "license": "#7c3aed",
    "other": "#94a3b8",
    "margin": "#059669",
    "mrr": "#0e7490",
    "bad": "#b42318",
    "median": "#5c6b7a",
}
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12, "color": "#1d2733"}


def num(value) -> float | None:
    """A JSON-able number: Decimal and numpy scalars to float, None kept."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return float(value)


def figure(data: list[dict], title: str = "", **layout) -> dict:
    """A figure dict with the dashboards' layout defaults; `layout` overrides them."""
    base = {
        "title": {"text": title, "x": 0, "font": {"size": 14}} if title else None,
        "font": FONT,
        "margin": {"l": 60, "r": 20, "t": 40 if title else 16, "b": 40},
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "legend": {"orientation": "h", "y": -0.18},
        "hovermode": "closest",
        "height": 320,
    }
    base.update(layout)
    return {"data": data, "layout": {k: v for k, v in base.items() if v is not None}}


def month_axis(count: int) -> dict:
    """A date x-axis labelled by month: every month up to a year of points, every quarter
    beyond (plotly's automatic ticks repeat a month's label between points)."""
    return {"type": "date", "tickformat": "%b %Y", "dtick": "M1" if count <= 13 else "M3", "gridcolor": "#f1f5f9"}
