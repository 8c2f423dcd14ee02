"""The workloads of ``make bench``: the same EM work done by emlib and by scikit-learn.

Each workload builds its data and a starting point once (seeded), then offers two callables
that do identical work from identical inputs: same data, same initial weights, means and
precisions, the same fixed number of iterations with the tolerance switched off. Each callable
returns its fitted object; ``agreement`` compares the two results (the relative difference of
the final log-likelihood, or of the final k-means objective).

The timed region is the fit and nothing else: data, the starting point, the conversion of the
starting point to scikit-learn's precisions and the agreement check all happen outside it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from emlib import bernoulli, gmm, kmeans
from emlib.datasets import load_binary_digits, make_mixture

REG_COVAR = 1e-6


@dataclass
class Workload:
    """One row of the benchmark table.

    Attributes
    ----------
    name, description : what the table prints
    setup : builds the inputs once; returns a dict passed to the two runners
    run_emlib, run_sklearn : do the work on the inputs and return the fitted objects;
        ``run_sklearn`` is None when scikit-learn has no peer (absolute time only)
    agreement : ``agreement(inputs, emlib_result, sklearn_result) -> (value, what)``, the
        relative difference of the final objective and what it compares
    gflop : nominal GFLOP of one run (see :func:`gmm_full_gflop`), or None
    measure_memory : also measure the peak memory of one run of each side
    """

    name: str
    description: str
    setup: Callable[[], dict]
    run_emlib: Callable[[dict], Any]
    run_sklearn: Callable[[dict], Any] | None
    agreement: Callable[[dict, Any, Any], tuple[float | None, str]]
    gflop: Callable[[dict], float] | None = None
    measure_memory: bool = False
    targets: dict = field(default_factory=dict)


def relative_difference(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), np.finfo(float).tiny)


def random_spd(rng: np.random.Generator, d: int, low: float, high: float) -> np.ndarray:
    """A random d x d covariance with eigenvalues uniform in [low, high]."""
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (Q * rng.uniform(low, high, size=d)) @ Q.T


def gaussian_data(n: int, d: int, K: int, spread: float, seed: int) -> np.ndarray:
    """n samples of a K-component mixture in d dimensions with full random covariances.

    Means are N(0, spread^2 I), covariances have eigenvalues in [0.3, 2], weights are a
    Dirichlet(5, ..., 5) draw: clusters that overlap a little, as in the course's examples.
    """
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.full(K, 5.0))
    mu = rng.normal(scale=spread, size=(K, d))
    Sigma = np.stack([random_spd(rng, d, 0.3, 2.0) for _ in range(K)])
    return make_mixture(n, pi, mu, Sigma, "full", random_state=rng).X


def sklearn_precisions(params: gmm.GMMParams) -> np.ndarray:
    """scikit-learn's ``precisions_init`` for ``params``: ``Sigma^{-1} = U U^T`` per type."""
    U = params.U
    if params.covariance_type == "full":
        return U @ np.swapaxes(U, 1, 2)
    if params.covariance_type == "tied":
        return U @ U.T
    return U**2


# --- Gaussian mixtures -------------------------------------------------------------------------


def gmm_setup(n: int, d: int, K: int, covariance_type: str, n_iter: int, seed: int) -> Callable:
    def setup() -> dict:
        X = _gaussian_data_cached(n, d, K, seed)
        rng = np.random.default_rng(seed + 1)
        theta0 = gmm.initial_params(X, K, covariance_type, REG_COVAR, "kmeans++", rng)
        return {
            "X": X,
            "theta0": theta0,
            "precisions0": sklearn_precisions(theta0),
            "n_iter": n_iter,
        }

    return setup


_DATA: dict = {}


def _gaussian_data_cached(n, d, K, seed):
    # W2, W3, W3b and W3c share one data set: build it once per process.
    key = (n, d, K, seed)
    if key not in _DATA:
        _DATA.clear()
        _DATA[key] = gaussian_data(n, d, K, spread=4.0 if d > 8 else 3.0, seed=seed)
    return _DATA[key]


def gmm_emlib(inputs: dict) -> gmm.GaussianMixture:
    theta0 = inputs["theta0"]
    # tol=-1: exactly max_iter iterations (see emlib.em.run_em).
    model = gmm.GaussianMixture(
        theta0.n_components,
        covariance_type=theta0.covariance_type,
        tol=-1,
        reg_covar=REG_COVAR,
        max_iter=inputs["n_iter"],
        init=theta0,
    )
    return model.fit(inputs["X"])


def gmm_sklearn(inputs: dict) -> SkGaussianMixture:
    theta0 = inputs["theta0"]
    # tol=0: scikit-learn stops only when |change| < tol, which never holds.
    model = SkGaussianMixture(
        theta0.n_components,
        covariance_type=theta0.covariance_type,
        tol=0.0,
        reg_covar=REG_COVAR,
        max_iter=inputs["n_iter"],
        weights_init=theta0.pi,
        means_init=theta0.mu,
        precisions_init=inputs["precisions0"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkConvergenceWarning)
        return model.fit(inputs["X"])


def gmm_agreement(inputs: dict, ours, theirs) -> tuple[float, str]:
    """Relative difference of log p(X | theta_T), the log-likelihood of the final parameters.

    emlib records it as its last entry; scikit-learn's ``score`` recomputes it (outside the
    timed region) from its final parameters.
    """
    X = inputs["X"]
    if ours.n_iter_ != inputs["n_iter"] or theirs.n_iter_ != inputs["n_iter"]:
        raise RuntimeError(
            f"iteration counts differ from {inputs['n_iter']}: emlib {ours.n_iter_}, "
            f"scikit-learn {theirs.n_iter_}; the work would not be identical"
        )
    return relative_difference(ours.log_likelihoods_[-1], theirs.score(X) * len(X)), "final ll"


def gmm_full_gflop(inputs: dict) -> float:
    """Nominal GFLOP of a full-covariance fit, the same count for both libraries.

    Per E-step 2 n K d^2 (whitening every sample against every component) and per M-step
    2 n K d^2 (the weighted scatter matrices) + 2 n K d (the means); a fit of T iterations
    does T + 1 E-steps (scikit-learn's last one labels the data) and T M-steps. It counts the
    dense formulation; an implementation that skips work (a symmetric product) still gets
    credit for the full count, so the figure is a throughput equivalent, not a hardware count.
    """
    X, K = inputs["X"], inputs["theta0"].n_components
    n, d = X.shape
    T = inputs["n_iter"]
    return ((T + 1) * 2 * n * K * d * d + T * (2 * n * K * d * d + 2 * n * K * d)) / 1e9


# --- k-means ----------------------------------------------------------------------------------


def kmeans_setup() -> dict:
    rng = np.random.default_rng(4)
    K, d = 50, 16
    mu = rng.normal(scale=4.0, size=(K, d))
    X = make_mixture(100_000, np.full(K, 1 / K), mu, np.ones(K), "spherical", rng).X
    centres, _ = kmeans.kmeans_plusplus(X, K, random_state=5)
    return {"X": X, "K": K, "centres": centres, "n_iter": 30}


def kmeanspp_emlib(inputs):
    return kmeans.kmeans_plusplus(inputs["X"], inputs["K"], random_state=6)


def kmeanspp_sklearn(inputs):
    # n_local_trials=1 is plain D^2 sampling, the algorithm emlib implements (scikit-learn's
    # default greedy variant evaluates 2 + log K candidates per centre: other work).
    return sk_kmeans_plusplus(inputs["X"], inputs["K"], random_state=6, n_local_trials=1)


def kmeanspp_agreement(inputs, ours, theirs) -> tuple[None, str]:
    """The two draw from different random streams, so their seeds differ; check each output."""
    X = inputs["X"]
    for centres, idx in (ours, theirs):
        if len(set(idx.tolist())) != inputs["K"] or not np.array_equal(centres, X[idx]):
            raise RuntimeError("k-means++ returned centres that are not distinct samples")
    return None, "random draws"


def lloyd_emlib(inputs):
    return kmeans.KMeans(
        inputs["K"], init=inputs["centres"], n_init=1, max_iter=inputs["n_iter"], tol=0.0
    ).fit(inputs["X"])


def lloyd_sklearn(inputs):
    model = SkKMeans(
        inputs["K"],
        init=inputs["centres"],
        n_init=1,
        max_iter=inputs["n_iter"],
        tol=0.0,
        algorithm="lloyd",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkConvergenceWarning)
        return model.fit(inputs["X"])


def lloyd_agreement(inputs, ours, theirs) -> tuple[float, str]:
    if ours.n_iter_ != theirs.n_iter_:
        raise RuntimeError(
            f"Lloyd iteration counts differ: emlib {ours.n_iter_}, scikit-learn {theirs.n_iter_}"
        )
    return relative_difference(ours.inertia_, theirs.inertia_), "final J"


def lloyd_gflop(inputs) -> float:
    """2 n K d per assignment step (the distance product), n_iter + 1 assignments."""
    n, d = inputs["X"].shape
    return (inputs["n_iter"] + 1) * 2 * n * inputs["K"] * d / 1e9


# --- Bernoulli mixture ------------------------------------------------------------------------


def bernoulli_setup() -> dict:
    X = load_binary_digits(return_labels=False)
    rng = np.random.default_rng(7)
    theta0 = bernoulli.initial_params(X, 10, 1.01, 1.01, "random", rng)
    return {"X": X, "theta0": theta0, "n_iter": 100}


def bernoulli_emlib(inputs):
    # tol=0 stops only on an exactly repeated log posterior; the agreement checks n_iter.
    model = bernoulli.BernoulliMixture(
        10, tol=0.0, max_iter=inputs["n_iter"], init=inputs["theta0"]
    )
    return model.fit(inputs["X"])


def bernoulli_agreement(inputs, ours, _) -> tuple[float, str]:
    """The recorded final log posterior against scipy.stats on the final parameters."""
    from scipy import stats
    from scipy.special import logsumexp as scipy_logsumexp

    X, p = inputs["X"], ours.params_
    if ours.n_iter_ != inputs["n_iter"]:
        raise RuntimeError(f"BernoulliMixture stopped after {ours.n_iter_} iterations")
    log_joint = np.column_stack(
        [stats.bernoulli(p.theta[k]).logpmf(X).sum(axis=1) for k in range(p.n_components)]
    ) + np.log(p.pi)
    log_prior = stats.beta(1.01, 1.01).logpdf(p.theta).sum()
    want = scipy_logsumexp(log_joint, axis=1).sum() + log_prior
    return relative_difference(ours.log_likelihoods_[-1], want), "vs scipy.stats"


# --- the table --------------------------------------------------------------------------------


def _gmm(name, description, n, d, K, covariance_type, n_iter, seed, *, targets, memory=False):
    return Workload(
        name=name,
        description=description,
        setup=gmm_setup(n, d, K, covariance_type, n_iter, seed),
        run_emlib=gmm_emlib,
        run_sklearn=gmm_sklearn,
        agreement=gmm_agreement,
        gflop=gmm_full_gflop if covariance_type == "full" else None,
        measure_memory=memory,
        targets=targets,
    )


WORKLOADS = [
    _gmm("W1", "GMM full, n=100k d=2 K=3, 100 it", 100_000, 2, 3, "full", 100, 1,
         targets={"ratio": 0.2}),
    _gmm("W2", "GMM full, n=20k d=64 K=10, 50 it", 20_000, 64, 10, "full", 50, 2,
         targets={"ratio": 0.4, "gflops": 45.0}),
    _gmm("W3", "GMM diag, W2 data, 50 it", 20_000, 64, 10, "diag", 50, 2,
         targets={"ratio": 0.3}),
    _gmm("W3b", "GMM spherical, W2 data, 50 it", 20_000, 64, 10, "spherical", 50, 2,
         targets={"ratio": 0.5}),
    _gmm("W3c", "GMM tied, W2 data, 50 it", 20_000, 64, 10, "tied", 50, 2,
         targets={"ratio": 0.5}),
    Workload(
        name="W4",
        description="k-means++ seeding, n=100k d=16 K=50",
        setup=kmeans_setup,
        run_emlib=kmeanspp_emlib,
        run_sklearn=kmeanspp_sklearn,
        agreement=kmeanspp_agreement,
        targets={"ratio": 1.0},
    ),
    Workload(
        name="W4b",
        description="Lloyd k-means, W4 data and seeds, 30 it",
        setup=kmeans_setup,
        run_emlib=lloyd_emlib,
        run_sklearn=lloyd_sklearn,
        agreement=lloyd_agreement,
        gflop=lloyd_gflop,
        targets={"ratio": 2.0},
    ),
    Workload(
        name="W5",
        description="Bernoulli mixture, digits 1797x64, K=10, 100 it",
        setup=bernoulli_setup,
        run_emlib=bernoulli_emlib,
        run_sklearn=None,
        agreement=bernoulli_agreement,
        targets={"ms": 30.0},
    ),
    _gmm("W6", "GMM full, n=1M d=8 K=5, 20 it", 1_000_000, 8, 5, "full", 20, 3,
         targets={"ratio": 0.5, "memory": 1.5}, memory=True),
]
