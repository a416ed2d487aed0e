"""python manage.py models [--kind K] [--json]: the registered model versions with their
status and held-out metrics, newest first within each kind."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from ml.models import ModelVersion


def describe(version: ModelVersion) -> dict:
    return {
        "kind": version.kind,
        "version": version.version,
        "status": version.status,
        "metrics": version.metrics,
        "held_out_months": version.held_out_months,
        "window": [f"{version.window_first:%Y-%m}", f"{version.window_last:%Y-%m}"],
        "format": version.format,
        "data_hash": version.data_hash,
        "created_at": version.created_at.isoformat(),
        "trigger": version.trigger,
        "sha256": version.sha256,
    }


def _metric_text(metrics: dict) -> str:
    parts = []
    for key, value in metrics.items():
        parts.append(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(parts) or "-"


class Command(BaseCommand):
    help = "List model versions with status and metrics."

    def add_arguments(self, parser):
        parser.add_argument("--kind", help="Only this model kind")
        parser.add_argument("--json", action="store_true", dest="as_json", help="A JSON list of versions")

    def handle(self, *args, kind=None, as_json=False, **options):
        versions = ModelVersion.objects.order_by("kind", "-version")
        if kind:
            versions = versions.of_kind(kind)
        rows = [describe(v) for v in versions]
        if as_json:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write(f"No model versions{f' of kind {kind}' if kind else ''} yet.")
            return
        for row in rows:
            self.stdout.write(
                f"{row['kind']:<16} v{row['version']:<4} {row['status']:<9} {row['created_at'][:16]} "
                f"{row['trigger']:<8} {row['window'][0]}..{row['window'][1]}  {_metric_text(row['metrics'])}"
            )
