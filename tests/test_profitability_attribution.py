"""The profitability kind's fast attribution path gives the answers shap's TreeExplainer gives:
the same predictions, the same SHAP values, summing to the prediction."""

import numpy as np
import pandas as pd
import pytest

from ml.estimators.profitability.attribution import Attributor
from ml.estimators.profitability.train import make_model


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(300, 6)), columns=[f"f{i}" for i in range(6)])
    X.iloc[::7, 2] = np.nan  # real feature frames have holes
    y = X["f0"] * 2 - X["f1"].fillna(0) + rng.normal(scale=0.1, size=300)
    return X, y


@pytest.mark.parametrize("family,params", [("xgboost", {"max_depth": 3, "n_estimators": 60}),
                                           ("random_forest", {"min_samples_leaf": 5})])
def test_contributions_match_shap_and_sum_to_the_prediction(frame, family, params):
    import shap

    X, y = frame
    model = make_model(family, params).fit(X, y)
    attributor = Attributor(model)
    rows = X.iloc[:25]
    scale = np.full(len(rows), 3.0)
    np.testing.assert_allclose(attributor.change(rows), model.predict(rows), rtol=1e-5, atol=1e-5)
    ours = attributor.contributions(rows, scale)
    reference = np.asarray(shap.TreeExplainer(model).shap_values(rows, check_additivity=False)) * 3.0
    np.testing.assert_allclose(ours, reference, rtol=1e-3, atol=1e-3)
    expected = float(np.mean(model.predict(X)))  # the explainer's base value, near the training mean
    assert np.allclose(ours.sum(axis=1) / 3.0, attributor.change(rows) - expected, atol=0.25)


def test_the_flat_forest_predicts_what_scikit_learn_predicts(frame):
    from ml.estimators.profitability.forest import FlatForest

    X, y = frame
    model = make_model("random_forest", {"min_samples_leaf": 5}).fit(X, y)
    rows = X.iloc[:40].to_numpy(dtype="float64")
    np.testing.assert_allclose(FlatForest(model).predict(rows), model.predict(X.iloc[:40]), rtol=1e-12, atol=1e-12)


# -- the batch path: ml.explanations.treeshap, for BATCH rows or more ------------------------------

def _reference(model, rows):
    """shap's TreeExplainer, path-dependent (its default without background data)."""
    import shap

    explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    return np.asarray(explainer.shap_values(rows, check_additivity=False))


@pytest.fixture(scope="module")
def wide():
    """A frame like the profitability features: many columns, holes, whole-number columns."""
    rng = np.random.default_rng(11)
    n = 600
    X = pd.DataFrame(rng.normal(size=(n, 12)), columns=[f"f{i}" for i in range(12)])
    X["month"] = rng.integers(1, 13, n).astype(float)
    X.loc[rng.random(n) < 0.15, "f3"] = np.nan
    X.loc[rng.random(n) < 0.05, "f7"] = np.nan
    y = (X["f0"] * 2 - X["f1"] * X["f2"] + np.where(X["f3"].isna(), 1.5, X["f3"]) + np.sin(X["month"])
         + rng.normal(scale=0.2, size=n))
    return X, y


@pytest.mark.parametrize("params", [{"min_samples_leaf": 5}, {"min_samples_leaf": 20}])
def test_batch_shap_of_a_forest_equals_shap_tree_explainer(wide, params):
    from ml.estimators.profitability.attribution import BATCH

    X, y = wide
    model = make_model("random_forest", params).fit(X.iloc[:400], y.iloc[:400])
    rows = X.iloc[100:]  # seen and unseen rows, holes included
    assert len(rows) >= BATCH
    scale = np.linspace(3_000, 40_000, len(rows))
    attributor = Attributor(model)
    ours = attributor.contributions(rows, scale)
    assert attributor._batch is not None, "a batch this size must take the numpy TreeSHAP"
    reference = _reference(model, rows) * scale[:, None]
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)
    # Local accuracy: the row's values sum to its prediction less the forest's expected value.
    expected = float(np.mean([e.tree_.value[0, 0, 0] for e in model.estimators_]))
    np.testing.assert_allclose(ours.sum(axis=1) / scale, model.predict(rows) - expected, atol=1e-9)


@pytest.mark.parametrize("table", [True, False])
def test_batch_shap_of_deep_trees_equals_shap(wide, monkeypatch, table):
    """Deep, unpruned trees take the other numbering paths (hashed decisions; sorted codes
    where a table of every possible code would be too large); a large batch goes in blocks."""
    from sklearn.ensemble import RandomForestRegressor

    from ml.explanations import treeshap

    if not table:
        monkeypatch.setattr(treeshap, "_TABLE", 0)
        monkeypatch.setattr(treeshap, "ROWS_AT_ONCE", 250)
    X, y = wide
    model = RandomForestRegressor(n_estimators=4, min_samples_leaf=1, max_features=0.5, random_state=1).fit(X, y)
    assert max(e.tree_.max_depth for e in model.estimators_) >= 15
    ours = treeshap.TreeShap.from_sklearn(model).values(X.to_numpy())
    np.testing.assert_allclose(ours, _reference(model, X), rtol=0, atol=1e-9)


def test_the_batch_explanation_words_are_the_ones_shap_gives(wide):
    """The stored sentence and the top contributions come out the same whichever path computed
    the SHAP values."""
    from ml.estimators.profitability.explain import explain_rows

    X, y = wide
    model = make_model("random_forest", {"min_samples_leaf": 5}).fit(X, y)
    scale = np.full(len(X), 10_000.0)
    baseline = np.linspace(-5_000, 20_000, len(X))
    values = baseline + model.predict(X) * scale
    fast = explain_rows(X, Attributor(model).contributions(X, scale), values, baseline)
    slow = explain_rows(X, _reference(model, X) * scale[:, None], values, baseline)
    assert [e["text"] for e in fast] == [e["text"] for e in slow]
    assert fast == slow
    assert len({e["text"] for e in fast}) > 100  # the sentences differ from client to client
