"""A module's world written once through `django_db_setup` lands in the test database, even when
no test of the module asks for `db` and the file is run alone (conftest marks such tests)."""

import os

import pytest
from django.conf import settings
from django.db import connection

from superhack.env import database_from_url, sqlite_database


@pytest.fixture(scope="module")
def database_name(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return str(connection.settings_dict["NAME"])


def test_a_module_fixture_reaches_the_test_database_not_the_projects(database_name):
    url = os.environ.get("DATABASE_URL")
    projects = database_from_url(url) if url else sqlite_database(settings.VAR_DIR / "superhack.sqlite3")
    assert database_name != str(projects["NAME"])
