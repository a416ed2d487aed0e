"""Plotly figures for the dashboards, built as plain dicts (data + layout) that a template
embeds with `json_script` and static/js/charts.js draws with the plotly.js the project serves.
Builders take rows the views already read through the querysets and compute nothing of their
own: a figure's numbers are the KPI store's, only arranged. Plain dicts, not graph_objects:
validating a thousand-point figure costs more than the page's queries."""

from .base import figure

__all__ = ["figure"]
