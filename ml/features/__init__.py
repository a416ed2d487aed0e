"""Client KPIs per month (see docs/kpis.md): one module per KPI family (financial, payments,
operations, engagement, contract), the grouped source queries (sources.py), change detection
(fingerprints.py, planning.py) and the build orchestrator (build.py).

`build_features`, `BuildReport` and `FEATURES_VERSION` are loaded on first use, so the genome
(which reads ml.features.months and .sql) and the build (which runs the genome) can import
each other's modules in either order."""

from __future__ import annotations

__all__ = ["FEATURES_VERSION", "BuildReport", "build_features"]


def __getattr__(name: str):
    if name in __all__:
        from . import build

        return getattr(build, name)
    raise AttributeError(f"module 'ml.features' has no attribute {name!r}")
