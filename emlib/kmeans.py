"""k-means: k-means++ seeding, one Lloyd step, and a thin estimator that loops over it.

Notation of notebook 04: ``mu`` (K, d) the centres, ``labels`` (n,) the assignment z_i of every
sample, ``N_k`` (K,) the cluster sizes, and J the objective of eq. (4.1),

.. math:: J(\\mu) = \\sum_i \\min_k \\lVert x_i - \\mu_k \\rVert^2,

which scikit-learn calls the inertia. Squared distances come from matrix products,
``||x||^2 - 2 x.mu + ||mu||^2`` clipped at 0, on data centred at their mean (distances do not
change under a shift, and centring keeps the expansion accurate far from the origin). Lloyd's
assignment runs over blocks of rows shared among a few threads (see :func:`_prepared`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from . import _validation as v
from ._blas import THREADS as _THREADS
from ._blas import one_blas_thread
from ._rows import shares
from .em import ConvergenceWarning, EmptyComponentWarning

_EPS = np.finfo(np.float64).eps
# Distances are computed for blocks of about this many (sample, centre) pairs, 512 KB of float64,
# so that a block stays in a core's L2 cache from the product that writes it to the argmin.
_BLOCK = 2**16
# k-means++ draws from cumulative sums over blocks of this many weights (see _draw).
_DRAW_BLOCK = 1024
# Lloyd's rows are shared among threads, each given at least _PAIRS_PER_THREAD (sample, centre)
# pairs: numpy lets go of the GIL in the product, argmin and take. At most 4, as the
# Python between those calls holds the GIL.
_PAIRS_PER_THREAD = 2**18


class LloydStep(NamedTuple):
    """What one Lloyd step from the centres ``mu_old`` produced.

    Attributes
    ----------
    mu : array, shape (K, d)
        The updated centres: the mean of every cluster (eq. (4.3)); an empty cluster is re-seeded
        (see :func:`lloyd_step`).
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


def _row_norms(A: np.ndarray) -> np.ndarray:
    """``||a_i||^2`` for every row, shape (n,)."""
    return np.einsum("nd,nd->n", A, A)


def _centre(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X - mean, mean, ||x_i - mean||^2)``."""
    mean = X.mean(axis=0)
    Xc = X - mean
    return Xc, mean, _row_norms(Xc)


def kmeans_plusplus(X, n_clusters, random_state=None) -> tuple[np.ndarray, np.ndarray]:
    """Choose ``n_clusters`` initial centres among the samples by D² sampling.

    The first centre is drawn uniformly from the samples; every next one is sample i with
    probability

    .. math:: p(i) = \\frac{D(x_i)^2}{\\sum_j D(x_j)^2}, \\qquad
              D(x)^2 = \\min_{c \\text{ chosen}} \\lVert x - c \\rVert^2,

    exactly as in Arthur and Vassilvitskii (2007), with no greedy local trials. Implements
    eq. (4.4) of notebook 04. The minimum distances are kept in one array that each new centre
    updates with a single matrix-vector product.

    If every sample sits on a chosen centre (all D² are zero: fewer distinct points than
    clusters), the next centre is drawn uniformly from the samples not chosen yet, so that the
    indices stay distinct and nothing divides by zero. Squared distances below the rounding
    error of the expansion (about ``2 (d + 3) eps (||x||^2 + ||c||^2)`` on centred data) count
    as zero, so exact duplicates of a centre are never drawn by D² weighting.

    Parameters
    ----------
    X : array, shape (n, d)
    n_clusters : int, K, with 1 <= K <= n
    random_state : None, int >= 0 or numpy Generator
        Passed to ``np.random.default_rng``; a Generator is used (and advanced) as it is.

    Returns
    -------
    centres : array, shape (K, d), the chosen samples ``X[indices]``
    indices : array of int, shape (K,), distinct
    """
    X = v.check_X(X)
    K = v.check_n_components(n_clusters, X.shape[0], name="n_clusters")
    rng = v.check_random_state(random_state)
    Xc, _, xx = _centre(X)
    with one_blas_thread():
        indices = _d2_seeding(Xc, xx, K, rng)
    return X[indices], indices


def _d2_seeding(Xc: np.ndarray, xx: np.ndarray, K: int, rng: np.random.Generator) -> np.ndarray:
    """The indices of :func:`kmeans_plusplus` for centred data ``Xc`` with row norms ``xx``."""
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


class _Data(NamedTuple):
    """Centred data in the forms every Lloyd step reads, built once per fit by :func:`_prepared`:
    Xh (n, d + 1) ``[x_i - mean, 1]``, homogeneous coordinates; xx (n,) ``||x_i - mean||^2``;
    columns (d, n) the centred features as contiguous rows for ``np.add.at`` (None if K <= d);
    rows, one slice of rows per thread; run, ``map`` over those threads."""

    Xh: np.ndarray
    xx: np.ndarray
    columns: np.ndarray | None
    rows: list[slice]
    run: Callable


@contextlib.contextmanager
def _prepared(Xc: np.ndarray, xx: np.ndarray, K: int):
    """The :class:`_Data` of centred ``Xc`` for K centres, and the threads that share its rows.

    BLAS runs on one thread: each product is small (one block of rows), so what pays is threads
    over blocks of rows, each running its own products and argmins.
    """
    n, d = Xc.shape
    n_threads = max(1, min(_THREADS, n * K // _PAIRS_PER_THREAD, n))
    rows = shares(n, n_threads)
    Xh = np.hstack([Xc, np.ones((n, 1))])
    columns = np.ascontiguousarray(Xc.T) if K > d else None
    with one_blas_thread(), ThreadPoolExecutor(n_threads) as pool:
        yield _Data(Xh, xx, columns, rows, pool.map if n_threads > 1 else map)


def _assign(data: _Data, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre (the first on ties, as ``np.argmin``) and squared distance to it for every
    sample, shapes (n,) and (n,).

    One product in homogeneous coordinates, ``[x, 1] @ [-2 mu^T; ||mu||^2]``, gives
    ``||mu_k||^2 - 2 x.mu_k`` for every k; ``||x||^2`` does not change the argmin, so it is added
    to the winning column only. The rows go block by block through one reused (rows, K) buffer
    that stays in cache: with K in the tens, an (n, K) array would make every pass over it a trip
    to memory. Each thread takes one slice of ``data.rows``.
    """
    n, K = len(data.xx), len(mu)
    W = np.vstack([-2.0 * mu.T, _row_norms(mu)])
    labels, d2 = np.empty(n, dtype=np.intp), np.empty(n)

    def nearest(part: slice) -> None:
        Xh, z_part, d2_part = data.Xh[part], labels[part], d2[part]
        rows = max(256, _BLOCK // K)
        G = np.empty((min(rows, len(Xh)), K))
        offsets = np.arange(len(G)) * K  # where the rows of G start in G.ravel()
        for s in range(0, len(Xh), rows):
            z = z_part[s : s + rows]
            g = G[: len(z)]
            np.matmul(Xh[s : s + rows], W, out=g)
            g.argmin(axis=1, out=z)
            g.take(offsets[: len(z)] + z, out=d2_part[s : s + rows])

    list(data.run(nearest, data.rows))
    d2 += data.xx
    np.maximum(d2, 0.0, out=d2)
    return labels, d2


def _cluster_sums(data: _Data, labels: np.ndarray, K: int) -> np.ndarray:
    """``sum_{i: z_i = k} x_i`` for every cluster, shape (K, d).

    For K <= d, the product of the (K, n) one-hot matrix (the hard responsibilities) with X;
    for more clusters than features, ``sums[k, j] += x_ij`` for every i with z_i = k, one
    unbuffered ``np.add.at`` per feature over ``data.columns``, O(n d) whatever K (1.6x faster
    here than ``np.bincount`` with weights; neither gained from threads).
    """
    if data.columns is None:
        return (labels == np.arange(K)[:, None]).astype(np.float64) @ data.Xh[:, :-1]
    sums = np.zeros((len(data.columns), K))
    for sums_j, x_j in zip(sums, data.columns, strict=True):
        np.add.at(sums_j, labels, x_j)
    return sums.T


def lloyd_step(X, mu) -> LloydStep:
    """One Lloyd iteration: assign every sample to its nearest centre, then move each centre to
    the mean of its cluster.

    .. math:: z_i = \\arg\\min_k \\lVert x_i - \\mu_k \\rVert^2, \\qquad
              \\mu_k^{new} = \\frac{1}{N_k} \\sum_{i : z_i = k} x_i

    Implements eqs. (4.2) and (4.3) of notebook 04. The means are the hard-responsibility
    version of the GMM update (eq. (3.6) with one-hot r_ik, the limit of eq. (4.5)).

    Empty clusters: a cluster that receives no sample is re-seeded at the sample farthest from
    its assigned centre (the largest ``||x_i - mu[labels_i]||^2``, among samples whose cluster
    keeps another member), and that sample is removed from its former cluster's mean; several
    empty clusters take the farthest samples in turn, lowest cluster index first. An
    ``EmptyComponentWarning`` names the clusters and samples. This is scikit-learn's policy,
    except that scikit-learn may also take a cluster's only member and so empty that cluster. It
    never produces NaN and never increases J (the moved sample's cost drops to 0). The returned
    ``labels`` stay the nearest-centre assignment of eq. (4.2).

    Parameters
    ----------
    X : array, shape (n, d)
    mu : array, shape (K, d), K <= n (shape (K,) is accepted when d = 1)

    Returns
    -------
    LloydStep(mu, labels, inertia)
        ``inertia`` is J of the centres passed in (see :class:`LloydStep`).
    """
    X = v.check_X(X)
    n, d = X.shape
    K = v.check_n_components(len(mu) if np.ndim(mu) else 1, n, name="len(mu)")
    mu = v.check_means(mu, K, d)
    Xc, mean, xx = _centre(X)
    with _prepared(Xc, xx, K) as data:
        step = _lloyd_step(data, mu - mean)
    return LloydStep(step.mu + mean, step.labels, step.inertia)


def _lloyd_step(data: _Data, mu: np.ndarray) -> LloydStep:
    """:func:`lloyd_step` on prepared centred data and centred ``mu``."""
    K = mu.shape[0]
    labels, d2 = _assign(data, mu)
    sums = _cluster_sums(data, labels, K)
    N_k = np.bincount(labels, minlength=K).astype(np.float64)
    if (N_k == 0).any():
        sums, N_k = _reseed_empty(data.Xh[:, :-1], labels, d2, sums, N_k)
    return LloydStep(sums / N_k[:, None], labels, float(d2.sum()))


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
        stacklevel=4,
    )
    return sums, N_k


class _Run(NamedTuple):
    mu: np.ndarray
    labels: np.ndarray
    history: np.ndarray
    n_iter: int
    converged: bool


def _lloyd(data: _Data, mu: np.ndarray, max_iter: int, tol: float) -> _Run:
    """Lloyd steps from ``mu`` until the assignment repeats or the centres settle.

    Stops when the labels equal the previous step's (the centres can no longer move) or when
    the total squared centre shift ``sum_k ||mu_k^new - mu_k||^2`` is at most ``tol`` (already
    scaled to the data), as scikit-learn's Lloyd does. ``history[t]`` is J(mu_t), t = 0..n_iter.
    """
    history = []
    labels_old = None
    for n_iter in range(1, max_iter + 1):
        step = _lloyd_step(data, mu)
        history.append(step.inertia)
        if labels_old is not None and np.array_equal(step.labels, labels_old):
            # Same partition as the step before, so step.mu is mu: J(mu_t) = J(mu_{t-1}).
            history.append(step.inertia)
            return _Run(mu, step.labels, np.asarray(history), n_iter, True)
        shift = float(((step.mu - mu) ** 2).sum())
        mu, labels_old = step.mu, step.labels
        if shift <= tol:
            break
    else:
        n_iter, shift = max_iter, np.inf
    labels, d2 = _assign(data, mu)
    history.append(float(d2.sum()))
    return _Run(mu, labels, np.asarray(history), n_iter, shift <= tol)


class KMeans:
    """k-means clustering by Lloyd's algorithm: a thin loop over :func:`lloyd_step`.

    Parameters
    ----------
    n_clusters : int, K (at most the number of samples)
    init : {'kmeans++', 'random'} or array of shape (K, d)
        'kmeans++' seeds with :func:`kmeans_plusplus`; 'random' takes K distinct samples
        uniformly; an array gives the initial centres (then ``n_init`` must be 1).
    n_init : int, runs from different seedings; the run with the lowest final J is kept
    max_iter : int >= 0, largest number of Lloyd steps per run
    tol : float >= 0
        A run stops when the assignment repeats, or when the total squared centre shift is at
        most ``tol * mean(var(X, axis=0))`` (scikit-learn's rule, so the same ``tol`` means the
        same stop).
    random_state : None, int >= 0 or numpy Generator

    Attributes (after ``fit``)
    --------------------------
    cluster_centers_ : (K, d); labels_ : (n,) nearest centre of each sample;
    inertia_ : J of ``cluster_centers_`` (eq. (4.1)); inertia_history_ : (n_iter_ + 1,), J of the
    centres after each step, entry 0 for the initial centres, never increasing, last entry
    ``inertia_``; n_iter_ : Lloyd steps taken; converged_ : whether a stopping rule was met
    within ``max_iter`` steps; n_features_in_ : d.

    Warns
    -----
    ConvergenceWarning if the kept run reached ``max_iter`` with ``tol > 0``.
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init="kmeans++",
        n_init: int = 1,
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.n_init = v.check_int(n_init, "n_init", minimum=1)
        if isinstance(init, str) or init is None or np.isscalar(init):
            v.check_choice(init, "init", v.KMEANS_INITS)
        elif self.n_init != 1:
            raise ValueError(
                f"n_init={n_init} with an array of initial centres would repeat the same run "
                f"{n_init} times; expected n_init=1 when init is an array. Fix: pass n_init=1, "
                f"or init='kmeans++' to compare several seedings."
            )
        self.init = init
        self.max_iter = v.check_int(max_iter, "max_iter", minimum=0)
        self.tol = v.check_positive(tol, "tol", allow_zero=True)
        self.random_state = random_state

    def __repr__(self) -> str:
        init = repr(self.init) if isinstance(self.init, str) else f"array{np.shape(self.init)}"
        fitted = ""
        if hasattr(self, "cluster_centers_"):
            fitted = (
                f", fitted: inertia={self.inertia_:.6g}, n_iter={self.n_iter_}, "
                f"converged={self.converged_}"
            )
        return (
            f"KMeans(n_clusters={self.n_clusters}, init={init}, n_init={self.n_init}, "
            f"max_iter={self.max_iter}, tol={self.tol:g}, random_state={self.random_state!r}"
            f"{fitted})"
        )

    def fit(self, X) -> KMeans:
        """Run Lloyd's algorithm ``n_init`` times and keep the run with the lowest final J."""
        X = v.check_X(X)
        n, d = X.shape
        K = v.check_n_components(self.n_clusters, n, name="n_clusters")
        kind = self.init if isinstance(self.init, str) else "array"
        if kind == "array":
            init = v.check_means(self.init, K, d, name="init")
        rng = v.check_random_state(self.random_state)
        Xc, mean, xx = _centre(X)
        tol = self.tol * float(xx.mean()) / d  # mean(var(X, axis=0)): Xc is centred
        best = None
        with _prepared(Xc, xx, K) as data:
            for _ in range(self.n_init):
                if kind == "kmeans++":
                    mu0 = Xc[_d2_seeding(Xc, xx, K, rng)]
                elif kind == "random":
                    mu0 = Xc[rng.choice(n, size=K, replace=False)]
                else:
                    mu0 = init - mean
                run = _lloyd(data, mu0, self.max_iter, tol)
                if best is None or run.history[-1] < best.history[-1]:
                    best = run
        if not best.converged and self.tol > 0:
            warnings.warn(
                f"k-means did not converge in max_iter={self.max_iter} Lloyd steps (tol="
                f"{self.tol:g}). Remedies: raise max_iter, or use init='kmeans++' / more n_init.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._mean = mean
        self.cluster_centers_ = best.mu + mean
        self.labels_ = best.labels
        self.inertia_ = float(best.history[-1])
        self.inertia_history_ = best.history
        self.n_iter_ = best.n_iter
        self.converged_ = best.converged
        self.n_features_in_ = d
        return self

    def fit_predict(self, X) -> np.ndarray:
        """``fit(X)`` and return ``labels_``, shape (n,)."""
        return self.fit(X).labels_

    def predict(self, X) -> np.ndarray:
        """The nearest fitted centre of every sample (eq. (4.2)), shape (n,)."""
        if not hasattr(self, "cluster_centers_"):
            raise RuntimeError("this KMeans is not fitted yet. Fix: call .fit(X) before predict.")
        X = v.check_X(X)
        v.check_n_features(X, self.n_features_in_, "the fitted KMeans")
        Xc = X - self._mean
        with _prepared(Xc, _row_norms(Xc), len(self.cluster_centers_)) as data:
            return _assign(data, self.cluster_centers_ - self._mean)[0]
