"""The five members of the billing-anomaly ensemble. Each takes the robust-standardised matrix
`z` (see `prepare`) and returns one score per row, higher = more anomalous.

- `isolation_forest`: how few random axis-aligned cuts isolate a row (scikit-learn's
  IsolationForest, 200 trees of 256 rows, so it is fitted on all rows at little cost). It is
  invariant to each column's scale and strong on the global outliers billing errors make.
- `one_class_svm`: how far outside the RBF-kernel boundary around the bulk a row lies, with
  nu = 0.5 (libsvm's and scikit-learn's default): half the reference rows become support
  vectors, so the decision function is a smooth kernel-density-like surface that ranks every
  row (as nu grows towards 1 the one-class SVM tends to a Parzen window estimate, Schölkopf et
  al. 2001). With nu = 0.1 it only separated the outermost tenth from a flat inside and ranked
  worse on every ADBench set and on the synthetic design set (`ml.anomaly`).
- `dbscan_noise`: DBSCAN's notion of noise made continuous, in `density`.
- `autoencoder`: reconstruction error of an MLPRegressor trained to copy rows through a
  narrow middle layer; rows that do not follow the columns' joint pattern reconstruct badly.
- `robust_z`: the root mean square of the rows' per-column robust z-scores (median/MAD, as
  `prepare` makes them): a model-free "how far from the typical row" that needs no fitting.

The kernel, density and neural members cost more than linearly in the rows they learn from,
so they learn from a bounded random reference sample (`REFERENCE_ROWS`) and score every row:
the shape of the bulk is well described by a few thousand rows. They read the squashed
matrix, where one enormous value cannot dominate a distance or a training loss.
"""

from __future__ import annotations

import warnings

import numpy as np

from ml.anomaly.prepare import squash

REFERENCE_ROWS = 2_000
MIN_ROWS = 3  # below this no member can tell rows apart: every score is 0
NU = 0.5  # the one-class SVM's share of support vectors (see the module docstring)


def reference_rows(n_rows: int, random_state: int, limit: int = REFERENCE_ROWS) -> np.ndarray:
    """Sorted indices of at most `limit` rows, drawn without replacement."""
    if n_rows <= limit:
        return np.arange(n_rows)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_rows, size=limit, replace=False))


def isolation_forest(z: np.ndarray, random_state: int = 0) -> np.ndarray:
    from sklearn.ensemble import IsolationForest

    if len(z) < MIN_ROWS:
        return np.zeros(len(z))
    forest = IsolationForest(n_estimators=200, max_samples=min(256, len(z)), random_state=random_state)
    forest.fit(z)
    return -forest.score_samples(z)


def one_class_svm(z: np.ndarray, random_state: int = 0, nu: float = NU) -> np.ndarray:
    from sklearn.svm import OneClassSVM

    if len(z) < MIN_ROWS:
        return np.zeros(len(z))
    x = squash(z)
    reference = x[reference_rows(len(x), random_state)]
    spread = reference.var()
    if spread == 0:  # every reference row identical: nothing for a kernel to describe
        return np.zeros(len(z))
    svm = OneClassSVM(kernel="rbf", gamma=1.0 / (x.shape[1] * spread), nu=nu)
    svm.fit(reference)
    return -svm.decision_function(x)


def autoencoder(z: np.ndarray, random_state: int = 0) -> np.ndarray:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor
    from threadpoolctl import threadpool_limits

    if len(z) < MIN_ROWS:
        return np.zeros(len(z))
    x = squash(z)
    width = x.shape[1]
    hidden = max(4, min(32, 2 * width))
    bottleneck = max(1, width // 3)
    network = MLPRegressor(
        hidden_layer_sizes=(hidden, bottleneck, hidden),
        activation="tanh",
        alpha=1e-3,
        learning_rate_init=3e-3,
        max_iter=200,
        tol=1e-5,
        n_iter_no_change=15,
        random_state=random_state,
    )
    reference = x[reference_rows(len(x), random_state)]
    target = reference[:, 0] if width == 1 else reference  # scikit-learn wants one target as 1-D
    # The layers are a few dozen wide: a second BLAS thread costs more in hand-offs than it saves
    # (same numbers, ~10% faster on 2 cores, more when the other core is busy).
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        # a row count too small to converge still gives a usable ranking of errors
        warnings.simplefilter("ignore", ConvergenceWarning)
        network.fit(reference, target)
        reconstruction = network.predict(x).reshape(x.shape)
    return np.mean((reconstruction - x) ** 2, axis=1)


def robust_z(z: np.ndarray, random_state: int = 0) -> np.ndarray:
    if z.shape[1] == 0:
        return np.zeros(len(z))
    return np.sqrt(np.mean(z**2, axis=1))
