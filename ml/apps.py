from django.apps import AppConfig


class MlConfig(AppConfig):
    name = "ml"
    verbose_name = "Features and models"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the after-sync feature build)
