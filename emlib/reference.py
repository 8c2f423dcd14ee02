"""The course's algorithms as the notebooks write them: plain NumPy and SciPy, line for line.

Each function reads like the equation it cites (numbers as in the notebooks, ``\\tag{N.M}``) and
has no threads, buffers, callbacks or caches. The public functions of :mod:`emlib.densities`,
:mod:`emlib.gmm`, :mod:`emlib.bernoulli` and :mod:`emlib.kmeans` compute the same numbers fast
(through :mod:`emlib._fast`); the property tests hold them to these, and the exercises' expected
answers are computed here, so that no grade depends on threaded code.

Notation: ``X`` (n, d) samples; ``pi`` (K,) weights; ``mu`` (K, d) means; ``Sigma`` (K, d, d)
'full', (K, d) 'diag', (K,) 'spherical', (d, d) 'tied'; ``resp`` (n, K) responsibilities r_ik;
``N_k`` (K,) their column sums; ``theta`` (K, d) pixel probabilities; ``q`` (n, K) any
distribution over the latent z_i.

Sections: 1. log-sum-exp and the Gaussian log density (notebook 03); 2. the Gaussian E- and
M-steps and the log-likelihood (notebook 03); 3. the Bernoulli mixture (notebook 05); 4. k-means
(notebook 04); 5. the bounds (notebooks 01 and 02).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import betaln, xlog1py, xlogy

LOG_2PI = np.log(2.0 * np.pi)

# ---------------------------------------------------------------------------------------------
# 1. Log-sum-exp and the Gaussian log density (notebook 03)
# ---------------------------------------------------------------------------------------------


def logsumexp(a, axis: int = -1) -> np.ndarray:
    """``log sum_j exp(a_j) = m + log sum_j exp(a_j - m)`` with ``m = max_j a_j``.

    Implements eq. (3.10) of notebook 03: every ``a_j - m <= 0``, so nothing overflows and one
    term is exactly 1. A slice that is all ``-inf`` gives ``-inf``.

    Parameters
    ----------
    a : array
    axis : int, the axis summed over
    """
    a = np.asarray(a, dtype=np.float64)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # an all -inf slice: exp(-inf - 0) = 0, log 0 = -inf
    with np.errstate(divide="ignore"):
        return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def log_gaussian(X, mu, Sigma, covariance_type: str = "full") -> np.ndarray:
    """``log N(x_i | mu_k, Sigma_k)`` for every sample and component, shape (n, K).

    .. math:: \\log \\mathcal N(x \\mid \\mu, \\Sigma) = -\\tfrac d2 \\log 2\\pi
              - \\tfrac12 \\log\\det\\Sigma - \\tfrac12 (x-\\mu)^T\\Sigma^{-1}(x-\\mu)

    Implements eq. (3.1) of notebook 03 through the Cholesky factor ``Sigma = L L^T``: with
    ``L z = x - mu``, the quadratic form is ``||z||^2`` and ``log det Sigma = 2 sum log diag L``.

    Parameters
    ----------
    X : array, shape (n, d)
    mu : array, shape (K, d)
    Sigma : array, shape by ``covariance_type`` (see the module docstring)
    covariance_type : {'full', 'diag', 'spherical', 'tied'}
    """
    X, mu = np.asarray(X, dtype=np.float64), np.asarray(mu, dtype=np.float64)
    K, d = mu.shape
    Sigma = np.asarray(Sigma, dtype=np.float64)
    if covariance_type == "diag":  # Sigma_k = diag(s_k): the sum runs over the d coordinates
        maha = (((X[:, None, :] - mu[None]) ** 2) / Sigma[None]).sum(axis=2)
        return -0.5 * (d * LOG_2PI + np.log(Sigma).sum(axis=1) + maha)
    if covariance_type == "spherical":  # Sigma_k = sigma_k^2 I
        maha = ((X[:, None, :] - mu[None]) ** 2).sum(axis=2) / Sigma
        return -0.5 * (d * LOG_2PI + d * np.log(Sigma) + maha)
    if covariance_type == "tied":  # one Sigma shared by every component
        Sigma = np.broadcast_to(Sigma, (K, d, d))
    out = np.empty((X.shape[0], K))
    for k in range(K):
        L = np.linalg.cholesky(Sigma[k])
        z = np.linalg.solve(L, (X - mu[k]).T)  # L z = x - mu_k, L lower triangular
        log_det = 2.0 * np.log(np.diag(L)).sum()
        out[:, k] = -0.5 * (d * LOG_2PI + log_det + (z**2).sum(axis=0))
    return out


# ---------------------------------------------------------------------------------------------
# 2. The Gaussian mixture: E-step, M-step, log-likelihood (notebook 03)
# ---------------------------------------------------------------------------------------------


class GaussianParams(NamedTuple):
    """theta = (pi, mu, Sigma) as the M-step returns it."""

    pi: np.ndarray
    mu: np.ndarray
    Sigma: np.ndarray


def log_joint(X, pi, mu, Sigma, covariance_type: str = "full") -> np.ndarray:
    """``log pi_k + log N(x_i | mu_k, Sigma_k) = log p(x_i, z_i = k | theta)``, shape (n, K)."""
    with np.errstate(divide="ignore"):  # a weight of 0: a component that never fires
        return np.log(pi) + log_gaussian(X, mu, Sigma, covariance_type)


def e_step(X, pi, mu, Sigma, covariance_type: str = "full") -> tuple[np.ndarray, float]:
    """The responsibilities and the log-likelihood of theta.

    .. math:: r_{ik} = \\frac{\\pi_k \\mathcal N(x_i \\mid \\mu_k, \\Sigma_k)}
              {\\sum_j \\pi_j \\mathcal N(x_i \\mid \\mu_j, \\Sigma_j)}

    Implements eq. (3.4) of notebook 03, in log space (eq. (3.10)).

    Returns
    -------
    resp : array, shape (n, K), rows summing to 1
    log_likelihood : float, ``sum_i log p(x_i | theta)`` (eq. (3.3))
    """
    log_p = log_joint(X, pi, mu, Sigma, covariance_type)
    log_px = logsumexp(log_p, axis=1)  # log p(x_i | theta)
    resp = np.exp(log_p - log_px[:, None])
    return resp, float(log_px.sum())


def log_likelihood(X, pi, mu, Sigma, covariance_type: str = "full") -> float:
    """``l(theta) = sum_i log sum_k pi_k N(x_i | mu_k, Sigma_k)``, eq. (3.3) of notebook 03."""
    return float(logsumexp(log_joint(X, pi, mu, Sigma, covariance_type), axis=1).sum())


def m_step(X, resp, covariance_type: str = "full", reg_covar: float = 0.0) -> GaussianParams:
    """The parameters that maximise Q(theta, theta_old) for fixed responsibilities.

    .. math:: N_k = \\sum_i r_{ik}, \\quad \\pi_k = \\frac{N_k}{n}, \\quad
              \\mu_k = \\frac{1}{N_k} \\sum_i r_{ik} x_i, \\quad
              \\Sigma_k = \\frac{1}{N_k} \\sum_i r_{ik} (x_i - \\mu_k)(x_i - \\mu_k)^T

    Implements eqs. (3.5)-(3.9) of notebook 03. ``reg_covar`` is added to every variance. Every
    N_k must be positive (the library re-seeds an empty component first, see
    :func:`emlib.gmm.m_step`).
    """
    X, resp = np.asarray(X, dtype=np.float64), np.asarray(resp, dtype=np.float64)
    n, d = X.shape
    N_k = resp.sum(axis=0)  # (3.5)
    pi = N_k / n  # (3.5)
    mu = resp.T @ X / N_k[:, None]  # (3.6)
    diff = X[None, :, :] - mu[:, None, :]  # x_i - mu_k, shape (K, n, d)
    if covariance_type == "full":  # (3.7)
        Sigma = np.einsum("ik,kid,kie->kde", resp, diff, diff) / N_k[:, None, None]
        return GaussianParams(pi, mu, Sigma + reg_covar * np.eye(d))
    if covariance_type == "tied":  # (3.8): the scatter of all components, over n
        Sigma = np.einsum("ik,kid,kie->de", resp, diff, diff) / n
        return GaussianParams(pi, mu, Sigma + reg_covar * np.eye(d))
    if covariance_type == "diag":  # (3.8): the diagonal of (3.7)
        Sigma = np.einsum("ik,kid->kd", resp, diff**2) / N_k[:, None]
        return GaussianParams(pi, mu, Sigma + reg_covar)
    sigma2 = np.einsum("ik,kid->k", resp, diff**2) / (d * N_k)  # (3.9): spherical
    return GaussianParams(pi, mu, sigma2 + reg_covar)


# ---------------------------------------------------------------------------------------------
# 3. The Bernoulli mixture (notebook 05)
# ---------------------------------------------------------------------------------------------


class BernoulliParams(NamedTuple):
    """theta = (pi, theta) as the Bernoulli M-step returns it."""

    pi: np.ndarray
    theta: np.ndarray


def log_bernoulli(X, theta) -> np.ndarray:
    """``log p(x_i | theta_k) = sum_j x_ij log theta_kj + (1 - x_ij) log(1 - theta_kj)``, (n, K).

    Implements eq. (5.1) of notebook 05; ``0 log 0 = 0`` (``xlogy``), so a theta of exactly 0 or
    1 gives ``-inf`` only where the pixel has the impossible value.
    """
    X, theta = np.asarray(X, dtype=np.float64), np.asarray(theta, dtype=np.float64)
    x, t = X[:, None, :], theta[None, :, :]
    return (xlogy(x, t) + xlog1py(1.0 - x, -t)).sum(axis=2)


def bernoulli_e_step(X, pi, theta) -> tuple[np.ndarray, float]:
    """The responsibilities and the log-likelihood of a Bernoulli mixture.

    .. math:: r_{ik} = \\frac{\\pi_k p(x_i \\mid \\theta_k)}{\\sum_l \\pi_l p(x_i \\mid \\theta_l)}

    Implements eq. (5.4) of notebook 05 with the log densities of eq. (5.1), in log space.
    """
    with np.errstate(divide="ignore"):
        log_p = np.log(pi) + log_bernoulli(X, theta)
    log_px = logsumexp(log_p, axis=1)
    resp = np.exp(log_p - log_px[:, None])
    return resp, float(log_px.sum())


def bernoulli_m_step(X, resp, a: float = 1.0, b: float = 1.0) -> BernoulliParams:
    """The MAP update of a Bernoulli mixture with a Beta(a, b) prior on every theta_kj.

    .. math:: \\pi_k = \\frac{N_k}{n}, \\qquad
              \\theta_k = \\frac{\\sum_i r_{ik} x_i + a - 1}{N_k + a + b - 2}

    Implements eqs. (5.5)-(5.6) of notebook 05 (``a = b = 1``: maximum likelihood, eq. (5.5))
    and eq. (3.5) for the weights.
    """
    X, resp = np.asarray(X, dtype=np.float64), np.asarray(resp, dtype=np.float64)
    N_k = resp.sum(axis=0)
    theta = (resp.T @ X + a - 1.0) / (N_k + a + b - 2.0)[:, None]
    return BernoulliParams(N_k / X.shape[0], theta)


def log_beta_prior(theta, a: float, b: float) -> float:
    """``log p(theta) = sum_kj (a - 1) log theta_kj + (b - 1) log(1 - theta_kj) - log B(a, b)``:
    the prior of eq. (5.6) of notebook 05."""
    theta = np.asarray(theta, dtype=np.float64)
    return float((xlogy(a - 1.0, theta) + xlog1py(b - 1.0, -theta) - betaln(a, b)).sum())


# ---------------------------------------------------------------------------------------------
# 4. k-means (notebook 04)
# ---------------------------------------------------------------------------------------------


class LloydStep(NamedTuple):
    """New centres ``mu`` (K, d), the assignment ``labels`` (n,) and J of the centres passed in."""

    mu: np.ndarray
    labels: np.ndarray
    inertia: float


def sq_distances(X, mu) -> np.ndarray:
    """``||x_i - mu_k||^2`` for every sample and centre, shape (n, K)."""
    X, mu = np.asarray(X, dtype=np.float64), np.asarray(mu, dtype=np.float64)
    return ((X[:, None, :] - mu[None, :, :]) ** 2).sum(axis=2)


def lloyd_step(X, mu) -> LloydStep:
    """One Lloyd iteration: the nearest centre of every sample, then the mean of every cluster.

    .. math:: z_i = \\arg\\min_k \\lVert x_i - \\mu_k \\rVert^2, \\qquad
              \\mu_k^{new} = \\frac{1}{N_k} \\sum_{i : z_i = k} x_i

    Implements eqs. (4.2) and (4.3) of notebook 04; ``inertia`` is J(mu) of eq. (4.1). A cluster
    that receives no sample keeps its centre (the library re-seeds it, see
    :func:`emlib.kmeans.lloyd_step`).
    """
    X, mu = np.asarray(X, dtype=np.float64), np.asarray(mu, dtype=np.float64)
    D2 = sq_distances(X, mu)
    labels = D2.argmin(axis=1)  # (4.2)
    inertia = float(D2[np.arange(len(X)), labels].sum())  # (4.1)
    new_mu = mu.copy()
    for k in range(len(mu)):
        if (labels == k).any():
            new_mu[k] = X[labels == k].mean(axis=0)  # (4.3)
    return LloydStep(new_mu, labels, inertia)


def d2_probabilities(X, chosen) -> np.ndarray:
    """The probabilities of eq. (4.4) of notebook 04 for the next k-means++ centre, shape (n,).

    ``p_i = D(x_i)^2 / sum_j D(x_j)^2``, ``D(x)`` the distance to the nearest of ``X[chosen]``;
    all zeros when every sample sits on a chosen centre.
    """
    X = np.asarray(X, dtype=np.float64)
    D2 = sq_distances(X, X[np.asarray(chosen, dtype=int)]).min(axis=1)
    total = D2.sum()
    return D2 / total if total > 0 else np.zeros_like(D2)


def kmeans_plusplus(X, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """The indices (K,) of a k-means++ seeding: D² sampling.

    .. math:: p(i) = \\frac{D(x_i)^2}{\\sum_j D(x_j)^2}, \\qquad
              D(x)^2 = \\min_{c \\text{ chosen}} \\lVert x - c \\rVert^2

    Implements eq. (4.4) of notebook 04: the first centre uniform, every next one drawn with
    probability proportional to D². When every D² is 0 (fewer distinct points than clusters),
    the next is uniform over the samples not chosen yet. Draws from ``rng`` as
    :func:`emlib.kmeans.kmeans_plusplus` does, so the same generator gives the same seeding.
    """
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    chosen = [int(rng.integers(n))]
    D2 = sq_distances(X, X[chosen]).min(axis=1)
    while len(chosen) < n_clusters:
        u = rng.random()
        if D2.sum() > 0:
            i = int(np.searchsorted(np.cumsum(D2), u * D2.sum(), side="right"))  # (4.4)
        else:
            i = int(rng.choice(np.setdiff1d(np.arange(n), chosen)))
        chosen.append(i)
        D2 = np.minimum(D2, sq_distances(X, X[[i]])[:, 0])
    return np.array(chosen)


# ---------------------------------------------------------------------------------------------
# 5. The bounds (notebooks 01 and 02)
# ---------------------------------------------------------------------------------------------


def jensen_gap(f, weights, points) -> float:
    """``E[f(X)] - f(E[X]) = sum_i w_i f(x_i) - f(sum_i w_i x_i)``, eq. (1.3) of notebook 01."""
    w, x = np.asarray(weights, dtype=np.float64), np.asarray(points, dtype=np.float64)
    return float(w @ np.asarray(f(x), dtype=np.float64) - f(w @ x))


def elbo(q, log_joint) -> float:
    """``L(q, theta) = sum_ik q_ik log(p(x_i, z_i = k | theta) / q_ik)``, eq. (2.2) of notebook 02.

    ``0 log 0 = 0``: the terms of q_ik = 0 stay 0, whatever log p.
    """
    q, log_joint = np.asarray(q, dtype=np.float64), np.asarray(log_joint, dtype=np.float64)
    terms = np.zeros_like(q)
    pos = q > 0
    terms[pos] = q[pos] * (log_joint[pos] - np.log(q[pos]))
    return float(terms.sum())


def kl(q, log_posterior) -> float:
    """``KL(q || p(Z | X, theta)) = sum_ik q_ik log(q_ik / p(z_i = k | x_i, theta))``, eq. (2.3)
    of notebook 02: minus the "ELBO" of q against the posterior."""
    return 0.0 - elbo(q, log_posterior)  # not -elbo(...): at q = p an exact 0 must print as 0


def decompose(q, log_joint) -> tuple[float, float, float]:
    """``(log p(X | theta), L(q, theta), KL(q || p))``: eq. (2.4) of notebook 02, ``log p = L + KL``.

    The posterior is ``log p(z_i = k | x_i) = log p(x_i, z_i = k) - log p(x_i)`` (eq. (2.5)).
    """
    log_px = logsumexp(log_joint, axis=1)[:, None]
    return float(log_px.sum()), elbo(q, log_joint), kl(q, np.asarray(log_joint) - log_px)
