"""Small parsers for settings read from the environment. A bad value stops start-up
with a message naming the variable, instead of running with a surprise."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse


class ImproperlyConfiguredEnv(Exception):
    pass


def env_str(name: str, default: str = "") -> str:
    """Value of NAME, or the contents of the file named by NAME_FILE (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfiguredEnv(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a boolean (use true/false)")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfiguredEnv(f"{name}={value} must be at least {minimum}")
    return value


def env_float(name: str, default: float, *, above: float | None = None, at_most: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a number") from None
    if above is not None and not value > above:
        raise ImproperlyConfiguredEnv(f"{name}={value} must be more than {above}")
    if at_most is not None and value > at_most:
        raise ImproperlyConfiguredEnv(f"{name}={value} must be at most {at_most}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def sqlite_database(path) -> dict:
    """DATABASES['default'] for an SQLite file that the web server, the task worker (and its
    ORM broker, which writes on every poll) and a sync all write to at once.

    WAL lets readers go on while one connection writes, and `timeout` makes a writer wait up to
    30 s for the lock instead of failing. That wait only applies when a transaction asks for the
    lock at its start: Django's default (DEFERRED) begins as a reader and upgrades at its first
    write, and if another connection wrote in between SQLite refuses the upgrade at once with
    "database is locked" -- no waiting, the task fails (a leak rule in the worker did, during
    `make run`). IMMEDIATE takes the write lock at BEGIN, so every atomic block waits its turn.
    """
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"},
    }


def database_from_url(url: str) -> dict:
    """DATABASES['default'] for a postgres:// or sqlite:/// URL."""
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql", "pgsql"):
        name = unquote(parsed.path.lstrip("/"))
        if not name:
            raise ImproperlyConfiguredEnv(f"DATABASE_URL {url!r} names no database")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            # PostgreSQL's JIT compiles any query its planner costs above 100,000, which our
            # grouped reads over a month of worklogs are: compiling took longer than running
            # them (0.1 s of a 1.2 s incremental build), and full builds ran no faster with it.
            "OPTIONS": {"options": "-c jit=off"},
        }
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if not path or path == "/":
            raise ImproperlyConfiguredEnv(f"DATABASE_URL {url!r} names no file")
        return sqlite_database(path)
    raise ImproperlyConfiguredEnv(
        f"DATABASE_URL scheme {parsed.scheme!r} is not supported (use postgres:// or sqlite:///)"
    )


def redis_url(name: str = "REDIS_URL") -> str:
    url = env_str(name)
    if url and urlparse(url).scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfiguredEnv(f"{name}={url!r} must start with redis://, rediss:// or unix://")
    return url
