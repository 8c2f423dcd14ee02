"""What the Gaussian and the Bernoulli mixture estimators share.

An estimator is a thin shell over its model's pure functions: ``fit`` runs :func:`emlib.em.run_em`
``n_init`` times from the model's initialisation and keeps the best run; the other methods read
the fitted parameters through the model's ``e_step`` and log density. A subclass says only what
differs: how data is checked, how theta_0 is drawn, its E- and M-step, and what it records.
"""

from __future__ import annotations

import contextlib

import numpy as np

from . import _validation as v
from .em import EMResult, run_em


class MixtureModel:
    """Base class of :class:`emlib.gmm.GaussianMixture` and :class:`emlib.bernoulli.BernoulliMixture`.

    Subclasses set ``n_components``, ``max_iter``, ``tol``, ``n_init``, ``init`` and
    ``random_state`` in ``__init__`` and implement the hooks below.
    """

    #: what ``log_likelihoods_`` records, for ``__repr__``
    _objective_name = "log-likelihood"

    # -- hooks ---------------------------------------------------------------------------------
    def _check_data(self, X) -> np.ndarray:
        raise NotImplementedError

    def _initial_params(self, X: np.ndarray, K: int, rng: np.random.Generator):
        raise NotImplementedError

    def _e_step(self, X: np.ndarray, params) -> tuple[np.ndarray, float]:
        raise NotImplementedError

    def _m_step(self, X: np.ndarray, resp: np.ndarray):
        raise NotImplementedError

    def _log_density(self, X: np.ndarray, params) -> np.ndarray:
        raise NotImplementedError

    def _objective(self, log_likelihood: float, params) -> float:
        """What EM records and maximises: the log-likelihood, unless a prior is added."""
        return log_likelihood

    def _fit_context(self):
        return contextlib.nullcontext()

    def _given_params(self) -> bool:
        """Whether ``init`` is a parameter set (then one run is enough: every run is the same)."""
        return not isinstance(self.init, str)

    def _set_fitted(self, params) -> None:
        """Model-specific fitted attributes (``means_``, ``covariances_``)."""

    # -- the shared estimator ------------------------------------------------------------------
    def fit(self, X, callback=None):
        """Run EM ``n_init`` times and keep the run with the highest final objective.

        ``callback(t, params, resp, value)`` is passed to :func:`emlib.em.run_em`.
        """
        X = self._check_data(X)
        K = v.check_n_components(self.n_components, X.shape[0])
        rng = v.check_random_state(self.random_state)
        best: EMResult | None = None
        for _ in range(1 if self._given_params() else self.n_init):
            theta0 = self._initial_params(X, K, rng)
            with self._fit_context():
                result = run_em(
                    X,
                    theta0,
                    self._e_step,
                    self._m_step,
                    max_iter=self.max_iter,
                    tol=self.tol,
                    callback=callback,
                    objective=self._objective,
                )
            if best is None or result.log_likelihoods[-1] > best.log_likelihoods[-1]:
                best = result
        self.result_ = best
        self.params_ = best.params
        self.weights_ = best.params.pi
        self.log_likelihoods_ = best.log_likelihoods
        self.n_iter_, self.converged_ = best.n_iter, best.converged
        self._set_fitted(best.params)
        return self

    def _fitted(self):
        if not hasattr(self, "params_"):
            raise RuntimeError(
                f"this {type(self).__name__} is not fitted yet. Fix: call .fit(X) before using it."
            )
        return self.params_

    def _fitted_and_data(self, X):
        params = self._fitted()
        X = self._check_data(X)
        v.check_n_features(X, params.n_features, "the fitted mixture")
        return params, X

    def _repr_fitted(self) -> str:
        if not hasattr(self, "result_"):
            return ""
        return (
            f", fitted: n_iter={self.n_iter_}, "
            f"{self._objective_name}={self.log_likelihoods_[-1]:.6g}"
        )

    def predict_proba(self, X) -> np.ndarray:
        """Responsibilities of the fitted components, shape (n, K)."""
        params, X = self._fitted_and_data(X)
        return self._e_step(X, params)[0]

    def predict(self, X) -> np.ndarray:
        """The most responsible component of every sample, shape (n,)."""
        return self.predict_proba(X).argmax(axis=1)

    def score_samples(self, X) -> np.ndarray:
        """``log p(x_i | theta)`` for every sample, shape (n,)."""
        params, X = self._fitted_and_data(X)
        return self._log_density(X, params)

    def score(self, X) -> float:
        """Mean log-likelihood per sample."""
        return float(self.score_samples(X).mean())

    def bic(self, X) -> float:
        """Bayesian information criterion, ``-2 l(theta) + p log n`` (eq. (6.1)); lower is better.

        ``l`` is the log-likelihood (not a log posterior) and ``p`` the number of free parameters.
        """
        log_px = self.score_samples(X)
        return -2 * float(log_px.sum()) + self.params_.n_parameters() * np.log(log_px.shape[0])

    def aic(self, X) -> float:
        """Akaike information criterion, ``-2 l(theta) + 2 p`` (eq. (6.2)); lower is better."""
        log_px = self.score_samples(X)
        return -2 * float(log_px.sum()) + 2 * self.params_.n_parameters()
