"""Client KPIs per month (see docs/kpis.md): one module per KPI family (financial, payments,
operations, engagement, contract), the grouped source queries (sources.py), change detection
(fingerprints.py) and the build orchestrator (build.py)."""

from .build import FEATURES_VERSION, BuildReport, build_features

__all__ = ["FEATURES_VERSION", "BuildReport", "build_features"]
