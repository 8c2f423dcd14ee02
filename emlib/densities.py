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
from ._cancellation import repairer as cancellation_repair
from ._rows import map_rows, row_blocks, work_buffer

LOG_2PI = np.log(2.0 * np.pi)

# exp(-600) is ~1e-261: below it, exp returns subnormals that are slow to compute with and that
# no sum containing 1.0 (a log-sum-exp, a row of responsibilities) can tell from 0.
LOG_FLOOR = -600.0

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


def normalize_log_inplace(log_resp: np.ndarray, floor: float | None = LOG_FLOOR) -> np.ndarray:
    """Turn a (K, m) array of weighted log probabilities into responsibilities in place; return
    ``log p(x_i)`` of its m samples (not finite for a sample that no component can explain,
    whose column is then left as it came).

    One ``exp`` serves both results: ``e_ki = exp(a_ki - max_j a_ji)`` gives the sums ``s_i``
    over components (so ``log p(x_i) = max_j a_ji + log s_i``, eq. (3.10)) and the
    responsibilities ``e_ki / s_i``. Components are rows, so each reduction over k adds K
    contiguous rows.

    ``a_ki - max_j a_ji`` is clamped at ``floor`` before ``exp``: below about -708, ``exp``
    returns subnormal numbers, tens of times slower to compute and to multiply (in the M-step's
    products with resp), and no sum containing 1.0 can see terms below exp(-600) ~ 1e-261.
    ``floor=None`` skips the clamp, so that a component with log probability -inf keeps a
    responsibility of exactly 0 (the Bernoulli mixture's impossible pixels).
    """
    col_max = log_resp.max(axis=0)
    if not np.isfinite(col_max).all():
        return col_max
    log_resp -= col_max
    if floor is not None:
        np.maximum(log_resp, floor, out=log_resp)
    np.exp(log_resp, out=log_resp)
    total = log_resp.sum(axis=0)
    log_resp *= 1.0 / total  # K multiplications per sample cost less than K divisions
    np.log(total, out=total)
    total += col_max
    return total


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
    X: np.ndarray,
    mu: np.ndarray,
    U: np.ndarray,
    covariance_type: str,
    log_weights: np.ndarray | None = None,
    then=None,
) -> np.ndarray:
    """``log N(x_i | mu_k, Sigma_k)`` for validated inputs and precision factors ``U``.

    The fast path used by :func:`emlib.gmm.e_step`; :func:`log_gaussian` validates and then calls
    it. Returns an (n, K) array stored component by component (Fortran order, the transpose of a
    (K, n) array): every later sum or maximum over the K components then runs over contiguous
    rows of length n, several times faster than along the short rows of a C-ordered (n, K).

    The rows of X are shared among threads (:func:`map_rows`), and each thread does all the work
    on its rows: the squared distances block by block (:func:`row_blocks`), the repair of
    entries that rounding spoiled next to a very narrow component, and the constants, with
    ``log_weights`` (K,), if given, added to them (the E-step's ``log pi_k``). ``then``,
    if given, is called as ``then(rows, block)`` with the thread's rows (a slice) and their log
    densities as a (K, len(rows)) view of the result, in that thread while the block is still in
    its cache: the E-step normalises there, so that pass runs side by side too.
    """
    n, d = X.shape
    K = mu.shape[0]
    const = -0.5 * d * LOG_2PI + half_log_det_precision(U, covariance_type, d)
    if log_weights is not None:
        const = const + log_weights
    const = np.broadcast_to(const, (K,))[:, None]
    block_width, work_width, distances = _DISTANCES[covariance_type](mu, U)
    repair = cancellation_repair(mu, U, covariance_type)
    out = np.empty((K, n))

    def work(rows: slice) -> None:
        size, blocks = row_blocks(rows, block_width)
        block_distances = distances(size)
        x_norm = 0.0  # a bound on ||x_i|| over these rows, taken while each block is in cache
        for b in blocks:
            block_norm = block_distances(X[b], out[:, b])
            if block_norm is None:  # ||x|| <= sqrt(d) max |x_j|
                block_norm = np.sqrt(d) * max(X[b].max(), -X[b].min())
            x_norm = max(x_norm, block_norm)
        part = out[:, rows]
        repair(X[rows], part, x_norm)  # points close to a very narrow component, see _cancellation
        part *= -0.5
        part += const
        if then is not None:
            then(rows, part)

    map_rows(work, n, work_width)
    return out.T


# Squared Mahalanobis distances of a block of rows to every component, one kernel per covariance
# type: ``kernel(mu, U)`` precomputes what every block shares and returns the block width for
# row_blocks, the work per row for map_rows, and ``distances(size)``, which takes one thread's
# buffers for blocks of up to ``size`` rows and returns ``block(Xb, out)``, writing the (K, m)
# distances of the m rows ``Xb`` into ``out``. ``block`` returns a bound on the norms ||x_i|| of
# its rows when it has one from the squares it computed (the cancellation bound needs it), or
# None.


def _full_distances(mu: np.ndarray, U: np.ndarray):
    """``||(x_i - mu_k) U_k||^2`` for every i, k as one matrix product per block of rows.

    In homogeneous coordinates ``[x, 1] @ [U_k; -mu_k U_k] = (x - mu_k) U_k``, so stacking the K
    blocks whitens a block of rows against all components in a single product; one fused
    square-and-sum (einsum) then reduces each component's d coordinates without writing the
    squares back.
    """
    K, d = mu.shape
    # Row (k, j) of W holds column j of [U_k; -mu_k U_k]: W @ [x; 1] is the whitened x.
    W = np.empty((K * d, d + 1))
    W[:, :d] = np.swapaxes(U, 1, 2).reshape(K * d, d)
    W[:, d] = -np.einsum("kd,kde->ke", mu, U).reshape(K * d)

    def distances(size: int):
        # Samples as columns: the product and the sums then run along rows of length `size`.
        Xh = work_buffer("full.Xh", (d + 1, size))
        Xh[d] = 1.0
        Y = work_buffer("full.Y", (K * d, size))

        def block(Xb: np.ndarray, out: np.ndarray) -> None:
            m = Xb.shape[0]
            Xh[:d, :m] = Xb.T
            np.matmul(W, Xh[:, :m], out=Y[:, :m])
            Yk = Y[:, :m].reshape(K, d, m)
            np.einsum("kdm,kdm->km", Yk, Yk, out=out)

        return block

    return K * d, K * d, distances


def _expanded_distances(M: np.ndarray, U: np.ndarray | None, scale: np.ndarray | None):
    """``scale_k ||y_i - m_k||^2`` for ``y_i = x_i U`` ('tied'; ``x_i`` itself for 'spherical').

    ``||y||^2 - 2 m_k . y + ||m_k||^2``: one product per block of rows, clipped at 0 against
    rounding, then scaled by the precision of each component ('spherical').
    """
    K, d = M.shape
    mm = np.einsum("kd,kd->k", M, M)[:, None]

    def distances(size: int):
        Y = work_buffer("expanded.Y", (size, d))

        def block(Xb: np.ndarray, out: np.ndarray) -> float | None:
            Yb = Xb if U is None else np.matmul(Xb, U, out=Y[: Xb.shape[0]])
            np.matmul(M, Yb.T, out=out)
            out *= -2.0
            out += mm
            yy = np.einsum("nd,nd->n", Yb, Yb)
            out += yy
            np.maximum(out, 0.0, out=out)
            if scale is not None:
                out *= scale
            return None if U is not None else float(np.sqrt(yy.max()))  # y = x: ||x_i|| exactly

        return block

    return d, K * d, distances


def _diag_distances(mu: np.ndarray, U: np.ndarray):
    """``sum_j prec_kj (x_ij - mu_kj)^2`` for (K, d) precisions ``prec = U^2``.

    ``x^2 . P - 2 x . (P mu) + mu . P mu``: two products per block of rows, the squares of the
    block held in a reused buffer; clipped at 0 against rounding.
    """
    K, d = mu.shape
    prec = U**2
    P_mu = -2.0 * mu * prec
    c = np.einsum("kd,kd->k", mu * mu, prec)[:, None]
    ones = np.ones(d)

    def distances(size: int):
        X2 = work_buffer("diag.X2", (size, d))
        cross = work_buffer("diag.cross", (K, size))
        norms = work_buffer("diag.norms", (size,))

        def block(Xb: np.ndarray, out: np.ndarray) -> float:
            m = Xb.shape[0]
            np.multiply(Xb, Xb, out=X2[:m])
            # ||x_i||^2 exactly, by one product with a vector of ones: up to d times tighter
            # than d max x_j^2, which on the d = 64 benchmark sent every component to the
            # repair's entry-by-entry check.
            x2_max = np.matmul(X2[:m], ones, out=norms[:m]).max()
            np.matmul(prec, X2[:m].T, out=out)
            np.matmul(P_mu, Xb.T, out=cross[:, :m])
            out += cross[:, :m]
            out += c
            np.maximum(out, 0.0, out=out)
            return float(np.sqrt(x2_max))

        return block

    return d, 2 * K * d, distances


_DISTANCES = {
    "full": _full_distances,
    "tied": lambda mu, U: _expanded_distances(mu @ U, U, None),  # whitened by the shared factor
    "spherical": lambda mu, U: _expanded_distances(mu, None, (U**2)[:, None]),
    "diag": _diag_distances,
}


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
