"""What insights/ stores: revenue-leak findings, their audit trail and detection runs."""

from .leaks import FindingType, LeakDetectionRun, LeakFinding, LeakFindingEvent

__all__ = ["FindingType", "LeakDetectionRun", "LeakFinding", "LeakFindingEvent"]
