"""`setup_demo` (run by `make run`): the first run loads a demo MSP through the sandbox and
creates the demo admin; later runs load nothing and print the same credentials. It works
with DEBUG off, as on a fresh machine: the sandbox's credentials exist only inside its run."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from clients.models import Client, Invoice, SyncRun, Ticket
from superhack.settings_integrations import SANDBOX_CREDENTIALS

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db(transaction=True)


def test_first_run_loads_the_demo_and_second_run_keeps_it(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    before = {name: getattr(django_settings, name) for name in SANDBOX_CREDENTIALS}
    call_command("setup_demo", clients=5, months=3, seed=3, stdout=out)
    first = out.getvalue()
    # The demo's sandbox credentials were set for its run only.
    assert {name: getattr(django_settings, name) for name in SANDBOX_CREDENTIALS} == before
    assert Client.objects.count() == 5
    assert Ticket.objects.exists() and Invoice.objects.filter(client__isnull=False).exists()
    assert sorted(SyncRun.objects.values_list("source", "status")) == [
        ("quickbooks", "succeeded"), ("superops", "succeeded")]
    password = (tmp_path / "demo-admin-password").read_text()
    assert f"Demo admin: username 'admin', password '{password}'" in first
    assert get_user_model().objects.get(username="admin").check_password(password)

    out = io.StringIO()
    call_command("setup_demo", clients=5, months=3, seed=3, stdout=out)
    assert "not loading the demo MSP" in out.getvalue()
    assert f"password '{password}'" in out.getvalue()
    assert SyncRun.objects.count() == 2


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="runs against its own SQLite file, as make run does")
def test_make_runs_set_up_works_with_debug_off_on_a_fresh_machine(tmp_path):
    dropped = {"DEBUG", "DATABASE_URL", "REDIS_URL", "INTEGRATIONS_SANDBOX_URL", *SANDBOX_CREDENTIALS}
    env = {**{k: v for k, v in os.environ.items() if k not in dropped}, "SUPERHACK_VAR_DIR": str(tmp_path)}

    def manage(*args: str) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    manage("migrate", "--noinput", "-v", "0")
    out = manage("setup_demo", "--clients", "3", "--months", "2", "--seed", "5")
    assert "superops:" in out and "quickbooks:" in out and out.count("(Succeeded)") == 2, out
    assert "Demo admin: username 'admin'" in out
    manage("check")  # and the next start-up (`manage.py serve`) passes its checks
