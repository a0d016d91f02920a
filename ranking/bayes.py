"""A Bayesian logistic regression with a diagonal Gaussian posterior, updated online.

The update is the Laplace approximation of Chapelle & Li, "An Empirical Evaluation of
Thompson Sampling" (NIPS 2011, algorithm 3): the new mean is the MAP weight under the
current posterior as prior (found by SciPy's L-BFGS), the new precision adds each
example's curvature p(1 - p) x^2. Sampling a weight vector from the posterior and ranking
by it is Thompson sampling: an untried feature keeps a wide posterior, so it sometimes
samples high and its leads get contacted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, sparse
from scipy.special import expit, log_expit

# SciPy ships no type stubs here: a sparse matrix or an ndarray, checked at run time.
Matrix = Any


@dataclass
class Posterior:
    mean: np.ndarray
    precision: np.ndarray

    @classmethod
    def prior(cls, n_features: int, *, precision: float = 1.0) -> Posterior:
        return cls(np.zeros(n_features), np.full(n_features, precision))

    def update(self, X: Matrix, y: np.ndarray) -> Posterior:
        """The posterior after observing labels y (1 positive, 0 negative) for rows X."""
        X = sparse.csr_matrix(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if X.shape[0] == 0:
            return self
        # Only the columns these rows touch move; the rest keep their posterior exactly,
        # which keeps an update cheap however wide the hashed feature space is.
        columns = np.unique(X.indices)
        Xc = X[:, columns]
        m0, q0 = self.mean[columns], self.precision[columns]
        sign = 2.0 * y - 1.0

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            margin = sign * (Xc @ w)
            value = 0.5 * float(q0 @ (w - m0) ** 2) - float(log_expit(margin).sum())
            grad = q0 * (w - m0) - Xc.T @ (sign * expit(-margin))
            return value, np.asarray(grad).ravel()

        fit = optimize.minimize(loss, m0, jac=True, method="L-BFGS-B")
        w = fit.x
        p = expit(Xc @ w)
        curvature = np.asarray(Xc.multiply(Xc).T @ (p * (1.0 - p))).ravel()
        mean, precision = self.mean.copy(), self.precision.copy()
        mean[columns] = w
        precision[columns] = q0 + curvature
        return Posterior(mean, precision)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One weight vector drawn from the posterior (Thompson sampling)."""
        return rng.normal(self.mean, 1.0 / np.sqrt(self.precision))


def probability(X: Matrix, weights: np.ndarray) -> np.ndarray:
    """P(positive) for each row: the logistic of the row's weighted features."""
    return expit(X @ weights)
