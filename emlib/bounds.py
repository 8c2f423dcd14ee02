"""Jensen's inequality, the evidence lower bound and the decomposition log p = L + KL.

Notation of notebooks 01 and 02: ``q`` is any distribution over the latent ``z`` of each sample
(an (n, K) matrix whose rows sum to 1), ``log_joint[i, k] = log p(x_i, z_i = k | theta)``.

Each function checks its arguments and computes with :mod:`emlib.reference` (section 5 there):
the bounds are small sums with nothing to speed up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import _validation as v
from . import reference


def jensen_gap(f: Callable[[np.ndarray], np.ndarray], weights, points) -> float:
    """``E[f(X)] - f(E[X])`` for a finite distribution.

    .. math:: \\mathrm{gap} = \\sum_i w_i f(x_i) - f\\Big(\\sum_i w_i x_i\\Big)

    Implements eq. (1.3) of notebook 01: non-negative for convex ``f`` (Jensen's inequality,
    eq. (1.2)), non-positive for concave ``f``, zero when ``X`` is constant on the support of the
    weights or ``f`` is affine there.

    Parameters
    ----------
    f : callable, vectorised over a 1-D array of points
    weights : array, shape (m,), non-negative, summing to 1
    points : array, shape (m,)
    """
    w = v.check_weights(weights, name="weights")
    x = np.asarray(points, dtype=np.float64)
    if x.shape != w.shape:
        raise ValueError(
            f"points must have the same shape as weights {w.shape}; got shape {x.shape}. "
            f"Fix: pass one point per weight."
        )
    return reference.jensen_gap(f, w, x)


def _same_shape(q, log_other) -> tuple[np.ndarray, np.ndarray]:
    """``q`` and the log probabilities as float arrays of one shape."""
    q = np.asarray(q, dtype=np.float64)
    log_other = np.asarray(log_other, dtype=np.float64)
    if q.shape != log_other.shape:
        raise ValueError(
            f"q and the log probabilities must have the same shape; got {q.shape} and "
            f"{log_other.shape}. Fix: both are (n_samples, n_components)."
        )
    return q, log_other


def elbo(q, log_joint) -> float:
    """The evidence lower bound ``L(q, theta)``.

    .. math:: \\mathcal L(q, \\theta) = \\sum_i \\sum_k q_{ik}
              \\log \\frac{p(x_i, z_i = k \\mid \\theta)}{q_{ik}}

    Implements eq. (2.2) of notebook 02.

    Parameters
    ----------
    q : array, shape (n, K), rows summing to 1
    log_joint : array, shape (n, K), ``log p(x_i, z_i = k | theta)``
    """
    return reference.elbo(*_same_shape(q, log_joint))


def kl(q, log_posterior) -> float:
    """``KL(q || p(Z | X, theta))``, summed over samples.

    .. math:: \\mathrm{KL}(q \\,\\|\\, p) = \\sum_i \\sum_k q_{ik}
              \\log \\frac{q_{ik}}{p(z_i = k \\mid x_i, \\theta)}

    Implements eq. (2.3) of notebook 02; non-negative (notebook 01, eq. (1.5)).
    """
    return reference.kl(*_same_shape(q, log_posterior))


class Decomposition(NamedTuple):
    """The three terms of eq. (2.4) of notebook 02: ``log_likelihood = elbo + kl``."""

    log_likelihood: float
    elbo: float
    kl: float


def decompose(q, log_joint) -> Decomposition:
    """Split ``log p(X | theta)`` into ``L(q, theta) + KL(q || p(Z | X, theta))``.

    Implements eq. (2.4) of notebook 02; the identity holds for every ``q``, and ``kl`` is 0
    exactly when ``q`` is the posterior (the E-step, eq. (2.5)).

    Parameters
    ----------
    q : array, shape (n, K), rows summing to 1
    log_joint : array, shape (n, K), ``log p(x_i, z_i = k | theta)``
    """
    log_joint = np.asarray(log_joint, dtype=np.float64)
    q = v.check_resp(q, log_joint.shape[0] if log_joint.ndim == 2 else -1, name="q")
    return Decomposition(*reference.decompose(*_same_shape(q, log_joint)))
