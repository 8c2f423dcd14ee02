"""k-means: k-means++ seeding, one Lloyd step, and a thin estimator that loops over it.

Notation of notebook 04: ``mu`` (K, d) the centres, ``labels`` (n,) the assignment z_i of every
sample, ``N_k`` (K,) the cluster sizes, and J the objective of eq. (4.1),

.. math:: J(\\mu) = \\sum_i \\min_k \\lVert x_i - \\mu_k \\rVert^2,

which scikit-learn calls the inertia. Sections: :func:`kmeans_plusplus` (eq. (4.4)),
:func:`lloyd_step` (eqs. (4.2)-(4.3)) and :class:`KMeans`, each validating its arguments and
calling the engine of :mod:`emlib._fast.lloyd` (squared distances by matrix products on centred
data, rows shared among threads); the same equations line for line: :mod:`emlib.reference`.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import _fast
from . import _validation as v
from ._fast.lloyd import LloydStep
from .exceptions import ConvergenceWarning

__all__ = ["KMeans", "LloydStep", "kmeans_plusplus", "lloyd_step"]


def kmeans_plusplus(X, n_clusters, random_state=None) -> tuple[np.ndarray, np.ndarray]:
    """Choose ``n_clusters`` initial centres among the samples by D² sampling.

    The first centre is drawn uniformly from the samples; every next one is sample i with
    probability

    .. math:: p(i) = \\frac{D(x_i)^2}{\\sum_j D(x_j)^2}, \\qquad
              D(x)^2 = \\min_{c \\text{ chosen}} \\lVert x - c \\rVert^2,

    exactly as in Arthur and Vassilvitskii (2007), with no greedy local trials. Implements
    eq. (4.4) of notebook 04.

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
    indices = _fast.lloyd.kmeans_plusplus(X, K, rng)
    return X[indices], indices


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
    return _fast.lloyd.Lloyd(X, K).step(mu)


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
        lloyd = _fast.lloyd.Lloyd(X, K)
        tol = self.tol * lloyd.total_variance / d  # scikit-learn's: tol * mean(var(X, axis=0))
        best = None
        for _ in range(self.n_init):
            if kind == "kmeans++":
                mu0 = X[lloyd.seed(rng)]
            elif kind == "random":
                mu0 = X[rng.choice(n, size=K, replace=False)]
            else:
                mu0 = init
            run = lloyd.run(mu0, self.max_iter, tol)
            if best is None or run.history[-1] < best.history[-1]:
                best = run
        if not best.converged and self.tol > 0:
            warnings.warn(
                f"k-means did not converge in max_iter={self.max_iter} Lloyd steps (tol="
                f"{self.tol:g}). Remedies: raise max_iter, or use init='kmeans++' / more n_init.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._mean = lloyd.mean
        self.cluster_centers_ = best.mu
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
        K = len(self.cluster_centers_)
        return _fast.lloyd.Lloyd(X, K, mean=self._mean).assign(self.cluster_centers_)
