"""Segments: k-means clusters of one month's genomes, named from what sets each apart.

k is chosen by the silhouette score (cosine-free Euclidean on the centred vectors, which for
percentile vectors ranks like cosine) over k = 3..8, fixed seed, so the same data gives the
same segments. A cluster's name joins the labels of its two most distinctive dimensions — those
whose mean scaled value is furthest from the portfolio mean, taken from different groups and
not sharing a word where possible — e.g. "High margin · slow payer". The description lists the top five with their
direction, and the group scores of the centroid.
"""

from __future__ import annotations

import functools
from datetime import date

import numpy as np
import sklearn
from django.db import transaction
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances, silhouette_score
from threadpoolctl import ThreadpoolController

from ml.models import GenomeVector, Segment

from .dimensions import BY_CODE, DIMENSIONS, GROUPS, SCHEMA_VERSION
from .scaling import group_scores

K_RANGE = range(3, 9)
SEED = 7
SILHOUETTE_SAMPLE = 2000


def choose_k(values: np.ndarray) -> tuple[np.ndarray, int, float | None, np.ndarray]:
    """(labels, k, silhouette, centroids) of the best k by silhouette."""
    n = len(values)
    if n < 4:
        return np.zeros(n, dtype=int), 1, None, values.mean(axis=0, keepdims=True)
    # One thread: k-means on a thousand 50-d points is milliseconds, while OpenMP threads
    # spinning on a shared 2-core machine made it seconds. Our parameters are constants and the
    # values finite (missing dimensions are 0.5), so scikit-learn's per-call checks, a third of
    # the search's time, are skipped.
    with _one_thread(), sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
        return _search(values, n)


@functools.cache
def _controller() -> ThreadpoolController:
    """The process's native thread pools (BLAS, OpenMP). Each look costs 20-30 ms, so the one
    scikit-learn keeps for its own k-means (it looks once per process) is shared when this
    version has it, else ours is found once."""
    try:
        from sklearn.utils.parallel import _get_threadpool_controller
    except ImportError:  # a scikit-learn without the shared controller
        return ThreadpoolController()
    return _get_threadpool_controller()


def _one_thread():
    return _controller().limit(limits=1)


def _search(values: np.ndarray, n: int):
    best = None
    # Up to SILHOUETTE_SAMPLE clients the silhouette uses them all: their distances are
    # computed once for every k instead of once per k.
    distances = pairwise_distances(values) if n <= SILHOUETTE_SAMPLE else None
    for k in K_RANGE:
        if k >= n:
            break
        model = KMeans(n_clusters=k, n_init=4, random_state=SEED).fit(values)
        if len(set(model.labels_)) < 2:
            continue
        if distances is not None:
            score = silhouette_score(distances, model.labels_, metric="precomputed")
        else:
            score = silhouette_score(values, model.labels_, sample_size=SILHOUETTE_SAMPLE, random_state=SEED)
        if best is None or score > best[2]:
            best = (model.labels_, k, float(score), model.cluster_centers_)
    if best is None:
        return np.zeros(n, dtype=int), 1, None, values.mean(axis=0, keepdims=True)
    return best


def describe(centroid: np.ndarray, portfolio_mean: np.ndarray) -> tuple[str, str, list[dict]]:
    delta = centroid - portfolio_mean
    order = np.argsort(-np.abs(delta))
    distinctive = [
        {"code": DIMENSIONS[i].code, "name": DIMENSIONS[i].name, "delta": round(float(delta[i]), 3)} for i in order[:5]
    ]

    def label(i: int) -> str:
        return DIMENSIONS[i].high if delta[i] > 0 else DIMENSIONS[i].low

    picked = [order[0]]
    first_words = set(label(order[0]).split())
    for i in order[1:]:
        # Another group, and not the same idea in other words ("small account · minor account").
        if DIMENSIONS[i].group != DIMENSIONS[picked[0]].group and not first_words & set(label(i).split()):
            picked.append(i)
            break
    labels = [label(i) for i in picked]
    name = " · ".join(labels)
    name = name[:1].upper() + name[1:]
    scores = group_scores(centroid[None, :])[0]
    description = (
        "; ".join(f"{label(i)} ({DIMENSIONS[i].name})" for i in order[:5])
        + ". Group scores: "
        + ", ".join(f"{group} {scores[g]:.0f}" for g, (_, group) in enumerate(GROUPS))
    )
    return name, description, distinctive


def cluster(month: date, schema_version: str, clients: np.ndarray, stored: np.ndarray) -> tuple[list[Segment], dict]:
    """The month's segments (unsaved) and each client's segment key, from its vectors as
    stored (client ids, scaled values)."""
    if not len(clients):
        return [], {}
    values = stored.reshape(len(clients), -1) - 0.5
    labels, k, silhouette, centroids = choose_k(values)
    mean = values.mean(axis=0)
    segments, used = [], set()
    for key in range(len(centroids)):
        members = labels == key
        centroid = values[members].mean(axis=0) if members.any() else centroids[key]
        name, description, distinctive = describe(centroid + 0.5, mean + 0.5)
        if name in used:  # two clusters led by the same traits: add the third trait
            third = BY_CODE[distinctive[2]["code"]]
            name = f"{name} · {third.high if distinctive[2]['delta'] > 0 else third.low}"
        if name in used:
            name = f"{name} ({key + 1})"
        used.add(name)
        segments.append(
            Segment(
                month=month,
                schema_version=schema_version,
                key=key,
                name=name,
                description=description,
                size=int(members.sum()),
                centroid=[round(float(x) + 0.5, 4) for x in centroid],
                distinctive=distinctive,
                silhouette=silhouette,
                k=k,
            )
        )
    return segments, dict(zip(clients.tolist(), labels.tolist(), strict=True))


def assign(segments: list[Segment], clients: np.ndarray, stored: np.ndarray) -> dict[int, int]:
    """Each client's key among a month's existing segments: the one whose centroid is
    nearest (k-means' own assignment step; vectors and centroids both as stored, so the
    centring k-means used cancels out)."""
    if not len(clients) or not segments:
        return {}
    values = stored.reshape(len(clients), -1)
    centroids = np.array([s.centroid for s in segments], dtype="float64")
    distances = ((values[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    keys = np.array([s.key for s in segments])[distances.argmin(axis=1)]
    return dict(zip(clients.tolist(), keys.tolist(), strict=True))


def resize_segments(segments: list[Segment], labels: dict[int, int]) -> dict[int, int]:
    """Keep the month's saved segments, with their sizes recounted for `labels` (in the
    caller's transaction). Returns key -> id."""
    counts = np.bincount(np.fromiter(labels.values(), dtype="int64"), minlength=max(s.key for s in segments) + 1)
    for segment in segments:
        segment.size = int(counts[segment.key])
    Segment.objects.bulk_update(segments, ["size"])
    return {segment.key: segment.pk for segment in segments}


def replace_segments(month: date, schema_version: str, segments: list[Segment]) -> dict[int, int]:
    """Swap the month's segments for `segments` (in the caller's transaction). Returns
    key -> saved id. Vectors still linked to the old segments are unlinked by the FK's
    SET_NULL; the genome build deletes the month's vectors first, so it unlinks none."""
    Segment.objects.filter(month=month, schema_version=schema_version).delete()
    for segment in segments:
        segment.save(force_insert=True)
    return {segment.key: segment.pk for segment in segments}


@transaction.atomic
def segment_month(month: date, schema_version: str = SCHEMA_VERSION) -> int:
    """Cluster the month's stored genomes, replace its segments and link each vector.
    Returns k. (The genome build clusters what it is about to write instead, and writes each
    vector with its segment.)"""
    month_vectors = GenomeVector.objects.filter(month=month, schema_version=schema_version)
    rows = list(month_vectors.order_by("client_id").values_list("client_id", "values"))
    clients = np.array([r[0] for r in rows], dtype="int64")
    stored = np.array([r[1] for r in rows], dtype="float64")
    segments, labels = cluster(month, schema_version, clients, stored)
    saved = replace_segments(month, schema_version, segments)
    for key, pk in saved.items():
        members = [client for client, label in labels.items() if label == key]
        for i in range(0, len(members), 900):
            month_vectors.filter(client_id__in=members[i : i + 900]).update(segment=pk)
    return segments[0].k if segments else 0
