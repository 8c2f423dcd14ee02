"""Where the fast Mahalanobis forms lose their digits, recompute those entries exactly.

The E-step computes ``(x - mu)^T P (x - mu)`` through matrix products: expanded as
``x^T P x - 2 mu^T P x + mu^T P mu`` (diag, spherical, tied) or as ``[x, 1] @ [U; -mu U]``
(full). Both subtract large numbers when a point lies close to a component whose spread is tiny
next to the point's distance from the origin: a component collapsing onto a data point (the
singularity of notebook 06) or data far from the origin. The rounding error of the result is
then about ``eps (||x|| + ||mu||)^2 / sigma^2``, which can exceed the distance itself.

:func:`repairer` bounds that error per component from ``max ||x||``, ``||mu_k||`` and the largest
precision ``1 / sigma_min^2`` (one pass over X, nothing per sample); only a component whose bound
can matter is checked entry by entry, and only the entries where it does matter are recomputed
from ``x - mu_k``, which has no cancellation. On ordinary data nothing is recomputed.
"""

from __future__ import annotations

import numpy as np

_EPS = np.finfo(np.float64).eps

# Absolute error tolerated in a squared distance m, as a fraction of (1 + m): the log density
# -m/2 + const then keeps about ten significant digits.
_RTOL = 1e-10


def _largest_precision(U: np.ndarray, covariance_type: str, K: int) -> np.ndarray:
    """1 / sigma_min^2 of each component, shape (K,)."""
    if covariance_type == "spherical":
        return U**2
    if covariance_type == "diag":
        return (U**2).max(axis=1)
    # The spectral norm, not the cheaper Frobenius bound: for d = 64 the latter is up to 64 times
    # too large and sends whole columns to the exact path. K small SVDs per step cost little.
    mats = U[None] if covariance_type == "tied" else U
    s = np.linalg.norm(mats, ord=2, axis=(1, 2)) ** 2
    return np.broadcast_to(s, (K,))


def _exact(D: np.ndarray, k: int, U: np.ndarray, covariance_type: str) -> np.ndarray:
    """``(x - mu_k)^T P_k (x - mu_k)`` for the rows ``D = x - mu_k``, from the differences."""
    if covariance_type == "spherical":
        return (D * D).sum(axis=1) * U[k] ** 2
    if covariance_type == "diag":
        return (D * D) @ (U[k] ** 2)
    Y = D @ (U if covariance_type == "tied" else U[k])
    return (Y * Y).sum(axis=1)


def repairer(mu: np.ndarray, U: np.ndarray, covariance_type: str):
    """``repair(X, maha, x_norm)``, which recomputes in place the entries of the (K, m) squared
    distances ``maha`` of the rows ``X`` that rounding may have spoiled; ``x_norm`` bounds the
    norms ``||x_i||`` of those rows.

    What depends only on the components (their norms, largest precisions) is computed once here;
    ``repair`` bounds the error from the rows it is given, so each thread of the E-step checks its
    own rows.
    """
    K, d = mu.shape
    mu_norm = np.linalg.norm(mu, axis=1)
    s = np.sqrt(_largest_precision(U, covariance_type, K))

    def repair(X: np.ndarray, maha: np.ndarray, x_norm: float) -> None:
        Rs = (x_norm + mu_norm) * s
        if covariance_type == "full":
            # Each whitened coordinate carries an error ~ (d + 1) eps R s; squared and summed,
            # the distance m carries ~ 2 sqrt(m) times that, plus its square.
            a = 4 * (d + 1) * _EPS * Rs
            b = a**2 / 4
        else:
            # The expanded form cancels terms of size (R s)^2.
            a = np.zeros(K)
            b = 4 * (d + 2) * _EPS * Rs**2
        # f(m) = a sqrt(m) + b - RTOL (1 + m) is concave with its peak at m* = (a / 2 RTOL)^2, so
        # over a row whose smallest entry is m_min its largest value is f(max(m_min, m*)).
        m_min = maha.min(axis=1)
        m_worst = np.maximum(m_min, (a / (2 * _RTOL)) ** 2)
        for k in np.flatnonzero(a * np.sqrt(m_worst) + b > _RTOL * (1 + m_worst)):
            m = maha[k]
            spoiled = np.flatnonzero(a[k] * np.sqrt(m) + b[k] > _RTOL * (1 + m))
            if spoiled.size:
                maha[k, spoiled] = _exact(X[spoiled] - mu[k], k, U, covariance_type)

    return repair
