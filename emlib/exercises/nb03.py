"""Exercises of notebook 03 (Gaussian mixtures and EM).

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
"""

from __future__ import annotations

import numpy as np

from .. import gmm
from ..datasets import five_points
from ..densities import log_gaussian
from .compare import choice_set, close, record
from .spec import Exercise, Mistake


def _one_em_step(sigma2_scale: float = 1.0) -> dict:
    """Posteriors of cluster 1 and its parameters after one EM iteration on the five points.

    ``sigma2_scale`` multiplies the initial variances (a mistake variant reads sigma^2 = 4 as a
    standard deviation, i.e. a variance of 16).
    """
    fp = five_points()
    params = gmm.GMMParams(fp.pi, fp.mu, np.asarray(fp.sigma2) * sigma2_scale, "spherical")
    resp, _ = gmm.e_step(fp.x, params)
    return _with_m_step(resp[:, 0])


def _with_m_step(r1: np.ndarray) -> dict:
    """The answer dict for the weights ``r1`` of cluster 1 (an M-step through emlib.gmm)."""
    fp = five_points()
    new = gmm.m_step(fp.x, np.column_stack([r1, 1.0 - r1]), "spherical", reg_covar=0.0)
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

EXERCISES = (POSTERIOR_1D, EM_COST)
