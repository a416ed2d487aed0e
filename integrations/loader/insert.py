"""Inserting many new rows of one model.

On SQLite, Django's bulk_create spends most of its time compiling SQL value by value (and
SQLite's 999-parameter default cuts a batch into INSERTs of ~30 rows); one prepared INSERT
run with `executemany` over plain tuples does the same work several times faster. Values
still go through Django's own adaptation for the column types that need it (dates,
datetimes, decimals), so the stored text is exactly what the ORM would have written.
Elsewhere (PostgreSQL) bulk_create is already one multi-row INSERT per batch and is used as is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

_ADAPTED = (models.DateTimeField, models.DateField, models.TimeField, models.DecimalField, models.JSONField,
            models.UUIDField, models.DurationField)


def _sqlite_datetime(value: Any) -> Any:
    # What SQLite's adapt_datetimefield_value writes with USE_TZ: naive UTC text.
    if type(value) is datetime:
        if value.tzinfo is UTC:
            return str(value)[:-6]  # "2026-10-05 09:12:00+00:00" without the offset
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return str(value)
    return value


def _adapter(field: models.Field) -> Callable | None:
    """Fast equivalents of field.get_db_prep_save on SQLite for the common types (the
    generic call costs more than the insert itself); Django's own call for the rest."""
    if isinstance(field, models.DateTimeField):
        return _sqlite_datetime
    if isinstance(field, models.DateField):
        return str  # adapt_datefield_value: the ISO date
    if isinstance(field, models.DecimalField):
        return None  # passed as Decimal; Django's sqlite3 adapter writes str(value)
    if isinstance(field, _ADAPTED):
        return partial(field.get_db_prep_save, connection=connections[DEFAULT_DB_ALIAS])
    return None


@cache
def _plan(model: type[models.Model]) -> tuple[str, list[tuple[str, Any, Callable | None]]]:
    """The INSERT statement and, per column, (attname, default, adapter or None)."""
    columns = []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        # No data model has a callable default, so the default is taken once.
        columns.append((field.attname, field.column, field.get_default(), _adapter(field)))
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table), ", ".join(quote(c) for _, c, _, _ in columns), ", ".join(["%s"] * len(columns))
    )
    return sql, [(attname, default, adapter) for attname, _, default, adapter in columns]


def insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> list[models.Model] | None:
    """Insert rows (attname -> value; a missing column gets its default). Returns the saved
    instances with their pks where the backend hands them back (bulk_create), else None:
    the caller then reads the pks back by external id."""
    if not rows:
        return []
    if connection.vendor != "sqlite":
        return model.objects.bulk_create([model(**row) for row in rows])
    sql, columns = _plan(model)
    plain = [(attname, default) for attname, default, adapter in columns if adapter is None]
    if len(plain) == len(columns):
        params = [[row.get(attname, default) for attname, default in plain] for row in rows]
    else:
        params = [
            [value if adapter is None or value is None else adapter(value)
             for attname, default, adapter in columns
             for value in (row.get(attname, default),)]
            for row in rows
        ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return None


def pairs_by_key(model: type[models.Model], source: str, column: str, keys: list[str], target: str,
                 realm: str = "") -> dict[str, Any]:
    """{key: target} for this source's rows (of this QuickBooks realm) whose `column` is in
    keys (chunks of 2,000).

    Plain SQL: the ORM's per-parameter processing of a 2,000-item IN list costs more than
    the indexed query itself, and this runs once per batch and referenced model."""
    meta = model._meta
    quote = connection.ops.quote_name
    key_col = quote(meta.get_field(column).column)
    target_col = quote(meta.pk.column if target == "pk" else meta.get_field(target).column)
    found: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(keys), 2000):
            chunk = keys[start:start + 2000]
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {key_col}, {target_col} FROM {quote(meta.db_table)} "
                f"WHERE {quote(meta.get_field('source').column)} = %s "
                f"AND {quote(meta.get_field('realm').column)} = %s AND {key_col} IN ({placeholders})",
                [source, realm, *chunk],
            )
            found.update(cursor.fetchall())
    return found


SQLITE_CACHE_KIB = 131072


def tune_connection() -> None:
    """Give SQLite a 128 MB page cache for the load (its default is 2 MB): the indexes of a
    few hundred thousand tickets do not fit in 2 MB, and every insert then re-reads index
    pages. Per connection, and only grown, never shrunk."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (current,) = cursor.fetchone()
        if -SQLITE_CACHE_KIB < current <= 0:  # negative: KiB; positive: pages someone chose
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
