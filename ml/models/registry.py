"""The model registry's rows: one ModelVersion per trained artifact (where its file is, what
made it, how it measured, whether it serves predictions) and one TrainingRun per request to
train a kind. The files themselves are written and read only by ml.registry, which checks each
file's sha256 against its row before loading it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Trigger(models.TextChoices):
    COMMAND = "command", "Management command"
    ADMIN = "admin", "Admin"
    SCHEDULE = "schedule", "Schedule"
    API = "api", "API"


class ModelVersionQuerySet(models.QuerySet):
    def of_kind(self, kind: str) -> ModelVersionQuerySet:
        return self.filter(kind=kind)

    def active_of(self, kind: str) -> ModelVersion | None:
        return self.filter(kind=kind, status=ModelVersion.Status.ACTIVE).first()

    def trained_on(self, kind: str, data_hash: str) -> ModelVersion | None:
        """The latest version of the kind trained on exactly this data."""
        return self.filter(kind=kind, data_hash=data_hash).order_by("-version").first()


class ModelVersion(models.Model):
    """A trained artifact of one model kind. Versions count up per kind from 1."""

    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    class Format(models.TextChoices):
        XGBOOST_JSON = "xgboost-json", "XGBoost JSON"
        XGBOOST_JSON_SET = "xgboost-json-set", "XGBoost JSON, several models in one file"
        LIGHTGBM_TEXT = "lightgbm-text", "LightGBM text"
        JOBLIB = "joblib", "joblib (pickle: loaded only after its hash checks)"

    kind = models.CharField(max_length=32, help_text="e.g. profitability, churn")
    version = models.PositiveIntegerField()
    artifact_path = models.CharField(max_length=255, help_text="Relative to settings.MODEL_DIR")
    format = models.CharField(max_length=16, choices=Format.choices)
    format_version = models.PositiveSmallIntegerField(
        default=1, help_text="Version of the registry's artifact layout the file was written with"
    )
    artifact_class = models.CharField(max_length=120, help_text="Python class of the saved object")
    library_versions = models.JSONField(default=dict, help_text="Python and library versions that wrote it")
    sha256 = models.CharField(max_length=64, help_text="Of the artifact file; checked before every load")
    size_bytes = models.BigIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True, help_text="Hyper-parameters and training options")
    window_first = models.DateField(help_text="First month of training data")
    window_last = models.DateField(help_text="Last month of training data (held-out months included)")
    held_out_months = models.JSONField(
        default=list,
        blank=True,
        help_text="'YYYY-MM' months the metrics were measured on; versions compare only on equal months",
    )
    data_hash = models.CharField(max_length=64, help_text="Hash of the training data; unchanged data is not retrained")
    metrics = models.JSONField(
        default=dict, blank=True, help_text="Held-out metrics, the baseline's beside (baseline_*)"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CANDIDATE)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True, help_text="Last time it became the active version")
    rolled_back_at = models.DateTimeField(
        null=True, blank=True, help_text="Retired by a roll back: a further roll back goes past it"
    )

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="modelversion_kind_version_uniq"),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(status="active"), name="modelversion_one_active_per_kind"
            ),
        ]
        indexes = [models.Index(fields=["kind", "data_hash"])]

    def __str__(self) -> str:
        return f"{self.kind} v{self.version} ({self.status})"


class TrainingRun(models.Model):
    """One request to train a kind: queued by the admin, a command or a schedule, then run by
    the trainer registered for the kind, which reports progress here."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        SKIPPED = "skipped", "Skipped: data unchanged"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=32)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0-100")
    message = models.TextField(blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="training_runs",
        help_text="The version this run made",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-queued_at"]
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="trainingrun_progress_0_100")]

    def __str__(self) -> str:
        return f"train {self.kind} {self.queued_at:%Y-%m-%d %H:%M} {self.status}"
