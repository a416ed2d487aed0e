"""The sandbox fights back and the data comes out the same: every fault switch (rate limits,
5xx bursts, slow answers, dropped connections, duplicated and reordered pages, malformed
records, an access token expiring mid-run) ends with the rows of a clean run, none twice,
none lost; a run killed with SIGKILL and started again ends with a clean run's database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from clients.models import RejectedRecord
from integrations.dump import dump_as_of
from integrations.models import QuickBooksConnection
from integrations.sandbox.testing import connect_quickbooks, import_snapshot
from integrations.sync.runs import sync_source
from integrations.sync.snapshot import differences, snapshot

ROOT = Path(__file__).resolve().parent.parent

FAULTS = {
    "rate limits (SuperOps 200 + error, QuickBooks 429)": {"rate_limit_every": 3},
    "bursts of 5xx": {"error_burst_every": 6, "error_burst_length": 3},
    "slow answers past the client timeout": {"slow_every": 15, "slow_seconds": 1.5},
    "dropped connections": {"drop_every": 4},
    "duplicated and reordered records across pages": {"duplicate_records": 3, "reorder": True},
    "access token expires mid-run": {"expire_token_after": 12},
    "all at once": {"rate_limit_every": 7, "error_burst_every": 11, "error_burst_length": 2, "drop_every": 9,
                    "duplicate_records": 2, "reorder": True, "expire_token_after": 20},
}


@pytest.fixture(scope="module")
def world_dir(make_world):
    return make_world(clients=3, months=2, seed=11)


@pytest.fixture
def sandbox(make_sandbox):
    """`world_dir` in small pages, with a one-second client timeout for the slow answers."""
    return make_sandbox(page_size=10, qb_page_size=5, timeout=1)


def sync_both(world_dir):
    return [sync_source(source, full=True, today=dump_as_of(world_dir)) for source in ("superops", "quickbooks")]


@pytest.mark.django_db
@pytest.mark.parametrize("switches", FAULTS.values(), ids=FAULTS.keys())
def test_fault_ends_with_the_data_of_a_clean_run(sandbox, world_dir, switches):
    expected = import_snapshot(world_dir)
    connect_quickbooks()
    sandbox.faults.update(**switches)
    runs = sync_both(world_dir)
    assert [r.status for r in runs] == ["succeeded", "succeeded"], [r.error for r in runs]
    assert sandbox.faults_served or sandbox.refreshes  # the switch really fired
    assert differences(expected, snapshot()) == []
    if "expire_token_after" in switches:
        assert QuickBooksConnection.objects.get().refresh_token == sandbox.refresh_token


@pytest.mark.django_db
def test_malformed_records_are_set_aside_and_the_rest_loads(sandbox, world_dir):
    expected = import_snapshot(world_dir)
    connect_quickbooks()
    sandbox.faults.update(malformed=2)
    runs = sync_both(world_dir)
    assert [r.status for r in runs] == ["partial", "partial"]
    got = snapshot()
    new_rejects = sorted(set(got.pop("RejectedRecord")) - set(expected.pop("RejectedRecord")))
    assert differences(expected, got) == []
    # Two clients without a name, two worklogs with negative hours, two invoices without a customer.
    assert [(r[1], r[2]) for r in new_rejects] == [
        ("Invoice", "BAD-I0"), ("Invoice", "BAD-I1"), ("getClientList", "BAD-C0"), ("getClientList", "BAD-C1"),
        ("getWorklogEntries", "BAD-W0"), ("getWorklogEntries", "BAD-W1")]
    assert sum(r.set_aside for r in runs) == 6 + len(expected.get("RejectedRecord", []))
    # Seen again next run, they stay one row each.
    sync_both(world_dir)
    assert RejectedRecord.objects.filter(external_id__startswith="BAD-").count() == 6


# --- kill -9 -----------------------------------------------------------------------------
def _drop_database(env: dict) -> None:
    url = env["DATABASE_URL"]
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg2

        parsed = urlparse(url)
        admin = psycopg2.connect(host=parsed.hostname, port=parsed.port or 5432, user=parsed.username or "postgres",
                                 password=parsed.password or "", dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}"')
        admin.close()


def _database_env(tmp_path: Path, name: str) -> dict:
    """A database of its own for a subprocess: a SQLite file, or a PostgreSQL database next
    to the test database when DATABASE_URL is PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg2

        parsed = urlparse(url)
        admin = psycopg2.connect(host=parsed.hostname, port=parsed.port or 5432, user=parsed.username or "postgres",
                                 password=parsed.password or "", dbname="postgres")
        admin.autocommit = True
        db = f"superhack_kill_{name}_{os.getpid()}"
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{db}"')
            cursor.execute(f'CREATE DATABASE "{db}"')
        admin.close()
        return {"DATABASE_URL": parsed._replace(path=f"/{db}").geturl()}
    return {"DATABASE_URL": f"sqlite:///{tmp_path / f'{name}.sqlite3'}"}


def _manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=check, timeout=300)


def _python(env: dict, code: str) -> str:
    setup = "import django; django.setup(); "
    env = {**env, "DJANGO_SETTINGS_MODULE": "superhack.settings", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", setup + code], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True, timeout=300).stdout


def _snapshot_of(env: dict) -> str:
    return _python(env, "from integrations.sync.snapshot import snapshot_text; print(snapshot_text())")


def _runs_of(env: dict) -> list[tuple[str, str]]:
    code = ("from clients.models import SyncRun; "
            "print(list(SyncRun.objects.order_by('pk').values_list('source', 'status')))")
    return eval(_python(env, code))  # noqa: S307 - our own output


@pytest.mark.slow
def test_a_run_killed_mid_way_and_rerun_equals_a_clean_run(make_sandbox, tmp_path, request):
    sandbox = make_sandbox()  # the subprocesses are pointed at it through their environment
    common = {**os.environ, "DEBUG": "true", "INTEGRATIONS_SANDBOX_URL": sandbox.url, "SYNC_BACKOFF_BASE_MS": "1",
              "SUPEROPS_REQUESTS_PER_MINUTE": "0", "QUICKBOOKS_REQUESTS_PER_MINUTE": "0",
              "SUPEROPS_PAGE_SIZE": "10", "QUICKBOOKS_PAGE_SIZE": "5", "QUICKBOOKS_CDC_LIMIT": "5",
              "SUPERHACK_VAR_DIR": str(tmp_path / "var")}
    clean = {**common, **_database_env(tmp_path, "clean")}
    killed = {**common, **_database_env(tmp_path, "killed")}
    request.addfinalizer(lambda: (_drop_database(clean), _drop_database(killed)))
    _manage(clean, "migrate", "--noinput")
    _manage(clean, "connect_sandbox")
    _manage(clean, "sync", "--full", "--no-progress")
    expected = _snapshot_of(clean)
    requests_for_a_run = sandbox.api_requests

    _manage(killed, "migrate", "--noinput")
    _manage(killed, "connect_sandbox")
    # Kill at several points: early in SuperOps, late in SuperOps, inside QuickBooks (a few
    # QuickBooks answers into the run: an incremental rerun makes fewer requests than a full one).
    for kill_at in (5, requests_for_a_run // 2, None):
        process = subprocess.Popen([sys.executable, "manage.py", "sync", "--no-progress"],
                                   cwd=ROOT, env=killed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        start, qb_start = sandbox.api_requests, sandbox.served["quickbooks"]
        fired = threading.Event()

        def kill(number: int, process=process, start=start, kill_at=kill_at, qb_start=qb_start,
                 fired=fired) -> None:
            due = sandbox.served["quickbooks"] - qb_start >= 3 if kill_at is None else number - start >= kill_at
            if due and not fired.is_set():
                fired.set()
                os.kill(process.pid, signal.SIGKILL)

        sandbox.on_request = kill
        process.wait(120)
        sandbox.on_request = None
        assert fired.is_set() and process.returncode == -signal.SIGKILL
    _manage(killed, "sync", "--no-progress")
    got = _snapshot_of(killed)
    runs = _runs_of(killed)
    assert got == expected
    # The killed runs are marked interrupted by the runs that took over their lease.
    assert runs[-2:] == [("superops", "succeeded"), ("quickbooks", "succeeded")]
    assert ("superops", "failed") in runs
