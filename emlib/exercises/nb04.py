"""Exercises of notebook 04 (k-means, k-means++ and the link to EM).

``04.kmeans-plusplus`` (function, distributional): ``kmeans_plusplus(X, n_clusters,
random_state)`` returns the (K, d) array of initial centres, chosen among the rows of ``X`` by
D² sampling (eq. (4.4)). One call cannot be judged (any K distinct rows can come out), so the
check calls it ``N_CALLS`` times with the seeds ``random_state, random_state + 1, ...`` and
compares how often each set of rows comes out with the exact probabilities of D² sampling
(a chi-square test; the order of the centres does not matter).

``04.lloyd-step`` (function): ``lloyd_step(X, mu)`` returns ``(mu_new, labels, inertia)``: the
nearest centre of every sample (eq. (4.2)), the mean of every cluster (eq. (4.3)), and J of the
centres passed in (eq. (4.1)). The cases never leave a cluster empty.

``04.param-counts`` (function): ``count_parameters(K, d)`` returns ``(n_gmm, n_kmeans)``, the
number of free parameters of a K-component full-covariance Gaussian mixture in d dimensions and
of k-means with K centres.

``04.eps-limit`` (choice): which statements about the limit eps -> 0 of a mixture with shared
covariance eps I are true, e.g. ``{"a", "c"}``.

``04.lloyd-descent`` (derivation): why a Lloyd iteration never raises J, with the two drops of
one iteration as its numeric part; declared in :mod:`emlib.exercises.lloyd_descent`.

``04.lloyd-descent-formula`` (expression): the drop of J when one sample moves from centre ``a``
to centre ``b`` (1-D, sample ``x``), the automatic part of the assignment step of
``04.lloyd-descent``.

``04.two-means-r`` (expression): the responsibility of two components with covariance eps I as a
logistic function of the squared-distance gap.

``04.kmeanspp-d2`` (expression): the D² probability (4.4) of the next centre, for three samples
at distances ``D_1``, ``D_2``, ``D_3`` from their nearest chosen centre.

The expression exercises are declared in :mod:`emlib.exercises.derived`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import reference
from ..gmm import GMMParams
from .compare import (
    choice_set,
    close,
    distribution_test,
    integers,
    misclassified,
    record,
    whole_number,
)
from .derived import KMEANSPP_D2, LLOYD_DESCENT_FORMULA, TWO_MEANS_R
from .lloyd_descent import LLOYD_DESCENT
from .spec import Exercise, Mistake

# ---------------------------------------------------------------------------------------------
# 04.kmeans-plusplus: the exact distribution of D² seeding and a chi-square test against it
# ---------------------------------------------------------------------------------------------

N_CALLS = 2000  # seedings per case: enough to tell D² from D, uniform or greedy choices


def _sq_dists(X: np.ndarray) -> np.ndarray:
    """All squared distances ``||x_i - x_j||^2``, shape (n, n)."""
    diff = X[:, None, :] - X[None, :, :]
    return np.einsum("ijd,ijd->ij", diff, diff)


def _weights_d2(D2: np.ndarray, chosen: tuple[int, ...]) -> np.ndarray:
    """Eq. (4.4): D(x)^2 to the nearest chosen centre."""
    return D2[list(chosen)].min(axis=0)


def _weights_d(D2: np.ndarray, chosen: tuple[int, ...]) -> np.ndarray:
    """The mistake "D, not D²": weights proportional to the distance itself."""
    return np.sqrt(D2[list(chosen)].min(axis=0))


def _weights_last(D2: np.ndarray, chosen: tuple[int, ...]) -> np.ndarray:
    """The mistake "only the last centre": D² to the most recent centre, not the nearest."""
    return D2[chosen[-1]].copy()


def _weights_d4(D2: np.ndarray, chosen: tuple[int, ...]) -> np.ndarray:
    """The mistake "D² squared again": weights proportional to D^4."""
    return D2[list(chosen)].min(axis=0) ** 2


def _weights_uniform(D2: np.ndarray, chosen: tuple[int, ...]) -> np.ndarray:
    """The mistake "random init": every sample not chosen yet equally likely."""
    w = np.ones(D2.shape[0])
    w[list(chosen)] = 0.0
    return w


def _weights_greedy(D2: np.ndarray, chosen: tuple[int, ...]) -> np.ndarray:
    """The mistake "farthest point": all the mass on the largest D²."""
    d2 = D2[list(chosen)].min(axis=0)
    w = np.zeros_like(d2)
    w[np.argmax(d2)] = 1.0
    return w


def _sequence_distribution(X, n_clusters, rule: Callable) -> dict[tuple[int, ...], float]:
    """Exact probabilities of the sorted index tuples a seeding produces.

    The first centre is uniform over the n samples; every next one is drawn with probabilities
    proportional to ``rule(D2, chosen)``. Enumerates every ordered sequence (n <= 10, K <= 4 in
    the cases), then forgets the order.
    """
    X = np.asarray(X, dtype=np.float64)
    D2 = _sq_dists(X)
    n = X.shape[0]
    out: dict[tuple[int, ...], float] = {}

    def extend(chosen: tuple[int, ...], p: float) -> None:
        if len(chosen) == n_clusters:
            key = tuple(sorted(chosen))
            out[key] = out.get(key, 0.0) + p
            return
        w = rule(D2, chosen)
        total = w.sum()
        for i in np.flatnonzero(w > 0):
            extend((*chosen, int(i)), p * w[i] / total)

    for i in range(n):
        extend((i,), 1.0 / n)
    return out


def _seeding_distribution(X, n_clusters, random_state) -> dict[tuple[int, ...], float]:
    """The reference: exact probabilities of each set of centres under eq. (4.4)."""
    return _sequence_distribution(X, n_clusters, _weights_d2)


def _outcomes(outputs, X, n_clusters) -> tuple[list[tuple[int, ...]] | None, str]:
    """The sorted row indices of every call's centres, or None and what is wrong."""
    X = np.asarray(X, dtype=np.float64)
    scale = 1e-9 * max(1.0, float(np.abs(X).max()))
    found = []
    for j, out in enumerate(outputs):
        try:
            C = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError):
            return None, (
                f"call {j} returned a {type(out).__name__}; expected the (K, d) array of centres "
                f"(if you return (centres, indices), return only centres)"
            )
        if C.shape != (n_clusters, X.shape[1]):
            return None, (
                f"call {j} returned shape {C.shape}; expected ({n_clusters}, {X.shape[1]}), one "
                f"row per centre"
            )
        match = np.abs(C[:, None, :] - X[None, :, :]).max(axis=2) <= scale
        if not match.any(axis=1).all():
            return None, (
                f"call {j}: some centres are not rows of X; k-means++ picks its centres among "
                f"the samples"
            )
        idx = tuple(sorted(int(np.argmax(row)) for row in match))
        found.append(idx)
    return found, ""


def _repeats(found: list[tuple[int, ...]]) -> str:
    if any(len(set(o)) < len(o) for o in found):
        return (
            "some seedings pick the same sample twice: a chosen sample has D(x) = 0 to its own "
            "centre, so D² sampling never picks it again"
        )
    return ""


_SEEDING_TEST = distribution_test(
    lambda outputs, inputs: _outcomes(outputs, inputs["X"], inputs["n_clusters"]),
    calls="seedings",
    law="D² sampling",
    hint="the first centre is uniform, each next one is sample i with probability "
    "D(x_i)^2 / sum_j D(x_j)^2",
    invalid=_repeats,
)


def _matches_rule(rule: Callable) -> Callable:
    """``Mistake.matches``: the seedings fit the distribution of a wrong weighting rule."""

    def matches(outputs, inputs) -> bool:
        probs = _sequence_distribution(inputs["X"], inputs["n_clusters"], rule)
        return _SEEDING_TEST.fits(outputs, probs, inputs)

    return matches


def _sampling_variant(rule: Callable) -> Callable:
    """A seeding that draws with ``rule``: what a student who made that mistake returns."""

    def variant(X, n_clusters, random_state):
        X = np.asarray(X, dtype=np.float64)
        rng = np.random.default_rng(random_state)
        D2 = _sq_dists(X)
        chosen = (int(rng.integers(X.shape[0])),)
        while len(chosen) < n_clusters:
            w = rule(D2, chosen)
            chosen = (*chosen, int(rng.choice(X.shape[0], p=w / w.sum())))
        return X[list(chosen)]

    return variant


def _matches_repeats(outputs, inputs) -> bool:
    found, _ = _outcomes(outputs, inputs["X"], inputs["n_clusters"])
    return found is not None and any(len(set(o)) < len(o) for o in found)


def _seeding_solution(X, n_clusters, random_state):
    """A correct answer in the student's form: the centres of a D² seeding (emlib.reference)."""
    X = np.asarray(X, dtype=np.float64)
    return X[reference.kmeans_plusplus(X, n_clusters, np.random.default_rng(random_state))]


_SEED_X = np.array(
    [[0.0, 0.0], [1.0, 0.2], [0.3, 1.1], [4.0, 0.5], [4.6, 1.4], [2.2, 4.0], [9.0, 9.0]]
)


def _generate_seeding(rng: np.random.Generator) -> dict:
    n = int(rng.integers(6, 9))
    X = np.round(rng.normal(scale=3.0, size=(n, 2)), 2)
    while len(np.unique(X, axis=0)) < n:  # distinct rows: each centre names one sample
        X = np.round(rng.normal(scale=3.0, size=(n, 2)), 2)
    return {"X": X, "n_clusters": 3, "random_state": int(rng.integers(10**6))}


KMEANS_PLUSPLUS = Exercise(
    id="04.kmeans-plusplus",
    title="k-means++ seeding: D² sampling",
    points=4,
    kind="function",
    name="kmeans_plusplus",
    signature="kmeans_plusplus(X, n_clusters, random_state)",
    equation="4.4",
    public_cases=(
        {"X": _SEED_X, "n_clusters": 2, "random_state": 0},
        {"X": _SEED_X, "n_clusters": 3, "random_state": 10_000},
    ),
    generate=_generate_seeding,
    n_hidden=2,
    n_calls=N_CALLS,
    seed_argument="random_state",
    reference=_seeding_distribution,
    solution=_seeding_solution,
    compare=_SEEDING_TEST,
    mistakes=(
        Mistake(
            "uniform",
            "the centres are drawn uniformly at random (the plain random init): after the first "
            "one, sample i must be drawn with probability proportional to D(x_i)^2.",
            "4.4",
            _sampling_variant(_weights_uniform),
            matches=_matches_rule(_weights_uniform),
        ),
        Mistake(
            "d-not-squared",
            "the probabilities are proportional to the distance D(x_i), not to its square "
            "D(x_i)^2.",
            "4.4",
            _sampling_variant(_weights_d),
            matches=_matches_rule(_weights_d),
        ),
        Mistake(
            "d-fourth",
            "the probabilities are proportional to D(x_i)^4: D² was squared once more (the "
            "squared distances are already D(x_i)^2).",
            "4.4",
            _sampling_variant(_weights_d4),
            matches=_matches_rule(_weights_d4),
        ),
        Mistake(
            "greedy",
            "each next centre is the farthest sample (argmax of D^2) instead of a random draw "
            "with probabilities D(x_i)^2 / sum_j D(x_j)^2; the greedy choice chases outliers.",
            "4.4",
            _sampling_variant(_weights_greedy),
            matches=_matches_rule(_weights_greedy),
        ),
        Mistake(
            "not-nearest",
            "D(x) is measured to one centre (the last or the first chosen) instead of the "
            "NEAREST chosen centre, min over the chosen c of ||x - c||^2.",
            "4.4",
            _sampling_variant(_weights_last),
            matches=lambda outputs, inputs: (
                _matches_repeats(outputs, inputs) or _matches_rule(_weights_last)(outputs, inputs)
            ),
        ),
    ),
    forbidden=(
        "emlib.kmeans.kmeans_plusplus",
        "emlib._fast.lloyd.kmeans_plusplus",
        "emlib._fast.lloyd._d2_seeding",
        "emlib.reference.kmeans_plusplus",
        "emlib.kmeans.KMeans",
        "sklearn.cluster.kmeans_plusplus",
        "sklearn.cluster.KMeans",
    ),
)

# ---------------------------------------------------------------------------------------------
# 04.lloyd-step
# ---------------------------------------------------------------------------------------------


def _lloyd_reference(X, mu) -> dict:
    step = reference.lloyd_step(X, mu)
    return {"mu": step.mu, "labels": step.labels, "inertia": step.inertia}


def _distances(X, mu) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    return ((X[:, None, :] - mu[None, :, :]) ** 2).sum(axis=2)


def _farthest(X, mu) -> dict:
    labels = _distances(X, mu).argmax(axis=1)
    X = np.asarray(X, dtype=np.float64)
    K = len(mu)
    means = np.array(
        [X[labels == k].mean(axis=0) if (labels == k).any() else mu[k] for k in range(K)]
    )
    return {"labels": labels, "mu": means}


def _manhattan(X, mu) -> dict:
    X, mu = np.asarray(X, dtype=np.float64), np.asarray(mu, dtype=np.float64)
    labels = np.abs(X[:, None, :] - mu[None, :, :]).sum(axis=2).argmin(axis=1)
    return {"labels": labels}


def _not_updated(X, mu) -> dict:
    return {"mu": np.asarray(mu, dtype=np.float64)}


def _divided_by_n(X, mu) -> dict:
    right = _lloyd_reference(X, mu)
    X = np.asarray(X, dtype=np.float64)
    one_hot = right["labels"][:, None] == np.arange(len(mu))
    return {"mu": one_hot.T @ X / X.shape[0]}


def _inertia_after(X, mu) -> dict:
    right = _lloyd_reference(X, mu)
    return {"inertia": float(_distances(X, right["mu"]).min(axis=1).sum())}


def _inertia_unsquared(X, mu) -> dict:
    return {"inertia": float(np.sqrt(_distances(X, mu).min(axis=1)).sum())}


def _generate_lloyd(rng: np.random.Generator) -> dict:
    K = int(rng.integers(2, 5))
    d = int(rng.integers(1, 4))
    n = int(rng.integers(15, 41))
    centres = rng.normal(scale=3.0, size=(K, d))
    X = centres[rng.integers(K, size=n)] + rng.normal(size=(n, d))
    # Centres at distinct samples: each cluster keeps at least its own sample, none is empty.
    mu = X[rng.choice(n, size=K, replace=False)].copy()
    return {"X": X, "mu": mu}


_LLOYD_X = np.array(
    [[0.0, 0.0], [0.5, 1.0], [1.0, 0.0], [4.0, 4.0], [5.0, 4.5], [4.5, 5.5], [0.2, 4.8], [1.0, 5.2]]
)

LLOYD_STEP = Exercise(
    id="04.lloyd-step",
    title="One Lloyd step: assign, then average",
    points=4,
    kind="function",
    name="lloyd_step",
    signature="lloyd_step(X, mu)",
    equation="4.1-4.3",
    public_cases=(
        {"X": _LLOYD_X, "mu": _LLOYD_X[[0, 3, 6]].copy()},
        {"X": _LLOYD_X, "mu": _LLOYD_X[[1, 4]].copy()},
        _generate_lloyd(np.random.default_rng(4)),
    ),
    generate=_generate_lloyd,
    n_hidden=3,
    reference=_lloyd_reference,
    compare=record(
        {"mu": close(1e-9, 1e-9), "labels": integers(), "inertia": close(1e-9, 1e-9)},
        weights={"mu": 2.0},
    ),
    mistakes=(
        Mistake(
            "farthest",
            "each sample went to its FARTHEST centre (argmax); eq. (4.2) takes the nearest, "
            "the argmin of ||x_i - mu_k||^2.",
            "4.2",
            _farthest,
        ),
        Mistake(
            "manhattan",
            "the assignment uses the sum of absolute differences (L1); eq. (4.2) assigns by the "
            "squared Euclidean distance ||x_i - mu_k||^2.",
            "4.2",
            _manhattan,
        ),
        Mistake(
            "not-updated",
            "mu_new is the mu passed in: after assigning, move every centre to the mean of its "
            "cluster.",
            "4.3",
            _not_updated,
        ),
        Mistake(
            "divide-by-n",
            "each cluster sum was divided by n, the number of all samples, instead of N_k, the "
            "number of samples in cluster k.",
            "4.3",
            _divided_by_n,
        ),
        Mistake(
            "inertia-after-update",
            "the inertia is J of the NEW centres; the exercise asks for J of the centres passed "
            "in, under the assignment you just computed (the new J is the next step's).",
            "4.1",
            _inertia_after,
        ),
        Mistake(
            "inertia-unsquared",
            "the inertia sums the distances ||x_i - mu_k||; J sums their squares.",
            "4.1",
            _inertia_unsquared,
        ),
    ),
    forbidden=(
        "emlib.kmeans.lloyd_step",
        "emlib._fast.lloyd.Lloyd",
        "emlib.reference.lloyd_step",
        "emlib.kmeans.KMeans",
        "sklearn.cluster.KMeans",
        "sklearn.cluster.k_means",
    ),
)

# ---------------------------------------------------------------------------------------------
# 04.param-counts
# ---------------------------------------------------------------------------------------------


def _counts(K, d) -> dict:
    K, d = int(K), int(d)
    full = GMMParams(np.full(K, 1.0 / K), np.zeros((K, d)), np.broadcast_to(np.eye(d), (K, d, d)))
    return {"n_gmm": full.n_parameters(), "n_kmeans": K * d}


def _generate_counts(rng: np.random.Generator) -> dict:
    return {"K": int(rng.integers(1, 13)), "d": int(rng.integers(1, 31))}


PARAM_COUNTS = Exercise(
    id="04.param-counts",
    title="Free parameters: a full-covariance GMM versus k-means",
    points=2,
    kind="function",
    name="count_parameters",
    signature="count_parameters(K, d)",
    equation="4.1",
    public_cases=({"K": 3, "d": 4}, {"K": 10, "d": 64}),
    generate=_generate_counts,
    n_hidden=4,
    reference=_counts,
    compare=record({"n_gmm": whole_number(), "n_kmeans": whole_number()}),
    mistakes=(
        Mistake(
            "weights-not-constrained",
            "all K mixing weights were counted as free: they sum to one, so only K - 1 are.",
            "3.5",
            lambda K, d: {"n_gmm": _counts(K, d)["n_gmm"] + 1},
        ),
        Mistake(
            "covariance-d-squared",
            "each covariance was counted as d^2 numbers; it is symmetric, so d(d + 1)/2 of them "
            "are free.",
            "3.7",
            lambda K, d: {"n_gmm": _counts(K, d)["n_gmm"] + K * d * (d - 1) // 2},
        ),
        Mistake(
            "diagonal-covariance",
            "the count is that of a diagonal-covariance mixture (d variances per component); a "
            "full covariance has d(d + 1)/2 free entries.",
            "3.8",
            lambda K, d: {"n_gmm": K - 1 + 2 * K * d},
        ),
        Mistake(
            "no-means",
            "the K means (K d numbers) are not counted: a component has a weight, a mean and "
            "a covariance.",
            "3.6",
            lambda K, d: {"n_gmm": _counts(K, d)["n_gmm"] - K * d},
        ),
        Mistake(
            "tied",
            "one covariance is counted for all components (a tied mixture); each of the K "
            "components has its own, d(d + 1)/2 free entries each.",
            "3.8",
            lambda K, d: {"n_gmm": K - 1 + K * d + d * (d + 1) // 2},
        ),
        Mistake(
            "kmeans-weights",
            "k-means was given mixing weights: its only parameters are the K centres in R^d.",
            "4.1",
            lambda K, d: {"n_kmeans": K * d + K - 1},
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# 04.eps-limit
# ---------------------------------------------------------------------------------------------

EPS_LIMIT_CHOICES = {
    "a": "For a point with a unique nearest mean, its responsibilities tend to 1 for that mean "
    "and 0 for the others as eps -> 0, whatever the weights pi_k > 0.",
    "b": "For a fixed eps > 0, however small, every responsibility is exactly 0 or 1.",
    "c": "eps times the expected complete-data log-likelihood Q tends to -J/2, J the k-means "
    "objective of the same means and the limiting one-hot assignments.",
    "d": "In the limit the mixing weights decide which mean a point is assigned to.",
    "e": "For a point exactly halfway between mu_1 and mu_2 (and farther from every other "
    "mean), the responsibilities tend to pi_1 / (pi_1 + pi_2) and pi_2 / (pi_1 + pi_2).",
    "f": "Multiplying all the data and the means by c > 0 gives the same responsibilities as "
    "keeping them and dividing eps by c^2.",
    "g": "In the limit EM also estimates a covariance matrix for every cluster, which k-means "
    "then uses in its assignment step.",
}
_EPS_TRUE = frozenset({"a", "c", "e", "f"})


def _eps_limit() -> frozenset:
    return _EPS_TRUE


def _flip(label: str) -> Callable[[], set]:
    return lambda: set(_EPS_TRUE ^ {label})


def _misclassified(label: str) -> Callable:
    return misclassified(label, _EPS_TRUE)


EPS_LIMIT = Exercise(
    id="04.eps-limit",
    title="True or false: the eps -> 0 limit of a Gaussian mixture",
    points=3,
    kind="choice",
    name="eps_limit",
    equation="4.5",
    choices=EPS_LIMIT_CHOICES,
    reference=_eps_limit,
    compare=choice_set(tuple(EPS_LIMIT_CHOICES)),
    mistakes=(
        Mistake(
            "strict-for-finite-eps",
            "you took (b) as true: for eps > 0 every responsibility is a ratio of positive "
            "exponentials, strictly between 0 and 1 (it may round to 0 or 1 in floating point, "
            "but it is not exactly so); only the limit is one-hot.",
            "4.5",
            _flip("b"),
            matches=_misclassified("b"),
        ),
        Mistake(
            "weights-decide",
            "you took (d) as true: the weights enter as log pi_k, a constant, while the "
            "distance term grows like 1/eps, so for a unique nearest mean the weights stop "
            "mattering; they matter only at an exact tie, statement (e).",
            "4.5",
            _flip("d"),
            matches=_misclassified("d"),
        ),
        Mistake(
            "covariances-learned",
            "you took (g) as true: the covariance eps I is fixed and shared, not estimated; "
            "k-means has no covariance at all, only centres.",
            "4.5",
            _flip("g"),
            matches=_misclassified("g"),
        ),
        Mistake(
            "tie-case",
            "you classified (e) wrongly: at an exact tie the two distance terms cancel in the "
            "ratio, and what is left is pi_1 / (pi_1 + pi_2).",
            "4.5",
            _flip("e"),
            matches=_misclassified("e"),
        ),
        Mistake(
            "scale",
            "you classified (f) wrongly: ||c x - c mu||^2 / (2 eps) = ||x - mu||^2 / (2 eps / "
            "c^2), so scaling the data is the same as changing eps.",
            "4.5",
            _flip("f"),
            matches=_misclassified("f"),
        ),
    ),
)

EXERCISES = (
    KMEANS_PLUSPLUS, LLOYD_STEP, PARAM_COUNTS, EPS_LIMIT, LLOYD_DESCENT, LLOYD_DESCENT_FORMULA,
    TWO_MEANS_R, KMEANSPP_D2,
)
