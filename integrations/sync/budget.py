"""Request budgets shared by every process that calls one API account.

SuperOps allows 800 requests a minute per tenant and QuickBooks 500 per realm, whoever sends
them: a sync command, the task worker and a webhook all draw on the same allowance. So the
budget lives where every process sees it:

- Redis (REDIS_URL set): one key per budget, updated by a small Lua script with Redis' own
  clock, so hosts with drifting clocks still agree.
- PostgreSQL (DATABASE_URL): one row per budget in `integrations_request_budget` (made by
  migration integrations/0005, and on first use should it be missing), updated by
  one `UPDATE ... RETURNING` statement on a connection of its own (autocommit, outside any
  transaction of the caller, and without waiting for the WAL flush: a budget row lost in a
  crash costs nothing).
- SQLite: the same row and statement, in a small SQLite file beside the database file
  (`<database>-budget`). SQLite has one writer per file: a budget write before every request
  in the main file would queue behind page writes and, worse, make a reading transaction that
  then writes fail with "database is locked" (its snapshot went stale). Every process that
  shares the database file shares the budget file. An in-memory database (the tests') is
  private to one process, and so is its budget.

The algorithm (GCRA, a "next free slot" per budget): each request atomically reserves the
slot `max(next, now)` and moves `next` on by the interval `window / (per_window - 1)`; the
caller sleeps until its slot. Requests therefore start at least one interval apart across
all processes, and any window of `window` seconds holds at most `per_window` of them, also
as the server counts them, as long as no request reaches it later than one interval after
another sent after it (network jitter under 75 ms for SuperOps' 800, 120 ms for QuickBooks'
500). There are no bursts: a sync that sends one request at a time is never slowed while
its requests take longer than the interval. A slot reserved by a process that then stops is
lost, not refunded: the budget errs on the side of sending less. Keys are per account
("superops:<subdomain>", "quickbooks:<realm>"); the per-minute figure counts over
SYNC_BUDGET_WINDOW_SECONDS (60; tests shorten it).

Cost per request (measured, see README "Request budget"): one Redis round trip, one UPDATE on
PostgreSQL, one UPDATE in the side file on SQLite; no token batching is needed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

from integrations.conf import setting

from .errors import TransientError

log = logging.getLogger(__name__)
TABLE = "integrations_request_budget"
DEFAULT_ALIAS = "default"
# Redis keys; each expires a minute after its next free slot (nothing to remember then).
REDIS_PREFIX = "superhack:budget:"
_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
local nxt = slot + interval
redis.call('SET', KEYS[1], string.format('%.6f', nxt), 'PX', math.ceil((nxt - now) * 1000) + 60000)
return string.format('%.6f', slot - now)
"""


class LocalSlots:
    """One process's slots (an in-memory test database, or no database at all)."""

    name = "process"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next: dict[str, float] = {}

    def reserve(self, key: str, interval: float) -> float:
        with self.lock:
            now = time.monotonic()
            slot = max(self.next.get(key, 0.0), now)
            self.next[key] = slot + interval
            return slot - now


class RedisSlots:
    name = "redis"

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=10)
        self.script = self.client.register_script(_LUA)

    def reserve(self, key: str, interval: float) -> float:
        return float(self.script(keys=[REDIS_PREFIX + key], args=[repr(interval)]))


class SqlSlots:
    """The row-per-budget variant. `now_sql` is the database's own clock in epoch seconds (one
    value for the whole statement), `max_sql` its two-argument maximum; both dialects support
    UPDATE ... RETURNING (SQLite since 3.35) and INSERT ... ON CONFLICT DO NOTHING."""

    def __init__(self, connect, now_sql: str, max_sql: str, placeholder: str, name: str) -> None:
        self.connect = connect
        self.name = name
        self.lock = threading.Lock()
        self.conn = None
        p = placeholder
        self.update_sql = (f"UPDATE {TABLE} SET next_at = {max_sql}(next_at, {now_sql}) + {p} WHERE budget_key = {p} "
                           f"RETURNING next_at - {p} - {now_sql}")
        self.insert_sql = f"INSERT INTO {TABLE} (budget_key, next_at) VALUES ({p}, 0) ON CONFLICT DO NOTHING"
        self.create_sql = (f"CREATE TABLE IF NOT EXISTS {TABLE} "
                           "(budget_key varchar(200) PRIMARY KEY, next_at double precision NOT NULL)")

    def reserve(self, key: str, interval: float) -> float:
        with self.lock:
            try:
                return self._reserve(key, interval)
            except Exception:
                # A broken connection (a database restart) is made again on the next call.
                conn, self.conn = self.conn, None
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                raise

    def _reserve(self, key: str, interval: float) -> float:
        if self.conn is None:
            self.conn = self.connect()
            try:
                self._execute(self.create_sql)
            except Exception:  # another process made it at the same moment (PostgreSQL's pg_type race)
                log.debug("%s exists already", TABLE, exc_info=True)
        for _ in range(2):
            rows = self._execute(self.update_sql, (interval, key, interval))
            if rows:
                return float(rows[0][0])
            self._execute(self.insert_sql, (key,))  # first use of this budget
        raise RuntimeError(f"budget row {key!r} could not be created")

    def _execute(self, sql: str, params: tuple = ()) -> list:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()


def _sqlite_file(path: str) -> SqlSlots:
    def connect():
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        # A budget is worth nothing after a power cut; skip the fsync on every request.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        return conn

    return SqlSlots(connect, "((julianday('now') - 2440587.5) * 86400.0)", "MAX", "?", f"sqlite:{path}")


def _postgresql(alias: str) -> SqlSlots:
    from django.db import connections

    def connect():
        # A connection of our own: the budget must commit at once, whatever transaction the
        # calling thread is in, and must not hold a row lock for the length of a page write.
        wrapper = connections.create_connection(alias)
        wrapper.ensure_connection()
        wrapper.inc_thread_sharing()  # used under SqlSlots.lock from the sync's fetch thread too
        with wrapper.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
        return wrapper

    # statement_timestamp(), not clock_timestamp(): one "now" for the whole UPDATE, so the slot it
    # sets and the delay it returns agree (two clock readings a descheduled moment apart gave a
    # first slot 11 ms in the past under load). Each budget statement commits on its own.
    return SqlSlots(connect, "extract(epoch from statement_timestamp())", "GREATEST", "%s", "postgresql")


_backends: dict[tuple, object] = {}
_backends_lock = threading.Lock()


def backend():
    """Where budgets live for the current settings, one per process (re-made after a fork)."""
    from django.conf import settings
    from django.db import connections

    redis_url = getattr(settings, "REDIS_URL", "")
    db = connections.settings[DEFAULT_ALIAS] if not redis_url else {}
    ident = (os.getpid(), redis_url, db.get("ENGINE"), str(db.get("NAME")), db.get("HOST"), db.get("PORT"))
    found = _backends.get(ident)
    if found is not None:
        return found
    with _backends_lock:
        found = _backends.get(ident)
        if found is None:
            found = _backends[ident] = _make(redis_url, db)
        return found


def _make(redis_url: str, db: dict):
    if redis_url:
        return RedisSlots(redis_url)
    engine, name = db.get("ENGINE", ""), str(db.get("NAME") or "")
    if engine.endswith("postgresql"):
        return _postgresql(DEFAULT_ALIAS)
    if engine.endswith("sqlite3") and name and ":memory:" not in name and "mode=memory" not in name:
        return _sqlite_file(str(Path(name)) + "-budget")
    return LocalSlots()


class Budget:
    """At most `per_window` requests in any `window` seconds for `key`, across processes.
    `per_window` 0 switches it off (the tests' sandbox runs without one)."""

    def __init__(self, key: str, per_window: int, window: float | None = None):
        self.key = key
        self.per_window = per_window
        self.window = float(window if window is not None else setting("SYNC_BUDGET_WINDOW_SECONDS"))

    @property
    def interval(self) -> float:
        # window / (n - 1), not window / n: n slots then span a little more than the window,
        # so a request that reaches the server late (by less than one interval) still cannot
        # make n + 1 in the server's window. It costs one request per window.
        return self.window / max(self.per_window - 1, 1)

    def wait(self) -> float:
        """Sleep until this request's slot; returns the seconds slept."""
        if self.per_window <= 0:
            return 0.0
        try:
            delay = backend().reserve(self.key, self.interval)
        except Exception as exc:  # Redis or the database unreachable: retried like a failed request
            raise TransientError(f"the request budget {self.key!r} could not be read: {exc}") from exc
        if delay > 0:
            time.sleep(delay)
        return max(delay, 0.0)
