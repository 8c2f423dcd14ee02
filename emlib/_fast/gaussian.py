"""Gaussian log densities and the E-step, fast: threads over rows, blocks, reused buffers.

:func:`emlib.reference.log_gaussian` and :func:`emlib.reference.e_step` are eqs. (3.1) and (3.4)
of notebook 03 as written; the functions here compute the same numbers (the property tests hold
them to it) through precision factors ``U`` (``Sigma^{-1} = U U^T``, see
:func:`emlib.densities.precision_cholesky`):
``(x - mu)^T Sigma^{-1} (x - mu) = ||(x - mu) U||^2`` and ``-1/2 log det Sigma = sum log diag U``.

Results are (n, K) arrays stored component by component (Fortran order, the transpose of a
(K, n) array): every sum or maximum over the K components then runs over contiguous rows of
length n, several times faster than along the short rows of a C-ordered (n, K).

The rows of X are shared among threads (:func:`.rows.map_rows`), and each thread does all the
work on its rows, block by block (:func:`.rows.row_blocks`): the squared distances of one
kernel per covariance type, the repair of entries that rounding spoiled next to a very narrow
component (:mod:`.cancellation`), the constants with ``log pi_k``, and for the E-step the
normalisation into responsibilities, while the rows are still in its cache.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .cancellation import repairer
from .logspace import logsumexp, normalize_log_inplace
from .rows import map_rows, row_blocks, work_buffer

LOG_2PI = np.log(2.0 * np.pi)


class EStep(NamedTuple):
    """Responsibilities ``resp`` (n, K), rows summing to 1, and ``log_px`` (n,) = log p(x_i)."""

    resp: np.ndarray
    log_px: np.ndarray


def e_step(X, mu, U, covariance_type: str, log_pi) -> EStep:
    """Eq. (3.4) for validated inputs: ``resp`` stored column by column, and ``log p(x_i)``.

    A sample that no component explains has a non-finite ``log_px`` (its block of rows is then
    left unnormalised); the caller raises.
    """
    out, parts = _weighted_log_prob(X, mu, U, covariance_type, log_pi, normalize=True)
    return EStep(out.T, np.concatenate(parts))


def log_density(X, mu, U, covariance_type: str, log_pi) -> np.ndarray:
    """``log p(x_i | theta) = logsumexp_k (log pi_k + log N(x_i | mu_k, Sigma_k))``, shape (n,)."""
    out, _ = _weighted_log_prob(X, mu, U, covariance_type, log_pi, normalize=False)
    return logsumexp(out, axis=0)


def log_gaussian(X, mu, U, covariance_type: str) -> np.ndarray:
    """``log N(x_i | mu_k, Sigma_k)`` of eq. (3.1), shape (n, K), stored column by column."""
    out, _ = _weighted_log_prob(X, mu, U, covariance_type, None, normalize=False)
    return out.T


def half_log_det_precision(U: np.ndarray, covariance_type: str, n_features: int) -> np.ndarray:
    """``-1/2 log det Sigma_k`` from the precision factor, shape (K,) (a scalar for 'tied')."""
    if covariance_type == "full":
        return np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)
    if covariance_type == "tied":
        return np.log(np.diag(U)).sum()
    if covariance_type == "diag":
        return np.log(U).sum(axis=1)
    return n_features * np.log(U)


def _weighted_log_prob(X, mu, U, covariance_type, log_weights, normalize: bool):
    """The (K, n) array ``log w_k + log N(x_i | mu_k, Sigma_k)`` (no weights: ``log_weights`` is
    None), normalised into responsibilities if ``normalize``; and the threads' ``log p(x_i)``
    of their rows, in order (an empty list unless ``normalize``).

    Each thread writes only the columns of its own rows.
    """
    n, d = X.shape
    K = mu.shape[0]
    const = -0.5 * d * LOG_2PI + half_log_det_precision(U, covariance_type, d)
    if log_weights is not None:
        const = const + log_weights
    const = np.broadcast_to(const, (K,))[:, None]
    kernel = KERNELS[covariance_type](mu, U)
    repair = repairer(mu, U, covariance_type)
    out = np.empty((K, n))

    def work(rows: slice) -> np.ndarray | None:
        size, blocks = row_blocks(rows, kernel.block_width)
        buffers = kernel.buffers(size)
        x_norm = 0.0  # a bound on ||x_i|| over these rows, taken while each block is in cache
        for b in blocks:
            block_norm = kernel.squared_distances(X[b], out[:, b], buffers)
            if block_norm is None:  # ||x|| <= sqrt(d) max |x_j|
                block_norm = np.sqrt(d) * max(X[b].max(), -X[b].min())
            x_norm = max(x_norm, block_norm)
        maha = out[:, rows]
        repair(X[rows], maha, x_norm)  # points close to a very narrow component
        maha *= -0.5  # log N = -1/2 maha + const, in place
        maha += const
        return normalize_log_inplace(maha) if normalize else None

    parts = map_rows(work, n, kernel.work_width)
    return out, parts if normalize else []


# Squared Mahalanobis distances of a block of rows to every component, one kernel per covariance
# type. A kernel is built from (mu, U) once per step and holds what every block shares;
# ``block_width`` (numbers per row of its buffers) sizes the blocks of row_blocks, ``work_width``
# (work per row) decides how many threads map_rows uses; ``buffers(size)`` takes one thread's
# reused buffers for blocks of up to ``size`` rows, and ``squared_distances(Xb, out, buffers)``
# writes the (K, m) distances of the m rows ``Xb`` into ``out``, returning a bound on the norms
# ||x_i|| of its rows when the squares it computed give one (the repair needs it), else None.


class _FullBuffers(NamedTuple):
    Xh: np.ndarray  # (d + 1, size): a block's samples as columns, a row of ones below
    Y: np.ndarray  # (K d, size): the whitened samples, component after component


class FullKernel:
    """``||(x_i - mu_k) U_k||^2`` for every i, k as one matrix product per block of rows.

    In homogeneous coordinates ``[x, 1] @ [U_k; -mu_k U_k] = (x - mu_k) U_k``, so stacking the K
    blocks whitens a block of rows against all components in a single product; one fused
    square-and-sum (einsum) then reduces each component's d coordinates without writing the
    squares back.
    """

    def __init__(self, mu: np.ndarray, U: np.ndarray):
        K, d = mu.shape
        # Row (k, j) of W holds column j of [U_k; -mu_k U_k]: W @ [x; 1] is the whitened x.
        self.W = np.empty((K * d, d + 1))
        self.W[:, :d] = np.swapaxes(U, 1, 2).reshape(K * d, d)
        self.W[:, d] = -np.einsum("kd,kde->ke", mu, U).reshape(K * d)
        self.K, self.d = K, d
        self.block_width = self.work_width = K * d

    def buffers(self, size: int) -> _FullBuffers:
        # Samples as columns: the product and the sums then run along rows of length `size`.
        Xh = work_buffer("full.Xh", (self.d + 1, size))
        Xh[self.d] = 1.0
        return _FullBuffers(Xh, work_buffer("full.Y", (self.K * self.d, size)))

    def squared_distances(self, Xb, out, buffers: _FullBuffers) -> None:
        m, d = Xb.shape
        buffers.Xh[:d, :m] = Xb.T
        Y = np.matmul(self.W, buffers.Xh[:, :m], out=buffers.Y[:, :m])
        Yk = Y.reshape(self.K, d, m)
        np.einsum("kdm,kdm->km", Yk, Yk, out=out)


class ExpandedKernel:
    """``scale_k ||y_i - m_k||^2`` for ``y_i = x_i U`` ('tied': ``m_k = mu_k U``, one shared
    factor) or ``y_i = x_i`` ('spherical': ``m_k = mu_k``, scaled by each precision).

    ``||y||^2 - 2 m_k . y + ||m_k||^2``: one product per block of rows, clipped at 0 against
    rounding.
    """

    def __init__(self, M: np.ndarray, U: np.ndarray | None, scale: np.ndarray | None):
        K, d = M.shape
        self.M, self.U, self.scale = M, U, scale
        self.mm = np.einsum("kd,kd->k", M, M)[:, None]
        self.d = d
        self.block_width, self.work_width = d, K * d

    @classmethod
    def tied(cls, mu, U) -> ExpandedKernel:
        return cls(mu @ U, U, None)  # whitened by the shared factor

    @classmethod
    def spherical(cls, mu, U) -> ExpandedKernel:
        return cls(mu, None, (U**2)[:, None])

    def buffers(self, size: int) -> np.ndarray:
        return work_buffer("expanded.Y", (size, self.d))  # the whitened block ('tied')

    def squared_distances(self, Xb, out, Y: np.ndarray) -> float | None:
        Yb = Xb if self.U is None else np.matmul(Xb, self.U, out=Y[: Xb.shape[0]])
        np.matmul(self.M, Yb.T, out=out)
        out *= -2.0
        out += self.mm
        yy = np.einsum("nd,nd->n", Yb, Yb)
        out += yy
        np.maximum(out, 0.0, out=out)
        if self.scale is not None:
            out *= self.scale
        return None if self.U is not None else float(np.sqrt(yy.max()))  # y = x: ||x_i|| exactly


class _DiagBuffers(NamedTuple):
    X2: np.ndarray  # (size, d): the block's squares
    cross: np.ndarray  # (K, size): -2 x . (P mu)
    norms: np.ndarray  # (size,): ||x_i||^2


class DiagKernel:
    """``sum_j prec_kj (x_ij - mu_kj)^2`` for (K, d) precisions ``prec = U^2``.

    ``x^2 . P - 2 x . (P mu) + mu . P mu``: two products per block of rows, the squares of the
    block held in a reused buffer; clipped at 0 against rounding.
    """

    def __init__(self, mu: np.ndarray, U: np.ndarray):
        K, d = mu.shape
        self.prec = U**2
        self.P_mu = -2.0 * mu * self.prec
        self.c = np.einsum("kd,kd->k", mu * mu, self.prec)[:, None]
        self.ones = np.ones(d)
        self.K, self.d = K, d
        self.block_width, self.work_width = d, 2 * K * d

    def buffers(self, size: int) -> _DiagBuffers:
        return _DiagBuffers(
            work_buffer("diag.X2", (size, self.d)),
            work_buffer("diag.cross", (self.K, size)),
            work_buffer("diag.norms", (size,)),
        )

    def squared_distances(self, Xb, out, buffers: _DiagBuffers) -> float:
        m = Xb.shape[0]
        X2 = np.multiply(Xb, Xb, out=buffers.X2[:m])
        # ||x_i||^2 exactly, by one product with a vector of ones: up to d times tighter than
        # d max x_j^2, which on the d = 64 benchmark sent every component to the repair's
        # entry-by-entry check.
        x2_max = np.matmul(X2, self.ones, out=buffers.norms[:m]).max()
        np.matmul(self.prec, X2.T, out=out)
        out += np.matmul(self.P_mu, Xb.T, out=buffers.cross[:, :m])
        out += self.c
        np.maximum(out, 0.0, out=out)
        return float(np.sqrt(x2_max))


KERNELS = {
    "full": FullKernel,
    "tied": ExpandedKernel.tied,
    "spherical": ExpandedKernel.spherical,
    "diag": DiagKernel,
}
