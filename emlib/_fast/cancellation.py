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


def _error_terms(Rs, full: bool, d: int):
    """``(a, b)``: the error of a squared distance m is at most ``a sqrt(m) + b``, for
    ``Rs = (||x|| + ||mu_k||) s_k`` (an array per component, or one number)."""
    if full:
        # Each whitened coordinate carries an error ~ (d + 1) eps R s; squared and summed,
        # the distance m carries ~ 2 sqrt(m) times that, plus its square.
        a = 4 * (d + 1) * _EPS * Rs
        return a, a**2 / 4
    # The expanded form cancels terms of size (R s)^2.
    return 0.0 * Rs, 4 * (d + 2) * _EPS * Rs**2


def _spoiled_range(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The squared distances m with ``a sqrt(m) + b > RTOL (1 + m)`` (error above tolerance),
    as ``low < m < high`` per component.

    With ``t = sqrt(m)`` the condition is ``RTOL t^2 - a t + RTOL - b < 0``: t between the two
    roots of that quadratic. Where the smaller root is negative every m below ``high`` counts,
    and ``low`` is -1; where there is no real root nothing does, and ``high`` is 0. Each
    component then needs one comparison per entry.
    """
    disc = a**2 - 4 * _RTOL * (_RTOL - b)
    root = np.sqrt(np.maximum(disc, 0.0))
    t_low, t_high = (a - root) / (2 * _RTOL), (a + root) / (2 * _RTOL)
    real = (disc > 0) & (t_high > 0)
    high = np.where(real, t_high**2, 0.0)
    low = np.where(real & (t_low > 0), t_low**2, -1.0)
    return low, high


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
    full = covariance_type == "full"
    mu_norm_max, s_max = float(mu_norm.max()), float(s.max())

    def repair(X: np.ndarray, maha: np.ndarray, x_norm: float) -> None:
        # Errors grow with ||x||, ||mu_k|| and s_k, so the largest of each bounds every
        # component's range at once: on ordinary data one pass over maha (its minimum) and a
        # few scalars show that nothing needs checking. (The threads of the E-step take turns
        # on the few small array operations of the per-component ranges, a measured 3% of a
        # d = 64 iteration, so they are left for the rare rows that need them.)
        _, high = _spoiled_range(*_error_terms((x_norm + mu_norm_max) * s_max, full, d))
        if float(maha.min()) >= high:
            return
        low, high = _spoiled_range(*_error_terms((x_norm + mu_norm) * s, full, d))
        # A component's entries can be spoiled only if its row reaches below `high`.
        for k in np.flatnonzero(maha.min(axis=1) < high):
            m = maha[k]
            spoiled = np.flatnonzero((m < high[k]) & (m > low[k]))
            if spoiled.size:
                maha[k, spoiled] = _exact(X[spoiled] - mu[k], k, U, covariance_type)

    return repair
