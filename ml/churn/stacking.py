"""`Stacker`: the churn ensemble's meta-learner, a logistic regression on the members' log-odds
with weights held at zero or above.

    p = sigmoid(intercept + sum_i weight_i * logit(p_i)),   weight_i >= 0

fitted by L-BFGS-B on the mean log-loss plus an L2 penalty of 1 / (2 C n) (the same strength as
scikit-learn's `LogisticRegression(C)`; the intercept is not penalised). scikit-learn's
LogisticRegression cannot hold its coefficients non-negative, hence this small class.
Non-negative weights are Breiman's constraint for stacked generalisation ("Stacked
regressions", 1996): with members that agree as much as churn models do, unconstrained weights
can go negative to fit validation noise, and a model that lowers risk when a member raises it
would also make the explanations meaningless.

Two ways to keep a few validation churners from deciding too much, both in the same form (so
the explanations read any of them the same way):
- `floor`: each member's share of the summed weights is at least `floor` (at most 1 / k). The
  weights are written w = A v with v >= 0 and A = I + c 1 1^T / k, c = floor k / (1 - floor k):
  a member whose v is 0 keeps the share c / (k (1 + c)) = floor.
- `toward_equal`: the L2 penalty is on the weights' spread around their mean rather than on
  the weights, shrinking them toward equal weights instead of toward zero.
`tied=True` is the limit of both: equal weights, one common slope and the intercept fitted
(Platt scaling of the mean of the members' log-odds), no penalty.
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
    the stacked churn probability of such a matrix. `coef_` is the weight per member (on its
    log-odds), `intercept_` the intercept."""

    def __init__(self, C: float = 1.0, floor: float = 0.0, toward_equal: bool = False, tied: bool = False):
        self.C = C
        self.floor = floor
        self.toward_equal = toward_equal
        self.tied = tied

    def _design(self, k: int) -> np.ndarray:
        """A (k x free weights) matrix: the members' weights are A @ v, v >= 0."""
        if self.tied:
            return np.full((k, 1), 1.0 / k)
        if not 0.0 <= self.floor * k < 1.0:
            raise ValueError(f"floor {self.floor} must be at least 0 and below 1 / {k} members")
        c = self.floor * k / (1.0 - self.floor * k)
        return np.eye(k) + c * np.ones((k, k)) / k

    def fit(self, P: np.ndarray, y: np.ndarray) -> Stacker:
        Z = logit(P)
        y = np.asarray(y, dtype="float64")
        n, k = Z.shape
        A = self._design(k)
        penalty = 0.0 if self.tied else 1.0 / (2.0 * self.C * n)
        centre = self.toward_equal

        def loss_and_grad(theta):
            w = A @ theta[1:]
            z = theta[0] + Z @ w
            spread = w - w.mean() if centre else w
            loss = np.mean(np.logaddexp(0.0, z) - y * z) + penalty * np.sum(spread**2)
            residual = (1.0 / (1.0 + np.exp(-z)) - y) / n
            grad_w = Z.T @ residual + 2.0 * penalty * spread
            return loss, np.r_[residual.sum(), A.T @ grad_w]

        # Start from the mean of the members' log-odds (equal weights summing to 1).
        start = np.r_[0.0, np.linalg.lstsq(A, np.full(k, 1.0 / k), rcond=None)[0].clip(0.0)]
        bounds = [(None, None)] + [(0.0, None)] * A.shape[1]
        result = minimize(loss_and_grad, start, jac=True, bounds=bounds, method="L-BFGS-B")
        self.intercept_ = float(result.x[0])
        self.coef_ = np.asarray(A @ result.x[1:], dtype="float64")
        return self

    def predict(self, P: np.ndarray) -> np.ndarray:
        z = self.intercept_ + logit(P) @ self.coef_
        return 1.0 / (1.0 + np.exp(-z))
