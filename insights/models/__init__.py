"""What insights/ stores: revenue-leak findings, their audit trail and detection runs, and the
API's background jobs."""

from .jobs import ApiJob
from .leaks import FindingType, LeakDetectionRun, LeakFinding, LeakFindingEvent

__all__ = ["ApiJob", "FindingType", "LeakDetectionRun", "LeakFinding", "LeakFindingEvent"]
