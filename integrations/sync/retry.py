"""Back-off and the request budget shared by both HTTP clients."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from integrations.conf import setting

from .budget import Budget
from .errors import TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_SLEEP_SECONDS = 60.0


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Pause before try number attempt+1: the server's Retry-After when given, else
    exponential with full jitter so parallel workers do not retry in lock-step."""
    if retry_after is not None:
        return min(retry_after, MAX_SLEEP_SECONDS)
    base = setting("SYNC_BACKOFF_BASE_MS") / 1000.0
    return min(MAX_SLEEP_SECONDS, base * (2**attempt)) * (0.5 + random.random() / 2)


def with_retries(call: Callable[[], T], what: str, attempts: int | None = None) -> T:
    """call() until it returns; TransientError is retried, anything else propagates."""
    attempts = attempts or setting("SYNC_MAX_ATTEMPTS")
    for attempt in range(attempts):
        try:
            return call()
        except TransientError as exc:
            if attempt == attempts - 1:
                raise
            pause = backoff_seconds(attempt, exc.retry_after)
            log.warning("%s: %s; try %d of %d in %.2fs", what, exc, attempt + 2, attempts, pause)
            time.sleep(pause)
    raise AssertionError("unreachable")


def throttle_for(key: str, per_minute: int) -> Budget:
    """The request budget `key` (e.g. "superops:<subdomain>"), shared by every process that
    calls the same account: at most `per_minute` requests in any SYNC_BUDGET_WINDOW_SECONDS
    (60 unless a test shortens it); 0 switches it off. See integrations/sync/budget.py."""
    return Budget(key, per_minute)
