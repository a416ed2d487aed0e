"""python manage.py build_features [--since YYYY-MM]: bring the KPI snapshot and the genome up
to date (only what changed, or everything from --since)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ml.features.build import build_features
from ml.features.months import parse


class Command(BaseCommand):
    help = "Compute client KPIs per month and the Client Profitability Genome."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="Rebuild every client from this month (YYYY-MM), changed or not")
        parser.add_argument("--no-genome", action="store_true", help="KPIs only")

    def handle(self, *args, since=None, no_genome=False, **options):
        try:
            start = parse(since) if since else None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        report = build_features(
            since=start,
            progress=lambda message: self.stdout.write(f"  {message}"),
            trigger="command",
            with_genome=not no_genome,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{'Full' if report.full else 'Incremental'} build: {report.clients_rebuilt} clients from "
                f"{report.rebuilt_from or '-'}, {report.kpi_rows_written} KPI rows, {report.genome_rows_written} "
                f"genome vectors, {report.segments} segments in {report.seconds:.1f} s"
            )
        )
