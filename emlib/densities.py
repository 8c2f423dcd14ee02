"""Log densities: Gaussian (four covariance types, through Cholesky factors), Bernoulli, logsumexp.

Everything is computed in log space: a point 10^4 standard deviations from a component has a
density of about exp(-5e7), which is 0.0 in double precision, while its log is an ordinary
number. Normalising in log space (:func:`logsumexp`) is what keeps responsibilities finite.

The Gaussian uses the Cholesky factor ``L`` of each covariance (``Sigma = L L^T``): the precision
factor ``U = L^{-T}`` (a triangular inverse, never the inverse of ``Sigma``) whitens the data,
``(x - mu)^T Sigma^{-1} (x - mu) = ||(x - mu) U||^2``, and ``log det Sigma = 2 sum log diag L``
(never a determinant, which under- or overflows for d = 64).
"""

from __future__ import annotations

import numpy as np

from . import _validation as v

LOG_2PI = np.log(2.0 * np.pi)

# Rows per block in the full-covariance E-step: the (rows, K * d) whitened block stays in cache.
_BLOCK_ELEMENTS = 1 << 17


def logsumexp(a, axis: int | None = -1, keepdims: bool = False) -> np.ndarray:
    """Stable ``log(sum(exp(a), axis))``.

    Subtracting the maximum before ``exp`` keeps every term in [0, 1], so nothing overflows and at
    least one term is exactly 1. A slice that is all ``-inf`` gives ``-inf`` (not NaN).

    Implements eq. (3.7) of notebook 03 (the log-sum-exp trick).
    """
    a = np.asarray(a, dtype=np.float64)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def precision_cholesky(Sigma: np.ndarray, covariance_type: str) -> np.ndarray:
    """Cholesky factor ``U`` of the precision, ``Sigma^{-1} = U U^T``, per component.

    Parameters
    ----------
    Sigma : array, shape (K, d, d) full, (K, d) diag, (K,) spherical, (d, d) tied
    covariance_type : {'full', 'diag', 'spherical', 'tied'}

    Returns
    -------
    U : array of the same shape; upper triangular matrices for 'full' and 'tied', and
        ``1 / sqrt(Sigma)`` element-wise for 'diag' and 'spherical'.

    Raises ``ValueError`` naming the component when a covariance is not positive definite.
    """
    if covariance_type in ("diag", "spherical"):
        if np.any(Sigma <= 0):
            k = int(np.argwhere(np.asarray(Sigma) <= 0)[0][0])
            raise ValueError(
                f"Sigma[{k}] has a variance <= 0, so the Gaussian is undefined. Fix: increase "
                f"reg_covar (e.g. 1e-3) or initialise this component elsewhere."
            )
        return 1.0 / np.sqrt(Sigma)
    mats = Sigma[None] if covariance_type == "tied" else Sigma
    try:
        L = np.linalg.cholesky(mats)
    except np.linalg.LinAlgError:
        bad = [k for k, S in enumerate(mats) if np.linalg.eigvalsh(S)[0] <= 0]
        which = "Sigma" if covariance_type == "tied" else f"Sigma[{bad[0] if bad else '?'}]"
        raise ValueError(
            f"{which} is not positive definite (a component collapsed onto too few points). "
            f"Fix: increase reg_covar (e.g. 1e-3), or use covariance_type='diag' or 'tied'."
        ) from None
    # U = L^{-T}: solving L U^T = I by a batched solve keeps one BLAS thread pool in the loop.
    eye = np.broadcast_to(np.eye(mats.shape[-1]), mats.shape)
    U = np.swapaxes(np.linalg.solve(L, eye), -1, -2)
    return U[0] if covariance_type == "tied" else U


def half_log_det_precision(U: np.ndarray, covariance_type: str, n_features: int) -> np.ndarray:
    """``-1/2 log det Sigma_k`` from the precision factor, shape (K,) (a scalar for 'tied')."""
    if covariance_type == "full":
        return np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)
    if covariance_type == "tied":
        return np.log(np.diag(U)).sum()
    if covariance_type == "diag":
        return np.log(U).sum(axis=1)
    return n_features * np.log(U)


def log_gaussian_from_cholesky(
    X: np.ndarray, mu: np.ndarray, U: np.ndarray, covariance_type: str
) -> np.ndarray:
    """``log N(x_i | mu_k, Sigma_k)`` for validated inputs and precision factors ``U``.

    The fast path used by :func:`emlib.gmm.e_step`; :func:`log_gaussian` validates and then calls
    it. Returns an (n, K) array.
    """
    d = X.shape[1]
    K = mu.shape[0]
    const = -0.5 * d * LOG_2PI + half_log_det_precision(U, covariance_type, d)
    if covariance_type == "full":
        maha = _mahalanobis_full(X, mu, U)
    elif covariance_type == "tied":
        # Whiten once with the shared factor, then squared distances to the whitened means.
        Y = X @ U
        M = mu @ U
        maha = _squared_distances(Y, M)
    else:
        prec = U**2 if covariance_type == "diag" else np.broadcast_to((U**2)[:, None], (K, d))
        # ||x - mu||^2_P = x^2 . P - 2 x . (P mu) + mu . P mu, as two matrix products.
        maha = (X * X) @ prec.T - 2.0 * (X @ (mu * prec).T) + np.einsum("kd,kd->k", mu * mu, prec)
        np.maximum(maha, 0.0, out=maha)
    maha *= -0.5
    maha += const
    return maha


def _squared_distances(Y: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``||y_i - m_k||^2`` as an (n, K) array, clipped at 0 against rounding."""
    D = np.einsum("nd,nd->n", Y, Y)[:, None] - 2.0 * (Y @ M.T) + np.einsum("kd,kd->k", M, M)
    np.maximum(D, 0.0, out=D)
    return D


def _mahalanobis_full(X: np.ndarray, mu: np.ndarray, U: np.ndarray) -> np.ndarray:
    """``||(x_i - mu_k) U_k||^2`` for every i, k as one matrix product per block of rows.

    In homogeneous coordinates ``[x, 1] @ [U_k; -mu_k U_k] = (x - mu_k) U_k``, so stacking the K
    blocks side by side whitens a block of rows against all components in a single product.
    """
    n, d = X.shape
    K = mu.shape[0]
    W = np.empty((d + 1, K * d))
    W[:d] = np.transpose(U, (1, 0, 2)).reshape(d, K * d)
    W[d] = -np.einsum("kd,kde->ke", mu, U).reshape(K * d)
    out = np.empty((n, K))
    rows = max(256, _BLOCK_ELEMENTS // (K * d))
    Xh = np.empty((min(rows, n), d + 1))
    Xh[:, d] = 1.0
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        m = stop - start
        Xh[:m, :d] = X[start:stop]
        Y = Xh[:m] @ W
        Y *= Y
        out[start:stop] = Y.reshape(m, K, d).sum(axis=2)
    return out


def log_gaussian(X, mu, Sigma, covariance_type: str = "full") -> np.ndarray:
    """Log density of every point under every Gaussian component.

    .. math:: \\log \\mathcal N(x_i \\mid \\mu_k, \\Sigma_k) = -\\tfrac d2 \\log 2\\pi
              - \\tfrac12 \\log\\det\\Sigma_k - \\tfrac12 (x_i-\\mu_k)^T\\Sigma_k^{-1}(x_i-\\mu_k)

    Implements eq. (3.1) of notebook 03, through Cholesky factors (see the module docstring).

    Parameters
    ----------
    X : array, shape (n, d) (a 1-D array is read as n samples of one feature)
    mu : array, shape (K, d)
    Sigma : array, shape (K, d, d) for 'full', (K, d) for 'diag', (K,) for 'spherical'
        (one variance per component), (d, d) for 'tied' (one matrix shared by all)
    covariance_type : {'full', 'diag', 'spherical', 'tied'}

    Returns
    -------
    log_prob : array, shape (n, K)
    """
    X = v.check_X(X)
    v.check_choice(covariance_type, "covariance_type", v.COVARIANCE_TYPES)
    mu = np.asarray(mu, dtype=np.float64)
    K = mu.shape[0] if mu.ndim >= 1 else 0
    mu = v.check_means(mu, K, X.shape[1])
    Sigma = v.check_covariances(Sigma, covariance_type, K, X.shape[1])
    U = precision_cholesky(Sigma, covariance_type)
    return log_gaussian_from_cholesky(X, mu, U, covariance_type)


def log_bernoulli(X, theta) -> np.ndarray:
    """Log probability of every binary vector under every multivariate Bernoulli component.

    .. math:: \\log p(x_i \\mid \\theta_k) = \\sum_j x_{ij} \\log\\theta_{kj}
              + (1 - x_{ij}) \\log(1 - \\theta_{kj})

    Implements eq. (5.1) of notebook 05. The sum over d = 784 pixels of logs is an ordinary
    number where the product of probabilities would underflow to 0. A pixel that a component
    declares impossible (``theta = 0`` where ``x = 1``) gives ``-inf``, never NaN.

    Parameters
    ----------
    X : array, shape (n, d), entries 0 or 1
    theta : array, shape (K, d), entries in [0, 1]

    Returns
    -------
    log_prob : array, shape (n, K)
    """
    X = v.check_X(X, binary=True)
    theta = v.check_probabilities(theta, X.shape[1])
    return log_bernoulli_unchecked(X, theta)


def log_bernoulli_unchecked(X: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """:func:`log_bernoulli` without validation (the E-step's fast path)."""
    with np.errstate(divide="ignore"):
        log_t = np.log(theta)
        log_1mt = np.log1p(-theta)
    edge = ~np.isfinite(log_t) | ~np.isfinite(log_1mt)
    if not edge.any():
        # x log t + (1 - x) log(1 - t) = x (log t - log(1 - t)) + log(1 - t): one product.
        return X @ (log_t - log_1mt).T + log_1mt.sum(axis=1)
    # theta of exactly 0 or 1: 0 * log 0 is 0 here, and impossible pixels make the row -inf.
    safe_t = np.where(np.isfinite(log_t), log_t, 0.0)
    safe_1mt = np.where(np.isfinite(log_1mt), log_1mt, 0.0)
    out = X @ (safe_t - safe_1mt).T + safe_1mt.sum(axis=1)
    impossible = X @ (theta == 0).T + (1.0 - X) @ (theta == 1).T
    out[impossible > 0] = -np.inf
    return out
