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
