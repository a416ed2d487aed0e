"""Shared fixtures. Tests use real databases (SQLite by default, PostgreSQL when
DATABASE_URL is set) and the project's own code; nothing of ours is mocked."""

import pytest


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
