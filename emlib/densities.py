"""Log densities, public and validated: Gaussian (four covariance types), Bernoulli, logsumexp.

Sections: :func:`logsumexp` (eq. (3.10)); :func:`precision_cholesky`, the factors every Gaussian
density uses; :func:`log_gaussian` (eq. (3.1)); :func:`log_bernoulli` (eq. (5.1)). Each validates
its arguments and makes one call into :mod:`emlib._fast`; the same equations written line for
line are in :mod:`emlib.reference`.

Everything is computed in log space: a point 10^4 standard deviations from a component has a
density of about exp(-5e7), which is 0.0 in double precision, while its log is an ordinary
number. Normalising in log space (:func:`logsumexp`) is what keeps responsibilities finite.

The Gaussian uses the Cholesky factor ``L`` of each covariance (``Sigma = L L^T``): the precision
factor ``U = L^{-T}`` (a triangular inverse, never the inverse of ``Sigma``) whitens the data,
``(x - mu)^T Sigma^{-1} (x - mu) = ||(x - mu) U||^2``, and ``log det Sigma = 2 sum log diag L``
(never a determinant, which under- or overflows for d = 64).
"""

from __future__ import annotations

import numpy as np

from . import _fast
from . import _validation as v


def logsumexp(a, axis: int | None = -1, keepdims: bool = False) -> np.ndarray:
    """Stable ``log(sum(exp(a), axis))``.

    Subtracting the maximum before ``exp`` keeps every term in [0, 1], so nothing overflows and at
    least one term is exactly 1. A slice that is all ``-inf`` gives ``-inf`` (not NaN).

    Implements eq. (3.10) of notebook 03 (the log-sum-exp trick).
    """
    return _fast.logsumexp(np.asarray(a, dtype=np.float64), axis=axis, keepdims=keepdims)


def precision_cholesky(Sigma: np.ndarray, covariance_type: str) -> np.ndarray:
    """Cholesky factor ``U`` of the precision, ``Sigma^{-1} = U U^T``, per component.

    Parameters
    ----------
    Sigma : array, shape (K, d, d) full, (K, d) diag, (K,) spherical, (d, d) tied
    covariance_type : {'full', 'diag', 'spherical', 'tied'}

    Returns
    -------
    U : array of the same shape; upper triangular matrices for 'full' and 'tied', and
        ``1 / sqrt(Sigma)`` element-wise for 'diag' and 'spherical'.

    Raises ``ValueError`` naming the component when a covariance is not positive definite.
    """
    if covariance_type in ("diag", "spherical"):
        if np.any(Sigma <= 0):
            k = int(np.argwhere(np.asarray(Sigma) <= 0)[0][0])
            raise ValueError(
                f"Sigma[{k}] has a variance <= 0, so the Gaussian is undefined. Fix: increase "
                f"reg_covar (e.g. 1e-3) or initialise this component elsewhere."
            )
        return 1.0 / np.sqrt(Sigma)
    mats = Sigma[None] if covariance_type == "tied" else Sigma
    try:
        L = np.linalg.cholesky(mats)
    except np.linalg.LinAlgError:
        bad = [k for k, S in enumerate(mats) if np.linalg.eigvalsh(S)[0] <= 0]
        which = "Sigma" if covariance_type == "tied" else f"Sigma[{bad[0] if bad else '?'}]"
        raise ValueError(
            f"{which} is not positive definite (a component collapsed onto too few points). "
            f"Fix: increase reg_covar (e.g. 1e-3), or use covariance_type='diag' or 'tied'."
        ) from None
    # U = L^{-T}: solving L U^T = I by a batched solve keeps one BLAS thread pool in the loop.
    eye = np.broadcast_to(np.eye(mats.shape[-1]), mats.shape)
    U = np.swapaxes(np.linalg.solve(L, eye), -1, -2)
    return U[0] if covariance_type == "tied" else U


def log_gaussian(X, mu, Sigma, covariance_type: str = "full") -> np.ndarray:
    """Log density of every point under every Gaussian component.

    .. math:: \\log \\mathcal N(x_i \\mid \\mu_k, \\Sigma_k) = -\\tfrac d2 \\log 2\\pi
              - \\tfrac12 \\log\\det\\Sigma_k - \\tfrac12 (x_i-\\mu_k)^T\\Sigma_k^{-1}(x_i-\\mu_k)

    Implements eq. (3.1) of notebook 03, through Cholesky factors (see the module docstring).

    Parameters
    ----------
    X : array, shape (n, d) (a 1-D array is read as n samples of one feature)
    mu : array, shape (K, d)
    Sigma : array, shape (K, d, d) for 'full', (K, d) for 'diag', (K,) for 'spherical'
        (one variance per component), (d, d) for 'tied' (one matrix shared by all)
    covariance_type : {'full', 'diag', 'spherical', 'tied'}

    Returns
    -------
    log_prob : array, shape (n, K)
    """
    X = v.check_X(X)
    v.check_choice(covariance_type, "covariance_type", v.COVARIANCE_TYPES)
    mu = np.asarray(mu, dtype=np.float64)
    K = mu.shape[0] if mu.ndim >= 1 else 0
    mu = v.check_means(mu, K, X.shape[1])
    Sigma = v.check_covariances(Sigma, covariance_type, K, X.shape[1])
    U = precision_cholesky(Sigma, covariance_type)
    return _fast.gaussian.log_gaussian(X, mu, U, covariance_type)


def log_bernoulli(X, theta) -> np.ndarray:
    """Log probability of every binary vector under every multivariate Bernoulli component.

    .. math:: \\log p(x_i \\mid \\theta_k) = \\sum_j x_{ij} \\log\\theta_{kj}
              + (1 - x_{ij}) \\log(1 - \\theta_{kj})

    Implements eq. (5.1) of notebook 05. The sum over d = 784 pixels of logs is an ordinary
    number where the product of probabilities would underflow to 0. A pixel that a component
    declares impossible (``theta = 0`` where ``x = 1``) gives ``-inf``, never NaN.

    Parameters
    ----------
    X : array, shape (n, d), entries 0 or 1
    theta : array, shape (K, d), entries in [0, 1]

    Returns
    -------
    log_prob : array, shape (n, K)
    """
    X = v.check_X(X, binary=True)
    theta = v.check_probabilities(theta, X.shape[1])
    return _fast.bernoulli.log_bernoulli(X, theta)
