"""emlib: the library behind the course on the Expectation-Maximization algorithm.

Pure functions first (``e_step``, ``m_step``, ``log_likelihood`` per model; densities; bounds),
thin estimators on top that loop over them through the one EM loop, :func:`emlib.em.run_em`.
The same steps written line for line as the notebooks' equations are in :mod:`emlib.reference`;
what makes the public ones fast is in the private :mod:`emlib._fast`.
"""

from . import bernoulli, bounds, datasets, densities, em, exceptions, gmm, kmeans, reference
from .bernoulli import BernoulliMixture, BernoulliParams
from .bounds import decompose, elbo, jensen_gap, kl
from .datasets import five_points, load_binary_digits, load_mnist_bits, make_mixture, read_idx
from .densities import log_bernoulli, log_gaussian, logsumexp
from .em import EMResult, run_em
from .exceptions import ConvergenceWarning, EmptyComponentWarning
from .gmm import GaussianMixture, GMMParams
from .kmeans import KMeans, kmeans_plusplus, lloyd_step

__version__ = "0.1.0"

__all__ = [
    "BernoulliMixture",
    "BernoulliParams",
    "ConvergenceWarning",
    "EMResult",
    "EmptyComponentWarning",
    "GMMParams",
    "GaussianMixture",
    "KMeans",
    "bernoulli",
    "bounds",
    "datasets",
    "decompose",
    "densities",
    "elbo",
    "em",
    "exceptions",
    "five_points",
    "gmm",
    "jensen_gap",
    "kl",
    "kmeans",
    "kmeans_plusplus",
    "lloyd_step",
    "load_binary_digits",
    "load_mnist_bits",
    "log_bernoulli",
    "log_gaussian",
    "logsumexp",
    "make_mixture",
    "read_idx",
    "reference",
    "run_em",
]
