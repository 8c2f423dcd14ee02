"""emlib: the library behind the course on the Expectation-Maximization algorithm.

Pure functions first (``e_step``, ``m_step``, ``log_likelihood`` per model; densities; bounds),
thin estimators on top that loop over them through the one EM loop, :func:`emlib.em.run_em`.
"""

from . import bounds, densities, em, gmm
from .bounds import decompose, elbo, jensen_gap, kl
from .densities import log_bernoulli, log_gaussian, logsumexp
from .em import ConvergenceWarning, EmptyComponentWarning, EMResult, run_em
from .gmm import GaussianMixture, GMMParams

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "EMResult",
    "EmptyComponentWarning",
    "GMMParams",
    "GaussianMixture",
    "bounds",
    "decompose",
    "densities",
    "elbo",
    "em",
    "gmm",
    "jensen_gap",
    "kl",
    "log_bernoulli",
    "log_gaussian",
    "logsumexp",
    "run_em",
]
