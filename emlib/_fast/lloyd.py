"""k-means, fast: D² seeding through one matrix-vector product per centre, and the Lloyd engine.

:func:`emlib.reference.kmeans_plusplus` and :func:`emlib.reference.lloyd_step` are eqs. (4.2)-(4.4)
of notebook 04 as written. Here squared distances come from matrix products,
``||x||^2 - 2 x.mu + ||mu||^2`` clipped at 0, on data centred at their mean (distances do not
change under a shift, and centring keeps the expansion accurate far from the origin); Lloyd's
assignment shares blocks of rows among threads with the E-step's machinery (:func:`.rows.map_rows`).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ..exceptions import EmptyComponentWarning
from .blas import one_blas_thread
from .rows import map_rows

_EPS = np.finfo(np.float64).eps
# Distances are computed for blocks of about this many (sample, centre) pairs, 512 KB of float64,
# so that a block stays in a core's L2 cache from the product that writes it to the argmin.
_BLOCK = 2**16
# k-means++ draws from cumulative sums over blocks of this many weights (see _draw).
_DRAW_BLOCK = 1024


class LloydStep(NamedTuple):
    """What one Lloyd step from the centres ``mu_old`` produced.

    Attributes
    ----------
    mu : array, shape (K, d)
        The updated centres: the mean of every cluster (eq. (4.3)); an empty cluster is re-seeded
        (see :func:`emlib.kmeans.lloyd_step`).
    labels : array of int, shape (n,)
        The nearest centre of ``mu_old`` for every sample (eq. (4.2)).
    inertia : float
        ``J(mu_old) = sum_i ||x_i - mu_old[labels_i]||^2``: the objective of the centres passed
        IN, under their best assignment ``labels``, not of the returned ``mu`` (whose J is at
        most this, and is the ``inertia`` of the next step).
    """

    mu: np.ndarray
    labels: np.ndarray
    inertia: float


class LloydRun(NamedTuple):
    """Lloyd steps until a stop: final centres ``mu`` (K, d), their ``labels`` (n,), ``history``
    (n_iter + 1,) of J, ``n_iter`` steps taken and whether a stopping rule was met."""

    mu: np.ndarray
    labels: np.ndarray
    history: np.ndarray
    n_iter: int
    converged: bool


def _row_norms(A: np.ndarray) -> np.ndarray:
    """``||a_i||^2`` for every row, shape (n,)."""
    return np.einsum("nd,nd->n", A, A)


def kmeans_plusplus(X: np.ndarray, K: int, rng: np.random.Generator) -> np.ndarray:
    """The indices (K,) of a k-means++ seeding of validated X, eq. (4.4)."""
    Xc = X - X.mean(axis=0)
    with one_blas_thread():
        return _d2_seeding(Xc, _row_norms(Xc), K, rng)


class Lloyd:
    """X centred once (``mean`` given, or X's own) in the forms every Lloyd step reads, for K
    centres; the methods take and return centres in X's coordinates.

    ``Xc`` (n, d) ``x_i - mean``; ``Xh`` (n, d + 1) ``[x_i - mean, 1]``, homogeneous coordinates; ``xx`` (n,)
    ``||x_i - mean||^2``; ``columns`` (d, n) the centred features as contiguous rows for
    ``np.add.at`` (None if K <= d). BLAS runs on one thread in every step: each product is small
    (one block of rows), so what pays is threads over blocks of rows, each running its own
    products and argmins.
    """

    def __init__(self, X: np.ndarray, K: int, mean: np.ndarray | None = None):
        n, d = X.shape
        self.mean = X.mean(axis=0) if mean is None else mean
        self.Xc = Xc = X - self.mean
        self.xx = _row_norms(Xc)
        self.Xh = np.hstack([Xc, np.ones((n, 1))])
        self.columns = np.ascontiguousarray(Xc.T) if K > d else None
        self.K = K

    @property
    def total_variance(self) -> float:
        """``mean_i ||x_i - mean||^2``, the sum of the features' variances."""
        return float(self.xx.mean())

    def seed(self, rng: np.random.Generator) -> np.ndarray:
        """Indices (K,) of a k-means++ seeding, eq. (4.4)."""
        with one_blas_thread():
            return _d2_seeding(self.Xc, self.xx, self.K, rng)

    def step(self, mu: np.ndarray) -> LloydStep:
        """One Lloyd step from ``mu``, eqs. (4.2)-(4.3)."""
        with one_blas_thread():
            step = self._step(mu - self.mean)
        return LloydStep(step.mu + self.mean, step.labels, step.inertia)

    def assign(self, mu: np.ndarray) -> np.ndarray:
        """The nearest centre of every sample, eq. (4.2), shape (n,)."""
        with one_blas_thread():
            return self._assign(mu - self.mean)[0]

    def run(self, mu: np.ndarray, max_iter: int, tol: float) -> LloydRun:
        """Lloyd steps from ``mu`` until the assignment repeats or the centres settle.

        Stops when the labels equal the previous step's (the centres can no longer move) or when
        the total squared centre shift ``sum_k ||mu_k^new - mu_k||^2`` is at most ``tol``
        (already scaled to the data), as scikit-learn's Lloyd does. ``history[t]`` is J(mu_t).
        """
        mu = mu - self.mean
        history = []
        labels_old = None
        with one_blas_thread():
            for n_iter in range(1, max_iter + 1):
                step = self._step(mu)
                history.append(step.inertia)
                if labels_old is not None and np.array_equal(step.labels, labels_old):
                    # Same partition as the step before, so step.mu is mu: J(mu_t) = J(mu_{t-1}).
                    history.append(step.inertia)
                    return LloydRun(mu + self.mean, step.labels, np.asarray(history), n_iter, True)
                shift = float(((step.mu - mu) ** 2).sum())
                mu, labels_old = step.mu, step.labels
                if shift <= tol:
                    break
            else:
                n_iter, shift = max_iter, np.inf
            labels, d2 = self._assign(mu)
        history.append(float(d2.sum()))
        return LloydRun(mu + self.mean, labels, np.asarray(history), n_iter, shift <= tol)

    def _step(self, mu: np.ndarray) -> LloydStep:
        """:meth:`step` for centred ``mu``, returning centred centres."""
        labels, d2 = self._assign(mu)
        sums = self._cluster_sums(labels)
        N_k = np.bincount(labels, minlength=self.K).astype(np.float64)
        if (N_k == 0).any():
            sums, N_k = _reseed_empty(self.Xh[:, :-1], labels, d2, sums, N_k)
        return LloydStep(sums / N_k[:, None], labels, float(d2.sum()))

    def _assign(self, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest centre (the first on ties, as ``np.argmin``) and squared distance to it for
        every sample, shapes (n,) and (n,), for centred ``mu``.

        One product in homogeneous coordinates, ``[x, 1] @ [-2 mu^T; ||mu||^2]``, gives
        ``||mu_k||^2 - 2 x.mu_k`` for every k; ``||x||^2`` does not change the argmin, so it is
        added to the winning column only. The rows go block by block through one reused
        (rows, K) buffer that stays in cache: with K in the tens, an (n, K) array would make
        every pass over it a trip to memory. Each thread writes only its own rows' entries.
        """
        n, K = len(self.xx), len(mu)
        W = np.vstack([-2.0 * mu.T, _row_norms(mu)])
        labels, d2 = np.empty(n, dtype=np.intp), np.empty(n)

        def nearest(part: slice) -> None:
            Xh, z_part, d2_part = self.Xh[part], labels[part], d2[part]
            rows = max(256, _BLOCK // K)
            G = np.empty((min(rows, len(Xh)), K))
            offsets = np.arange(len(G)) * K  # where the rows of G start in G.ravel()
            for s in range(0, len(Xh), rows):
                z = z_part[s : s + rows]
                g = G[: len(z)]
                np.matmul(Xh[s : s + rows], W, out=g)
                g.argmin(axis=1, out=z)
                g.take(offsets[: len(z)] + z, out=d2_part[s : s + rows])  # g[i, z_i]

        map_rows(nearest, n, K)
        d2 += self.xx
        np.maximum(d2, 0.0, out=d2)
        return labels, d2

    def _cluster_sums(self, labels: np.ndarray) -> np.ndarray:
        """``sum_{i: z_i = k} x_i`` for every cluster, shape (K, d).

        For K <= d, the product of the (K, n) one-hot matrix (the hard responsibilities) with X;
        for more clusters than features, ``sums[k, j] += x_ij`` for every i with z_i = k, one
        unbuffered ``np.add.at`` per feature over ``columns``, O(n d) whatever K (1.6x faster
        here than ``np.bincount`` with weights; neither gained from threads).
        """
        if self.columns is None:
            return (labels == np.arange(self.K)[:, None]).astype(np.float64) @ self.Xh[:, :-1]
        sums = np.zeros((len(self.columns), self.K))
        for sums_j, x_j in zip(sums, self.columns, strict=True):
            np.add.at(sums_j, labels, x_j)
        return sums.T


def _reseed_empty(X, labels, d2, sums, N_k) -> tuple[np.ndarray, np.ndarray]:
    """New cluster sums and sizes after moving the farthest samples into the empty clusters."""
    sums, N_k, owner = sums.copy(), N_k.copy(), labels.copy()
    empty = np.flatnonzero(N_k == 0)
    moved = []
    for k in empty:
        # Only samples whose cluster keeps another member: n >= K guarantees there are enough.
        i = int(np.argmax(np.where(N_k[owner] >= 2, d2, -1.0)))
        j = owner[i]
        sums[j] -= X[i]
        N_k[j] -= 1
        sums[k] = X[i]
        N_k[k] = 1
        owner[i] = k
        moved.append(i)
    warnings.warn(
        f"cluster(s) {empty.tolist()} received no sample; each was re-seeded at the sample "
        f"farthest from its centre (sample(s) {moved}). Remedies: init='kmeans++', fewer "
        f"clusters, or another random_state.",
        EmptyComponentWarning,
        stacklevel=5,
    )
    return sums, N_k


def _d2_seeding(Xc: np.ndarray, xx: np.ndarray, K: int, rng: np.random.Generator) -> np.ndarray:
    """The indices of a k-means++ seeding of centred data ``Xc`` with row norms ``xx``.

    The minimum distances are kept in one array that each new centre updates with a single
    matrix-vector product. If every sample sits on a chosen centre, the next is drawn uniformly
    from the samples not chosen yet.
    """
    n, d = Xc.shape
    # ||x||^2 - 2 x.c + ||c||^2 is off by at most about (d + 3) eps (||x||^2 + ||c||^2) after
    # rounding; a squared distance below twice that bound cannot be told from 0.
    rounding = 2.0 * (d + 3) * _EPS
    indices = np.empty(K, dtype=np.intp)
    indices[0] = rng.integers(n)
    closest = _sq_distances_to(Xc, xx, indices[0], rounding)
    for k in range(1, K):
        i = _draw(closest, rng.random())
        if i is None:  # every sample sits on a chosen centre
            free = np.ones(n, dtype=bool)
            free[indices[:k]] = False
            i = int(rng.choice(np.flatnonzero(free)))
        indices[k] = i
        np.minimum(closest, _sq_distances_to(Xc, xx, i, rounding), out=closest)
    return indices


def _draw(weights: np.ndarray, u: float) -> int | None:
    """Index i with probability ``weights[i] / sum(weights)`` for u uniform in [0, 1): the first i
    whose cumulative weight exceeds ``u * sum(weights)``, so never a zero weight; None if every
    weight is 0.

    A cumulative sum is sequential (each addition waits for the one before), so it runs in two
    levels, over the totals of blocks of ``_DRAW_BLOCK`` weights, then inside the chosen block:
    about n / 1024 + 1024 additions in a chain instead of n.
    """
    starts = np.arange(0, len(weights), _DRAW_BLOCK)
    cum = np.cumsum(np.add.reduceat(weights, starts))
    if cum[-1] <= 0:
        return None
    target = u * cum[-1]
    b = _first_above(cum, target)
    inside = np.cumsum(weights[starts[b] : starts[b] + _DRAW_BLOCK])
    return int(starts[b]) + _first_above(inside, target - (cum[b - 1] if b else 0.0))


def _first_above(cum: np.ndarray, target: float) -> int:
    """The first i with ``cum[i] > target`` in a cumulative sum of weights >= 0, at most the first
    i with ``cum[i] = cum[-1]`` (the last positive weight), as ``target`` can round up to or past
    ``cum[-1]``: the weight of i is positive either way."""
    return min(int(np.searchsorted(cum, target, side="right")), int(np.searchsorted(cum, cum[-1])))


def _sq_distances_to(Xc: np.ndarray, xx: np.ndarray, i: int, rounding: float) -> np.ndarray:
    """``||x_j - x_i||^2`` for all j, shape (n,), with rounding noise set to exactly 0."""
    norms = xx + xx[i]
    d2 = Xc @ (-2.0 * Xc[i])  # scaling by -2 is exact
    d2 += norms
    norms *= rounding
    d2[d2 <= norms] = 0.0
    d2[i] = 0.0
    return d2
