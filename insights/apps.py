from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from .leaks import signals  # noqa: F401  (leak detection after each feature build)
