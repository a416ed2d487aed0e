from django.apps import AppConfig


class MlConfig(AppConfig):
    name = "ml"
    verbose_name = "Features and models"

    def ready(self) -> None:
        from clients.signals import data_loaded

        data_loaded.connect(_queue_feature_build, dispatch_uid="ml-build-features-after-load")


def _queue_feature_build(sender, run_id: int, **kwargs) -> None:
    from ml.tasks import queue_build_features

    # The whole history is checked, but only months whose source rows changed are rebuilt.
    queue_build_features()
