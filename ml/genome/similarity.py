"""Similar clients and side-by-side comparison on the genome.

Metric: cosine similarity of the centred vectors (scaled value - 0.5). Centring matters:
percentiles are all positive, so raw cosine would call every pair similar; centred, two
clients are alike when they sit on the same side of the portfolio median on the same
dimensions, and opposite (-1) when mirror images. Cosine is symmetric by construction.

"The dimensions that make them alike" are the dimensions contributing most to the cosine:
a_i * b_i / (|a| |b|) — both far from the median, on the same side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from clients.models import Client
from ml.models import GenomeVector

from .dimensions import DIMENSIONS, SCHEMA_VERSION
from .scaling import MISSING_VALUE


@dataclass
class Similar:
    client_id: int
    name: str
    similarity: float
    shared: list[dict]


def centred(values) -> np.ndarray:
    return np.asarray(values, dtype="float64") - MISSING_VALUE


def cosine_matrix(values: np.ndarray) -> np.ndarray:
    """Pairwise cosine of centred rows (a row at the median everywhere has similarity 0)."""
    c = centred(values)
    norms = np.linalg.norm(c, axis=1)
    norms[norms == 0] = 1.0
    unit = c / norms[:, None]
    return unit @ unit.T


def shared_dimensions(a, b, top: int = 5) -> list[dict]:
    ca, cb = centred(a), centred(b)
    denom = (np.linalg.norm(ca) * np.linalg.norm(cb)) or 1.0
    contrib = ca * cb / denom
    order = np.argsort(-contrib)[:top]
    return [
        {
            "code": DIMENSIONS[i].code,
            "name": DIMENSIONS[i].name,
            "group": DIMENSIONS[i].group_name,
            "a": round(float(a[i]), 3),
            "b": round(float(b[i]), 3),
            "contribution": round(float(contrib[i]), 4),
        }
        for i in order
        if contrib[i] > 0
    ]


def _month(month: date | None, schema_version: str, client_id: int | None = None) -> date | None:
    if month is not None:
        return month
    qs = GenomeVector.objects.filter(schema_version=schema_version)
    if client_id is not None:
        qs = qs.filter(client_id=client_id)
    return qs.order_by("-month").values_list("month", flat=True).first()


def similar_clients(
    client_id: int, month: date | None = None, k: int = 5, schema_version: str = SCHEMA_VERSION
) -> list[Similar]:
    """The k clients whose genome for the month is closest to this client's (latest month
    with a vector when month is None), with the dimensions they share."""
    month = _month(month, schema_version, client_id)
    if month is None:
        return []
    rows = list(
        GenomeVector.objects.filter(month=month, schema_version=schema_version).values_list("client_id", "values")
    )
    ids = [r[0] for r in rows]
    if client_id not in ids:
        return []
    values = np.array([r[1] for r in rows], dtype="float64")
    me = ids.index(client_id)
    c = centred(values)
    norms = np.linalg.norm(c, axis=1)
    norms[norms == 0] = 1.0
    sims = (c @ c[me]) / (norms * norms[me])
    order = [i for i in np.argsort(-sims) if i != me][:k]
    names = dict(Client.objects.filter(id__in=[ids[i] for i in order]).values_list("id", "name"))
    return [
        Similar(ids[i], names.get(ids[i], ""), round(float(sims[i]), 4), shared_dimensions(values[me], values[i]))
        for i in order
    ]


def compare(
    client_a: int, client_b: int, month: date | None = None, schema_version: str = SCHEMA_VERSION
) -> list[dict]:
    """Both clients' genomes dimension by dimension for the month (latest common month when
    None): scaled values, the difference (a - b) and the raw values."""
    qs = GenomeVector.objects.filter(schema_version=schema_version, client_id__in=[client_a, client_b])
    if month is None:
        months_a = set(qs.filter(client_id=client_a).values_list("month", flat=True))
        common = months_a & set(qs.filter(client_id=client_b).values_list("month", flat=True))
        if not common:
            return []
        month = max(common)
    vectors = {v.client_id: v for v in qs.filter(month=month)}
    if client_a not in vectors or client_b not in vectors:
        return []
    a, b = vectors[client_a], vectors[client_b]
    return [
        {
            "index": d.index,
            "code": d.code,
            "name": d.name,
            "group": d.group_name,
            "direction": d.direction,
            "a": a.values[d.index],
            "b": b.values[d.index],
            "difference": round(a.values[d.index] - b.values[d.index], 4),
            "raw_a": a.raw[d.index],
            "raw_b": b.raw[d.index],
        }
        for d in DIMENSIONS
    ]
