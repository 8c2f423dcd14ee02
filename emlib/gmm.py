"""EM for Gaussian mixtures: the parameters, the E-step, the M-step and a thin estimator.

Notation of notebook 03: ``pi`` (K,) mixing weights, ``mu`` (K, d) means, ``Sigma`` covariances
(shape by ``covariance_type``, see :func:`emlib.densities.log_gaussian`), ``resp`` (n, K)
responsibilities r_ik, ``N_k`` (K,) their column sums.

Sections: :class:`GMMParams` (validated parameters, sampling, :func:`full_covariances`); the
steps :func:`e_step`, :func:`log_density`, :func:`log_likelihood`, :func:`m_step`, each of which
validates, makes one call into :mod:`emlib._fast` and returns (the same equations line for line:
:mod:`emlib.reference`); :func:`initial_params`; :class:`GaussianMixture`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from . import _fast
from . import _validation as v
from .densities import precision_cholesky
from .exceptions import EmptyComponentWarning
from .kmeans import KMeans, kmeans_plusplus, lloyd_step
from .mixture import MixtureModel


@dataclass(frozen=True, eq=False)
class GMMParams:
    """Parameters theta = (pi, mu, Sigma) of a Gaussian mixture, validated on construction.

    Attributes
    ----------
    pi : array, shape (K,)
    mu : array, shape (K, d)
    Sigma : array, shape (K, d, d) 'full', (K, d) 'diag', (K,) 'spherical', (d, d) 'tied'
    covariance_type : {'full', 'diag', 'spherical', 'tied'}
    U : the Cholesky factors of the precisions (see :func:`emlib.densities.precision_cholesky`),
        computed once here so that every E-step reuses them
    """

    pi: np.ndarray
    mu: np.ndarray
    Sigma: np.ndarray
    covariance_type: str = "full"
    U: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        v.check_choice(self.covariance_type, "covariance_type", v.COVARIANCE_TYPES)
        pi = np.asarray(self.pi, dtype=np.float64)
        mu = np.asarray(self.mu, dtype=np.float64)
        if mu.ndim == 1:  # K means of one feature
            mu = mu[:, None]
        K = mu.shape[0]
        d = mu.shape[1] if mu.ndim == 2 else 0
        pi = v.check_weights(pi, K)
        mu = v.check_means(mu, K, d)
        Sigma = v.check_covariances(self.Sigma, self.covariance_type, K, d)
        object.__setattr__(self, "pi", pi)
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "Sigma", Sigma)
        object.__setattr__(self, "U", precision_cholesky(Sigma, self.covariance_type))

    @property
    def n_components(self) -> int:
        return self.mu.shape[0]

    @property
    def n_features(self) -> int:
        return self.mu.shape[1]

    def n_parameters(self) -> int:
        """Free parameters: K - 1 weights, K d means, and the covariances of this type."""
        K, d = self.mu.shape
        cov = {
            "full": K * d * (d + 1) // 2,
            "diag": K * d,
            "spherical": K,
            "tied": d * (d + 1) // 2,
        }
        return K - 1 + K * d + cov[self.covariance_type]

    @property
    def log_pi(self) -> np.ndarray:
        """``log pi_k``, shape (K,); ``-inf`` for a weight of exactly 0 (a component that never
        fires)."""
        with np.errstate(divide="ignore"):
            return np.log(self.pi)

    def full_covariances(self) -> np.ndarray:
        """Sigma as (K, d, d) matrices, whatever the covariance type (see
        :func:`full_covariances`)."""
        return full_covariances(self.Sigma, self.covariance_type, *self.mu.shape)

    def sample(self, n_samples: int, random_state=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(X, z)``: X (n, d) and the component z (n,) that drew each sample.

        .. math:: z_i \\sim \\mathrm{Categorical}(\\pi), \\qquad
                  x_i = \\mu_{z_i} + L_{z_i} \\varepsilon_i, \\quad
                  \\varepsilon_i \\sim N(0, I), \\quad L_k L_k^T = \\Sigma_k

        the generative story behind eq. (3.2) of notebook 03. All z are drawn first, then all the
        standard normal noise, so a seed fixes both.
        """
        n = v.check_int(n_samples, "n_samples", minimum=1)
        rng = v.check_random_state(random_state)
        K, d = self.mu.shape
        z = rng.choice(K, size=n, p=self.pi)
        noise = rng.standard_normal((n, d))
        S = self.Sigma
        if self.covariance_type == "full":
            L = np.linalg.cholesky(S)
            for k in range(K):
                members = z == k
                noise[members] = noise[members] @ L[k].T
        elif self.covariance_type == "tied":
            noise = noise @ np.linalg.cholesky(S).T
        elif self.covariance_type == "diag":
            noise *= np.sqrt(S)[z]
        else:
            noise *= np.sqrt(S)[z][:, None]
        return self.mu[z] + noise, z

    def __repr__(self) -> str:
        pi = np.array2string(self.pi, precision=3, separator=", ")
        return (
            f"GMMParams(K={self.n_components}, d={self.n_features}, "
            f"covariance_type={self.covariance_type!r}, pi={pi})"
        )


def full_covariances(Sigma, covariance_type: str, n_components: int, n_features: int) -> np.ndarray:
    """Any covariance parameterisation as (K, d, d) matrices (eqs. (3.8)-(3.9) of notebook 03).

    ``full`` (K, d, d) is returned as is, ``diag`` (K, d) becomes diagonal matrices,
    ``spherical`` (K,) becomes sigma_k^2 I, ``tied`` (d, d) is repeated K times.
    """
    S = np.asarray(Sigma, dtype=np.float64)
    K, d = n_components, n_features
    if covariance_type == "full":
        return S.reshape(K, d, d)
    if covariance_type == "diag":
        return np.einsum("kd,de->kde", S, np.eye(d))
    if covariance_type == "spherical":
        return S[:, None, None] * np.eye(d)
    if covariance_type == "tied":
        return np.broadcast_to(S, (K, d, d)).copy()
    raise ValueError(
        f"covariance_type must be one of 'full', 'diag', 'spherical', 'tied'; got "
        f"{covariance_type!r}. Fix: use the covariance_type of the params."
    )


def e_step(X, params: GMMParams) -> tuple[np.ndarray, float]:
    """Responsibilities and the log-likelihood of the current parameters.

    .. math:: r_{ik} = \\frac{\\pi_k \\mathcal N(x_i \\mid \\mu_k, \\Sigma_k)}
              {\\sum_j \\pi_j \\mathcal N(x_i \\mid \\mu_j, \\Sigma_j)}

    Implements eq. (3.4) of notebook 03, normalised in log space (eq. (3.10)) so that a point far
    from every component still gets responsibilities that sum to one.

    Parameters
    ----------
    X : array, shape (n, d)
    params : GMMParams

    Returns
    -------
    resp : array, shape (n, K), rows summing to 1; stored column by column (Fortran order), so
        that the M-step's sums over samples read each component's column contiguously
    log_likelihood : float, ``sum_i log p(x_i | theta)`` (eq. (3.3))
    """
    # NaN or infinity in X makes log p(x_i) non-finite: X is searched for them only then.
    X = v.check_X(X, finite=False)
    v.check_n_features(X, params.n_features, "the mixture")
    step = _fast.gaussian.e_step(X, params.mu, params.U, params.covariance_type, params.log_pi)
    ll = float(step.log_px.sum())
    if not np.isfinite(ll):
        v.check_X(X)  # names the NaN or infinite entries of X, if that is the cause
        i = int(np.flatnonzero(~np.isfinite(step.log_px))[0])
        raise ValueError(
            f"sample {i} has zero probability under every component (all weights zero or a "
            f"degenerate covariance). Fix: re-initialise, or give every component a positive "
            f"weight."
        )
    return step.resp, ll


def log_density(X, params: GMMParams) -> np.ndarray:
    """``log p(x_i | theta) = log sum_k pi_k N(x_i | mu_k, Sigma_k)`` per sample, shape (n,).

    Eq. (3.2) of notebook 03, in log space (eq. (3.10)).
    """
    X = v.check_X(X)
    v.check_n_features(X, params.n_features, "the mixture")
    return _fast.gaussian.log_density(X, params.mu, params.U, params.covariance_type, params.log_pi)


def log_likelihood(X, params: GMMParams) -> float:
    """``sum_i log sum_k pi_k N(x_i | mu_k, Sigma_k)``, eq. (3.3) of notebook 03."""
    return float(log_density(X, params).sum())


def m_step(X, resp, covariance_type: str = "full", reg_covar: float = 1e-6) -> GMMParams:
    """Maximise Q(theta, theta_old) for fixed responsibilities.

    .. math:: N_k = \\sum_i r_{ik}, \\quad \\pi_k = \\frac{N_k}{n}, \\quad
              \\mu_k = \\frac{1}{N_k} \\sum_i r_{ik} x_i, \\quad
              \\Sigma_k = \\frac{1}{N_k} \\sum_i r_{ik} (x_i - \\mu_k)(x_i - \\mu_k)^T

    Implements eqs. (3.5)-(3.9) of notebook 03: 'diag' keeps the diagonal of Sigma_k, 'tied'
    averages the scatter of all components over n, 'spherical' uses one variance per component,
    ``sigma_k^2 = sum_i r_ik ||x_i - mu_k||^2 / (d N_k)``. ``reg_covar`` is added to every
    variance (the diagonal) so that a component collapsing onto one point stays positive
    definite.

    A component whose responsibilities all vanish (N_k below 10 machine epsilons) cannot be
    estimated: it is re-seeded at the sample farthest from the other components' means, with the
    covariance of the whole data (plus ``reg_covar``; under 'tied' the shared covariance) and a
    weight of one sample, and an ``EmptyComponentWarning`` says so. A broad component can take
    samples back at the next E-step; one with the covariance of its single sample would be the
    singular spike of notebook 06.

    Parameters
    ----------
    X : array, shape (n, d)
    resp : array, shape (n, K), rows summing to 1
    covariance_type : {'full', 'diag', 'spherical', 'tied'}
    reg_covar : float >= 0

    Returns
    -------
    GMMParams
    """
    X = v.check_X(X, finite=False)  # searched for NaN and infinity only if the means show one
    resp = v.check_resp(resp, X.shape[0])
    v.check_choice(covariance_type, "covariance_type", v.COVARIANCE_TYPES)
    reg_covar = v.check_positive(reg_covar, "reg_covar", allow_zero=True)
    N_k = resp.sum(axis=0)
    empty = N_k < 10 * np.finfo(np.float64).eps
    if empty.any():
        resp, N_k = _reseed_empty(X, resp, N_k, empty)
    moments = _fast.moments.m_step(X, resp, N_k, covariance_type, reg_covar)
    if not np.isfinite(moments.mu).all():
        v.check_X(X)  # every mean is NaN or infinite when X holds a NaN or an infinity
    Sigma = moments.Sigma
    if empty.any() and covariance_type != "tied":  # broad, not a spike at its one sample
        Sigma[empty] = _data_covariance(X, covariance_type) + reg_covar * _identity(X, covariance_type)
    return GMMParams(N_k / N_k.sum(), moments.mu, Sigma, covariance_type)


def _data_covariance(X, covariance_type):
    """The covariance of the whole data, in the shape one component of ``covariance_type`` has."""
    centred = X - X.mean(axis=0)
    if covariance_type == "full":
        return centred.T @ centred / X.shape[0]
    variances = (centred**2).mean(axis=0)
    return variances if covariance_type == "diag" else variances.mean()


def _identity(X, covariance_type):
    return np.eye(X.shape[1]) if covariance_type == "full" else 1.0


def _reseed_empty(X, resp, N_k, empty):
    """Move every empty component onto the sample farthest from the other components."""
    ks = np.flatnonzero(empty)
    warnings.warn(
        f"component(s) {ks.tolist()} lost all responsibility (N_k ~ 0) and were re-seeded at the "
        f"sample farthest from the other components. Remedies: fewer components, another init "
        f"or random_state.",
        EmptyComponentWarning,
        stacklevel=3,
    )
    resp = resp.copy()
    alive = ~empty
    mu_alive = (resp[:, alive].T @ X) / N_k[alive][:, None]
    d2 = ((X[:, None, :] - mu_alive[None]) ** 2).sum(axis=2).min(axis=1)
    taken = set()
    for k in ks:
        order = np.argsort(-d2, kind="stable")
        i = next(int(i) for i in order if int(i) not in taken)
        taken.add(i)
        resp[i] = 0.0
        resp[i, k] = 1.0
    return resp, resp.sum(axis=0)


def initial_params(
    X: np.ndarray,
    n_components: int,
    covariance_type: str,
    reg_covar: float,
    init,
    rng: np.random.Generator,
) -> GMMParams:
    """theta_0 for EM: from hard k-means++ or k-means assignments, at random, or as given.

    - ``'kmeans++'``: responsibilities one-hot to the nearest k-means++ seed, then :func:`m_step`;
    - ``'kmeans'``: one-hot to the clusters of a k-means fit, then :func:`m_step`;
    - ``'random'``: random responsibilities (rows of uniform draws, normalised), then
      :func:`m_step`;
    - ``'random_from_data'``: means at K distinct random samples, every covariance the data's
      (of the requested type), equal weights;
    - a :class:`GMMParams`: used as it is (it must match ``n_components`` and the data).
    """
    n = X.shape[0]
    if isinstance(init, GMMParams):
        if init.n_components != n_components or init.covariance_type != covariance_type:
            raise ValueError(
                f"init has K={init.n_components}, covariance_type={init.covariance_type!r}; "
                f"expected K={n_components}, covariance_type={covariance_type!r}. Fix: build "
                f"the GMMParams with the estimator's n_components and covariance_type."
            )
        v.check_n_features(X, init.n_features, "the mixture")
        return init
    v.check_choice(init, "init", v.GMM_INITS)
    if init == "random_from_data":
        idx = rng.choice(n, size=n_components, replace=False)
        resp = np.full((n, 1), 1.0)
        one = m_step(X, resp, covariance_type, reg_covar)
        Sigma = one.Sigma if covariance_type == "tied" else np.repeat(one.Sigma, n_components, 0)
        return GMMParams(np.full(n_components, 1 / n_components), X[idx], Sigma, covariance_type)
    if init == "random":
        resp = rng.uniform(size=(n, n_components))
        resp /= resp.sum(axis=1, keepdims=True)
        return m_step(X, resp, covariance_type, reg_covar)
    if init == "kmeans++":
        centres, _ = kmeans_plusplus(X, n_components, random_state=rng)
        labels = lloyd_step(X, centres).labels
    else:
        labels = KMeans(n_components, n_init=1, random_state=rng).fit(X).labels_
    resp = np.zeros((n, n_components))
    resp[np.arange(n), labels] = 1.0
    return m_step(X, resp, covariance_type, reg_covar)


class GaussianMixture(MixtureModel):
    """A Gaussian mixture fitted by EM: a thin loop over :func:`e_step` and :func:`m_step`.

    Parameters
    ----------
    n_components : int, K
    covariance_type : {'full', 'diag', 'spherical', 'tied'}
    tol : stop when the log-likelihood per sample changes by at most ``tol``
    reg_covar : added to every variance (see :func:`m_step`)
    max_iter : largest number of EM iterations per run
    n_init : number of runs from different initialisations; the best log-likelihood is kept
    init : {'kmeans++', 'kmeans', 'random', 'random_from_data'} or GMMParams
        (see :func:`initial_params`)
    random_state : int, None or numpy Generator

    Attributes (after ``fit``)
    --------------------------
    weights_ (K,), means_ (K, d), covariances_, params_ (GMMParams), log_likelihoods_
    (n_iter_ + 1,), n_iter_, converged_, result_ (the best run's EMResult)
    """

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init="kmeans++",
        random_state=None,
    ):
        self.n_components = n_components
        self.covariance_type = v.check_choice(
            covariance_type, "covariance_type", v.COVARIANCE_TYPES
        )
        self.tol = float(tol)
        self.reg_covar = v.check_positive(reg_covar, "reg_covar", allow_zero=True)
        self.max_iter = v.check_int(max_iter, "max_iter", minimum=0)
        self.n_init = v.check_int(n_init, "n_init", minimum=1)
        if not isinstance(init, GMMParams):
            v.check_choice(init, "init", v.GMM_INITS)
        self.init = init
        self.random_state = random_state

    def __repr__(self) -> str:
        init = "GMMParams(...)" if isinstance(self.init, GMMParams) else repr(self.init)
        return (
            f"GaussianMixture(n_components={self.n_components}, "
            f"covariance_type={self.covariance_type!r}, init={init}{self._repr_fitted()})"
        )

    def _check_data(self, X) -> np.ndarray:
        return v.check_X(X)

    def _initial_params(self, X, K, rng) -> GMMParams:
        return initial_params(X, K, self.covariance_type, self.reg_covar, self.init, rng)

    def _e_step(self, X, params):
        return e_step(X, params)

    def _m_step(self, X, resp) -> GMMParams:
        return m_step(X, resp, self.covariance_type, self.reg_covar)

    def _fit_context(self):
        # The steps share rows among threads, each running its products on one BLAS thread;
        # limiting BLAS once for the whole fit spares every step setting and restoring it.
        return _fast.one_blas_thread()

    def _log_density(self, X, params) -> np.ndarray:
        return log_density(X, params)

    def _set_fitted(self, params: GMMParams) -> None:
        self.means_, self.covariances_ = params.mu, params.Sigma

    def sample(self, n_samples: int = 1, random_state=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(X, z)`` from the fitted model: z ~ Categorical(pi), x | z ~ N(mu_z, Sigma_z)."""
        return self._fitted().sample(n_samples, random_state)
