"""Alert settings: the value in django.conf.settings when a deployment (or a test) sets it,
else the environment variable of the same name, else the default below. A bad value in the
environment stops start-up with a message naming it (superhack.env)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from superhack.env import env_int, env_list

# name -> (default, why)
DEFAULTS: dict[str, tuple[Any, str]] = {
    "ALERT_SUPPRESSION_MINUTES": (
        360, "A repeat of the same alert (same dedup key) within this many minutes of its last sighting "
             "bumps its count instead of adding a row: a sync delivers the same surge on every page of a "
             "run, and a six-hour window covers a working morning of pages and webhooks."),
    "ALERT_ESCALATE_AFTER_MINUTES": (
        30, "A critical alert nobody acknowledged this long is e-mailed: long enough for someone watching "
            "the page to act, short enough that a payment reversal is chased the same day."),
    "ALERT_ESCALATE_TO": (
        [], "E-mail addresses of escalations; empty: every active user who may change alerts."),
    "ALERT_ESCALATION_CHECK_MINUTES": (
        5, "How often the django-q2 schedule looks for alerts to escalate."),
    "ALERT_RELAY_SECONDS": (
        5, "With the in-memory channel layer (no REDIS_URL), how often each alerts socket looks in the "
           "database for alerts another process raised (the task worker's syncs): that layer cannot carry "
           "them across processes. 0 turns the look off; with Redis it is never needed."),
    "ALERT_RECENT_DAYS": (
        14, "Only rows dated within this many days are scored: a first full sync or a re-delivered "
            "history is not news, and scoring it would flood people with alerts about last year."),
}


def setting(name: str) -> Any:
    default, _why = DEFAULTS[name]
    if hasattr(settings, name):
        return getattr(settings, name)
    if isinstance(default, list):
        return env_list(name, default)
    return env_int(name, default, minimum=0)
