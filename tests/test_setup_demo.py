"""`setup_demo` (run by `make run`): the first run loads a demo MSP through the sandbox and
creates the demo admin; later runs load nothing and print the same credentials."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from clients.models import Client, Invoice, SyncRun, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_first_run_loads_the_demo_and_second_run_keeps_it(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("setup_demo", clients=5, months=3, seed=3, stdout=out)
    first = out.getvalue()
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
