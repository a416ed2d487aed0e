"""First-run set-up for `make run`: on an empty database, simulate a demo MSP and load it
the way a real MSP's data arrives (the sandbox serves it as the SuperOps and QuickBooks
APIs on 127.0.0.1 and the real clients sync it), then make sure a demo admin exists and
print how to log in.

Running it again on a loaded database only prints the credentials, so `make run` can be
used every day without reloading anything.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from clients.models import Client
from integrations.dump import import_dump as load_dump
from integrations.sandbox.demo import sync_world_through_sandbox
from integrations.simulator import simulate

DEMO_USERNAME = "admin"


class Command(BaseCommand):
    help = "Load a simulated demo MSP into an empty database and create the demo admin."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=120)
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--import-dump", action="store_true", help="load the files directly instead of syncing through the sandbox"
        )

    def handle(self, *args, clients: int, months: int, seed: int, import_dump: bool, **options):
        if Client.objects.exists():
            self.stdout.write(f"Database already holds {Client.objects.count()} clients; not loading the demo MSP.")
        else:
            out = Path(settings.VAR_DIR) / "demo-world"
            self.stdout.write(f"Simulating a demo MSP: {clients} clients x {months} months (seed {seed}) -> {out}")
            simulate(clients=clients, months=months, seed=seed, leak_rate=0.05, churn_rate=0.12, out_dir=out)
            if import_dump:
                runs = [load_dump(out, progress=self.stdout.isatty())]
            else:
                self.stdout.write("Syncing it through the SuperOps and QuickBooks sandbox over HTTP on 127.0.0.1…")
                runs = sync_world_through_sandbox(out)
            for run in runs:
                self.stdout.write(
                    f"{run.source}: {run.created} rows created, {run.set_aside} set aside ({run.get_status_display()})."
                )
                if run.error:
                    self.stderr.write(run.error)
        self._ensure_admin()

    def _ensure_admin(self) -> None:
        password_file = Path(settings.VAR_DIR) / "demo-admin-password"
        user_model = get_user_model()
        user = user_model.objects.filter(username=DEMO_USERNAME).first()
        if user is None or not password_file.exists():
            password = secrets.token_urlsafe(12)
            if user is None:
                user = user_model.objects.create_superuser(DEMO_USERNAME, "admin@msp.example", password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            password_file.write_text(password)
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
        self.stdout.write(self.style.SUCCESS(f"Demo admin: username {DEMO_USERNAME!r}, password {password!r}"))
