"""Building genome vectors from the KPI snapshot: raw dimension values per (client, month),
percentile-scaled within each month, written with the schema version and group scores;
then the latest complete month is segmented."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from functools import partial

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from clients.models import Client
from ml.features import months
from ml.features.sql import flag, float_frame, insert_rows, month_index, table
from ml.models import ClientMonthKPI, GenomeVector, Segment

from .dimensions import DIMENSIONS, KPI_INPUTS, LONG_WINDOW_INPUTS, RECENT_LOOKBACK, SCHEMA_VERSION, KPIs
from .scaling import group_scores, scale
from .segments import assign, cluster, replace_segments, resize_segments, segment_month

LOOKBACK_MONTHS = 12  # the longest window a dimension reads (12-month sums, 12-month lag)


def kpi_frame(from_mi: int | None) -> pd.DataFrame:
    """KPI rows (money as float: the genome ranks, it does not add money) from `from_mi` minus
    the look-back, with the client's employee count, indexed by (client_id, mi). Plain SQL:
    Django's per-value Decimal converters would cost seconds here.

    Of the look-back, only the last RECENT_LOOKBACK months are read whole; the months before
    them hold LONG_WINDOW_INPUTS alone (NaN elsewhere), which is all a 12-month window reads
    there: a rebuild of one month reads about 60 % of the values it would read otherwise."""
    if from_mi is None:
        df = _kpi_rows(KPI_INPUTS, "", [])
    else:
        recent = from_mi - RECENT_LOOKBACK
        older = _kpi_rows(
            LONG_WINDOW_INPUTS,
            " WHERE month >= %s AND month < %s",
            [months.to_date(from_mi - LOOKBACK_MONTHS).isoformat(), months.to_date(recent).isoformat()],
        )
        df = pd.concat([older, _kpi_rows(KPI_INPUTS, " WHERE month >= %s", [months.to_date(recent).isoformat()])])
    df["partial_month"] = df["partial_month"] > 0
    if df.empty:
        return df
    employees = dict(Client.objects.values_list("id", "employee_count"))
    df["employee_count"] = df["client_id"].map(employees).astype("float64")
    return df.set_index(["client_id", "mi"]).sort_index()


def _kpi_rows(columns: tuple[str, ...], where: str, params: list) -> pd.DataFrame:
    return float_frame(
        [("client_id", "client_id"), ("mi", month_index("month")), ("partial_month", flag("partial_month"))]
        + [(c, c) for c in columns],
        f"FROM {table(ClientMonthKPI)}{where}",
        params,
        integers=("client_id", "mi"),
    )


def raw_dimensions(frame: pd.DataFrame) -> pd.DataFrame:
    """The 50 raw values per (client_id, mi), columns in dimension order."""
    k = KPIs(frame.copy())
    raw = pd.DataFrame({d.index: d.compute(k).astype("float64") for d in DIMENSIONS}, index=frame.index)
    return raw.replace([np.inf, -np.inf], np.nan)


def missing_months() -> date | None:
    """The first month that has KPI rows but no genome of the current schema (None if none)."""
    kpi = set(ClientMonthKPI.objects.values_list("month", flat=True).distinct())
    have = set(GenomeVector.objects.filter(schema_version=SCHEMA_VERSION).values_list("month", flat=True).distinct())
    gaps = kpi - have
    return min(gaps) if gaps else None


def build_genome(from_month: date | None = None, progress=None, resegment: bool = False) -> tuple[int, int]:
    """Rebuild genome vectors for every month from `from_month` (all months when None) and
    segment the latest complete month: clustered when it has no segments yet, on a build of
    every month, or with `resegment`; otherwise its segments stand and each client joins the
    nearest. Returns (vectors written, segments)."""
    say = progress or (lambda message: None)
    from_mi = months.to_index(from_month) if from_month else None
    frame = kpi_frame(from_mi)
    if frame.empty:
        return 0, 0
    say("Computing genome dimensions")
    raw = raw_dimensions(frame)
    # The month to segment: the latest complete one, looked for in the look-back too (a
    # rebuild of the current, partial month alone must not segment that month instead).
    complete = frame.index.get_level_values(1)[~frame["partial_month"].astype(bool).to_numpy()]
    latest = int(complete.max()) if len(complete) else int(frame.index.get_level_values(1).max())
    if from_mi is not None:
        raw = raw[raw.index.get_level_values(1) >= from_mi]
    values, missing = scale(raw)
    scores = group_scores(values)
    latest_day = months.to_date(latest)
    rows = raw.index.get_level_values(1) == latest
    if not rows.any():
        written = _write(raw, values, missing, scores, from_month)
        standing = Segment.objects.filter(month=latest_day, schema_version=SCHEMA_VERSION).count()
        if standing:  # its vectors were not rebuilt: its segments stand
            return written, standing
        say(f"Segmenting {latest_day:%Y-%m}")
        return written, segment_month(latest_day)
    # The month's vectors as they will be stored (rounded, in client order) are segmented
    # before they are written, so each vector is written with its segment.
    clients = raw.index.get_level_values(0)[rows].to_numpy(dtype="int64")
    stored = np.round(values[rows], 4)
    kept = []
    if from_mi is not None and not resegment:
        kept = list(Segment.objects.filter(month=latest_day, schema_version=SCHEMA_VERSION).order_by("key"))
    if kept:
        # Segmented before: its segments stand and each client joins the nearest. Clustering
        # again moved clients between segments on changes as small as a re-delivered month
        # (docs/genome.md, "Segments").
        say(f"Assigning {latest_day:%Y-%m} to its segments")
        labels = assign(kept, clients, stored)
        save = partial(resize_segments, kept, labels)
        written = _write(raw, values, missing, scores, from_month, (latest_day, labels, save))
        return written, kept[0].k
    say(f"Segmenting {latest_day:%Y-%m}")
    segments, labels = cluster(latest_day, SCHEMA_VERSION, clients, stored)
    save = partial(replace_segments, latest_day, SCHEMA_VERSION, segments)
    written = _write(raw, values, missing, scores, from_month, (latest_day, labels, save))
    return written, segments[0].k if segments else 0


@transaction.atomic
def _write(
    raw: pd.DataFrame,
    values: np.ndarray,
    missing: np.ndarray,
    scores: np.ndarray,
    from_month: date | None,
    segmented: tuple[date, dict[int, int], Callable[[], dict[int, int]]] | None = None,
) -> int:
    """Replace the vectors from `from_month` on and, with `segmented` (month, client ->
    segment key, and the call that saves that month's segments and returns key -> id), link
    each of the month's vectors to its segment, in one transaction: a reader never sees a
    month without its segments."""
    stale = GenomeVector.objects.filter(schema_version=SCHEMA_VERSION)
    if from_month is not None:
        stale = stale.filter(month__gte=from_month)
    stale.delete()
    segment_of: dict[tuple[int, int], int] = {}
    if segmented is not None:
        month, labels, save = segmented
        saved = save()
        mi = months.to_index(month)
        segment_of = {(client, mi): saved[key] for client, key in labels.items()}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # Rounded and converted column-wise: per-element numpy calls cost seconds at 27k x 50.
    scaled_texts = _unit_json_rows(values)
    raw_texts = _json_rows(np.round(raw.to_numpy(dtype="float64"), 6))
    score_lists = np.round(scores, 2).tolist()
    missing_lists = [np.flatnonzero(row).tolist() for row in missing]
    index = raw.index.tolist()
    day = {mi: months.to_date(int(mi)) for mi in set(raw.index.get_level_values(1))}
    rows = []
    for i, (client_id, mi) in enumerate(index):
        rows.append(
            (
                int(client_id),
                day[mi],
                SCHEMA_VERSION,
                scaled_texts[i],
                raw_texts[i],
                json.dumps(missing_lists[i]),
                *score_lists[i],
                now,
                segment_of.get((client_id, mi)),
            )
        )
    return insert_rows(
        GenomeVector,
        [
            "client",
            "month",
            "schema_version",
            "values",
            "raw",
            "missing",
            "financial_health",
            "operational_efficiency",
            "engagement",
            "growth_potential",
            "risk_factors",
            "computed_at",
            "segment",
        ],
        rows,
    )


# Every value a scaled dimension can take (0 to 1 in steps of 0.0001) as JSON writes it.
_UNIT_TEXTS = np.array([repr(i / 10_000) for i in range(10_001)], dtype=object)


def _unit_json_rows(matrix: np.ndarray) -> list[str]:
    """_json_rows(np.round(matrix, 4)) for values in [0, 1], from a table of the 10,001
    texts those can be: six times faster than formatting each float, the same text (numpy
    rounds to 4 decimals as rint(x * 10^4) / 10^4, and that float's repr is the table's)."""
    if not len(matrix) or np.isnan(matrix).any() or matrix.min() < 0 or matrix.max() > 1:
        return _json_rows(np.round(matrix, 4))
    texts = _UNIT_TEXTS[np.rint(matrix * 10_000).astype(np.int64)]
    return ["[" + ", ".join(row) + "]" for row in texts.tolist()]


def _json_rows(matrix: np.ndarray) -> list[str]:
    """Each row of a float matrix as a JSON list (NaN as null), from one json.dumps of the
    whole matrix (its C encoder) split at the row boundaries: a dumps per row costs ~0.1 s
    per thousand vectors in Python-level dispatch."""
    if not len(matrix):
        return []
    text = json.dumps(matrix.tolist()).replace("NaN", "null")
    return ["[" + row + "]" for row in text[2:-2].split("], [")]


def latest_month() -> date | None:
    return GenomeVector.objects.filter(schema_version=SCHEMA_VERSION).aggregate(m=Max("month"))["m"]
