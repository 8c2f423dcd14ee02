"""The one EM loop of the course, shared by the Gaussian and the Bernoulli mixture.

``run_em`` alternates the model's ``e_step`` and ``m_step`` and records the log-likelihood of
every parameter set it visits, so a reader follows one iteration in two hops: this loop, then the
model's two pure functions. Sections: :class:`EMResult` and :func:`run_em`; :class:`EMRecorder`,
the ``callback`` that keeps every iterate for the notebooks' figures.

``ConvergenceWarning`` and ``EmptyComponentWarning`` live in :mod:`emlib.exceptions`; the
notebooks import them from here, so they are re-exported.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .exceptions import ConvergenceWarning, EmptyComponentWarning

__all__ = [
    "ConvergenceWarning",
    "EMRecorder",
    "EMResult",
    "EMSnapshot",
    "EmptyComponentWarning",
    "run_em",
]


@dataclass(frozen=True)
class EMResult:
    """What one EM run produced.

    Attributes
    ----------
    params : the parameters after the last M-step
    log_likelihoods : array, shape (n_iter + 1,); entry t is log p(X | theta_t), entry 0 for the
        initial parameters and the last one for ``params`` (for a MAP fit, the log posterior)
    n_iter : number of M-steps taken
    converged : whether the change per sample fell below ``tol`` before ``max_iter``
    resp : array, shape (n, K), the responsibilities under ``params``
    """

    params: Any
    log_likelihoods: np.ndarray
    n_iter: int
    converged: bool
    resp: np.ndarray = field(repr=False)

    def __repr__(self) -> str:
        final = self.log_likelihoods[-1]
        return (
            f"EMResult(n_iter={self.n_iter}, converged={self.converged}, "
            f"final log-likelihood={final:.6g}, params={self.params!r})"
        )


def run_em(
    X: np.ndarray,
    params: Any,
    e_step: Callable[[np.ndarray, Any], tuple[np.ndarray, float]],
    m_step: Callable[[np.ndarray, np.ndarray], Any],
    *,
    max_iter: int = 100,
    tol: float = 1e-3,
    callback: Callable[[int, Any, np.ndarray, float], None] | None = None,
    objective: Callable[[float, Any], float] | None = None,
) -> EMResult:
    """Alternate E- and M-steps from ``params`` until the log-likelihood settles.

    .. math:: \\theta_{t+1} = \\arg\\max_\\theta Q(\\theta, \\theta_t), \\qquad
              \\log p(X \\mid \\theta_{t+1}) \\ge \\log p(X \\mid \\theta_t)

    Implements the loop of notebook 02, eqs. (2.5)-(2.7).

    Parameters
    ----------
    X : array, shape (n, d), already validated
    params : the initial parameters theta_0
    e_step : ``e_step(X, params) -> (resp, log_likelihood)``, resp of shape (n, K)
    m_step : ``m_step(X, resp) -> params``
    max_iter : largest number of M-steps
    tol : stop when the log-likelihood (or ``objective``) changes by at most ``tol`` per sample,
        the criterion scikit-learn uses; ``tol=0`` runs exactly ``max_iter`` iterations unless
        the change is exactly zero, and a negative ``tol`` always runs ``max_iter``
    callback : called as ``callback(t, params, resp, log_likelihood)`` for t = 0 (the
        initial parameters) and after every M-step; the notebooks draw iterations with it
    objective : ``objective(log_likelihood, params)`` is what is recorded and tested for
        convergence instead of the log-likelihood (the log posterior of a MAP fit)

    Warns
    -----
    ConvergenceWarning when ``max_iter`` is reached with a positive ``tol`` and no convergence.
    """
    n = X.shape[0]
    resp, ll = e_step(X, params)
    value = ll if objective is None else objective(ll, params)
    history = [value]
    if callback is not None:
        callback(0, params, resp, value)
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        params = m_step(X, resp)
        resp, ll = e_step(X, params)
        value = ll if objective is None else objective(ll, params)
        history.append(value)
        if callback is not None:
            callback(n_iter, params, resp, value)
        if abs(value - history[-2]) <= tol * n:
            converged = True
            break
    if not converged and tol > 0 and max_iter > 0:
        warnings.warn(
            f"EM did not converge in max_iter={max_iter} iterations: the log-likelihood still "
            f"changed by {abs(history[-1] - history[-2]) / n:.3g} per sample (tol={tol}). "
            f"Remedies: raise max_iter, try another init or random_state, or increase reg_covar "
            f"if a component is collapsing.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return EMResult(
        params=params,
        log_likelihoods=np.asarray(history),
        n_iter=n_iter,
        converged=converged,
        resp=resp,
    )


class EMSnapshot(NamedTuple):
    """One iterate of an EM run: parameters theta_t, their responsibilities and log-likelihood."""

    t: int
    params: Any
    resp: np.ndarray
    log_likelihood: float


class EMRecorder:
    """A ``callback`` for :func:`run_em` and ``fit(X, callback=...)`` that keeps every iterate.

    ``recorder.snapshots[t]`` is the :class:`EMSnapshot` of iteration t (t = 0 is the start).
    """

    def __init__(self) -> None:
        self.snapshots: list[EMSnapshot] = []

    def __call__(self, t: int, params: Any, resp: np.ndarray, value: float) -> None:
        self.snapshots.append(EMSnapshot(int(t), params, np.array(resp), float(value)))

    def __repr__(self) -> str:
        return f"EMRecorder({len(self.snapshots)} snapshots)"
