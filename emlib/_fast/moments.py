"""The Gaussian M-step's sums over samples (eqs. (3.6)-(3.9)), fast: :func:`m_step`.

:func:`emlib.reference.m_step` reads as the equations; the functions here compute the same sums
quickly and accurately. X is walked in blocks of rows shared among threads (:func:`.rows.map_rows`),
variances are taken about a centre inside the data so that they do not cancel, and scatter
matrices come from symmetric rank-k products, exactly symmetric and positive semi-definite.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .rows import map_rows, row_blocks, work_buffer


class Moments(NamedTuple):
    """The means and covariances of one M-step: ``mu`` (K, d) and ``Sigma`` (of the covariance
    type's shape, ``reg_covar`` added to every variance)."""

    mu: np.ndarray
    Sigma: np.ndarray


def m_step(X, resp, N_k, covariance_type: str, reg_covar: float) -> Moments:
    """``mu_k`` and ``Sigma_k`` of eqs. (3.6)-(3.9) for validated X (n, d), resp (n, K) and
    their column sums ``N_k`` (K,), none of them 0.

    Not finite when X holds a NaN or an infinity (the caller searches X only then).
    """
    if covariance_type in ("diag", "spherical"):  # means and variances in one pass
        mu, var = diagonal_moments(X, resp, N_k, covariance_type == "spherical")
        return Moments(mu, np.maximum(var, 0.0) + reg_covar)
    mu = weighted_means(X, resp, N_k)
    return Moments(mu, covariances(X, resp, N_k, mu, covariance_type, reg_covar))


def weighted_means(X: np.ndarray, resp: np.ndarray, N_k: np.ndarray) -> np.ndarray:
    """``mu_k = sum_i r_ik x_i / N_k``, shape (K, d) (eq. (3.6))."""
    n, d = X.shape
    # X^T r, (d, K), rather than r^T X: BLAS runs the long sum over samples faster that way.
    return sum(map_rows(lambda rows: X[rows].T @ resp[rows], n, N_k.size * d)).T / N_k[:, None]


def diagonal_moments(X, resp, N_k, spherical: bool):
    """Means and variances of eqs. (3.6)-(3.9) for 'diag' and 'spherical', in one pass over X.

    Any centre c keeps the identities exact: ``mu_k = c + sum_i r_ik (x_i - c) / N_k`` and
    ``sum_i r_ik (x_i - mu_k)^2 = sum_i r_ik (x_i - c)^2 - N_k (mu_k - c)^2``. A centre inside
    the data keeps that subtraction from cancelling where the origin (the raw second moment)
    would: the mean of at most 256 evenly spaced samples, cheap to take before the pass. Each
    block of rows is read once, while it is in cache, for both sums. Rounding can push a variance
    below its true value by a hair: the caller clips at 0.
    """
    n, d = X.shape
    K = N_k.size
    c = X[:: max(1, n // 256)].mean(axis=0)
    # x - c for 256 rows at a time: subtracting one row of 256 d numbers runs ~1.5x faster than
    # numpy broadcasting c over rows of only d.
    c_rows = np.tile(c, _TILE)

    def moments(rows: slice) -> np.ndarray:
        size, blocks = row_blocks(rows, d)
        Z, sq = work_buffer("moments.Z", (size, d)), work_buffer("moments.sq", (size, 1))
        first = np.zeros((d, K))
        second = np.zeros((1 if spherical else d, K))
        for b in blocks:
            m = b.stop - b.start
            Zb = _subtract_centre(X[b], c, c_rows, Z[:m])
            # (d, K) products, not (K, d): BLAS runs the long sum over samples faster this way.
            first += Zb.T @ resp[b]
            if spherical:  # eq. (3.9) needs only ||x_i - c||^2, one number per sample
                Z2 = np.einsum("nd,nd->n", Zb, Zb, out=sq[:m, 0])[:, None]
            else:
                Z2 = np.multiply(Zb, Zb, out=Zb)  # squared in place: one buffer stays in cache
            second += Z2.T @ resp[b]
        return first, second

    parts = map_rows(moments, n, 2 * K * d)
    shift = sum(p[0] for p in parts).T / N_k[:, None]  # mu_k - c
    second = sum(p[1] for p in parts).T / N_k[:, None]
    if spherical:
        var = (second[:, 0] - np.einsum("kd,kd->k", shift, shift)) / d
    else:
        var = second - shift * shift
    return c + shift, var


_TILE = 256


def _subtract_centre(Xb: np.ndarray, c: np.ndarray, c_rows: np.ndarray, out: np.ndarray):
    """``out = Xb - c`` row by row, ``c_rows`` holding c repeated ``_TILE`` times."""
    m, d = Xb.shape
    q = m - m % _TILE
    np.subtract(Xb[:q].reshape(-1, _TILE * d), c_rows, out=out[:q].reshape(-1, _TILE * d))
    np.subtract(Xb[q:], c, out=out[q:])
    return out


def covariances(X, resp, N_k, mu, covariance_type, reg_covar):
    """Sigma for 'full' and 'tied', eqs. (3.7)-(3.8); ``reg_covar`` on every variance."""
    n, d = X.shape
    K = mu.shape[0]
    if covariance_type == "full":
        # sqrt(r) (x - mu) gives the weighted scatter as D^T D: symmetric and PSD exactly.
        Sigma = scatter(X, mu, resp)
        Sigma /= N_k[:, None, None]
        Sigma.reshape(K, d * d)[:, :: d + 1] += reg_covar
        return Sigma
    # 'tied': one pass on centred data. The centre sum_k N_k mu_k / n is the data mean (every row
    # of resp sums to 1) at no cost, and any centre c keeps the scatter exact:
    # sum_k sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T = sum_i (x_i - c)(x_i - c)^T
    #                                            - sum_k N_k (mu_k - c)(mu_k - c)^T.
    c = N_k @ mu / N_k.sum()
    m = mu - c
    between = (N_k[:, None] * m).T @ m
    Sigma = (scatter(X, c[None], None)[0] - between) / n
    Sigma = (Sigma + Sigma.T) / 2
    Sigma.flat[:: d + 1] += reg_covar
    return Sigma


def scatter(X, centres, resp):
    """``sum_i r_ik (x_i - c_k)(x_i - c_k)^T`` for every centre c_k, shape (K, d, d).

    ``resp`` is (n, K), or None for unit weights. Each block of rows is transposed once into a
    (d, rows) buffer: subtracting a centre and scaling by sqrt(r) then run along contiguous rows
    (numpy broadcasts a length-d vector over short rows several times slower), and the block's
    ``D @ D.T`` is one symmetric rank-k product (BLAS syrk), which leaves the sum exactly
    symmetric and positive semi-definite.
    """
    n, d = X.shape
    K = centres.shape[0]

    def rows_scatter(rows: slice) -> np.ndarray:
        size, blocks = row_blocks(rows, d)
        Xt, D = work_buffer("scatter.Xt", (d, size)), work_buffer("scatter.D", (d, size))
        S = np.zeros((K, d, d))
        for b in blocks:
            m = b.stop - b.start
            Xt[:, :m] = X[b].T
            sqrt_r = None if resp is None else np.sqrt(resp[b].T)
            Db = D[:, :m]
            for k in range(K):
                np.subtract(Xt[:, :m], centres[k][:, None], out=Db)
                if sqrt_r is not None:
                    Db *= sqrt_r[k]
                S[k] += Db @ Db.T
        return S

    return sum(map_rows(rows_scatter, n, K * d * d))
