"""`Stacker`: the churn ensemble's meta-learner, a logistic regression on the members' log-odds
with weights held at zero or above.

    p = sigmoid(intercept + sum_i weight_i * logit(p_i)),   weight_i >= 0

fitted by L-BFGS-B on the mean log-loss plus an L2 penalty on the weights of 1 / (2 C n) (the
same strength as scikit-learn's `LogisticRegression(C)`; the intercept is not penalised).
scikit-learn's LogisticRegression cannot hold its coefficients non-negative, hence this small
class. Non-negative weights are Breiman's constraint for stacked generalisation ("Stacked
regressions", 1996): with members that agree as much as churn models do, unconstrained weights
can go negative to fit validation noise, and a model that lowers risk when a member raises it
would also make the explanations meaningless.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

_EPS = 1e-6


def logit(proba: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(proba, dtype="float64"), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class Stacker:
    """Fit on a (rows x members) matrix of member probabilities and 0/1 labels; `predict` gives
    the stacked churn probability of such a matrix."""

    def __init__(self, C: float = 1.0):
        self.C = C

    def fit(self, P: np.ndarray, y: np.ndarray) -> Stacker:
        Z = logit(P)
        y = np.asarray(y, dtype="float64")
        n, k = Z.shape
        penalty = 1.0 / (2.0 * self.C * n)

        def loss_and_grad(w):
            z = w[0] + Z @ w[1:]
            loss = np.mean(np.logaddexp(0.0, z) - y * z) + penalty * np.sum(w[1:] ** 2)
            residual = (1.0 / (1.0 + np.exp(-z)) - y) / n
            grad = np.r_[residual.sum(), Z.T @ residual + 2.0 * penalty * w[1:]]
            return loss, grad

        start = np.r_[0.0, np.full(k, 1.0 / k)]  # the mean of the members' log-odds
        bounds = [(None, None)] + [(0.0, None)] * k
        result = minimize(loss_and_grad, start, jac=True, bounds=bounds, method="L-BFGS-B")
        self.intercept_ = float(result.x[0])
        self.coef_ = np.asarray(result.x[1:], dtype="float64")
        return self

    def predict(self, P: np.ndarray) -> np.ndarray:
        z = self.intercept_ + logit(P) @ self.coef_
        return 1.0 / (1.0 + np.exp(-z))
