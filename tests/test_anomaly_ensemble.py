"""The billing-anomaly ensemble (ml.anomaly): at least as good as Isolation Forest alone on real
public anomaly sets, sane on the inputs billing data really has (holes, constant columns, a
handful of rows), repeatable, and a threshold learnt from people's verdicts."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from ml.anomaly import (
    MEMBERS,
    agreement,
    combine,
    ensemble_scores,
    member_scores,
    percentile_ranks,
    threshold_from_feedback,
)

from .datasets import find_dataset

SEEDS = (0, 1, 2)


def blobs_with_planted_outliers(rows: int = 600, planted: int = 8, seed: int = 4):
    """Three clusters of client-months and `planted` rows far outside all of them."""
    X, _ = make_blobs(rows, n_features=6, centers=3, cluster_std=1.0, random_state=seed)
    rng = np.random.default_rng(seed)
    where = rng.choice(rows, planted, replace=False)
    X[where] = X.mean(axis=0) + rng.choice([-1, 1], size=(planted, 6)) * rng.uniform(15, 25, size=(planted, 6))
    return X, where


def top(scores: np.ndarray, k: int) -> set[int]:
    return set(np.argsort(-scores, kind="stable")[:k].tolist())


def test_ensemble_is_at_least_isolation_forest_on_adbench():
    folder = find_dataset("adbench")
    files = sorted(folder.glob("*.npz"))
    assert len(files) == 5, f"expected the five ADBench sets in {folder}, found {[f.name for f in files]}"

    ensemble_aucs, forest_aucs = [], []
    print()
    for path in files:
        data = np.load(path)
        X, y = data["X"].astype(float), data["y"].astype(int)
        ensemble = np.mean([roc_auc_score(y, ensemble_scores(X, random_state=seed)) for seed in SEEDS])
        standardised = StandardScaler().fit_transform(X)
        forest = np.mean([
            roc_auc_score(y, -IsolationForest(random_state=seed).fit(standardised).score_samples(standardised))
            for seed in SEEDS
        ])
        print(f"{path.stem:<16} rows {len(y):>6}  ensemble ROC-AUC {ensemble:.3f}  IsolationForest {forest:.3f}")
        ensemble_aucs.append(ensemble)
        forest_aucs.append(forest)
    print(f"{'mean':<28} ensemble ROC-AUC {np.mean(ensemble_aucs):.3f}  IsolationForest {np.mean(forest_aucs):.3f}")

    assert np.mean(ensemble_aucs) >= np.mean(forest_aucs)


def test_planted_outliers_are_ranked_first():
    X, planted = blobs_with_planted_outliers()

    scores = ensemble_scores(X)

    assert top(scores, len(planted)) == set(planted.tolist())
    assert scores.shape == (len(X),) and scores.min() >= 0.0 and scores.max() <= 1.0


def test_every_member_is_reported_and_the_ensemble_combines_them():
    X, planted = blobs_with_planted_outliers()

    members = member_scores(X)

    assert set(members) == set(MEMBERS) == {"isolation_forest", "one_class_svm", "dbscan_noise", "autoencoder",
                                            "robust_z"}
    for name, scores in members.items():
        assert scores.shape == (len(X),) and np.isfinite(scores).all(), name
        # far outliers are easy: every member on its own puts most of them in its top 2%
        assert len(top(scores, int(0.02 * len(X))) & set(planted.tolist())) >= 0.75 * len(planted), name
    np.testing.assert_array_equal(combine(members), ensemble_scores(X))


@pytest.mark.parametrize("broken", ["noise", "backwards"])
def test_a_member_that_disagrees_with_the_rest_loses_its_say(broken):
    X, planted = blobs_with_planted_outliers()
    members = member_scores(X)
    if broken == "noise":  # a detector that has failed on this data: its scores say nothing
        members["broken"] = np.random.default_rng(0).random(len(X))
    else:  # a detector that sees the rows upside down (the planted rows as the most normal)
        members["broken"] = -members["one_class_svm"]

    weights = dict(zip(members, agreement(np.column_stack([percentile_ranks(s) for s in members.values()])),
                       strict=True))

    assert weights["broken"] < 0.15, weights
    assert max(weights.values()) == 1.0
    assert min(w for name, w in weights.items() if name in ("isolation_forest", "one_class_svm", "autoencoder")) > 0.5
    # its opinion barely counts: the planted rows still come first
    assert top(combine(members), len(planted)) == set(planted.tolist())


def test_missing_values_are_imputed_and_outliers_still_found():
    X, planted = blobs_with_planted_outliers()
    rng = np.random.default_rng(0)
    holes = rng.random(X.shape) < 0.1
    holes[planted, :2] = True  # the planted rows lose two columns but stay far off in the others
    X[holes] = np.nan
    X = np.column_stack([X, np.full(len(X), np.nan)])  # and a column nobody ever filled
    X[3, 0] = np.inf

    scores = ensemble_scores(X)

    assert np.isfinite(scores).all()
    assert top(scores, len(planted)) == set(planted.tolist())


def test_a_constant_column_changes_nothing_that_matters():
    X, planted = blobs_with_planted_outliers()
    with_constant = np.column_stack([X, np.full(len(X), 42.0)])

    scores = ensemble_scores(with_constant)

    assert np.isfinite(scores).all()
    assert top(scores, len(planted)) == set(planted.tolist())
    # nothing but a constant: no row is more anomalous than another
    np.testing.assert_array_equal(ensemble_scores(np.full((50, 1), 7.0)), np.full(50, 0.5))


def test_tiny_inputs_give_sensible_scores():
    five = np.array([[10.0, 1.0], [11.0, 1.2], [9.5, 0.9], [10.5, 1.1], [80.0, 9.0]])
    scores = ensemble_scores(five)
    assert scores.shape == (5,) and np.isfinite(scores).all()
    assert int(np.argmax(scores)) == 4

    np.testing.assert_array_equal(ensemble_scores(np.array([[3.0, 4.0]])), [0.5])
    np.testing.assert_array_equal(ensemble_scores(np.array([[3.0, 4.0], [300.0, 4.0]])), [0.5, 0.5])
    assert ensemble_scores(np.empty((0, 3))).shape == (0,)


def test_dataframes_work_like_arrays_and_text_is_refused():
    X, _ = blobs_with_planted_outliers(rows=300, planted=4)
    frame = pd.DataFrame(X, columns=[f"kpi_{i}" for i in range(X.shape[1])])
    frame["managed"] = frame["kpi_0"] > 0

    np.testing.assert_array_equal(ensemble_scores(frame), ensemble_scores(frame.to_numpy(dtype=float)))
    with pytest.raises(TypeError, match="plan"):
        ensemble_scores(frame.assign(plan="managed"))


def test_scores_are_repeatable():
    X, _ = blobs_with_planted_outliers(rows=2400)  # more rows than the reference sample
    first, again = member_scores(X), member_scores(X.copy())

    for name, scores in first.items():
        np.testing.assert_array_equal(scores, again[name], err_msg=name)


def test_threshold_separates_confirmed_from_dismissed_findings():
    dismissed = np.array([0.50, 0.55, 0.60, 0.62, 0.70, 0.71])
    confirmed = np.array([0.80, 0.85, 0.90, 0.95, 0.97])
    scores = np.r_[dismissed, confirmed]
    verdicts = np.r_[np.zeros(6, bool), np.ones(5, bool)]

    cut = threshold_from_feedback(scores, verdicts)

    assert 0.71 < cut <= 0.80
    assert ((scores >= cut) == verdicts).all()


def test_threshold_maximises_f1_and_a_precision_floor_raises_it():
    rng = np.random.default_rng(1)
    confirmed = rng.random(400) < 0.3
    scores = np.where(confirmed, rng.normal(0.8, 0.08, 400), rng.normal(0.6, 0.08, 400))

    cut = threshold_from_feedback(scores, confirmed)
    strict = threshold_from_feedback(scores, confirmed, min_precision=0.97)

    def f1(threshold):
        flagged = scores >= threshold
        hits = (flagged & confirmed).sum()
        return 2 * hits / (flagged.sum() + confirmed.sum())

    assert f1(cut) >= max(f1(t) for t in np.quantile(scores, np.linspace(0.01, 0.99, 99)))
    assert strict > cut
    assert confirmed[scores >= strict].mean() >= 0.97


def test_thin_feedback_falls_back_to_the_top_five_percent():
    population = np.linspace(0.0, 1.0, 1001)
    scores = np.array([0.9, 0.95, 0.4, 0.99])
    verdicts = np.array([1.0, 1.0, 0.0, np.nan])  # the last one has not been reviewed

    assert threshold_from_feedback(scores, verdicts, population=population) == pytest.approx(0.95)
    assert threshold_from_feedback(scores, verdicts, population=population, fallback_quantile=0.9) == (
        pytest.approx(0.9))
    with pytest.raises(ValueError):
        threshold_from_feedback(scores, verdicts[:2])
