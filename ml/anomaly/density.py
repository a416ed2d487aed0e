"""DBSCAN noise as a continuous score.

DBSCAN calls a row noise when no core point (a row with at least `min_samples` rows within
`eps`) lies within `eps` of it. A bare noise flag cannot rank rows, so this member reports
the distance from each row to the nearest core point of a reference sample, in units of
`eps`: below 1 the row belongs to a cluster (core or border), above 1 it is DBSCAN noise, and
the further above 1 the further from any dense region.

`eps` is learnt from the reference sample instead of asked of the caller: the 90th percentile
of its rows' distances to their `min_samples`-th neighbour, so nine reference rows in ten are
core points and the member adapts to each tenant's own scale.
"""

from __future__ import annotations

import numpy as np

from ml.anomaly.members import MIN_ROWS, reference_rows
from ml.anomaly.prepare import squash

MIN_SAMPLES = 10
CORE_SHARE = 0.9


def dbscan_noise(z: np.ndarray, random_state: int = 0) -> np.ndarray:
    from sklearn.cluster import DBSCAN
    from sklearn.neighbors import NearestNeighbors

    if len(z) < MIN_ROWS:
        return np.zeros(len(z))
    x = squash(z)
    chosen = reference_rows(len(x), random_state)
    reference = x[chosen]
    min_samples = min(MIN_SAMPLES, len(reference) - 1)
    # the k-th neighbour of a reference row, counting the row itself as DBSCAN does
    distances, _ = NearestNeighbors(n_neighbors=min_samples).fit(reference).kneighbors(reference)
    eps = float(np.quantile(distances[:, -1], CORE_SHARE))
    if eps <= 0:  # nine rows in ten have min_samples exact copies: take eps from the rows that do not
        eps = float(np.quantile(distances[:, -1][distances[:, -1] > 0], CORE_SHARE)) if distances.max() > 0 else 1.0
    clustering = DBSCAN(eps=eps, min_samples=min_samples).fit(reference)
    cores = clustering.core_sample_indices_
    if cores.size < 2:
        return np.zeros(len(z))
    # a reference core row's nearest core is itself; measure it from the next one instead
    nearest, which = NearestNeighbors(n_neighbors=2).fit(reference[cores]).kneighbors(x)
    position = _core_position(len(x), chosen, cores)
    own = (position >= 0) & (which[:, 0] == position)
    distance = np.where(own, nearest[:, 1], nearest[:, 0])
    return distance / eps


def _core_position(n_rows: int, chosen: np.ndarray, cores: np.ndarray) -> np.ndarray:
    """For each row, its position among the core points (-1 when it is not one)."""
    position = np.full(n_rows, -1)
    position[chosen[cores]] = np.arange(cores.size)
    return position
