"""The pages people browse, one module per page. Views stay thin: they read through the
querysets of the KPI, genome and prediction rows (ml/models/querysets.py) and render; they
never compute a figure of their own."""

from .home import home

__all__ = ["home"]
