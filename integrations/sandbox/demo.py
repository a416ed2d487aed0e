"""Loading a demo world the way a real MSP's data arrives: serve the dump folder with the
sandbox on 127.0.0.1, connect its QuickBooks company through the OAuth code flow, and run a
full sync of both sources through the real HTTP clients."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.conf import settings

from clients.models import SyncRun

from .server import Sandbox, serve
from .testing import connect_quickbooks, point_settings_at


def sync_world_through_sandbox(folder: str | Path, today: date | None = None, progress=None) -> list[SyncRun]:
    """Full SuperOps then QuickBooks runs (trigger "command") from `folder`; returns them.

    The settings point at the sandbox only while this runs. `today` defaults to the dump's
    own end date, as import_dump does, so a world ending last month loads as it was then.
    """
    from integrations.dump import dump_as_of
    from integrations.sync.runs import sync_source

    folder = Path(folder)
    today = today or dump_as_of(folder)
    names = ["INTEGRATIONS_SANDBOX_URL", "SUPEROPS_API_URL", "SUPEROPS_API_TOKEN", "SUPEROPS_SUBDOMAIN",
             "QUICKBOOKS_API_BASE", "QUICKBOOKS_ENVIRONMENT", "QUICKBOOKS_CLIENT_ID", "QUICKBOOKS_CLIENT_SECRET",
             "QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN", "SUPEROPS_REQUESTS_PER_MINUTE", "QUICKBOOKS_REQUESTS_PER_MINUTE",
             "SYNC_BACKOFF_BASE_MS", "SUPEROPS_TIMEOUT_SECONDS", "QUICKBOOKS_TIMEOUT_SECONDS"]
    saved = {name: getattr(settings, name) for name in names if hasattr(settings, name)}
    from integrations.models import QuickBooksConnection

    realm = None
    try:
        with serve(Sandbox.from_dump(folder)) as url:
            point_settings_at(settings, url, timeout=60)
            realm = connect_quickbooks()
            return [sync_source(source, SyncRun.Trigger.COMMAND, full=True, progress=progress, today=today)
                    for source in ("superops", "quickbooks")]
    finally:
        # The sandbox company lives only while this function serves it: forget the
        # connection, or scheduled syncs would keep calling a server that is gone.
        if realm:
            QuickBooksConnection.objects.filter(realm_id=realm).delete()
        for name in names:
            if name in saved:
                setattr(settings, name, saved[name])
            elif hasattr(settings, name):
                delattr(settings, name)
