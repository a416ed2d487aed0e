"""The shared request budget's table on PostgreSQL (integrations/sync/budget.py), made by a
migration so a deployment whose runtime role may not create tables still has it. SQLite keeps
its budgets in a side file beside the database (made on first use), so nothing is done there."""

from django.db import migrations

TABLE = "integrations_request_budget"  # integrations.sync.budget.TABLE, frozen here


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} "
                              "(budget_key varchar(200) PRIMARY KEY, next_at double precision NOT NULL)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0004_webhook_merge_and_realm_errors"),
    ]

    operations = [migrations.RunPython(create, drop)]
