from django.db import migrations

# The journal (clients/models/journal.py) exists for what a sync run's stamp cannot tell: where
# a row stood before it moved, and changes no run stamped (the admin, a SQL console, a delete).
# A row a newer sync run rewrote where it stood (same client, same date) is already found by
# the feature build through its stamp, so journalling it too only grew the journal: a sync
# that re-delivered a month wrote one journal row per worklog, which every build then read
# and deleted. Such an update is now skipped by the trigger's WHEN, which costs the database
# nothing per row (no procedural call). Everything else is journalled as before.
# table -> (feature-store key, date column), as in 0002 (plain SQL kept in the migration on
# purpose: what it created must not change when app code does).
MONTHLY = {
    "clients_ticket": ("tickets", "created_at"),
    "clients_worklog": ("worklogs", "work_date"),
    "clients_satisfactionsurvey": ("surveys", "responded_at"),
    "clients_invoice": ("invoices", "txn_date"),
    "clients_payment": ("payments", "txn_date"),
    "clients_expense": ("expenses", "txn_date"),
    "clients_interaction": ("interactions", "occurred_at"),
    "clients_asset": ("assets", "added_on"),
}


def _restamped_in_place(column: str, same: str) -> str:
    """SQL true when an update left the row's (client, date) alone and a newer sync run
    stamped it. NULL runs count as 0, so the condition is never NULL (a NULL WHEN would skip
    the journal for an update that cleared the stamp)."""
    return (
        f"NEW.client_id {same} OLD.client_id AND NEW.{column} {same} OLD.{column} "
        "AND COALESCE(NEW.sync_run_id, 0) > COALESCE(OLD.sync_run_id, 0)"
    )


def _postgresql(schema_editor, restamp_skipped: bool) -> None:
    for table, (_, column) in MONTHLY.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_journal ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_journal_update ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_journal_delete ON {table}")
        if not restamp_skipped:  # 0002's single trigger
            schema_editor.execute(
                f"CREATE TRIGGER {table}_journal AFTER UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_journal()"
            )
            continue
        # A WHEN that reads NEW needs an UPDATE-only trigger; 0002's function serves both.
        when = f"NOT ({_restamped_in_place(column, 'IS NOT DISTINCT FROM')})"
        schema_editor.execute(
            f"CREATE TRIGGER {table}_journal_update AFTER UPDATE ON {table} "
            f"FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION {table}_journal()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_journal_delete AFTER DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_journal()"
        )
    # 0003's reactive-flag trigger called its function on every ticket update to compare the
    # flag; the comparison moves into the WHEN.
    schema_editor.execute("DROP TRIGGER IF EXISTS clients_ticket_journal_reactive ON clients_ticket")
    when = "WHEN (NEW.is_reactive IS DISTINCT FROM OLD.is_reactive) " if restamp_skipped else ""
    schema_editor.execute(
        f"CREATE TRIGGER clients_ticket_journal_reactive AFTER UPDATE ON clients_ticket "
        f"FOR EACH ROW {when}EXECUTE FUNCTION clients_ticket_journal_reactive()"
    )


def _sqlite(schema_editor, restamp_skipped: bool) -> None:
    # SQLite triggers are replaced whole; the body is 0002's: journal the old position, and the
    # new one when the row moved (dates and UTC datetimes are ISO text: the day is its prefix).
    for table, (key, column) in MONTHLY.items():
        old, new = f"substr(OLD.{column}, 1, 10)", f"substr(NEW.{column}, 1, 10)"
        when = f"WHEN NOT ({_restamped_in_place(column, 'IS')})" if restamp_skipped else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_journal_update")
        schema_editor.execute(
            f"""CREATE TRIGGER {table}_journal_update AFTER UPDATE ON {table} {when} BEGIN
                INSERT INTO clients_rowchange (table_key, client_id, day) VALUES ('{key}', OLD.client_id, {old});
                INSERT INTO clients_rowchange (table_key, client_id, day) SELECT '{key}', NEW.client_id, {new}
                    WHERE NEW.client_id IS NOT OLD.client_id OR NEW.{column} IS NOT OLD.{column};
            END"""
        )


def skip_restamped(apps, schema_editor):
    {"sqlite": _sqlite, "postgresql": _postgresql}[schema_editor.connection.vendor](schema_editor, True)


def journal_every_update(apps, schema_editor):
    {"sqlite": _sqlite, "postgresql": _postgresql}[schema_editor.connection.vendor](schema_editor, False)


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0003_journal_reactive_flag"),
    ]

    operations = [
        migrations.RunPython(skip_restamped, journal_every_update),
    ]
