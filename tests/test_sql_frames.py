"""ml.features.sql.float_frame: the CSV path PostgreSQL uses for bulk float reads returns what
the row-by-row path does (NULL, booleans, text with commas and quotes, floats to the ulp)."""

from __future__ import annotations

import numpy as np
import pytest

from ml.features.sql import float_frame

pytestmark = pytest.mark.django_db

ROWS = """
    SELECT 1 AS k, TRUE AS flag, '["partial_month", "a,b"]' AS note,
           CAST(0.29411764705882354 AS DOUBLE PRECISION) AS x, CAST(NULL AS DOUBLE PRECISION) AS y
    UNION ALL
    SELECT 2, FALSE, NULL, CAST(-1250.5 AS DOUBLE PRECISION), CAST(3 AS DOUBLE PRECISION)
"""


def test_csv_and_row_reads_agree():
    keys, values = ["k", "flag", "note"], ["x", "y"]
    exact = float_frame(f"SELECT * FROM ({ROWS}) t ORDER BY k", [], keys, values)
    fast = float_frame(f"SELECT * FROM ({ROWS}) t ORDER BY k", [], keys, values, exact=False)
    assert exact["x"].iloc[0] == 0.29411764705882354
    for frame in (exact, fast):
        assert frame["k"].tolist() == [1, 2]
        assert [bool(v) for v in frame["flag"]] == [True, False]
        assert frame["note"].iloc[0] == '["partial_month", "a,b"]'
        assert frame["note"].isna().iloc[1]
        assert np.isnan(frame["y"].iloc[0]) and frame["y"].iloc[1] == 3.0
        assert frame["x"].iloc[1] == -1250.5
    # The fast parser may be one unit off in the last place, never more.
    assert abs(fast["x"].iloc[0] - exact["x"].iloc[0]) <= np.spacing(exact["x"].iloc[0])
