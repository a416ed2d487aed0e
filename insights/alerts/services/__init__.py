"""What can be done with alerts, as service functions: raise (with deduplication), acknowledge,
resolve, escalate, and push to connected browsers. Views, consumers, receivers, the command
and the task call these and nothing else writes an Alert.

The leak findings call `raise_alert(kind="leak_finding", ...)`; this package never imports them.
"""

from .escalation import escalate_due
from .lifecycle import acknowledge, open_count, resolve
from .raising import raise_alert

__all__ = ["acknowledge", "escalate_due", "open_count", "raise_alert", "resolve"]
