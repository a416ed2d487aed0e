"""The few SQL fragments that differ between SQLite and PostgreSQL, and a helper that runs a
grouped query straight into a pandas frame.

Why raw SQL and not the ORM's TruncMonth: on SQLite Django implements date truncation as a
Python function called once per row, which is the slowest part of a grouped query over
millions of worklogs. Here the month is computed by the database itself (substr on SQLite's
ISO text dates, EXTRACT on PostgreSQL) as an integer month index `year * 12 + month - 1`,
so grouping is on integers and the result maps straight onto numpy.

Money is summed as integer cents (each amount converted to the home currency and rounded to
the cent row by row, as the books do) so sums are exact on both databases: SQLite would
otherwise add binary floats.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import connection


def vendor() -> str:
    return connection.vendor


def month_index(column: str) -> str:
    """SQL for the integer month index of a date or (UTC) datetime column."""
    if vendor() == "postgresql":
        return (
            f"(CAST(EXTRACT(YEAR FROM {column}) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM {column}) AS INTEGER) - 1)"
        )
    # SQLite keeps dates as 'YYYY-MM-DD' and datetimes as 'YYYY-MM-DD HH:MM:SS' (UTC).
    return f"(CAST(substr({column}, 1, 4) AS INTEGER) * 12 + CAST(substr({column}, 6, 2) AS INTEGER) - 1)"


def hours_between(start: str, end: str) -> str:
    if vendor() == "postgresql":
        return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"
    return f"((julianday({end}) - julianday({start})) * 24.0)"


def days_between(start: str, end: str) -> str:
    """Whole days from one date column to another."""
    if vendor() == "postgresql":
        return f"({end} - {start})"
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


def cents(expr: str) -> str:
    """An amount expression as integer cents, rounded half away from zero on both databases."""
    return f"CAST(ROUND(({expr}) * 100) AS BIGINT)"


def ten_thousandths(expr: str) -> str:
    """A four-decimal price as an exact integer (price x 10,000)."""
    return f"CAST(ROUND(({expr}) * 10000) AS BIGINT)"


def flag(expr: str) -> str:
    """1/0 for a boolean condition, so it can be summed on both databases."""
    return f"(CASE WHEN {expr} THEN 1 ELSE 0 END)"


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def in_clause(column: str, ids: Sequence[int] | None) -> tuple[str, list]:
    """' AND column IN (...)' for a bounded list of ids, or nothing for all rows."""
    if ids is None:
        return "", []
    if not ids:
        return " AND 1 = 0", []
    return f" AND {column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def as_text(column: str) -> str:
    """A JSON column as its text (PostgreSQL would decode jsonb into a dict per row)."""
    return f"CAST({column} AS TEXT)" if vendor() == "postgresql" else column


def fence() -> str:
    """' OFFSET 0' on PostgreSQL: a subquery ending with it is not merged into the outer
    query, so an expression it computes per row is computed once however often the outer
    query uses it (merged, MIN(x) and MAX(x) would each compute x). SQLite needs no fence."""
    return " OFFSET 0" if vendor() == "postgresql" else ""


def bytewise(expr: str) -> str:
    """A text expression compared byte by byte (PostgreSQL's "C" collation; SQLite's default),
    for MIN/MAX used only to tell whether values are all equal: the database's language-aware
    collation costs several times more per comparison."""
    return f'{expr} COLLATE "C"' if vendor() == "postgresql" else expr


def real(expr: str) -> str:
    """A float expression (PostgreSQL's EXTRACT and AVG give numeric, i.e. Decimal)."""
    return f"CAST({expr} AS DOUBLE PRECISION)"


def frame(sql: str, params: Sequence, columns: Sequence[str]) -> pd.DataFrame:
    """Run a grouped query and return its rows as a DataFrame with the given columns.

    Callers only send queries whose result is already aggregated in the database (tens of
    thousands of rows at most), never raw ticket or worklog rows.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        rows = cursor.fetchall()
    df = pd.DataFrame.from_records(rows, columns=list(columns))
    for column in df.columns:
        # PostgreSQL hands back Decimal for SUM(bigint) and numeric columns; these are
        # counts, cents or rates, never money that is summed again in Python. A column has
        # one type (or None), so its first value tells.
        if df[column].dtype == object and isinstance(_first_value(df[column]), Decimal):
            df[column] = pd.to_numeric(df[column].map(lambda v: None if v is None else float(v)))
    return df


def float_frame(
    select: Sequence[tuple[str, str]], rest: str, params: Sequence, integers: Sequence[str] = ()
) -> pd.DataFrame:
    """`SELECT <expressions> <rest>` where every expression is numeric (booleans through
    flag()), as a frame of float64 columns named as given (NULL as NaN), except `integers`
    (keys such as client_id and mi, never NULL) as int64. For the bulk reads of the snapshot:
    tens of thousands of rows x fifty values.

    PostgreSQL sends the rows with COPY in its binary format, read straight into a numpy
    array: no float is printed as text by the server nor parsed by the client, which was
    two thirds of such a read's time, and every value arrives bit for bit. SQLite's rows come
    through the cursor (its values are already Python floats)."""
    names = [name for name, _ in select]
    if vendor() == "postgresql":
        columns = ", ".join(f"COALESCE(CAST({expr} AS DOUBLE PRECISION), 'NaN')" for _, expr in select)
        values = _binary_copy(f"SELECT {columns} {rest}", params, len(select))
    else:
        columns = ", ".join(f"CAST({expr} AS REAL)" for _, expr in select)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {columns} {rest}", list(params))
            rows = cursor.fetchall()
        values = np.array(rows, dtype="float64").reshape(len(rows), len(select))
    df = pd.DataFrame(values, columns=names)
    for name in integers:
        df[name] = df[name].astype("int64")
    return df


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def _binary_copy(sql: str, params: Sequence, width: int) -> np.ndarray:
    """Rows of `width` non-null float8 columns from COPY ... (FORMAT binary). Each row is a
    16-bit field count, then per field a 32-bit length (8) and the big-endian double."""
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, list(params)).decode()
        cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT binary)", buffer)
    data = buffer.getvalue()
    if not data.startswith(_COPY_SIGNATURE):
        raise ValueError("PostgreSQL's binary COPY output has an unexpected signature")
    start = len(_COPY_SIGNATURE) + 4 + 4 + int.from_bytes(data[15:19], "big")  # flags, extension
    row = np.dtype([("n", ">i2"), *((f, t) for i in range(width) for f, t in ((f"l{i}", ">i4"), (f"v{i}", ">f8")))])
    count, extra = divmod(len(data) - start - 2, row.itemsize)  # the trailer is a 16-bit -1
    if extra or data[-2:] != b"\xff\xff":
        raise ValueError("PostgreSQL's binary COPY output is not rows of non-null doubles")
    rows = np.frombuffer(data, dtype=row, count=count, offset=start)
    if count and ((rows["n"] != width).any() or any((rows[f"l{i}"] != 8).any() for i in range(width))):
        raise ValueError("PostgreSQL's binary COPY output is not rows of non-null doubles")
    return np.column_stack([rows[f"v{i}"].astype("float64") for i in range(width)]) if count else np.empty((0, width))


def _first_value(series: pd.Series):
    present = series[series.notna()]
    return present.iloc[0] if len(present) else None


def insert_rows(model, columns: Sequence[str], rows: Sequence[Sequence]) -> int:
    """Insert plain value tuples into a model's table (JSON values already serialised).

    bulk_create spends most of its time compiling SQL (and SQLite's 999-parameter limit makes
    it 13 rows a statement for the snapshot's 75 columns); one prepared statement through
    executemany on SQLite, and COPY on PostgreSQL, are several times faster for tens of
    thousands of rows.
    """
    if not rows:
        return 0
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        if vendor() == "postgresql":
            cursor.cursor.copy_expert(f"COPY {table(model)} ({names}) FROM STDIN", _CopyText(rows, len(columns)))
        else:
            cursor.executemany(f"INSERT INTO {table(model)} ({names}) VALUES {one}", rows)
    return len(rows)


def no_index(column: str) -> str:
    """The column with SQLite's index use switched off ('+column'), so a selective condition
    on another indexed column (id, sync_run_id) drives the query instead of a full scan of
    the (client, date) index. PostgreSQL's planner needs no such hint."""
    return f"+{column}" if vendor() == "sqlite" else column


class _CopyText:
    """Rows in COPY's text format, formatted a batch at a time as psycopg2 reads (the whole
    text, tens of MB in a full build, is never held at once). Values are plain Python values
    (None for NULL, written \\N), each written as str() gives it.

    Text rather than CSV: the csv module quotes any field with a comma and scans every
    character for quotes, which for the genome's JSON vectors cost seven times the formatting
    (47 against 7 ms for a month of vectors; 1.1 against 0.7 s for a full snapshot). In text
    format only a backslash, tab, newline or carriage return inside a value needs escaping: a
    line is joined as is, and only a line where one of those turned up (more backslashes than
    NULL markers, more tabs than separators, a line break) is joined again with escapes."""

    BATCH = 1000
    _ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

    def __init__(self, rows: Sequence[Sequence], width: int):
        self._rows = rows
        self._next = 0
        self._tabs = width - 1

    def read(self, size: int = -1) -> str:
        batch = self._rows[self._next : self._next + self.BATCH]
        self._next += len(batch)
        lines = []
        for row in batch:
            line = "\t".join("\\N" if v is None else str(v) for v in row)
            if line.count("\\") != row.count(None) or line.count("\t") != self._tabs or "\n" in line or "\r" in line:
                line = "\t".join("\\N" if v is None else str(v).translate(self._ESCAPES) for v in row)
            lines.append(line)
        return "\n".join(lines) + "\n" if lines else ""
