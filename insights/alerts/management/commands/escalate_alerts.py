"""`manage.py escalate_alerts`: e-mail every critical alert left unacknowledged past
ALERT_ESCALATE_AFTER_MINUTES (what the django-q2 schedule runs)."""

from django.core.management.base import BaseCommand

from insights.alerts.services import escalate_due


class Command(BaseCommand):
    help = "E-mail critical alerts nobody acknowledged within ALERT_ESCALATE_AFTER_MINUTES."

    def handle(self, *args, **options) -> None:
        escalated = escalate_due()
        self.stdout.write(f"Escalated {len(escalated)} alert(s)" + (f": {escalated}" if escalated else "."))
