"""The demand pages (issue 14): the forecast fan charts with each model's backtest and live
accuracy, the capacity gap with its recommendations, and one client's demand outlook.

Every figure is read from the stored Forecast and ForecastAccuracy rows through
ml.forecasting.read (no model is fitted while a page renders); the capacity plan divides the
stored labour-hours forecast by the target utilisation against the roster as synced now. The
charts are plotly figures built here and embedded with json_script; static/js/forecasts.js
draws them.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from clients.models import Client
from ml.forecasting import read

from .access import needs_view

VIEW = "ml.view_forecast"  # the viewer role and up
DESK_KEYS = ("tickets:desk", "hours:desk")
UNITS = {"tickets": "tickets a week", "hours": "labour hours a week"}
BAND_95, BAND_80, MEAN, HISTORY = "rgba(31,111,235,0.15)", "rgba(31,111,235,0.30)", "#1f6feb", "#1d2733"


def _iso(index) -> list[str]:
    return [stamp.strftime("%Y-%m-%d") for stamp in index]


def _band(x, upper, lower, name, colour) -> list[dict]:
    """An interval as two traces, the lower one filled up to the upper."""
    return [
        {"type": "scatter", "x": x, "y": upper, "mode": "lines", "line": {"width": 0}, "name": f"{name} upper",
         "showlegend": False, "hoverinfo": "skip"},
        {"type": "scatter", "x": x, "y": lower, "mode": "lines", "line": {"width": 0}, "fill": "tonexty",
         "fillcolor": colour, "name": name},
    ]


def fan_figure(detail: read.SeriesDetail) -> dict:
    """History, the stored mean and its 80% and 95% bands (and the actuals known so far)."""
    frame, summary = detail.forecast, detail.summary
    x = _iso(frame.index)
    values = {c: [float(v) for v in frame[c]] for c in ("mean", "lo_80", "hi_80", "lo_95", "hi_95")}
    data = [
        {"type": "scatter", "x": _iso(detail.history.index), "y": [float(v) for v in detail.history],
         "mode": "lines", "line": {"color": HISTORY, "width": 1.5}, "name": "history"},
        *_band(x, values["hi_95"], values["lo_95"], "95% interval", BAND_95),
        *_band(x, values["hi_80"], values["lo_80"], "80% interval", BAND_80),
        {"type": "scatter", "x": x, "y": values["mean"], "mode": "lines", "line": {"color": MEAN, "width": 2},
         "name": f"forecast ({frame.attrs.get('model') or summary.model})"},
    ]
    known = frame["actual"].notna()
    if known.any():
        data.append({"type": "scatter", "x": _iso(frame.index[known]), "y": [float(v) for v in frame["actual"][known]],
                     "mode": "markers", "marker": {"color": "#b42318"}, "name": "actual"})
    return {"data": data, "layout": {
        "margin": {"l": 50, "r": 10, "t": 10, "b": 40}, "height": 320, "hovermode": "x unified",
        "yaxis": {"title": {"text": UNITS.get(summary.measure, summary.measure)}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.2},
    }}


def _chart(key: str, model: str | None = None) -> dict | None:
    detail = read.detail(key, model=model)
    if detail is None:
        return None
    rows = detail.forecast.reset_index().to_dict("records")
    return {"key": key, "id": "fan-" + "".join(c if c.isalnum() else "-" for c in key), "detail": detail,
            "summary": detail.summary, "figure": fan_figure(detail), "rows": rows, "models": detail.models}


@needs_view(VIEW)  # anonymous: the login page; signed in without a role: the no-role page, 403
def forecasts(request: HttpRequest) -> HttpResponse:
    series = read.catalogue()
    chosen = request.GET.get("series")
    known = {s.key for s in series}
    if chosen and chosen not in known:
        raise Http404("No forecast is stored for that series.")
    keys = [chosen] if chosen else [k for k in DESK_KEYS if k in known]
    charts = [chart for chart in (_chart(key) for key in keys) if chart]
    return render(request, "insights/forecasts/index.html", {
        "series": series, "charts": charts, "chosen": chosen,
        "drifting": sum(1 for s in series if s.live and s.live.drifted),
    })


def capacity_figures(plan) -> tuple[dict, dict]:
    """Two charts: hours needed (with its 80% interval) against roster hours, and the gap in FTEs
    with its 80% interval."""
    weeks = _iso(plan.index)
    col = {c: [float(v) for v in plan[c]] for c in plan.columns}
    layout = {"margin": {"l": 50, "r": 10, "t": 10, "b": 40}, "height": 300, "hovermode": "x unified",
              "legend": {"orientation": "h", "y": -0.2}}
    hours = {"data": [
        *_band(weeks, col["needed_hi_80"], col["needed_lo_80"], "needed, 80% interval", BAND_80),
        {"type": "scatter", "x": weeks, "y": col["needed_hours"], "mode": "lines+markers", "name": "hours needed",
         "line": {"color": MEAN, "width": 2}},
        {"type": "scatter", "x": weeks, "y": col["roster_hours"], "mode": "lines", "name": "roster hours",
         "line": {"color": HISTORY, "dash": "dash", "shape": "hvh"}},
    ], "layout": {**layout, "yaxis": {"title": {"text": "hours a week"}, "rangemode": "tozero"}}}
    gap = {"data": [
        {"type": "bar", "x": weeks, "y": col["gap_fte"], "name": "gap (FTE): short above 0, spare below",
         "marker": {"color": ["#b42318" if g > 0 else "#2e7d32" for g in col["gap_fte"]]}, "opacity": 0.7,
         "error_y": {"type": "data", "symmetric": False, "color": HISTORY,
                     "array": [hi - g for hi, g in zip(col["gap_fte_hi_80"], col["gap_fte"], strict=True)],
                     "arrayminus": [g - lo for lo, g in zip(col["gap_fte_lo_80"], col["gap_fte"], strict=True)]}},
    ], "layout": {**layout, "height": 240, "showlegend": True,
                  "yaxis": {"title": {"text": "gap, FTE (80% interval)"}, "zeroline": True}}}
    return hours, gap


def onboarding_note(found: read.CapacityPlan) -> str:
    """Whether the forecast behind the plan counted the known go-lives, in a manager's words."""
    used = found.regressors
    if used.get("members"):
        members = " and ".join({"arima": "ARIMA", "prophet": "Prophet"}.get(m, m) for m in used["members"])
        return f"The forecast counts known go-lives: {members} took them as regressors ({', '.join(used['columns'])})."
    return ("The forecast does not count these go-lives (FORECAST_ONBOARDING_REGRESSORS is off or the history "
            "holds none to learn from): allow for a new client's set-up weeks by hand.")


@needs_view(VIEW)
def capacity(request: HttpRequest) -> HttpResponse:
    found = read.capacity_plan()
    context = {"capacity": found}
    if found is not None:
        context.update(
            weeks=found.plan.reset_index(names="week").to_dict("records"),
            figures=dict(zip(("hours", "gap"), capacity_figures(found.plan), strict=True)),
            utilisation=found.plan.attrs["utilisation"] * 100,
            hours_per_fte=found.plan.attrs["hours_per_fte"],
            proactive_pct=found.proactive_share * 100,
            onboarding_note=onboarding_note(found),
        )
    return render(request, "insights/forecasts/capacity.html", context)


@needs_view(VIEW)
def client_outlook(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(Client, pk=client_id)
    charts = [chart for chart in (_chart(f"{m}:client:{client.pk}") for m in ("tickets", "hours")) if chart]
    return render(request, "insights/forecasts/client.html", {
        "client": client, "charts": charts,
        "clients": read.catalogue(scope="client", measure="hours", frequency="W"),
        "anything_stored": bool(charts) or read.catalogue(key="hours:desk") != [],
    })
