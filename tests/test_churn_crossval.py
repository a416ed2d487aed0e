"""The churn model family (ml.churn): honest on real public data, and everything it learns is
learnt inside the training fold."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import TimeSeriesSplit

from ml.churn import cross_validate_frame, fit_family
from ml.churn.crossval import churn_labels

from .datasets import find_dataset

METRICS = ("roc_auc", "pr_auc", "f1", "brier", "threshold")


def small_frame(rows: int = 400, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """A churn-like frame with what real exports have: an id, numbers with holes, a number
    column stored as text with blanks, a category with missing cells, and one category that
    occurs on a single row (so it is in one test fold and in none of that fold's training rows)."""
    X, y = make_classification(
        n_samples=rows, n_features=6, n_informative=4, weights=[0.75], random_state=seed, flip_y=0.02
    )
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(X, columns=[f"kpi_{i}" for i in range(6)])
    frame.loc[rng.random(rows) < 0.1, "kpi_0"] = np.nan
    frame.insert(0, "client_id", [f"C-{i:05d}" for i in range(rows)])
    frame["plan"] = np.where(X[:, 0] > 0, "managed", "break-fix")
    frame.loc[rng.random(rows) < 0.05, "plan"] = None
    frame.loc[7, "plan"] = "only-once"
    billed = (X[:, 1] * 100 + 500).round(2).astype(str)
    billed[rng.random(rows) < 0.05] = " "
    frame["billed_total"] = billed
    return frame, y


def test_cross_validate_frame_reports_every_member_on_a_messy_frame():
    X, y = small_frame()

    result = cross_validate_frame(X, y, folds=5, seed=0)

    for key in METRICS:
        assert key in result
    assert set(result["members"]) == {"lr", "mlp", "gbm"}
    for figures in result["members"].values():
        assert set(figures) >= set(METRICS)
    assert len(result["per_fold"]) == 5 and len(result["thresholds"]) == 5
    assert 0.0 < result["threshold"] < 1.0
    # The synthetic signal is strong: the family must see it through the holes and the text.
    assert result["roc_auc"] > 0.85
    assert 0.0 <= result["brier"] < 0.2
    assert result["column_roles"] == {
        "client_id": "id",
        **{f"kpi_{i}": "number" for i in range(6)},
        "plan": "category",
        "billed_total": "number_as_text",
    }


def test_imputation_and_encoding_are_learnt_from_training_rows_only():
    X, y = small_frame()
    training = X.index < 300
    X_train = X[training].drop(index=7)  # "only-once" is never seen in training
    y_train = y[training & (X.index != 7)]

    family = fit_family(X_train, y_train, seed=0)

    prepare = family.members_["lr"].named_steps["prepare"]
    numbers = prepare.named_steps["encode"].named_transformers_["numbers"].named_steps["impute"]
    kpi_0 = list(prepare.named_steps["encode"].transformers_[0][2]).index("kpi_0")
    assert numbers.statistics_[kpi_0] == pytest.approx(X_train["kpi_0"].median())
    assert numbers.statistics_[kpi_0] != pytest.approx(X["kpi_0"].median())
    onehot = prepare.named_steps["encode"].named_transformers_["categories"].named_steps["onehot"]
    assert "only-once" not in set(onehot.categories_[0])

    unseen = X.loc[[7]]
    churn = family.predict_proba(unseen)[:, 1]
    assert unseen["plan"].item() == "only-once"
    assert 0.0 <= churn.item() <= 1.0


def test_family_accepts_a_time_ordered_inner_split():
    X, y = small_frame(rows=300)

    family = fit_family(X, y, seed=0, cv=TimeSeriesSplit(n_splits=3))

    # The first quarter of the rows only trains; the rest are validation rows for calibration.
    assert family.validation_rows_ == 225
    assert set(family.validation_) == {"lr", "mlp", "gbm", "ensemble"}
    assert set(family.predict(X.head(20))) <= {0, 1}


def test_churn_labels_understand_yes_no_and_refuse_to_guess():
    assert list(churn_labels(["No", "Yes", "No"])) == [0, 1, 0]
    assert list(churn_labels([True, False])) == [1, 0]
    assert list(churn_labels(["stayed", "gone"], positive="gone")) == [0, 1]
    with pytest.raises(ValueError, match="positive="):
        churn_labels(["stayed", "gone"])


def test_telco_churn_beats_the_published_logistic_baseline():
    telco = pd.read_csv(find_dataset("telco-customer-churn.csv"))
    X, y = telco.drop(columns="Churn"), telco["Churn"]

    result = cross_validate_frame(X, y, folds=5, seed=0)

    print(f"\ntelco churn, 5-fold stratified CV, {result['seconds']:.1f} s")
    for name, figures in [*result["members"].items(), ("ensemble", result)]:
        print(
            f"  {name:9s} ROC-AUC {figures['roc_auc']:.3f}  PR-AUC {figures['pr_auc']:.3f}  "
            f"F1 {figures['f1']:.3f}  Brier {figures['brier']:.3f}  threshold {figures['threshold']:.2f}"
        )
    assert result["column_roles"]["customerID"] == "id"
    assert result["column_roles"]["TotalCharges"] == "number_as_text"
    assert result["churn_rate"] == pytest.approx(0.265, abs=0.001)
    assert result["roc_auc"] >= 0.845
    assert result["f1"] >= 0.62


def test_the_stacker_weights_an_informative_member_and_never_turns_one_upside_down():
    from sklearn.linear_model import LogisticRegression

    from ml.churn.stacking import Stacker, logit

    rng = np.random.default_rng(5)
    rows = 4000
    risk = rng.normal(size=rows)
    y = (rng.random(rows) < 1 / (1 + np.exp(-(risk * 1.5 - 3)))).astype(int)
    informative = 1 / (1 + np.exp(-(risk * 1.5 - 3 + rng.normal(scale=0.3, size=rows))))
    noise = rng.uniform(0.01, 0.5, size=rows)  # knows nothing, and is far from the base rate
    # Ranks churners last: its own noisy view of the risk, read backwards.
    upside_down = 1 - 1 / (1 + np.exp(-(risk * 1.5 - 3 + rng.normal(scale=1.0, size=rows))))
    P = np.column_stack([informative, noise, upside_down])

    stacker = Stacker(C=1.0).fit(P, y)

    w_informative, w_noise, w_upside_down = stacker.coef_
    assert w_informative > 0.5 and w_noise < 0.2 * w_informative
    assert w_upside_down == 0.0  # left out, not given a negative weight
    # Where no weight is held at zero it is scikit-learn's L2 logistic regression (same C).
    free = LogisticRegression(C=1.0).fit(logit(P[:, :2]), y)
    assert Stacker(C=1.0).fit(P[:, :2], y).coef_ == pytest.approx(free.coef_[0], abs=2e-3)
    # Calibrated on the rows it learnt from: the mean probability is the churn rate.
    assert stacker.predict(P).mean() == pytest.approx(y.mean(), abs=0.01)


def test_the_ensemble_is_the_stack_of_its_calibrated_members():
    X, y = small_frame(rows=400)
    family = fit_family(X, y, seed=0)

    probabilities = family.member_proba(X.tail(50))

    assert set(family.weights_) == {"lr", "mlp", "gbm"} and min(family.weights_.values()) >= 0
    weights = family.stacker_.coef_
    logits = np.column_stack([np.log(probabilities[n] / (1 - probabilities[n])) for n in ("lr", "mlp", "gbm")])
    expected = 1 / (1 + np.exp(-(family.stacker_.intercept_ + logits @ weights)))
    assert probabilities["ensemble"] == pytest.approx(expected, rel=1e-6)
    assert family.predict_proba(X.tail(50))[:, 1] == pytest.approx(expected, rel=1e-6)
    # A version saved before the stack (no stacker_) still serves: its members' plain average.
    del family.stacker_
    average = np.mean([probabilities[n] for n in ("lr", "mlp", "gbm")], axis=0)
    assert family.member_proba(X.tail(50))["ensemble"] == pytest.approx(average)


def test_the_stack_keeps_every_member_at_its_floor_share():
    """The churn ensemble's stack (floor = half an equal share) never leaves a member out, even
    one the validation rows would drop, and otherwise still follows the validation rows."""
    from ml.churn.family import FLOOR_OF_EQUAL_SHARE
    from ml.churn.stacking import Stacker

    rng = np.random.default_rng(6)
    rows = 4000
    risk = rng.normal(size=rows)
    y = (rng.random(rows) < 1 / (1 + np.exp(-(risk * 1.5 - 3)))).astype(int)
    informative = 1 / (1 + np.exp(-(risk * 1.5 - 3 + rng.normal(scale=0.3, size=rows))))
    weaker = 1 / (1 + np.exp(-(risk * 0.5 - 3 + rng.normal(scale=1.0, size=rows))))
    # Ranks churners last (a member's Platt calibration would flip it; the stack must not).
    upside_down = 1 - 1 / (1 + np.exp(-(risk * 1.5 - 3 + rng.normal(scale=1.0, size=rows))))
    P = np.column_stack([informative, weaker, upside_down])

    free = Stacker(C=1.0).fit(P, y).coef_
    floor = FLOOR_OF_EQUAL_SHARE / 3
    held = Stacker(C=1.0, floor=floor).fit(P, y).coef_
    assert free.min() == 0.0  # the free stack drops a member...
    shares = held / held.sum()
    assert shares.min() == pytest.approx(floor, abs=1e-6)  # ...the floored one keeps it at the floor
    assert shares[0] > 0.5 and np.argmax(shares) == 0
    # Equal weights, one slope fitted: the limit where no member is weighed above another.
    tied = Stacker(tied=True).fit(P, y).coef_
    assert tied == pytest.approx(np.full(3, tied[0])) and tied[0] > 0
    with pytest.raises(ValueError, match="floor"):
        Stacker(floor=0.4).fit(P, y)


def test_the_family_gives_each_member_its_floor_share():
    from ml.churn.family import FLOOR_OF_EQUAL_SHARE

    X, y = small_frame(rows=400)
    weights = np.array(list(fit_family(X, y, seed=0).weights_.values()))
    assert (weights / weights.sum()).min() >= FLOOR_OF_EQUAL_SHARE / 3 - 1e-3
