"""The request budget is shared: a django-q2 worker and `manage.py sync` running at the same
time against one SuperOps tenant stay together within one budget, counted at the sandbox.

Both processes use a database of their own made for the test (a SQLite file, or a PostgreSQL
database beside the test database when DATABASE_URL is PostgreSQL): pytest-django's test
database is in memory on SQLite and so cannot be shared with other processes, and a database
made by `migrate` in a subprocess is what a deployment has. With REDIS_URL set the budget (and
the worker's broker) live in Redis instead, under names of this test's own.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

from integrations.sync.budget import Budget, LocalSlots, RedisSlots, _postgresql, _sqlite_file

ROOT = Path(__file__).resolve().parent.parent
# 10 requests in any 2 seconds: SuperOps' 800 a minute, scaled so the test takes seconds.
BUDGET, WINDOW = 10, 2


def read_superops_until(stop_file: str, out_file: str) -> int:
    """The worker's task: read SuperOps' client list over and over with the project's client
    (the same tenant, so the same budget as the sync) until stop_file appears."""
    from integrations.superops.client import SuperOpsClient

    client = SuperOpsClient()
    first = time.time()
    Path(out_file + ".started").write_text(str(first))
    try:
        while not os.path.exists(stop_file) and time.time() < first + 120:
            for _page in client.pages("getClientList", page_size=1):
                if os.path.exists(stop_file):
                    break
    finally:
        client.close()
    Path(out_file).write_text(json.dumps({"requests": client.requests, "first": first, "last": time.time()}))
    return client.requests


def most_in_any_window(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    best, lo = 0, 0
    for hi, stamp in enumerate(stamps):
        while stamps[lo] <= stamp - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


# --- subprocess plumbing --------------------------------------------------------------------
def _admin_connection(url: str):
    import psycopg2

    parsed = urlparse(url)
    conn = psycopg2.connect(host=parsed.hostname, port=parsed.port or 5432, user=parsed.username or "postgres",
                            password=parsed.password or "", dbname="postgres")
    conn.autocommit = True
    return conn


@pytest.fixture
def database_url(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'budget.sqlite3'}"
        return
    name = f"superhack_budget_{os.getpid()}"
    conn = _admin_connection(url)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlparse(url)._replace(path=f"/{name}").geturl()
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


# --- the test --------------------------------------------------------------------------------
def _who(request) -> str:
    """The worker's task reads one client a page; the sync reads SUPEROPS_PAGE_SIZE a page."""
    try:
        variables = json.loads(request.body or b"{}").get("variables") or {}
    except ValueError:
        return "?"
    return "worker" if re.search(r'"pageSize": 1\b', json.dumps(variables)) else "command"


def test_a_worker_and_a_command_together_stay_within_one_budget(tmp_path, database_url, make_sandbox):
    tenant = f"budget{os.getpid()}"  # a budget key (and Redis key) no other test run shares
    sandbox = make_sandbox(clients=3, months=2, superops_subdomain=tenant)
    seen: list[tuple[float, str]] = []  # (arrival, who) of every API request, at the sandbox
    answer = sandbox.handle

    def handle(request):
        if request.path.rstrip("/") == "/msp":
            seen.append((time.time(), _who(request)))
        return answer(request)

    sandbox.handle = handle
    stop_file, out_file = str(tmp_path / "stop"), str(tmp_path / "worker.json")
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "true", "INTEGRATIONS_SANDBOX_URL": sandbox.url,
           "SUPEROPS_SUBDOMAIN": tenant, "SUPEROPS_REQUESTS_PER_MINUTE": str(BUDGET),
           "SYNC_BUDGET_WINDOW_SECONDS": str(WINDOW), "SUPEROPS_PAGE_SIZE": "20", "SYNC_BACKOFF_BASE_MS": "1",
           "SYNC_SUPEROPS_EVERY_MINUTES": "0", "SYNC_QUICKBOOKS_EVERY_MINUTES": "0",
           "SUPERHACK_VAR_DIR": str(tmp_path / "var"), "Q_CLUSTER_NAME": f"budget-test-{os.getpid()}",
           "PYTHONPATH": str(ROOT)}
    # Migrate, then queue the worker's task (django-q2's broker: the database, or Redis).
    _manage(env, "shell", "-c", "from django.core.management import call_command; "
            "from django_q.tasks import async_task; call_command('migrate', verbosity=0); "
            f"async_task('tests.test_request_budget.read_superops_until', {stop_file!r}, {out_file!r})")
    worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while not os.path.exists(out_file + ".started"):
            assert worker.poll() is None and time.time() < deadline, "the worker did not start the task"
            time.sleep(0.1)
        command = subprocess.run([sys.executable, "manage.py", "sync", "--source", "superops", "--full",
                                  "--no-progress"], cwd=ROOT, env=env, capture_output=True, text=True,
                                 timeout=120)
        Path(stop_file).touch()
        while not os.path.exists(out_file):
            assert worker.poll() is None and time.time() < deadline + 60, "the worker's task did not end"
            time.sleep(0.1)
    finally:
        Path(stop_file).touch()
        # The task is over and the database is thrown away: no need to wait for the
        # cluster's graceful stop (which takes seconds).
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert command.returncode == 0, command.stdout + command.stderr
    assert "superops: run #1 succeeded" in command.stdout, command.stdout
    done = json.loads(Path(out_file).read_text())
    stamps = [t for t, _ in seen]
    mine = [t for t, who in seen if who == "command"]
    theirs = [t for t, who in seen if who == "worker"]
    assert len(stamps) == sandbox.api_requests and len(theirs) == done["requests"]

    # One budget between them, not one each: at most BUDGET requests in any WINDOW seconds
    # (a budget per process lets through about twice as many). One more is tolerated: the
    # stamps are taken when the sandbox reads a request, and a request that a loaded CI
    # machine holds up for more than one interval (0.22 s) can land in its successor's window.
    busiest = most_in_any_window(stamps, WINDOW)
    assert busiest <= BUDGET + 1, f"{busiest} requests in {WINDOW} s against a budget of {BUDGET}"
    # ...while the two drew on the tenant at the same time, for several windows...
    first, last = mine[0], mine[-1]
    assert last - first >= 2 * WINDOW, f"the sync's requests spanned only {last - first:.1f} s"
    assert len([t for t in theirs if first <= t <= last]) >= len(mine) / 2
    # ...and the budget was used, not wasted: together they ran close to it.
    during = [t for t in stamps if first <= t <= last]
    assert len(during) >= 0.6 * (BUDGET - 1) * (last - first) / WINDOW, (len(during), last - first)


@pytest.mark.parametrize("where", ["sqlite", "process", "redis", "postgresql"])
def test_budget_spaces_requests_and_zero_is_off(where, tmp_path, request):
    """The pacing itself, on each place a budget can live (Redis and PostgreSQL when the run
    has them: CI's second pass)."""
    if where == "sqlite":
        slots = _sqlite_file(str(tmp_path / "db.sqlite3-budget"))
    elif where == "process":
        slots = LocalSlots()
    elif where == "redis":
        if not os.environ.get("REDIS_URL"):
            pytest.skip("REDIS_URL is not set")
        slots = RedisSlots(os.environ["REDIS_URL"])
    else:
        if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
            pytest.skip("DATABASE_URL is not PostgreSQL")
        request.getfixturevalue("db")
        slots = _postgresql("default")
    key = f"test:{uuid.uuid4().hex}"
    calls = []
    for _ in range(5):
        started = time.monotonic()
        delay = slots.reserve(key, 0.05)
        calls.append((started, time.monotonic(), delay))
    # The first slot is now; each next one is an interval later than the one before. A slot is
    # the store's "now" plus the delay it returned, and that "now" falls within the call, so
    # each gap is known to within the two calls' durations (a loaded CI database takes 20 ms).
    assert calls[0][2] == pytest.approx(0, abs=0.01)
    for (start, end, delay), (next_start, next_end, next_delay) in zip(calls, calls[1:], strict=False):
        shortest = (next_start + next_delay) - (end + delay)
        longest = (next_end + next_delay) - (start + delay)
        assert shortest - 0.005 <= 0.05 <= longest + 0.005, (shortest, longest)
    assert Budget(key, 0, window=60).wait() == 0.0
