"""Revenue-leak detection: reconciliation rules over the synced books (one module per family
of rules, each registered with `base.rule`), the runner that runs them one by one
(`detect_leaks`), the recovery workflow (`workflow`), exports (`export`) and the monthly
identified-vs-recovered figures (`reports`). Rules read only the database; docs/leaks.md
describes each one."""

from .runner import DetectionReport, all_rules, detect_leaks

__all__ = ["DetectionReport", "all_rules", "detect_leaks"]
