"""Back-off and throttling shared by both HTTP clients."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from integrations.conf import setting

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


class Throttle:
    """Token bucket: at most `per_minute` requests in any minute, bursts up to that number.

    Keeps us under the published limit instead of learning it from 429s; per process, so a
    worker and a command running at once can still meet the server's limit (and back off).
    """

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.tokens = float(per_minute)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if self.per_minute <= 0:
            return
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.per_minute, self.tokens + (now - self.stamp) * self.per_minute / 60.0)
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                pause = (1 - self.tokens) * 60.0 / self.per_minute
            time.sleep(pause)


_throttles: dict[tuple[str, int], Throttle] = {}
_throttles_lock = threading.Lock()


def throttle_for(key: str, per_minute: int) -> Throttle:
    with _throttles_lock:
        found = _throttles.get((key, per_minute))
        if found is None:
            found = _throttles[(key, per_minute)] = Throttle(per_minute)
        return found
