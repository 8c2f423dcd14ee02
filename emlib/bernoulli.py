"""EM for mixtures of multivariate Bernoulli distributions (binary images such as digits).

Notation of notebook 05: ``pi`` (K,) mixing weights, ``theta`` (K, d) pixel probabilities
(theta_kj = p(x_j = 1 | component k)), ``resp`` (n, K) responsibilities r_ik, ``N_k`` (K,) their
column sums, ``a`` and ``b`` the parameters of the Beta(a, b) prior on every theta_kj.

With ``a = b = 1`` (a flat prior) the M-step is maximum likelihood, eq. (5.5), and a pixel that
is 0 in every image of a cluster gets theta exactly 0. The defaults ``a = b = 1.01`` keep every
theta strictly inside (0, 1), so no image is ever declared impossible (eq. (5.6)); EM then
maximises the log posterior ``log p(X | theta) + log p(theta)`` (eq. (2.9)), which is what the
fit records and what never falls.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, xlog1py, xlogy

from . import _fast
from . import _validation as v
from .exceptions import EmptyComponentWarning
from .kmeans import kmeans_plusplus, lloyd_step
from .mixture import MixtureModel

BERNOULLI_INITS = ("random", "kmeans++")

# Below 10 machine epsilons a column of resp carries no information about theta_k: the
# component is empty (the threshold of emlib.gmm).
_EMPTY = 10 * np.finfo(np.float64).eps


@dataclass(frozen=True, eq=False)
class BernoulliParams:
    """Parameters (pi, theta) of a Bernoulli mixture, validated on construction.

    Attributes
    ----------
    pi : array, shape (K,), non-negative, summing to 1
    theta : array, shape (K, d), entries in [0, 1]; row k is the mean image of component k
    """

    pi: np.ndarray
    theta: np.ndarray

    def __post_init__(self):
        theta = np.asarray(self.theta, dtype=np.float64)
        theta = v.check_probabilities(theta, theta.shape[-1] if theta.ndim else 0)
        pi = v.check_weights(self.pi, theta.shape[0])
        object.__setattr__(self, "pi", pi)
        object.__setattr__(self, "theta", theta)

    @property
    def n_components(self) -> int:
        return self.theta.shape[0]

    @property
    def n_features(self) -> int:
        return self.theta.shape[1]

    def n_parameters(self) -> int:
        """Free parameters: K - 1 weights and K d pixel probabilities."""
        K, d = self.theta.shape
        return K - 1 + K * d

    def __repr__(self) -> str:
        pi = np.array2string(self.pi, precision=3, separator=", ")
        return (
            f"BernoulliParams(K={self.n_components}, d={self.n_features}, pi={pi}, "
            f"theta in [{self.theta.min():.3g}, {self.theta.max():.3g}])"
        )


def _check_params(params) -> BernoulliParams:
    if not isinstance(params, BernoulliParams):
        raise TypeError(
            f"params must be a BernoulliParams; got {type(params).__name__}. Fix: build one with "
            f"BernoulliParams(pi, theta)."
        )
    return params


def _e_step(X: np.ndarray, params: BernoulliParams) -> tuple[np.ndarray, float]:
    """:func:`e_step` for validated ``X`` (the loop of :class:`BernoulliMixture` uses this)."""
    # Normalised in log space: with d = 784 pixels p(x_i | theta_k) is ~exp(-300), 0 in floats.
    step = _fast.bernoulli.e_step(X, params.pi, params.theta)
    if not np.isfinite(step.log_px).all():
        i = int(np.flatnonzero(~np.isfinite(step.log_px))[0])
        raise ValueError(
            f"sample {i} has zero probability under every component: each component has a weight "
            f"of 0 or a theta of exactly 0 or 1 where X[{i}] has the other value, so its "
            f"responsibilities are undefined. Fix: fit with a Beta prior a > 1 and b > 1 (e.g. "
            f"a=b=1.01) so that theta stays inside (0, 1), or give every component a positive "
            f"weight."
        )
    return step.resp, float(step.log_px.sum())


def e_step(X, params: BernoulliParams) -> tuple[np.ndarray, float]:
    """Responsibilities and the log-likelihood of the current parameters.

    .. math:: r_{ik} = \\frac{\\pi_k \\prod_j \\theta_{kj}^{x_{ij}} (1 - \\theta_{kj})^{1 - x_{ij}}}
              {\\sum_l \\pi_l \\prod_j \\theta_{lj}^{x_{ij}} (1 - \\theta_{lj})^{1 - x_{ij}}}

    Implements eq. (5.4) of notebook 05 with the log densities of eq. (5.1), normalised in log
    space (eq. (3.10)): the products over d = 784 pixels underflow to 0, their logs do not. A
    theta of exactly 0 or 1 gives -inf log probabilities (responsibility 0), never NaN.

    Parameters
    ----------
    X : array, shape (n, d), entries 0 or 1
    params : BernoulliParams

    Returns
    -------
    resp : array, shape (n, K), rows summing to 1
    log_likelihood : float, ``sum_i log sum_k pi_k p(x_i | theta_k)``

    Raises ``ValueError`` for a sample that has probability 0 under every component.
    """
    X = v.check_X(X, binary=True)
    params = _check_params(params)
    v.check_n_features(X, params.n_features, "params")
    return _e_step(X, params)


def log_likelihood(X, params: BernoulliParams) -> float:
    """``sum_i log sum_k pi_k p(x_i | theta_k)`` (eqs. (5.1) and (3.3)).

    ``-inf`` when some sample has probability 0 under every component (possible only when theta
    has entries exactly 0 or 1).
    """
    X = v.check_X(X, binary=True)
    params = _check_params(params)
    v.check_n_features(X, params.n_features, "params")
    return float(_fast.bernoulli.log_density(X, params.pi, params.theta).sum())


def _log_prior(theta: np.ndarray, a: float, b: float) -> float:
    # xlogy(0, 0) is 0: with a = 1 (or b = 1) a theta of exactly 0 (or 1) has finite density.
    return float(
        xlogy(a - 1.0, theta).sum() + xlog1py(b - 1.0, -theta).sum() - theta.size * betaln(a, b)
    )


def log_prior(params: BernoulliParams, a: float = 1.01, b: float = 1.01) -> float:
    """``log p(theta) = sum_kj log Beta(theta_kj | a, b)``, normalising constant included.

    .. math:: \\log p(\\theta) = \\sum_{k,j} (a - 1) \\log\\theta_{kj}
              + (b - 1) \\log(1 - \\theta_{kj}) - \\log B(a, b)

    The prior of eq. (5.6) of notebook 05; ``log_likelihood + log_prior`` is the log posterior
    (up to ``log p(X)``) that MAP-EM increases (eq. (2.9) of notebook 02). With ``a = b = 1``
    it is 0 (the flat prior). The weights ``pi`` have no prior. A theta of exactly 0 gives
    ``-inf`` when a > 1 and ``+inf`` when a < 1 (and likewise for 1 and b).

    Parameters
    ----------
    params : BernoulliParams
    a, b : float > 0, the Beta parameters shared by every theta_kj
    """
    params = _check_params(params)
    a = v.check_positive(a, "a")
    b = v.check_positive(b, "b")
    return _log_prior(params.theta, a, b)


def _m_step(X: np.ndarray, resp: np.ndarray, a: float, b: float) -> BernoulliParams:
    """:func:`m_step` for validated inputs."""
    N_k = resp.sum(axis=0)
    params = BernoulliParams(N_k / N_k.sum(), _fast.bernoulli.map_theta(X, resp, N_k, a, b))
    empty = N_k < _EMPTY
    return _reseed_if_better(X, resp, params, empty, a, b) if empty.any() else params


def _reseed_if_better(X, resp, params, empty, a, b) -> BernoulliParams:
    """Re-seed the empty components at the worst-explained samples if the log posterior rises."""
    log_px = _fast.bernoulli.log_density(X, params.pi, params.theta)
    ks, worst = np.flatnonzero(empty), np.argsort(log_px, kind="stable")[: empty.sum()]
    resp = resp.copy()
    resp[worst] = 0.0
    resp[worst, ks[: len(worst)]] = 1.0
    N_k = resp.sum(axis=0)
    trial = BernoulliParams(N_k / N_k.sum(), _fast.bernoulli.map_theta(X, resp, N_k, a, b))
    before = log_px.sum() + _log_prior(params.theta, a, b)
    log_px_trial = _fast.bernoulli.log_density(X, trial.pi, trial.theta)
    after = log_px_trial.sum() + _log_prior(trial.theta, a, b)
    if after - before > 1e-10 * (abs(before) + 1.0):  # a real gain, not a rounding one
        what, params = f"were re-seeded at sample(s) {worst.tolist()}, the least likely", trial
    else:
        what = "keep a weight of ~0 (re-seeding would not raise the log posterior)"
    warnings.warn(
        f"component(s) {ks.tolist()} lost all responsibility (N_k ~ 0) and {what}. "
        f"Remedies: fewer components, another init or random_state.",
        EmptyComponentWarning,
        stacklevel=4,
    )
    return params


def m_step(X, resp, a: float = 1.01, b: float = 1.01) -> BernoulliParams:
    """Maximise Q(theta, theta_old) + log p(theta) for fixed responsibilities.

    .. math:: N_k = \\sum_i r_{ik}, \\quad \\pi_k = \\frac{N_k}{n}, \\quad
              \\theta_k = \\frac{\\sum_i r_{ik} x_i + a - 1}{N_k + a + b - 2}

    Implements eq. (5.6) of notebook 05 (MAP with a Beta(a, b) prior on every theta_kj) and
    eq. (3.5) for the weights; ``a = b = 1`` gives maximum likelihood, eq. (5.5),
    ``theta_k = sum_i r_ik x_i / N_k``.

    A component whose responsibilities all vanish (N_k below 10 machine epsilons) is re-seeded
    at the sample with the lowest likelihood (several: the lowest in turn), with a weight of one
    sample, when that raises the log posterior; otherwise it keeps its weight of ~0 and a theta
    that is about the prior's mode (1/2 when N_k is exactly 0 under the flat prior, where any
    theta maximises). Either way an ``EmptyComponentWarning`` says which, and the log
    posterior never falls: nothing here degenerates as N_k -> 0, unlike a Gaussian's covariance.

    Parameters
    ----------
    X : array, shape (n, d), entries 0 or 1
    resp : array, shape (n, K), rows summing to 1
    a, b : float >= 1, the Beta prior (see :func:`log_prior`)

    Returns
    -------
    BernoulliParams
    """
    X = v.check_X(X, binary=True)
    resp = v.check_resp(resp, X.shape[0])
    a = v.check_beta_prior(a, "a")
    b = v.check_beta_prior(b, "b")
    return _m_step(X, resp, a, b)


def initial_params(
    X: np.ndarray, n_components: int, a: float, b: float, init, rng: np.random.Generator
) -> BernoulliParams:
    """theta_0 for EM: at random, from hard k-means++ assignments, or as given.

    - ``'random'``: every theta_kj uniform in [0.25, 0.75] (Bishop's choice), equal weights;
    - ``'kmeans++'``: responsibilities one-hot to the nearest k-means++ seed, then
      :func:`m_step`;
    - a :class:`BernoulliParams`: used as it is (it must match ``n_components`` and the data).
    """
    if isinstance(init, BernoulliParams):
        if init.n_components != n_components:
            raise ValueError(
                f"init has K={init.n_components} components; expected K={n_components}. Fix: "
                f"build the BernoulliParams with the estimator's n_components."
            )
        v.check_n_features(X, init.n_features, "init")
        return init
    v.check_choice(init, "init", BERNOULLI_INITS)
    if init == "random":
        theta = rng.uniform(0.25, 0.75, size=(n_components, X.shape[1]))
        return BernoulliParams(np.full(n_components, 1.0 / n_components), theta)
    centres, _ = kmeans_plusplus(X, n_components, random_state=rng)
    labels = lloyd_step(X, centres).labels  # the nearest seed of every sample, eq. (4.2)
    return _m_step(X, np.eye(n_components)[labels], a, b)


class BernoulliMixture(MixtureModel):
    """A mixture of multivariate Bernoulli distributions fitted by (MAP-)EM.

    A thin loop over :func:`e_step` and :func:`m_step`; what it records and maximises is the log
    posterior ``log p(X | theta) + log p(theta)`` (:func:`log_prior`), the log-likelihood itself
    when ``a = b = 1``.

    Parameters
    ----------
    n_components : int, K
    a, b : float >= 1, the Beta(a, b) prior on every theta_kj (eq. (5.6) of notebook 05)
    tol : stop when the log posterior per sample changes by at most ``tol``
    max_iter : largest number of EM iterations per run
    n_init : number of runs from different initialisations; the best log posterior is kept
        (a given BernoulliParams init is run once)
    init : {'random', 'kmeans++'} or BernoulliParams (see :func:`initial_params`)
    random_state : int, None or numpy Generator

    Attributes (after ``fit``)
    --------------------------
    weights_ (K,), means_ (K, d) the theta, params_ (BernoulliParams), log_likelihoods_
    (n_iter_ + 1,) the log posterior at every iteration, n_iter_, converged_, result_ (the best
    run's EMResult)
    """

    def __init__(
        self,
        n_components: int,
        *,
        a: float = 1.01,
        b: float = 1.01,
        tol: float = 1e-3,
        max_iter: int = 100,
        n_init: int = 1,
        init="random",
        random_state=None,
    ):
        self.n_components = n_components
        self.a = v.check_beta_prior(a, "a")
        self.b = v.check_beta_prior(b, "b")
        self.tol = v.check_positive(tol, "tol", allow_zero=True)
        self.max_iter = v.check_int(max_iter, "max_iter", minimum=1)
        self.n_init = v.check_int(n_init, "n_init", minimum=1)
        if not isinstance(init, BernoulliParams):
            v.check_choice(init, "init", BERNOULLI_INITS)
        self.init = init
        self.random_state = random_state

    _objective_name = "log posterior"

    def __repr__(self) -> str:
        init = "BernoulliParams(...)" if isinstance(self.init, BernoulliParams) else repr(self.init)
        return (
            f"BernoulliMixture(n_components={self.n_components}, a={self.a:g}, b={self.b:g}, "
            f"init={init}{self._repr_fitted()})"
        )

    def _check_data(self, X) -> np.ndarray:
        return v.check_X(X, binary=True)

    def _initial_params(self, X, K, rng) -> BernoulliParams:
        return initial_params(X, K, self.a, self.b, self.init, rng)

    def _e_step(self, X, params):
        return _e_step(X, params)

    def _m_step(self, X, resp) -> BernoulliParams:
        return _m_step(X, resp, self.a, self.b)

    def _objective(self, log_likelihood: float, params: BernoulliParams) -> float:
        return log_likelihood + _log_prior(params.theta, self.a, self.b)

    def _log_density(self, X, params) -> np.ndarray:
        """-inf for a sample that no component can produce."""
        return _fast.bernoulli.log_density(X, params.pi, params.theta)

    def _fit_context(self):
        # Thin, memory-bound products: a second BLAS thread only contends (2-3x slower).
        return _fast.one_blas_thread()

    def _set_fitted(self, params: BernoulliParams) -> None:
        self.means_ = params.theta

    def sample(self, n_samples: int = 1, random_state=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(X, z)`` from the fitted model: z ~ Categorical(pi), x_j | z ~ Bernoulli(theta_zj).

        Returns ``X`` of shape (n_samples, d) with entries 0.0 and 1.0 and ``z`` of shape
        (n_samples,).
        """
        params = self._fitted()
        n_samples = v.check_int(n_samples, "n_samples", minimum=1)
        rng = v.check_random_state(random_state)
        z = rng.choice(params.n_components, size=n_samples, p=params.pi)
        X = (rng.random((n_samples, params.n_features)) < params.theta[z]).astype(np.float64)
        return X, z
