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

# exp(-600) is ~1e-261: below it, exp returns subnormals that are slow to compute with and that
# no sum containing 1.0 (a log-sum-exp, a row of responsibilities) can tell from 0.
LOG_FLOOR = -600.0

# Elements per block of the full-covariance E-step: the (K d, rows) whitened block (256 KiB)
# stays in the core's cache between the product and the sum of squares (measured: 2^15 to 2^16
# ran 3x faster than 2^17 for d = 2).
_BLOCK_ELEMENTS = 1 << 15


def logsumexp(a, axis: int | None = -1, keepdims: bool = False) -> np.ndarray:
    """Stable ``log(sum(exp(a), axis))``.

    Subtracting the maximum before ``exp`` keeps every term in [0, 1], so nothing overflows and at
    least one term is exactly 1. A slice that is all ``-inf`` gives ``-inf`` (not NaN).

    Implements eq. (3.10) of notebook 03 (the log-sum-exp trick).
    """
    a = np.asarray(a, dtype=np.float64)
    m = np.max(a, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(m), m, 0.0)
    e = a - shift
    # Terms below exp(-600) ~ 1e-261 cannot change a sum that contains 1.0; clamping them keeps
    # exp away from subnormal results, which are tens of times slower to compute with.
    np.maximum(e, LOG_FLOOR, out=e)
    np.exp(e, out=e)
    out = np.log(np.sum(e, axis=axis, keepdims=True))
    out += shift
    np.copyto(out, m, where=np.isneginf(m))  # an all -inf slice (clamped above) stays -inf
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
    it. Returns an (n, K) array stored component by component (Fortran order, the transpose of a
    (K, n) array): every later sum or maximum over the K components then runs over contiguous
    rows of length n, several times faster than along the short rows of a C-ordered (n, K).
    """
    d = X.shape[1]
    const = -0.5 * d * LOG_2PI + half_log_det_precision(U, covariance_type, d)
    if covariance_type == "full":
        maha = _mahalanobis_full(X, mu, U)
    elif covariance_type == "tied":
        maha = _mahalanobis_tied(X, mu, U)
    else:
        prec = U**2 if covariance_type == "diag" else np.repeat((U**2)[:, None], d, axis=1)
        maha = _mahalanobis_diag(X, mu, prec)
    maha *= -0.5
    maha += const
    return maha


def _row_blocks(n: int, width: int):
    """Slices of rows of X whose work arrays, ``width`` numbers per row, fit in a core's cache.

    Blocks replace (n, width) temporaries by small buffers that stay in cache and are reused:
    a fresh 10 MB temporary costs more in page faults than the arithmetic done on it.
    """
    rows = max(256, _BLOCK_ELEMENTS // width)
    return rows, [slice(start, min(start + rows, n)) for start in range(0, n, rows)]


def _mahalanobis_full(X: np.ndarray, mu: np.ndarray, U: np.ndarray) -> np.ndarray:
    """``||(x_i - mu_k) U_k||^2`` for every i, k as one matrix product per block of rows.

    In homogeneous coordinates ``[x, 1] @ [U_k; -mu_k U_k] = (x - mu_k) U_k``, so stacking the K
    blocks whitens a block of rows against all components in a single product; one fused
    square-and-sum (einsum) then reduces each component's d coordinates without writing the
    squares back. Returns an (n, K) Fortran-ordered array (see
    :func:`log_gaussian_from_cholesky`).
    """
    n, d = X.shape
    K = mu.shape[0]
    # Row (k, j) of W holds column j of [U_k; -mu_k U_k]: W @ [x; 1] is the whitened x.
    W = np.empty((K * d, d + 1))
    W[:, :d] = np.swapaxes(U, 1, 2).reshape(K * d, d)
    W[:, d] = -np.einsum("kd,kde->ke", mu, U).reshape(K * d)
    out = np.empty((K, n))
    rows, blocks = _row_blocks(n, K * d)
    # Samples as columns: the product and the sums then run along rows of length `rows`.
    Xh = np.empty((d + 1, min(rows, n)))
    Xh[d] = 1.0
    Y = np.empty((K * d, min(rows, n)))
    for b in blocks:
        m = b.stop - b.start
        Xh[:d, :m] = X[b].T
        np.matmul(W, Xh[:, :m], out=Y[:, :m])
        Yk = Y[:, :m].reshape(K, d, m)
        np.einsum("kdm,kdm->km", Yk, Yk, out=out[:, b])
    return out.T


def _mahalanobis_tied(X: np.ndarray, mu: np.ndarray, U: np.ndarray) -> np.ndarray:
    """``||(x_i - mu_k) U||^2`` for one shared factor U, (n, K) Fortran-ordered.

    Whitening once, ``y = x U`` and ``m_k = mu_k U``, leaves squared Euclidean distances,
    ``||y||^2 - 2 m_k . y + ||m_k||^2`` (one product per block), clipped at 0 against rounding.
    """
    n, d = X.shape
    M = mu @ U
    mm = np.einsum("kd,kd->k", M, M)[:, None]
    out = np.empty((mu.shape[0], n))
    rows, blocks = _row_blocks(n, d)
    Y = np.empty((min(rows, n), d))
    for b in blocks:
        m = b.stop - b.start
        np.matmul(X[b], U, out=Y[:m])
        np.matmul(M, Y[:m].T, out=out[:, b])
        out[:, b] *= -2.0
        out[:, b] += mm
        out[:, b] += np.einsum("nd,nd->n", Y[:m], Y[:m])
    np.maximum(out, 0.0, out=out)
    return out.T


def _mahalanobis_diag(X: np.ndarray, mu: np.ndarray, prec: np.ndarray) -> np.ndarray:
    """``sum_j prec_kj (x_ij - mu_kj)^2`` for (K, d) precisions, (n, K) Fortran-ordered.

    ``x^2 . P - 2 x . (P mu) + mu . P mu`` is one product per block in the coordinates
    ``[x^2, x]``, clipped at 0 against rounding.
    """
    n, d = X.shape
    A = np.concatenate([prec, -2.0 * mu * prec], axis=1)
    out = np.empty((mu.shape[0], n))
    rows, blocks = _row_blocks(n, 2 * d)
    Z = np.empty((min(rows, n), 2 * d))
    for b in blocks:
        m = b.stop - b.start
        np.multiply(X[b], X[b], out=Z[:m, :d])
        Z[:m, d:] = X[b]
        np.matmul(A, Z[:m].T, out=out[:, b])
    out += np.einsum("kd,kd->k", mu * mu, prec)[:, None]
    np.maximum(out, 0.0, out=out)
    return out.T


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
