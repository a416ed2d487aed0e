"""Helpers for tests and the benchmark: point the settings at a running sandbox, connect
its QuickBooks company through the real OAuth code flow, and clear synced data between
runs compared with each other."""

from __future__ import annotations

import httpx

from clients import models as cm
from superhack.settings_integrations import SANDBOX_CREDENTIALS


def point_settings_at(settings, url: str, page_size: int | None = None, qb_page_size: int | None = None,
                      timeout: int = 5) -> None:
    """`settings` is pytest-django's settings fixture or django.conf.settings."""
    settings.INTEGRATIONS_SANDBOX_URL = url
    settings.SUPEROPS_API_URL = f"{url}/msp"
    settings.SUPEROPS_SUBDOMAIN = "sandbox"
    settings.QUICKBOOKS_API_BASE = url
    settings.QUICKBOOKS_ENVIRONMENT = f"{url}/.well-known/openid_configuration"
    # The sandbox's public credentials, set at run time in this process only: start-up
    # refuses them with DEBUG off (superhack/settings.py), and this is not start-up.
    for name, value in SANDBOX_CREDENTIALS.items():
        setattr(settings, name, value)
    # The sandbox is not the real service: our own throttles off, back-off in milliseconds.
    settings.SUPEROPS_REQUESTS_PER_MINUTE = 0
    settings.QUICKBOOKS_REQUESTS_PER_MINUTE = 0
    settings.SYNC_BACKOFF_BASE_MS = 1
    settings.SUPEROPS_TIMEOUT_SECONDS = timeout
    settings.QUICKBOOKS_TIMEOUT_SECONDS = timeout
    if page_size:
        settings.SUPEROPS_PAGE_SIZE = page_size
    if qb_page_size:
        settings.QUICKBOOKS_PAGE_SIZE = qb_page_size
        settings.QUICKBOOKS_CDC_LIMIT = qb_page_size


def connect_quickbooks() -> str:
    """The authorization-code flow without a browser: the sandbox consents at once and
    redirects with a code and realmId, which the real exchange code stores."""
    from integrations.quickbooks import oauth

    answer = httpx.get(oauth.authorization_url("sandbox-connect"), follow_redirects=False, timeout=30)
    if answer.status_code != 302:
        raise RuntimeError(f"the sandbox did not redirect (HTTP {answer.status_code}): {answer.text[:200]}")
    params = httpx.URL(answer.headers["Location"]).params
    oauth.complete_connection(params["code"], params["realmId"])
    return params["realmId"]


def wipe_synced_data() -> None:
    """Remove every synced row, set-aside record and watermark (connections stay)."""
    from integrations.models import ClientMatchCandidate, CustomerLink, SyncCursor, WebhookEvent

    for model in (cm.PaymentApplication, cm.InvoiceLine, cm.Payment, cm.Invoice, cm.Expense, cm.Worklog,
                  cm.SatisfactionSurvey, cm.Interaction, cm.Ticket, cm.Asset, cm.Contract, cm.Customer,
                  cm.ServiceItem, cm.Employee, cm.Technician, cm.Client, cm.RejectedRecord, ClientMatchCandidate,
                  CustomerLink, SyncCursor, WebhookEvent):
        model.objects.all().delete()


def simulated_world(folder, clients: int = 4, months: int = 3, seed: int = 7, **options):
    """A small simulated MSP (integrations.simulator) in `folder`, made once. `options` go to
    simulate() over these defaults: leak_rate 0.1, churn_rate 0.2, end_month October 2026
    (end_month=None: the last full month before today)."""
    from datetime import date
    from pathlib import Path

    from integrations.simulator import simulate

    folder = Path(folder)
    if not (folder / "manifest.json").exists():
        options = {"leak_rate": 0.1, "churn_rate": 0.2, "end_month": date(2026, 10, 1), **options}
        simulate(clients=clients, months=months, seed=seed, out_dir=folder, **options)
    return folder


def import_snapshot(folder) -> dict:
    """What import_dump makes of a world, as a snapshot; the database is left empty."""
    from integrations.dump import import_dump
    from integrations.sync.snapshot import snapshot

    wipe_synced_data()
    import_dump(folder, progress=False)
    picture = snapshot()
    wipe_synced_data()
    return picture
