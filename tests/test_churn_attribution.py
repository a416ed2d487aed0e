"""Churn batch scoring's SHAP values come from the numpy TreeSHAP (ml.explanations.treeshap)
for large batches: they must be the values LightGBM's own pred_contrib and shap's TreeExplainer
give, and the reasons, words and actions must be the ones the per-row path gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.estimators.churn import attribution, reasons
from ml.estimators.churn.dataset import FEATURES
from ml.estimators.churn.predict import score_frame
from ml.explanations.treeshap import TreeShap


def churn_like(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows with the churn frame's features (holes included) and a label that depends on a few."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(rows, len(FEATURES))), columns=list(FEATURES))
    X["late_invoice_share_6m"] = rng.random(rows)
    X["qbr_last_12m"] = rng.integers(0, 4, rows).astype(float)
    X["resolution_sla_3m"] = rng.uniform(0.5, 1.0, rows)
    X.loc[rng.random(rows) < 0.1, "csat_6m"] = np.nan
    push = 2.5 * X["late_invoice_share_6m"] - 0.8 * X["qbr_last_12m"] - 3 * X["resolution_sla_3m"] + X["rhem_3m"]
    y = (push + rng.normal(scale=0.7, size=rows) > 0.2).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def family():
    from ml.churn import build_family

    X, y = churn_like(600, seed=4)
    return build_family(seed=0).fit(X, y)


def test_batch_contributions_equal_lightgbm_pred_contrib(family):
    X, _ = churn_like(attribution.BATCH + 200, seed=5)
    fast = reasons.contributions(family, X)
    learner = family.members_["gbm"].named_steps["learn"]
    assert id(learner) in attribution._explainers, "a batch this size must take the numpy TreeSHAP"
    # The same sum written out with LightGBM's own pred_contrib, row by row.
    gbm_scale, lr_scale = reasons.member_scales(family, ["gbm", "lr"])
    Z, names = reasons._prepared(family.members_["gbm"], X)
    slow = gbm_scale * pd.DataFrame(learner.predict(Z, pred_contrib=True)[:, :-1], columns=names, index=X.index)
    Z, names = reasons._prepared(family.members_["lr"], X)
    lr = family.members_["lr"].named_steps["learn"]
    slow = (slow + lr_scale * pd.DataFrame(Z * lr.coef_[0], columns=names, index=X.index))[list(fast.columns)]
    np.testing.assert_allclose(fast.to_numpy(), slow.fillna(0.0).to_numpy(), rtol=0, atol=1e-6)
    assert (slow.abs().to_numpy() > 1e-3).sum() > len(X)  # the values are not all zero


def test_each_members_part_is_scaled_as_the_stack_weighs_it(family):
    """The ensemble's log-odds move by weight x calibration slope per unit of a member's own
    log-odds: a member the stack leaves out explains nothing, and with neither explained member
    weighed the two are averaged as a stand-in."""
    import copy

    X, _ = churn_like(50, seed=8)
    scales = reasons.member_scales(family, ["gbm", "lr"])
    weights = dict(zip(family.members_, family.stacker_.coef_, strict=True))
    assert scales == [pytest.approx(weights[n] * family.calibrators_[n].coef_[0][0]) for n in ("gbm", "lr")]
    no_lr = copy.copy(family)
    no_lr.stacker_ = copy.copy(family.stacker_)
    no_lr.stacker_.coef_ = np.array([0.0 if n == "lr" else weights[n] for n in family.members_])
    Z, names = reasons._prepared(family.members_["gbm"], X)
    learner = family.members_["gbm"].named_steps["learn"]
    gbm_only = pd.DataFrame(learner.predict(Z, pred_contrib=True)[:, :-1], columns=names, index=X.index)
    expected = (reasons.member_scales(no_lr, ["gbm", "lr"])[0] * gbm_only)[list(X.columns)]
    np.testing.assert_allclose(reasons.contributions(no_lr, X).to_numpy(), expected.to_numpy(), atol=1e-9)
    neither = copy.copy(no_lr)
    neither.stacker_ = copy.copy(no_lr.stacker_)
    neither.stacker_.coef_ = np.array([1.0 if n == "mlp" else 0.0 for n in family.members_])
    assert reasons.member_scales(neither, ["gbm", "lr"]) == [0.5, 0.5]


def test_batch_reasons_and_scores_are_unchanged(family):
    X, _ = churn_like(attribution.BATCH + 200, seed=6)
    batch = reasons.explain(family, X)  # the numpy TreeSHAP
    small = [r for start in range(0, len(X), 100) for r in reasons.explain(family, X.iloc[start:start + 100])]
    assert batch == small  # LightGBM's own pred_contrib, under BATCH rows at a time
    rows = X.assign(client_id=np.arange(1, len(X) + 1))
    scored = score_frame(family, rows)
    one_by_one = [score_frame(family, rows.iloc[[i]])[0] for i in range(0, len(rows), 97)]
    assert [s.explanation for s in scored[::97]] == [s.explanation for s in one_by_one]
    assert sum(bool(s.explanation["reasons"]) for s in scored) > len(scored) / 2


@pytest.mark.parametrize("missing", ["nan", "zero", "none"])
def test_lightgbm_trees_equal_pred_contrib_and_shap(missing):
    """LightGBM's three ways of sending a missing value: learnt (NaN), zero as missing, and a
    feature with no hole in training read as 0 when one turns up."""
    import lightgbm
    import shap

    rng = np.random.default_rng(7)
    X = rng.normal(size=(500, 6))
    X[rng.random(500) < 0.2, 0] = 0.0
    if missing == "nan":
        X[rng.random(500) < 0.15, 1] = np.nan
    y = (X[:, 0] + np.nan_to_num(X[:, 1], nan=1.0) - X[:, 2] * X[:, 3] + rng.normal(size=500) > 0).astype(int)
    model = lightgbm.LGBMClassifier(n_estimators=40, num_leaves=15, min_child_samples=10, subsample=0.8,
                                    subsample_freq=1, zero_as_missing=missing == "zero", verbose=-1).fit(X, y)
    expected = {"nan": "NaN", "zero": "Zero", "none": "None"}[missing]
    assert expected in _missing_types(model.booster_.dump_model()["tree_info"])
    rows = X.copy()
    rows[::9, 1] = np.nan  # holes at prediction time too
    ours = TreeShap.from_lightgbm(model).values(rows)
    np.testing.assert_allclose(ours, model.predict(rows, pred_contrib=True)[:, :-1], rtol=0, atol=1e-9)
    reference = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent").shap_values(rows)
    reference = reference[1] if isinstance(reference, list) else reference
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)


def _missing_types(trees) -> set[str]:
    found, stack = set(), [t["tree_structure"] for t in trees]
    while stack:
        node = stack.pop()
        if "split_feature" in node:
            found.add(node.get("missing_type"))
            stack += [node["left_child"], node["right_child"]]
    return found
