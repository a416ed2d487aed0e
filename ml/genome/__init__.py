"""The Client Profitability Genome: 50 portfolio-scaled dimensions per client per month in
five groups (dimensions.py), percentile scaling (scaling.py), similar clients and side-by-side
comparison (similarity.py), named segments (segments.py) and the build (build.py).
See docs/genome.md."""

from .dimensions import DIMENSIONS, GROUPS, SCHEMA_VERSION

__all__ = ["DIMENSIONS", "GROUPS", "SCHEMA_VERSION"]
