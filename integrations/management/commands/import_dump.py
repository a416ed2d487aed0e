"""`manage.py import_dump DIR`: load a dump folder (integrations/PAYLOADS.md) and print
what was created, updated, left unchanged and set aside."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.dump import DumpError, format_summary, import_dump


class Command(BaseCommand):
    help = "Import a SuperOps/QuickBooks dump folder; safe to run again (unchanged rows are not written)."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="dump folder with superops/, quickbooks/ and local/ pages")
        parser.add_argument("--no-progress", action="store_true",
                            help="no progress bar (it is off anyway when not a terminal)")

    def handle(self, *args, folder: str, no_progress: bool, **options):
        try:
            run = import_dump(folder, progress=not no_progress)
        except DumpError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(format_summary(run))
        if run.status == run.Status.FAILED:
            raise CommandError(f"run #{run.pk} failed: {run.error}")
