"""`python manage.py runsandbox DIR --port P`: serve a dump folder as SuperOps' GraphQL API and
QuickBooks Online's API (with OAuth) on 127.0.0.1, until Ctrl-C. Fault switches with
--fault name=value (see integrations/sandbox/faults.py)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.sandbox import Sandbox, SandboxServer


class Command(BaseCommand):
    help = "Serve a simulated MSP (a dump folder) as the SuperOps and QuickBooks APIs on 127.0.0.1."

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder")
        parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
        parser.add_argument("--fault", action="append", default=[], metavar="NAME=VALUE",
                            help="e.g. rate_limit_every=7, drop_every=11, duplicate_records=3, reorder=1")

    def handle(self, *args, folder: str, port: int, fault: list[str], **options) -> None:
        try:
            sandbox = Sandbox.from_dump(folder)
            switches = dict(item.split("=", 1) for item in fault)
            sandbox.faults.update(**{k: (v.lower() in ("1", "true", "yes")) if k == "reorder" else v
                                     for k, v in switches.items()})
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(str(exc)) from exc
        server = SandboxServer(sandbox, port=port)
        counts = {q: len(r) for q, r in sandbox.world.superops.items()}
        counts.update({e: len(r) for e, r in sandbox.world.quickbooks.items()})
        self.stdout.write(f"Sandbox serving {folder} at {server.url} (QuickBooks realm {sandbox.world.realm_id})")
        self.stdout.write("  " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        self.stdout.write(f"  point the app at it: INTEGRATIONS_SANDBOX_URL={server.url}")
        self.stdout.flush()
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
