"""Exercises of notebook 03 (Gaussian mixtures and EM).

``03.e-step`` (function): ``e_step(X, pi, mu, Sigma) -> resp``, the responsibilities (3.4) for
full covariances, X (n, d), pi (K,), mu (K, d), Sigma (K, d, d); resp (n, K).

``03.m-step`` (function): ``m_step(X, resp, covariance_type) -> (pi, mu, Sigma)``, the updates
(3.5)-(3.9) without regularisation, for covariance_type 'full' (Sigma (K, d, d)), 'diag' (K, d) or
'spherical' (K,); a dict with keys "pi", "mu", "Sigma" (or a GMMParams) is accepted too.

``03.tied-cov`` (derivation): derive the tied update (3.8) from Q; the numeric consequence is the
tied variance after one EM iteration on the five points of ``five_points()`` (a float).

``03.tied-cov-formula`` (expression): the tied update (3.8) in 1-D for two components, in the
weighted scatters ``S_1``, ``S_2`` and the soft counts ``N_1``, ``N_2``: the automatic part of
``03.tied-cov``.

``03.posterior-1d`` (value): the five-point problem of the lecture notes,
``emlib.datasets.five_points()``: x = 0.2, -0.9, -1, 1.2, 1.8; mu = -3, 2; sigma^2 = 4, 4;
pi = 0.5, 0.5. The student gives a dict::

    posterior_1d = {
        "resp1": [...],   # the five posteriors p(1 | x_i) = r_i1, i = 1..5 (eq. 3.4)
        "pi1": ...,       # pi_1 after one M-step (eq. 3.5)
        "mu1": ...,       # mu_1 after one M-step (eq. 3.6)
        "sigma2_1": ...,  # sigma_1^2 after one M-step (eq. 3.9, d = 1)
    }

each number to 5 significant digits (more digits are fine).

``03.em-cost`` (choice): which statements about a GMM fitted by EM are true, e.g. ``{"a"}``.

``03.em-loop`` (function): ``em_loop(X, pi, mu, Sigma, tol, max_iter, m_step_fn=None) -> (pi, mu,
Sigma, log_likelihoods)``, the EM loop for full covariances built from the student's own E-step and
M-step (or ``m_step_fn(X, resp) -> (pi, mu, Sigma)`` when given; the cases pass None): start with
l(theta_0), then per iteration an E-step, an M-step and l(theta_t); stop after iteration t when
l(theta_t) - l(theta_{t-1}) <= tol * n (the change per sample, eq. (6.4)) or after ``max_iter``
iterations; ``log_likelihoods`` holds l(theta_0), ..., l(theta_T) and the parameters are theta_T.
The student's loop also asserts that l never falls (not graded: the cases use a correct M-step).

``03.em-debug`` (choice): what a falling log-likelihood says about a deliberately buggy M-step.

``03.pi-map`` (expression): the MAP weights under a symmetric Dirichlet prior.

``03.shared-variance`` (expression): one variance shared by every component and coordinate.

The expression exercises are declared in :mod:`emlib.exercises.derived`.
"""

from __future__ import annotations

import numpy as np

from .. import reference
from ..datasets import five_points
from ..densities import log_gaussian, logsumexp
from .compare import choice_set, close, record
from .derived import PI_MAP, SHARED_VARIANCE, TIED_COV_FORMULA
from .spec import Exercise, Mistake


def _one_em_step(sigma2_scale: float = 1.0) -> dict:
    """Posteriors of cluster 1 and its parameters after one EM iteration on the five points.

    ``sigma2_scale`` multiplies the initial variances (a mistake variant reads sigma^2 = 4 as a
    standard deviation, i.e. a variance of 16).
    """
    fp = five_points()
    sigma2 = np.asarray(fp.sigma2) * sigma2_scale
    resp, _ = reference.e_step(fp.x[:, None], fp.pi, fp.mu[:, None], sigma2, "spherical")
    return _with_m_step(resp[:, 0])


def _with_m_step(r1: np.ndarray) -> dict:
    """The answer dict for the weights ``r1`` of cluster 1 (an M-step by emlib.reference)."""
    fp = five_points()
    new = reference.m_step(fp.x[:, None], np.column_stack([r1, 1.0 - r1]), "spherical")
    return {"resp1": r1, "pi1": new.pi[0], "mu1": new.mu[0, 0], "sigma2_1": new.Sigma[0]}


def _weighted_densities() -> np.ndarray:
    """pi_k N(x_i | mu_k, sigma_k^2), shape (5, 2): the numerators of eq. (3.4)."""
    fp = five_points()
    return np.asarray(fp.pi) * np.exp(log_gaussian(fp.x, fp.mu, fp.sigma2, "spherical"))


def _wrong_axis() -> dict:
    joint = _weighted_densities()
    return _with_m_step(joint[:, 0] / joint[:, 0].sum())


def _unnormalised() -> dict:
    return _with_m_step(_weighted_densities()[:, 0])


def _cluster_2() -> dict:
    right = _one_em_step()
    return {**right, "resp1": 1.0 - np.asarray(right["resp1"])}


def _std_reported() -> dict:
    right = _one_em_step()
    return {**right, "sigma2_1": np.sqrt(right["sigma2_1"])}


def _old_mean() -> dict:
    fp = five_points()
    right = _one_em_step()
    x = np.asarray(fp.x, dtype=np.float64).ravel()
    spread = np.average((x - np.ravel(fp.mu)[0]) ** 2, weights=right["resp1"])
    return {**right, "sigma2_1": spread}


def _five_decimals() -> dict:
    """The answer rounded to five decimal places, as the lecture notes ask for it."""
    return {k: np.round(v, 5) for k, v in _one_em_step().items()}


_SIG5 = close(sig_digits=5)

POSTERIOR_1D = Exercise(
    id="03.posterior-1d",
    title="Five points: posteriors p(1|x_i), then one M-step",
    points=4,
    kind="value",
    name="posterior_1d",
    equation="3.4-3.9",
    reference=_one_em_step,
    compare=record(
        {"resp1": _SIG5, "pi1": _SIG5, "mu1": _SIG5, "sigma2_1": _SIG5},
        weights={"resp1": 2.0},
    ),
    mistakes=(
        Mistake(
            "decimal-places",
            "your numbers are rounded to five decimal places. The check asks for five "
            "significant digits, which is more decimals for a small number: 0.012345 has five "
            "significant digits, 0.01235 only four. Keep every digit NumPy gives you.",
            "3.4",
            _five_decimals,
        ),
        Mistake(
            "wrong-axis",
            "the posteriors are normalised over the five points instead of over the two "
            "clusters: p(1|x_i) divides pi_1 N(x_i|mu_1, sigma_1^2) by p(x_i), the sum over k.",
            "3.4",
            _wrong_axis,
        ),
        Mistake(
            "unnormalised",
            "p(1|x_i) is the joint pi_1 N(x_i|mu_1, sigma_1^2), not yet divided by "
            "p(x_i) = sum_k pi_k N(x_i|mu_k, sigma_k^2).",
            "3.4",
            _unnormalised,
        ),
        Mistake(
            "std-for-variance",
            "sigma^2 = 4 was used as a standard deviation (a variance of 16) in the Gaussian "
            "density: the 4 is already the variance.",
            "3.1",
            lambda: _one_em_step(sigma2_scale=4.0),
        ),
        Mistake(
            "cluster-2",
            "these are the posteriors of cluster 2, p(2|x_i) = 1 - p(1|x_i).",
            "3.4",
            _cluster_2,
        ),
        Mistake(
            "pi-not-divided",
            "pi1 is N_1 = sum_i p(1|x_i), not yet divided by n = 5: pi_1 = N_1 / n.",
            "3.5",
            lambda: {**_one_em_step(), "pi1": 5 * _one_em_step()["pi1"]},
        ),
        Mistake(
            "std-reported",
            "sigma2_1 holds the standard deviation sigma_1; the variance sigma_1^2 is asked.",
            "3.9",
            _std_reported,
        ),
        Mistake(
            "old-mean",
            "the new variance is spread around the old mean mu_1 = -3; it uses the new mu_1 "
            "of the same M-step.",
            "3.9",
            _old_mean,
        ),
    ),
)

EM_COST_CHOICES = {
    "a": "A GMM fitted by EM gives, for each point, the probability that it belongs to each "
    "cluster.",
    "b": "EM reaches the same estimate from any initialisation.",
    "c": "With spherical components, one EM iteration has a worse order of complexity than one "
    "k-means iteration with the same K.",
}

EM_COST = Exercise(
    id="03.em-cost",
    title="What EM gives, where it ends, what an iteration costs",
    points=3,
    kind="choice",
    name="em_cost",
    equation="3.4",
    choices=EM_COST_CHOICES,
    reference=lambda: frozenset({"a"}),
    compare=choice_set(tuple(EM_COST_CHOICES)),
    mistakes=(
        Mistake(
            "em-global-optimum",
            "you took (b) as true: EM only climbs to a local maximum of the likelihood (no step "
            "lowers it), so different initialisations can end at different estimates; that is "
            "why GaussianMixture has n_init.",
            "2.7",
            lambda: {"a", "b"},
            matches=lambda answer, inputs: "b" in answer,
        ),
        Mistake(
            "em-cost-order",
            "you took (c) as true: with spherical components one EM iteration costs O(nKd), "
            "like a k-means iteration (both compute n x K squared distances in d dimensions; "
            "normalising the responsibilities adds only O(nK)). Full covariances cost "
            "O(nKd^2 + Kd^3): Mahalanobis distances and K Cholesky factorisations.",
            "3.4",
            lambda: {"a", "c"},
            matches=lambda answer, inputs: "c" in answer,
        ),
        Mistake(
            "hard-assignments",
            "you left (a) out: the responsibilities r_ik = p(z_i = k | x_i, theta) are the "
            "probability that point i belongs to cluster k (soft assignments, where k-means "
            "gives hard ones).",
            "3.4",
            lambda: set(),
            matches=lambda answer, inputs: "a" not in answer,
        ),
    ),
)

# -- 03.e-step ----------------------------------------------------------------------------------


def _e_step(X, pi, mu, Sigma) -> np.ndarray:
    """Responsibilities (3.4) for full covariances, by emlib.reference.e_step."""
    resp, _ = reference.e_step(X, pi, mu, Sigma, "full")
    return resp


def _normalise_rows_log(log_w: np.ndarray) -> np.ndarray:
    return np.exp(log_w - logsumexp(log_w, axis=1, keepdims=True))


def _log_weighted(X, pi, mu, Sigma) -> np.ndarray:
    """ln pi_k + ln N(x_i | mu_k, Sigma_k), shape (n, K)."""
    return np.log(pi) + log_gaussian(X, mu, Sigma, "full")


def _e_wrong_axis(X, pi, mu, Sigma):
    log_w = _log_weighted(X, pi, mu, Sigma)
    return np.exp(log_w - logsumexp(log_w, axis=0, keepdims=True))


def _e_no_weights(X, pi, mu, Sigma):
    K = np.asarray(pi).shape[0]
    return _e_step(X, np.full(K, 1.0 / K), mu, Sigma)


def _e_no_logsumexp(X, pi, mu, Sigma):
    p = np.exp(_log_weighted(X, pi, mu, Sigma))
    with np.errstate(invalid="ignore"):
        return p / p.sum(axis=1, keepdims=True)


def _e_sigma_as_std(X, pi, mu, Sigma):
    Sigma = np.asarray(Sigma, dtype=np.float64)
    return _e_step(X, pi, mu, Sigma @ np.swapaxes(Sigma, -1, -2))


def _half_log_det(Sigma) -> np.ndarray:
    return 0.5 * np.linalg.slogdet(np.asarray(Sigma, dtype=np.float64))[1]


def _e_det_no_sqrt(X, pi, mu, Sigma):
    return _normalise_rows_log(_log_weighted(X, pi, mu, Sigma) - _half_log_det(Sigma))


def _e_no_half(X, pi, mu, Sigma):
    """exp(-(x - mu)^T Sigma^{-1} (x - mu)) without the 1/2."""
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1] if X.ndim == 2 else 1
    log_n = log_gaussian(X, mu, Sigma, "full")
    half_maha = -(log_n + 0.5 * d * np.log(2 * np.pi) + _half_log_det(Sigma))
    return _normalise_rows_log(np.log(pi) + log_n - half_maha)


def _e_no_log_det(X, pi, mu, Sigma):
    return _normalise_rows_log(_log_weighted(X, pi, mu, Sigma) + _half_log_det(Sigma))


def _e_precision(X, pi, mu, Sigma):
    return _e_step(X, pi, mu, np.linalg.inv(np.asarray(Sigma, dtype=np.float64)))


def _e_log(X, pi, mu, Sigma):
    with np.errstate(divide="ignore"):
        return np.log(_e_step(X, pi, mu, Sigma))


def _random_spd(rng: np.random.Generator, K: int, d: int) -> np.ndarray:
    A = rng.normal(size=(K, d, d))
    return A @ np.swapaxes(A, -1, -2) + 0.5 * np.eye(d)


def _generate_e_step(rng: np.random.Generator) -> dict:
    K, d, n = int(rng.integers(2, 5)), int(rng.integers(1, 4)), int(rng.integers(8, 41))
    X = rng.normal(0.0, 3.0, (n, d))
    if rng.random() < 0.3:  # a point far from every component (exp underflows without logsumexp)
        X[rng.integers(0, n)] *= 60.0
    return {
        "X": X,
        "pi": rng.dirichlet(2.0 * np.ones(K)),
        "mu": rng.normal(0.0, 3.0, (K, d)),
        "Sigma": _random_spd(rng, K, d),
    }


_S2 = np.array([[[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.5], [0.5, 1.0]]])
E_STEP = Exercise(
    id="03.e-step",
    title="The E-step for full covariances",
    points=5,
    kind="function",
    name="e_step",
    signature="e_step(X, pi, mu, Sigma)",
    equation="3.4",
    reference=_e_step,
    compare=close(rtol=1e-6, atol=1e-9),
    public_cases=(
        {
            "X": np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 3.0], [1.5, 1.0], [-1.0, 2.0]]),
            "pi": np.array([0.4, 0.6]),
            "mu": np.array([[0.0, 0.0], [3.0, 3.0]]),
            "Sigma": _S2,
        },
        {
            "X": np.array([[0.0, 1.0], [2.0, -1.0], [4.0, 0.5], [-2.0, -2.0], [1.0, 1.0], [3.0, 3.0]]),
            "pi": np.array([0.2, 0.5, 0.3]),
            "mu": np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 2.0]]),
            "Sigma": np.array(
                [[[1.0, 0.3], [0.3, 0.5]], [[0.5, -0.2], [-0.2, 2.0]], [[3.0, 0.0], [0.0, 0.2]]]
            ),
        },
        {
            "X": np.array([[0.0, 0.0], [1.0, 1.0], [60.0, -60.0]]),
            "pi": np.array([0.5, 0.5]),
            "mu": np.array([[0.0, 0.0], [2.0, 2.0]]),
            "Sigma": _S2,
        },
        {
            "X": np.array([[-1.0], [0.0], [0.5], [3.0]]),
            "pi": np.array([0.7, 0.3]),
            "mu": np.array([[0.0], [2.0]]),
            "Sigma": np.array([[[1.0]], [[0.25]]]),
        },
    ),
    case_names=("n = 5, d = 2, K = 2", "n = 6, d = 2, K = 3", "a far point", "d = 1"),
    generate=_generate_e_step,
    n_hidden=8,
    mistakes=(
        Mistake(
            "wrong-axis",
            "the responsibilities are normalised over the samples (axis 0) instead of over the "
            "components (axis 1): each row r_i. must sum to 1.",
            "3.4",
            _e_wrong_axis,
        ),
        Mistake(
            "no-mixing-weights",
            "the mixing weights pi_k are missing: the numerator is pi_k N(x_i | mu_k, Sigma_k), "
            "not N(x_i | mu_k, Sigma_k) alone.",
            "3.4",
            _e_no_weights,
        ),
        Mistake(
            "no-logsumexp",
            "a point far from every component gets NaN: its densities all underflow to 0.0 and "
            "0 / 0 is NaN. Work with log densities and normalise with log-sum-exp.",
            "3.10",
            _e_no_logsumexp,
        ),
        Mistake(
            "sigma-as-std",
            "Sigma was used like a standard deviation (the covariance became Sigma Sigma^T); "
            "Sigma_k is already the covariance matrix, the matrix of variances.",
            "3.1",
            _e_sigma_as_std,
        ),
        Mistake(
            "no-log-det",
            "the normalising factor |Sigma_k|^(-1/2) is missing (no -1/2 ln|Sigma_k| in the "
            "log density): it differs between components, so it does not cancel.",
            "3.1",
            _e_no_log_det,
        ),
        Mistake(
            "sigma-as-precision",
            "Sigma_k is used where its inverse belongs (or the inverse where Sigma_k belongs): "
            "the quadratic form is (x - mu_k)^T Sigma_k^(-1) (x - mu_k).",
            "3.1",
            _e_precision,
        ),
        Mistake(
            "log-resp",
            "these are ln r_ik; return the responsibilities r_ik themselves (exponentiate).",
            "3.4",
            _e_log,
        ),
        Mistake(
            "det-without-sqrt",
            "the normalising constant uses det(Sigma_k) where it needs det(Sigma_k)^(1/2), i.e. "
            "-1/2 log det Sigma_k in log space.",
            "3.1",
            _e_det_no_sqrt,
        ),
        Mistake(
            "missing-half",
            "the exponent lacks the factor 1/2: ln N = ... - 1/2 (x - mu)^T Sigma^{-1} (x - mu).",
            "3.1",
            _e_no_half,
        ),
    ),
    forbidden=(
        "emlib.gmm.e_step",
        "emlib.gmm.GaussianMixture",
        "emlib.GaussianMixture",
        "emlib.densities.log_gaussian",
        "emlib.log_gaussian",
        "emlib.reference.e_step",
        "emlib.reference.log_joint",
        "emlib.reference.log_gaussian",
        "sklearn.mixture.GaussianMixture",
    ),
)

# -- 03.m-step ----------------------------------------------------------------------------------


def _m_step(X, resp, covariance_type) -> dict:
    """The updates (3.5)-(3.9) without regularisation, by emlib.reference.m_step."""
    new = reference.m_step(X, resp, covariance_type)
    return {"pi": new.pi, "mu": new.mu, "Sigma": new.Sigma}


def _m_spherical_without_d(X, resp, covariance_type):
    right = _m_step(X, resp, covariance_type)
    if covariance_type != "spherical":
        return right
    return {**right, "Sigma": right["Sigma"] * np.asarray(X).reshape(len(resp), -1).shape[1]}


def _m_pi_unnormalised(X, resp, covariance_type):
    return {**_m_step(X, resp, covariance_type), "pi": np.asarray(resp).sum(axis=0)}


def _m_cov_over_n(X, resp, covariance_type):
    right = _m_step(X, resp, covariance_type)
    resp = np.asarray(resp, dtype=np.float64)
    N_k = resp.sum(axis=0)
    scale = N_k / resp.shape[0]
    shape = (-1,) + (1,) * (np.ndim(right["Sigma"]) - 1)
    return {**right, "Sigma": right["Sigma"] * scale.reshape(shape)}


def _m_mean_unnormalised(X, resp, covariance_type):
    X = np.asarray(X, dtype=np.float64).reshape(len(resp), -1)
    return {**_m_step(X, resp, covariance_type), "mu": np.asarray(resp).T @ X}


def _m_ddof(X, resp, covariance_type):
    """np.cov's default ddof: the scatter divided by N_k - 1 (full covariances)."""
    right = _m_step(X, resp, covariance_type)
    N_k = np.asarray(resp, dtype=np.float64).sum(axis=0)
    shape = (-1,) + (1,) * (np.ndim(right["Sigma"]) - 1)
    return {**right, "Sigma": right["Sigma"] * (N_k / (N_k - 1)).reshape(shape)}


def _m_not_centred(X, resp, covariance_type):
    """The second moments around the origin: the mean is not subtracted."""
    X = np.asarray(X, dtype=np.float64).reshape(len(resp), -1)
    zero = reference.m_step(np.vstack([X, -X]), np.vstack([resp, resp]), covariance_type)
    return {**_m_step(X, resp, covariance_type), "Sigma": zero.Sigma}


def _m_hard(X, resp, covariance_type):
    resp = np.asarray(resp, dtype=np.float64)
    return _m_step(X, np.eye(resp.shape[1])[resp.argmax(axis=1)], covariance_type)


def _generate_m_step(rng: np.random.Generator) -> dict:
    # Half the cases are spherical with d >= 2, where a missing d in (3.9) shows: with nine
    # hidden cases, all nine miss that regime with probability 2^-9.
    covariance_type = "spherical" if rng.random() < 0.5 else str(rng.choice(["full", "diag"]))
    K, n = int(rng.integers(2, 5)), int(rng.integers(10, 51))
    d = int(rng.integers(2 if covariance_type == "spherical" else 1, 5))
    return {
        "X": rng.normal(0.0, 2.0, (n, d)) + rng.normal(0.0, 3.0, d),
        "resp": rng.dirichlet(0.7 * np.ones(K), size=n),
        "covariance_type": covariance_type,
    }


_CLOSE_PARAMS = close(rtol=1e-6, atol=1e-9)
M_STEP = Exercise(
    id="03.m-step",
    title="The M-step: pi, mu and Sigma from the responsibilities",
    points=5,
    kind="function",
    name="m_step",
    signature="m_step(X, resp, covariance_type)",
    equation="3.5-3.9",
    reference=_m_step,
    compare=record({"pi": _CLOSE_PARAMS, "mu": _CLOSE_PARAMS, "Sigma": _CLOSE_PARAMS}),
    public_cases=(
        {
            "X": np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 3.0], [1.5, 1.0], [-1.0, 2.0], [4.0, 2.5]]),
            "resp": np.array(
                [[0.9, 0.1], [0.6, 0.4], [0.1, 0.9], [0.5, 0.5], [0.8, 0.2], [0.0, 1.0]]
            ),
            "covariance_type": "full",
        },
        {
            "X": np.array(
                [[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [4.0, 4.0, 3.0], [5.0, 3.0, 4.0], [2.0, 2.0, 2.0]]
            ),
            "resp": np.array([[1.0, 0.0], [0.8, 0.2], [0.1, 0.9], [0.0, 1.0], [0.5, 0.5]]),
            "covariance_type": "spherical",
        },
        {
            "X": np.array([[0.0, 0.0], [2.0, 1.0], [1.0, 3.0], [-1.0, 1.0], [3.0, -1.0]]),
            "resp": np.array(
                [[0.5, 0.3, 0.2], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.7, 0.2, 0.1], [0.3, 0.3, 0.4]]
            ),
            "covariance_type": "diag",
        },
    ),
    generate=_generate_m_step,
    n_hidden=9,
    mistakes=(
        Mistake(
            "cov-ddof",
            "the covariance divides by N_k - 1 (np.cov's default ddof=1); the M-step divides "
            "the weighted scatter by N_k (np.cov(..., aweights=r_k, ddof=0)).",
            "3.7",
            _m_ddof,
        ),
        Mistake(
            "not-centred",
            "the covariance is sum_i r_ik x_i x_i^T / N_k, around the origin; subtract the "
            "new mean first: (x_i - mu_k)(x_i - mu_k)^T.",
            "3.7",
            _m_not_centred,
        ),
        Mistake(
            "hard",
            "the updates use hard assignments (argmax of resp); EM weights every sample by "
            "its responsibility r_ik.",
            "3.6",
            _m_hard,
        ),
        Mistake(
            "spherical-without-d",
            "the spherical variance is d times too large: sigma_k^2 averages the squared distance "
            "over the d coordinates, sum_i r_ik ||x_i - mu_k||^2 / (d N_k).",
            "3.9",
            _m_spherical_without_d,
        ),
        Mistake(
            "pi-not-normalised",
            "pi_k is N_k; divide by n (the Lagrange multiplier of sum_k pi_k = 1 is n), so that "
            "the weights sum to 1.",
            "3.5",
            _m_pi_unnormalised,
        ),
        Mistake(
            "covariance-over-n",
            "the covariance is divided by n instead of N_k = sum_i r_ik, the effective number of "
            "points of component k.",
            "3.7",
            _m_cov_over_n,
        ),
        Mistake(
            "mean-not-normalised",
            "mu_k is sum_i r_ik x_i without dividing by N_k: it is a weighted average.",
            "3.6",
            _m_mean_unnormalised,
        ),
    ),
    forbidden=(
        "emlib.gmm.m_step",
        "emlib.reference.m_step",
        "emlib.gmm.GaussianMixture",
        "emlib.GaussianMixture",
        "sklearn.mixture.GaussianMixture",
        "sklearn.mixture._gaussian_mixture._estimate_gaussian_parameters",
    ),
)

# -- 03.tied-cov --------------------------------------------------------------------------------


def _five_point_resp() -> tuple[np.ndarray, np.ndarray]:
    """The five points as (5, 1) and their responsibilities under theta_0 (eq. (3.4))."""
    fp = five_points()
    x = np.asarray(fp.x, dtype=np.float64)[:, None]
    resp, _ = reference.e_step(x, fp.pi, fp.mu[:, None], fp.sigma2, "spherical")
    return x, resp


def _tied_variance() -> float:
    """The shared variance of the tied M-step (3.8) after one iteration on the five points."""
    x, resp = _five_point_resp()
    return float(reference.m_step(x, resp, "tied").Sigma[0, 0])


def _tied_unweighted_average() -> float:
    """The two per-component variances averaged with equal weights instead of N_k / n."""
    x, resp = _five_point_resp()
    return float(reference.m_step(x, resp, "full").Sigma[:, 0, 0].mean())


def _tied_old_means() -> float:
    """The scatter measured around the initial means theta_0 instead of the new ones."""
    x, resp = _five_point_resp()
    mu0 = np.asarray(five_points().mu, dtype=np.float64)
    return float(np.sum(resp * (x - mu0[None, :]) ** 2) / x.shape[0])


TIED_COV = Exercise(
    id="03.tied-cov",
    title="Derive the M-step for a tied covariance",
    points=4,
    kind="derivation",
    name="tied_variance",
    equation="3.8",
    reference=_tied_variance,
    compare=close(rtol=1e-6, atol=1e-9),
    mistakes=(
        Mistake(
            "unweighted-average",
            "the per-component variances were averaged with equal weights; the tied matrix "
            "weighs component k by N_k / n, i.e. it pools all the weighted scatter and divides "
            "by n.",
            "3.8",
            _tied_unweighted_average,
        ),
        Mistake(
            "old-means",
            "the scatter is measured around the initial means of theta_0; the M-step uses the "
            "new means (3.6) of the same iteration.",
            "3.8",
            _tied_old_means,
        ),
    ),
)

# -- 03.em-loop ---------------------------------------------------------------------------------


def _em_path(X, pi, mu, Sigma, tol, max_iter, per_sample=True):
    """(theta_T, [l(theta_0), ..., l(theta_T)], smallest covariance eigenvalue on the way)."""
    X = np.asarray(X, dtype=np.float64)
    params = (np.asarray(pi, dtype=np.float64), np.asarray(mu, dtype=np.float64),
              np.asarray(Sigma, dtype=np.float64))
    resp, ll = reference.e_step(X, *params, "full")
    lls, smallest = [ll], float(np.linalg.eigvalsh(params[2]).min())
    for _ in range(int(max_iter)):
        new = reference.m_step(X, resp, "full")
        params = (new.pi, new.mu, new.Sigma)
        smallest = min(smallest, float(np.linalg.eigvalsh(new.Sigma).min()))
        resp, ll = reference.e_step(X, *params, "full")
        lls.append(ll)
        if lls[-1] - lls[-2] <= tol * (len(X) if per_sample else 1.0):
            break
    return params, np.array(lls), smallest


def _em_loop(X, pi, mu, Sigma, tol, max_iter, m_step_fn=None) -> dict:
    """EM for full covariances, no regularisation, stopping on the change of l per sample."""
    (pi, mu, Sigma), lls, _ = _em_path(X, pi, mu, Sigma, tol, max_iter)
    return {"pi": pi, "mu": mu, "Sigma": Sigma, "log_likelihoods": lls}


def _em_total_change(X, pi, mu, Sigma, tol, max_iter, m_step_fn=None) -> dict:
    (pi, mu, Sigma), lls, _ = _em_path(X, pi, mu, Sigma, tol, max_iter, per_sample=False)
    return {"pi": pi, "mu": mu, "Sigma": Sigma, "log_likelihoods": lls}


def _em_one_iteration(X, pi, mu, Sigma, tol, max_iter, m_step_fn=None) -> dict:
    (pi, mu, Sigma), lls, _ = _em_path(X, pi, mu, Sigma, tol, 1)
    return {"pi": pi, "mu": mu, "Sigma": Sigma, "log_likelihoods": lls}


def _em_no_start(X, pi, mu, Sigma, tol, max_iter, m_step_fn=None) -> dict:
    right = _em_loop(X, pi, mu, Sigma, tol, max_iter)
    return {**right, "log_likelihoods": right["log_likelihoods"][1:]}


def _em_case(rng: np.random.Generator, K: int, d: int, n: int, tol: float, max_iter: int) -> dict:
    """A well-posed case: clusters that keep every covariance well away from singular, and no
    iteration whose change of l per sample lies within 1 % of ``tol`` (so that a correct loop
    whose rounding differs from the reference's stops at the same iteration)."""
    while True:
        centres = rng.normal(0.0, 3.0, (K, d))
        X = centres[rng.integers(K, size=n)] + rng.normal(0.0, 1.0, (n, d))
        case = {
            "X": X,
            "pi": np.full(K, 1.0 / K),
            "mu": X[rng.choice(n, size=K, replace=False)],
            "Sigma": np.stack([np.atleast_2d(np.cov(X.T, bias=True))] * K),
            "tol": tol,
            "max_iter": max_iter,
            "m_step_fn": None,
        }
        try:
            _, lls, smallest = _em_path(X, case["pi"], case["mu"], case["Sigma"], tol, max_iter)
        except np.linalg.LinAlgError:  # a component collapsed on the way: not a fair case
            continue
        steps = np.diff(lls) / n
        if smallest > 1e-2 and (tol == 0.0 or np.all(np.abs(steps - tol) > 0.01 * tol)):
            return case


def _generate_em_loop(rng: np.random.Generator) -> dict:
    return _em_case(rng, K=int(rng.integers(2, 4)), d=int(rng.integers(1, 3)),
                    n=int(rng.integers(30, 61)), tol=float(rng.choice([1e-3, 1e-4, 1e-5])),
                    max_iter=int(rng.integers(20, 101)))


_PUBLIC_EM = np.random.default_rng(20261203)
_CLOSE_LL = close(rtol=1e-8, atol=1e-6)
EM_LOOP = Exercise(
    id="03.em-loop",
    title="The EM loop: stopping rule and monotonicity",
    points=5,
    kind="function",
    name="em_loop",
    signature="em_loop(X, pi, mu, Sigma, tol, max_iter, m_step_fn=None)",
    equation="3.4-3.7",
    reference=_em_loop,
    compare=record(
        {"pi": _CLOSE_PARAMS, "mu": _CLOSE_PARAMS, "Sigma": _CLOSE_PARAMS,
         "log_likelihoods": _CLOSE_LL},
        weights={"log_likelihoods": 2.0},
    ),
    public_cases=(
        _em_case(_PUBLIC_EM, K=2, d=2, n=40, tol=1e-4, max_iter=100),
        _em_case(_PUBLIC_EM, K=3, d=2, n=45, tol=0.0, max_iter=3),
        _em_case(_PUBLIC_EM, K=3, d=1, n=50, tol=1e-5, max_iter=100),
    ),
    generate=_generate_em_loop,
    n_hidden=6,
    mistakes=(
        Mistake(
            "total-change",
            "the loop stops on the change of the total log-likelihood; the rule (6.4) compares "
            "the change per sample, (l(theta_t) - l(theta_{t-1})) / n, with tol.",
            "6.4",
            _em_total_change,
        ),
        Mistake(
            "one-iteration",
            "the loop stops after its first iteration: a return (or break) inside the loop "
            "body runs at once; EM repeats E- and M-steps until the rule (6.4) holds.",
            "6.4",
            _em_one_iteration,
        ),
        Mistake(
            "no-start-likelihood",
            "log_likelihoods misses l(theta_0), the log-likelihood of the start before any "
            "iteration: it should hold T + 1 values for T iterations.",
            "3.3",
            _em_no_start,
        ),
    ),
    forbidden=(
        "emlib.em.run_em",
        "emlib.run_em",
        "emlib.gmm.GaussianMixture",
        "emlib.GaussianMixture",
        "emlib.gmm.e_step",
        "emlib.gmm.m_step",
        "emlib.reference.e_step",
        "emlib.reference.m_step",
        "sklearn.mixture.GaussianMixture",
    ),
)

# -- 03.em-debug ---------------------------------------------------------------------------------

EM_DEBUG_CHOICES = {
    "a": "With buggy_m_step, l rises in the first iteration and falls in the second.",
    "b": "Because l rose in the first iteration, that first update of buggy_m_step was correct.",
    "c": "A falling l proves that the M-step did not maximise Q(theta, theta_old) for the "
    "responsibilities it was given: any update that does not lower Q never lowers l, by (2.7).",
    "d": "The bug is in the means: they are not the responsibility-weighted averages (3.6).",
    "e": "The bug is in the covariances: they are divided by n instead of N_k.",
    "f": "A smaller tol would have avoided the fall.",
    "g": "A fall of 1e-12 near convergence would point to the same bug.",
}

EM_DEBUG = Exercise(
    id="03.em-debug",
    title="Debugging EM: what a falling log-likelihood says",
    points=3,
    kind="choice",
    name="em_debug",
    equation="2.7",
    choices=EM_DEBUG_CHOICES,
    reference=lambda: frozenset({"a", "c", "e"}),
    compare=choice_set(tuple(EM_DEBUG_CHOICES)),
    mistakes=(
        Mistake(
            "first-step-trusted",
            "you took (b) as true: one rise proves nothing; from a poor start even a wrong update "
            "can raise l, and the same wrong update lowers it once the fit is reasonable.",
            "3.7",
            lambda: {"a", "b", "c", "e"},
            matches=lambda answer, inputs: "b" in answer,
        ),
        Mistake(
            "rounding-is-a-bug",
            "you took (g) as true: changes of about 1e-12 near convergence are rounding, which "
            "is why the assertion allows a tiny relative tolerance; the fall in the second "
            "iteration is hundreds of nats.",
            "2.7",
            lambda: {"a", "c", "e", "g"},
            matches=lambda answer, inputs: "g" in answer,
        ),
    ),
)

EXERCISES = (
    E_STEP, M_STEP, POSTERIOR_1D, TIED_COV, TIED_COV_FORMULA, EM_COST, EM_LOOP, EM_DEBUG, PI_MAP,
    SHARED_VARIANCE,
)
