"""Synthetic shapes of data with planted anomalies: the design set of the ensemble's combination
rule (see `ml.anomaly`), kept so the figures in its docstring can be reproduced
(`bench/anomaly.py --design`). The public ADBench sets only measure the result.

Each `make_*` takes a numpy Generator and returns (X, y) with y = 1 on the planted anomalies.
They cover the kinds of anomaly the members are meant to catch between them: global outliers,
rows outside a tight cluster beside looser ones, broken relationships between columns, a tight
cluster of anomalies, billing-like contracts (under-billing, unbilled hours, seats that grew
without the invoice, bursts of after-hours tickets), heavy tails, a curved manifold, mostly
binary flags, legitimately extreme normal rows, signal in 2 of 20 columns and a 12% anomaly rate.
"""

from __future__ import annotations

import numpy as np


def make_global_blobs(rng, n=3000, d=8, rate=0.03):
    from sklearn.datasets import make_blobs

    a = int(n * rate)
    X, _ = make_blobs(n - a, n_features=d, centers=3, cluster_std=1.0, random_state=int(rng.integers(1e6)))
    lo, hi = X.min(0), X.max(0)
    span = hi - lo
    outliers = rng.uniform(lo - 0.2 * span, hi + 0.2 * span, size=(a, d))
    return np.vstack([X, outliers]), np.r_[np.zeros(n - a), np.ones(a)]


def make_local_density(rng, n=3000, d=6, rate=0.03):
    a = int(n * rate)
    stds = [0.3, 1.0, 3.0]
    centers = rng.normal(0, 8, size=(3, d))
    sizes = np.full(3, (n - a) // 3)
    sizes[0] += (n - a) - sizes.sum()
    X = np.vstack([rng.normal(c, s, size=(m, d)) for c, s, m in zip(centers, stds, sizes, strict=True)])
    # anomalies just outside the tight cluster: 4-6 of its own sds away
    dirs = rng.normal(size=(a, d))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    outliers = centers[0] + dirs * rng.uniform(4, 7, size=(a, 1)) * stds[0] * np.sqrt(d)
    return np.vstack([X, outliers]), np.r_[np.zeros(n - a), np.ones(a)]


def make_dependency(rng, n=3000, d=10, rate=0.03):
    a = int(n * rate)
    k = 3
    W = rng.normal(size=(k, d))
    X = rng.normal(size=(n, k)) @ W + 0.3 * rng.normal(size=(n, d))
    # anomalies: each feature taken from a different random row (marginals intact, joint broken)
    idx = rng.integers(0, n, size=(a, d))
    outliers = X[idx, np.arange(d)]
    X = X[: n - a]
    return np.vstack([X, outliers]), np.r_[np.zeros(n - a), np.ones(a)]


def make_clustered(rng, n=3000, d=6, rate=0.04):
    a = int(n * rate)
    X = rng.normal(size=(n - a, d)) @ rng.normal(size=(d, d)) * 0.5
    centre = X.std(0) * 3.0 * rng.choice([-1, 1], size=d)
    outliers = centre + rng.normal(scale=0.3, size=(a, d))
    return np.vstack([X, outliers]), np.r_[np.zeros(n - a), np.ones(a)]


def make_billing_like(rng, n=5000, rate=0.04):
    """Contracts: seats, price per seat, invoice = seats*price (+noise), hours, tickets, flags."""
    a = int(n * rate)
    seats = rng.poisson(20, n) + 1
    price = rng.lognormal(np.log(60), 0.25, n)
    invoice = seats * price * rng.normal(1, 0.03, n)
    tickets = rng.poisson(seats * 0.4)
    hours = tickets * rng.gamma(2, 0.6, n)
    managed = (rng.random(n) < 0.7).astype(float)
    after_hours = rng.binomial(tickets, 0.05)
    X = np.c_[seats, price, invoice, tickets, hours, managed, after_hours].astype(float)
    y = np.zeros(n)
    pick = rng.choice(n, a, replace=False)
    kind = rng.integers(0, 4, a)
    for i, kd in zip(pick, kind, strict=True):
        if kd == 0:
            X[i, 2] *= rng.uniform(0.2, 0.5)  # under-billed
        elif kd == 1:
            X[i, 4] *= rng.uniform(3, 6)  # unbilled hours
        elif kd == 2:
            X[i, 0] = X[i, 0] * rng.uniform(2, 3)  # seats grew, invoice did not
        else:
            X[i, 6] += rng.poisson(8)  # after-hours burst
        y[i] = 1
    X[rng.random(X.shape) < 0.01] = np.nan
    return X, y


def make_heavy_tails(rng, n=3000, d=8, rate=0.03):
    a = int(n * rate)
    X = rng.standard_t(3, size=(n - a, d))
    outliers = rng.normal(size=(a, d))
    outliers[np.arange(a), rng.integers(0, d, a)] += rng.choice([-1, 1], a) * rng.uniform(8, 15, a)
    return np.vstack([X, outliers]), np.r_[np.zeros(n - a), np.ones(a)]


def make_manifold(rng, n=3000, d=6, rate=0.03):
    from sklearn.datasets import make_moons
    from sklearn.neighbors import NearestNeighbors

    a = int(n * rate)
    M, _ = make_moons(n - a, noise=0.05, random_state=int(rng.integers(1e6)))
    R = rng.normal(size=(2, d))
    X = M @ R + 0.05 * rng.normal(size=(n - a, d))
    Ob = rng.uniform(M.min(0), M.max(0), size=(a * 4, 2))
    # keep off-manifold points: far from every moon point
    dist, _ = NearestNeighbors(n_neighbors=1).fit(M).kneighbors(Ob)
    Ob = Ob[dist[:, 0] > 0.25][:a]
    outliers = Ob @ R + 0.05 * rng.normal(size=(len(Ob), d))
    return np.vstack([X, outliers]), np.r_[np.zeros(n - a), np.ones(len(Ob))]


def make_discrete_flags(rng, n=4000, d=8, rate=0.03):
    """Mostly binary / few-valued columns (like lab-test flags); anomalies are rare combos + one odd value."""
    a = int(n * rate)
    base = rng.random(d) * 0.3 + 0.02
    X = (rng.random((n - a, d)) < base).astype(float)
    X[:, 0] = rng.normal(50, 10, n - a).round()
    X[:, 1] = X[:, 0] * 0.02 + rng.normal(0, 0.1, n - a)
    outliers = (rng.random((a, d)) < 0.5).astype(float)
    outliers[:, 0] = rng.normal(50, 10, a).round()
    outliers[:, 1] = outliers[:, 0] * 0.02 + rng.normal(0, 0.1, a) + rng.choice([-1, 1], a) * rng.uniform(0.4, 1, a)
    return np.vstack([X, outliers]), np.r_[np.zeros(n - a), np.ones(a)]


def make_rare_normals(rng, n=4000, rate=0.03):
    """Normal rows that are legitimately extreme (a lognormal spend column, rare flags) beside
    anomalies that only break a relationship between two columns and shift a third a little."""
    a = int(n * rate)
    hours = rng.gamma(4, 5, n)
    billed = hours * rng.normal(1, 0.05, n) * 90
    spend = rng.lognormal(3, 1.4, n)  # irrelevant, heavy tailed
    flags = (rng.random((n, 4)) < [0.02, 0.05, 0.01, 0.1]).astype(float)
    tickets = rng.poisson(hours / 3)
    X = np.c_[hours, billed, spend, tickets, flags]
    y = np.zeros(n)
    pick = rng.choice(n, a, replace=False)
    X[pick, 1] *= rng.choice([0.6, 1.5], a)  # billed off the hours
    X[pick, 3] = rng.poisson(X[pick, 0] / 3 * 1.8)
    y[pick] = 1
    return X, y


def make_noisy_dims(rng, n=3000, d=20, rate=0.05):
    """Anomalies differ by 3 sd on two of twenty columns; the rest is noise."""
    a = int(n * rate)
    X = rng.normal(size=(n, d))
    X[:, 1] = 0.8 * X[:, 0] + 0.6 * X[:, 1]
    y = np.zeros(n)
    pick = rng.choice(n, a, replace=False)
    X[pick, 2] += 3 * rng.choice([-1, 1], a)
    X[pick, 3] += 3 * rng.choice([-1, 1], a)
    y[pick] = 1
    return X, y


def make_many_anomalies(rng, n=3000, d=6, rate=0.12):
    """A high anomaly rate (12%) of moderate, scattered anomalies in a skewed bulk."""
    a = int(n * rate)
    X = rng.gamma(2, 1, size=(n - a, d)) @ (np.eye(d) + 0.3 * rng.normal(size=(d, d)))
    outliers = X[rng.integers(0, n - a, a)] + rng.normal(0, 2.5, size=(a, d))
    return np.vstack([X, outliers]), np.r_[np.zeros(n - a), np.ones(a)]


SHAPES = {
    "global_blobs": make_global_blobs,
    "local_density": make_local_density,
    "dependency": make_dependency,
    "clustered": make_clustered,
    "billing_like": make_billing_like,
    "heavy_tails": make_heavy_tails,
    "manifold": make_manifold,
    "discrete_flags": make_discrete_flags,
    "rare_normals": make_rare_normals,
    "noisy_dims": make_noisy_dims,
    "many_anomalies": make_many_anomalies,
}
