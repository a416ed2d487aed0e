"""`python manage.py sync [--source superops|quickbooks] [--full]`: one sync run per source,
with a progress bar per list, then the runs' counts. (Against the sandbox, connect its
QuickBooks company first with `manage.py connect_sandbox`.)"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from integrations.sync.runs import SOURCES, sync_source


class Command(BaseCommand):
    help = "Sync SuperOps and QuickBooks Online now (changes since the last run, or --full)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", choices=SOURCES, help="only this source (default: both, SuperOps first)")
        parser.add_argument("--full", action="store_true", help="read everything, which also finds deletions")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options) -> None:
        show = not options["no_progress"] and sys.stderr.isatty()

        def progress(label: str, total: int | None):
            return tqdm(total=total, desc=label, unit="rec", leave=False, disable=not show)

        failed = False
        for source in [options["source"]] if options["source"] else SOURCES:
            run = sync_source(source, "command", full=options["full"], progress=progress)
            self.stdout.write(f"{source}: run #{run.pk} {run.status}: {run.created} created, {run.updated} updated, "
                              f"{run.unchanged} unchanged, {run.deleted} deleted, {run.set_aside} set aside")
            if run.error:
                self.stderr.write(f"{source}: {run.error}")
            failed |= run.status == "failed"
        if failed:
            raise CommandError("a sync run failed (see above)")

