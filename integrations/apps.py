from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from .tasks import ensure_schedules

        # Schedules follow SYNC_*_EVERY_MINUTES each time the database is migrated.
        post_migrate.connect(ensure_schedules, sender=self)
