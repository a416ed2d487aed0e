"""`python manage.py connect_sandbox`: connect the QuickBooks company of the sandbox that
INTEGRATIONS_SANDBOX_URL points at, through the real OAuth code flow (the sandbox consents
without a browser). For the demo, CI and working against `runsandbox` (DEBUG=true)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.conf import setting
from integrations.sandbox.testing import connect_quickbooks


class Command(BaseCommand):
    help = "Connect the sandbox's QuickBooks company (needs INTEGRATIONS_SANDBOX_URL)."

    def handle(self, *args, **options) -> None:
        if not setting("INTEGRATIONS_SANDBOX_URL"):
            raise CommandError("connect_sandbox needs INTEGRATIONS_SANDBOX_URL (the URL `runsandbox` printed)")
        try:
            realm = connect_quickbooks()
        except Exception as exc:  # the sandbox down, or not a sandbox: say which URL was tried
            url = setting("INTEGRATIONS_SANDBOX_URL")
            raise CommandError(f"could not connect the sandbox at {url}: {exc}") from exc
        self.stdout.write(f"Connected the sandbox's QuickBooks company {realm}")
