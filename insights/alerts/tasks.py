"""Background work of alerts (django-q2): the escalation check, on a schedule of its own.
The task and the `escalate_alerts` command call the same services.escalate_due()."""

from __future__ import annotations

from .conf import setting

ESCALATION_SCHEDULE = "escalate critical alerts"


def escalate_alerts_task() -> list[int]:
    """Scheduled: e-mail critical alerts left unacknowledged; returns their ids (stored by
    django-q2 with the task's run)."""
    from .services import escalate_due

    return escalate_due()


def ensure_schedule(**_) -> None:
    """One schedule, every ALERT_ESCALATION_CHECK_MINUTES (0: none)."""
    from django_q.models import Schedule

    minutes = setting("ALERT_ESCALATION_CHECK_MINUTES")
    if not minutes:
        Schedule.objects.filter(name=ESCALATION_SCHEDULE).delete()
        return
    Schedule.objects.update_or_create(
        name=ESCALATION_SCHEDULE,
        defaults={"func": "insights.alerts.tasks.escalate_alerts_task", "schedule_type": Schedule.MINUTES,
                  "minutes": minutes, "repeats": -1})
