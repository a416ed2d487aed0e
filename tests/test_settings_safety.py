"""The sandbox's built-in credentials are public, so with DEBUG off they stop start-up with a
message naming the setting; with DEBUG on (tests, the demo, working against `runsandbox`)
they are accepted."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from integrations.sandbox import Sandbox
from superhack.settings_integrations import SANDBOX_CREDENTIALS

ROOT = Path(__file__).resolve().parent.parent


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SANDBOX_CREDENTIALS and k != "INTEGRATIONS_SANDBOX_URL"}
    db = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}  # never the shared database
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**clean, **db, "SUPERHACK_VAR_DIR": str(tmp_path / "var"), **env})


def test_the_refused_values_are_the_sandboxs_own():
    defaults = {name: p.default for name, p in inspect.signature(Sandbox.__init__).parameters.items()}
    assert SANDBOX_CREDENTIALS["SUPEROPS_API_TOKEN"] == defaults["superops_token"]
    assert SANDBOX_CREDENTIALS["QUICKBOOKS_CLIENT_ID"] == defaults["qb_client_id"]
    assert SANDBOX_CREDENTIALS["QUICKBOOKS_CLIENT_SECRET"] == defaults["qb_client_secret"]


@pytest.mark.parametrize("name", sorted(SANDBOX_CREDENTIALS))
def test_a_sandbox_credential_stops_migrate_with_debug_off(tmp_path, name):
    done = _run(tmp_path, "manage.py", "migrate", "--noinput", DEBUG="false", **{name: SANDBOX_CREDENTIALS[name]})
    assert done.returncode != 0
    assert f"{name} holds the sandbox's built-in value" in done.stderr, done.stderr
    assert "DEBUG=true" in done.stderr
    assert not (tmp_path / "db.sqlite3").exists()  # stopped before touching anything


def test_the_sandbox_url_alone_fills_them_in_and_is_refused_too(tmp_path):
    done = _run(tmp_path, "manage.py", "check", INTEGRATIONS_SANDBOX_URL="http://127.0.0.1:9")  # DEBUG's default
    assert done.returncode != 0
    assert "QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN" in done.stderr and "INTEGRATIONS_SANDBOX_URL is set" in done.stderr
    # The web server imports the same settings: daphne would not start either.
    served = _run(tmp_path, "-c", "import superhack.asgi", INTEGRATIONS_SANDBOX_URL="http://127.0.0.1:9",
                  DJANGO_SETTINGS_MODULE="superhack.settings")
    assert served.returncode != 0 and "QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN" in served.stderr


def test_debug_on_accepts_them_and_real_values_pass_with_debug_off(tmp_path):
    sandbox = _run(tmp_path, "manage.py", "check", DEBUG="true", INTEGRATIONS_SANDBOX_URL="http://127.0.0.1:9")
    assert sandbox.returncode == 0, sandbox.stderr
    real = _run(tmp_path, "manage.py", "check", DEBUG="false", SUPEROPS_API_TOKEN="a-real-token",
                QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN="a-real-verifier")
    assert real.returncode == 0, real.stderr
