"""The OpenAPI schema of /api/v1/ only (never the pages' own endpoints), with enum names that
say whose status or kind they are. The schema view and
`manage.py spectacular --generator-class insights.api.schema.ApiGenerator` both use this
generator."""

from __future__ import annotations

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import patched_settings

from clients.models import Client
from insights.alerts.models import Alert
from insights.models import ApiJob, FindingType, LeakFinding
from ml.models import ModelVersion, TrainingRun

from .predicting import KINDS

PREFIX = "/api/v1/"
SETTINGS = {
    "ENUM_NAME_OVERRIDES": {
        "ClientStatusEnum": Client.Status,
        "LeakStatusEnum": LeakFinding.Status,
        "LeakTypeEnum": FindingType,
        "AlertStatusEnum": Alert.Status,
        "AlertKindEnum": Alert.Kind,
        "AlertSeverityEnum": Alert.Severity,
        "ModelVersionStatusEnum": ModelVersion.Status,
        "TrainingRunStatusEnum": TrainingRun.Status,
        "JobStatusEnum": ApiJob.Status,
        "JobKindEnum": ApiJob.Kind,
        "PredictionKindEnum": list(KINDS),
    },
}


class ApiGenerator(SchemaGenerator):
    def _initialise_endpoints(self):
        super()._initialise_endpoints()
        self.endpoints = [e for e in self.endpoints if e[0].startswith(PREFIX)]

    def get_schema(self, request=None, public=False):
        with patched_settings(SETTINGS):
            return super().get_schema(request, public)
