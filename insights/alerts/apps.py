from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AlertsConfig(AppConfig):
    name = "insights.alerts"
    label = "alerts"
    verbose_name = "Alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import forecast_receivers, receivers
        from .tasks import ensure_schedule

        # Detectors on committed rows, churn warnings, forecast drift; the escalation schedule after migrate.
        receivers.connect()
        forecast_receivers.connect()  # a served forecast whose live error drifts past its backtest
        post_migrate.connect(ensure_schedule, sender=self)
