from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from . import roles
        from .leaks import signals  # noqa: F401  (leak detection after each feature build)

        # The viewer, manager and admin groups, remade after every migrate (insights/roles.py).
        post_migrate.connect(roles.on_post_migrate, sender=self, dispatch_uid="insights.roles")
