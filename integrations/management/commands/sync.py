"""`python manage.py sync [--source superops|quickbooks] [--full]`: one sync run per source,
with a progress bar per list, then the runs' counts. `--connect-sandbox` first connects the
sandbox's QuickBooks company through the real OAuth code flow (demo and CI only)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from integrations.conf import setting
from integrations.sync.runs import SOURCES, sync_source


class Command(BaseCommand):
    help = "Sync SuperOps and QuickBooks Online now (changes since the last run, or --full)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", choices=SOURCES, help="only this source (default: both, SuperOps first)")
        parser.add_argument("--full", action="store_true", help="read everything, which also finds deletions")
        parser.add_argument("--connect-sandbox", action="store_true",
                            help="connect the sandbox's QuickBooks company first (needs INTEGRATIONS_SANDBOX_URL)")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options) -> None:
        if options["connect_sandbox"]:
            realm = connect_sandbox()
            self.stdout.write(f"Connected the sandbox's QuickBooks company {realm}")
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


def connect_sandbox() -> str:
    if not setting("INTEGRATIONS_SANDBOX_URL"):
        raise CommandError("--connect-sandbox needs INTEGRATIONS_SANDBOX_URL")
    from integrations.sandbox.testing import connect_quickbooks

    return connect_quickbooks()
