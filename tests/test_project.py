"""The project as a whole: checks are clean, migrations are complete, settings fail loudly."""

import io
import os
import subprocess
import sys

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.core.management import call_command

from superhack.env import ImproperlyConfiguredEnv, database_from_url, env_bool, env_int


def test_manage_py_check_is_clean():
    out = io.StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()


@pytest.mark.django_db
def test_models_and_migrations_agree():
    # Exits non-zero (SystemExit) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_bad_environment_values_fail_loudly(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfiguredEnv, match="DEBUG='maybe' is not a boolean"):
        env_bool("DEBUG")
    monkeypatch.setenv("Q_WORKERS", "zero")
    with pytest.raises(ImproperlyConfiguredEnv, match="Q_WORKERS='zero' is not an integer"):
        env_int("Q_WORKERS", 1)
    with pytest.raises(ImproperlyConfiguredEnv, match="not supported"):
        database_from_url("mysql://root@localhost/x")


def test_database_url_is_parsed():
    db = database_from_url("postgres://sh:p%40ss@db.local:6543/superhack")
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "django.db.backends.postgresql", "superhack", "sh", "p@ss", "db.local", "6543",
    )
    assert db["OPTIONS"]["options"] == "-c jit=off"


@pytest.mark.django_db
def test_postgresql_sessions_run_without_jit():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (CI's second pass)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_startup_refuses_a_bad_redis_url():
    env = dict(os.environ, REDIS_URL="http://127.0.0.1:6379")
    proc = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    assert "REDIS_URL='http://127.0.0.1:6379' must start with redis://" in proc.stderr


def test_cache_and_channel_layer_round_trip():
    # In CI's second pass REDIS_URL is set, so this exercises the real Redis server.
    cache.set("superhack-test-key", {"mrr": "123.45"}, 30)
    assert cache.get("superhack-test-key") == {"mrr": "123.45"}
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "alert.new", "text": "Margin below 20%"})
    assert async_to_sync(layer.receive)(channel)["text"] == "Margin below 20%"
