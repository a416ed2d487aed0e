"""What ml/ stores: the monthly KPI snapshot, the genome vectors and segments, and a row
per feature build (see each module)."""

from .features import ClientMonthKPI, FeatureBuild
from .genome import GenomeVector, Segment

__all__ = ["ClientMonthKPI", "FeatureBuild", "GenomeVector", "Segment"]
