"""ml.features.sql.float_frame, the bulk numeric read of the snapshot: on PostgreSQL through
binary COPY, on SQLite through the cursor; both give the same frame, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from ml.features.sql import flag, float_frame

pytestmark = pytest.mark.django_db

ROWS = """
    FROM (
        SELECT 1 AS k, 1 = 1 AS yes, CAST(0.29411764705882354 AS DOUBLE PRECISION) AS x,
               CAST(NULL AS DOUBLE PRECISION) AS y, CAST(12.34 AS DECIMAL(10, 2)) AS money
        UNION ALL
        SELECT 2, 1 = 0, CAST(-1250.5 AS DOUBLE PRECISION), CAST(3 AS DOUBLE PRECISION),
               CAST(-0.01 AS DECIMAL(10, 2))
    ) t
    WHERE k <= %s ORDER BY k
"""


def test_values_arrive_bit_for_bit():
    df = float_frame([("k", "k"), ("yes", flag("yes")), ("x", "x"), ("y", "y"), ("money", "money")], ROWS, [2])
    assert list(df.columns) == ["k", "yes", "x", "y", "money"]
    assert df["k"].tolist() == [1.0, 2.0] and df["yes"].tolist() == [1.0, 0.0]
    assert df["x"].iloc[0] == 0.29411764705882354  # the 17th digit survives
    assert df["x"].iloc[1] == -1250.5
    assert np.isnan(df["y"].iloc[0]) and df["y"].iloc[1] == 3.0
    assert df["money"].tolist() == [12.34, -0.01]


def test_no_rows_is_an_empty_frame_with_the_columns():
    df = float_frame([("k", "k"), ("x", "x")], ROWS, [0])
    assert df.empty and list(df.columns) == ["k", "x"]


def test_bulk_insert_writes_every_batch_and_value():
    """insert_rows sends rows a batch at a time (COPY on PostgreSQL, executemany on SQLite):
    every row of every batch arrives, with NULLs, JSON, and text holding commas, quotes, tabs,
    line breaks, backslashes and the COPY NULL marker's own text."""
    from datetime import date

    from ml.features.sql import insert_rows
    from ml.models import Segment

    n = 2500  # three batches
    batch = 1000
    rows = [
        (
            date(2026, 1, 1),
            "t",
            key,
            f'Seg "{key}", high margin',
            ("", "two\tcolumns\nand lines\r\n", "C:\\N\\path", "\\N", "ends with \\")[key % 5],
            key,
            f"[{key}, 0.5]",
            '[{"code": "x, y"}]',
            None if key % 2 else 0.25,
            3,
        )
        for key in range(n)
    ]
    columns = [
        "month",
        "schema_version",
        "key",
        "name",
        "description",
        "size",
        "centroid",
        "distinctive",
        "silhouette",
        "k",
    ]
    assert insert_rows(Segment, columns, rows) == n
    saved = {s.key: s for s in Segment.objects.filter(schema_version="t")}
    assert len(saved) == n
    last = saved[n - 1]
    assert last.name == f'Seg "{n - 1}", high margin' and last.centroid == [n - 1, 0.5]
    assert last.distinctive == [{"code": "x, y"}] and last.silhouette is None
    assert saved[batch].silhouette == 0.25 and saved[batch].size == batch
    descriptions = [saved[key].description for key in range(5)]
    assert descriptions == ["", "two\tcolumns\nand lines\r\n", "C:\\N\\path", "\\N", "ends with \\"]
