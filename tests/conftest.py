"""Shared fixtures. Tests use real databases (SQLite by default, PostgreSQL when
DATABASE_URL is set) and the project's own code; nothing of ours is mocked.

Simulated worlds and the sandbox serving them over real HTTP:

- `make_world(clients=, months=, seed=, **simulate_options)`: a simulated MSP's dump folder,
  made once per session (per xdist worker) for each size and seed, and read-only.
- `world_dir`: the default world (4 clients, 3 months, seed 7); a module that needs another
  overrides it with its own `world_dir` fixture returning `make_world(...)`.
- `make_sandbox(world=None, ..., page_size=, qb_page_size=, timeout=, **sandbox_options)`:
  starts a sandbox on 127.0.0.1 for this test, points the settings at it, stops it at teardown.
- `sandbox`: `make_sandbox()` over `world_dir`; a module that wants other page sizes or
  another world overrides it with its own `sandbox` fixture calling `make_sandbox(...)`.
- `connected_sandbox`: `sandbox` with QuickBooks connected through the real OAuth code flow.

A test whose fixtures use `django_db_setup` (a module-scoped world written once for its tests)
is marked `django_db` when it is not already (`pytest_collection_modifyitems` below):
pytest-django creates the test databases only for the tests it sees asking for a database, so a
file whose tests reach the database only through such a fixture, run alone, wrote to the
project's own database.
"""

from contextlib import ExitStack
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from integrations.sandbox import Sandbox, serve
from integrations.sandbox.testing import connect_quickbooks, point_settings_at, simulated_world
from integrations.sandbox.world import World

DATABASE_FIXTURES = {"db", "transactional_db", "live_server"}


def pytest_collection_modifyitems(items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if "django_db_setup" in names and not names & DATABASE_FIXTURES and not item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.django_db)


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("alice-admin", "alice@msp.example", "pw-admin-123")


@pytest.fixture
def manager(django_user_model):
    return django_user_model.objects.create_user("mike-manager", "mike@msp.example", "pw-manager-123")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _alerts_user(django_user_model, name: str, *codenames: str):
    """A user holding exactly these permissions of the alerts app."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(name, f"{name}@msp.example", "pw-123-secret")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="alerts", codename__in=codenames))
    return user


@pytest.fixture
def viewer(django_user_model):
    """May see alerts (and receive them live), not act on them."""
    return _alerts_user(django_user_model, "vera-viewer", "view_alert")


@pytest.fixture
def responder(django_user_model):
    """May see, acknowledge and resolve alerts."""
    return _alerts_user(django_user_model, "rita-responder", "view_alert", "change_alert")


@pytest.fixture
def outsider(django_user_model):
    """Signed in, with no alert permission."""
    return _alerts_user(django_user_model, "otto-outsider")


@pytest.fixture
def people(django_user_model):
    """One person per role (viewer, manager, admin), granted as `manage.py grant` does."""
    made = {}
    for role in ("viewer", "manager", "admin"):
        made[role] = django_user_model.objects.create_user(f"{role}-person", password="pw-people-123")
        call_command("grant", made[role].username, role, stdout=StringIO())
    return made


@pytest.fixture
def login(client, people):
    """`login("manager")`: the test client signed in as that role's person."""
    def as_role(role: str):
        client.force_login(people[role])
        return client
    return as_role


# --- simulated worlds and the sandbox --------------------------------------------------------
@pytest.fixture(scope="session")
def make_world(tmp_path_factory):
    """Factory: `make_world(clients=4, months=3, seed=7, **simulate_options)` gives the dump
    folder of that simulated MSP (integrations.sandbox.testing.simulated_world; options such
    as leak_rate, churn_rate, end_month go to simulate). Each distinct world is simulated once
    per session, which under xdist is once per worker, and shared: treat it as read-only
    (copy it to tmp_path to change files; a sandbox loads it afresh for each test)."""
    made: dict[tuple, Path] = {}

    def make(clients: int = 4, months: int = 3, seed: int = 7, **options) -> Path:
        key = (clients, months, seed, tuple(sorted(options.items())))
        if key not in made:
            folder = tmp_path_factory.mktemp(f"world-{clients}c-{months}m-seed{seed}") / "msp"
            made[key] = simulated_world(folder, clients=clients, months=months, seed=seed, **options)
        return made[key]

    return make


@pytest.fixture(scope="session")
def world_dir(make_world) -> Path:
    """The default small simulated world (4 clients, 3 months, seed 7), read-only."""
    return make_world()


@pytest.fixture
def make_sandbox(request, settings, make_world):
    """Factory: `make_sandbox(world=None, *, clients=None, months=None, seed=None,
    page_size=None, qb_page_size=None, timeout=5, **sandbox_options)` starts a sandbox on
    127.0.0.1 for this test and returns it (a Sandbox, with its base URL as `.url`).

    What it serves: `world` as given, a dump folder (loaded afresh, so edits stay within the
    test), a World, or a Sandbox already made; with no `world`, the simulated world of
    `clients`/`months`/`seed` (make_world) when any is given, else `world_dir` (the module's
    own where it overrides it). `sandbox_options` go to Sandbox (faults=Faults(...),
    superops_subdomain=...). The settings are pointed at it (point_settings_at, with
    page_size, qb_page_size and timeout); QuickBooks is not connected. Each server is stopped
    at teardown, before the settings are put back."""
    servers = ExitStack()

    def make(world: Path | str | World | Sandbox | None = None, *, clients: int | None = None,
             months: int | None = None, seed: int | None = None, page_size: int | None = None,
             qb_page_size: int | None = None, timeout: int = 5, **sandbox_options) -> Sandbox:
        if world is None:
            sizes = {k: v for k, v in (("clients", clients), ("months", months), ("seed", seed)) if v is not None}
            world = make_world(**sizes) if sizes else request.getfixturevalue("world_dir")
        if isinstance(world, Sandbox):
            if sandbox_options:
                raise TypeError(f"a Sandbox already made takes no options: {', '.join(sandbox_options)}")
            sandbox = world
        elif isinstance(world, World):
            sandbox = Sandbox(world, **sandbox_options)
        else:
            sandbox = Sandbox.from_dump(world, **sandbox_options)
        sandbox.url = servers.enter_context(serve(sandbox))
        point_settings_at(settings, sandbox.url, page_size=page_size, qb_page_size=qb_page_size, timeout=timeout)
        return sandbox

    with servers:
        yield make


@pytest.fixture
def sandbox(make_sandbox) -> Sandbox:
    """A sandbox over `world_dir` on 127.0.0.1, the settings pointed at it (default page
    sizes), QuickBooks not connected; stopped at teardown."""
    return make_sandbox()


@pytest.fixture
def connected_sandbox(sandbox) -> Sandbox:
    """`sandbox` (the module's own where it overrides it) with its QuickBooks company
    connected through the real OAuth code flow (integrations.sandbox.testing.connect_quickbooks)."""
    connect_quickbooks()
    return sandbox
