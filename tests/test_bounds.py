"""Jensen's gap and the decomposition log p(X|theta) = L(q, theta) + KL(q || p), notebook 02."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from emlib import reference
from emlib.bounds import decompose, elbo, jensen_gap, kl
from emlib.gmm import GMMParams, e_step, log_likelihood


def weighted_log_prob(X, params):
    """log pi_k + log N(x_i | mu_k, Sigma_k), the joint of eq. (2.2)."""
    return reference.log_joint(X, params.pi, params.mu, params.Sigma, params.covariance_type)


def mixture_problem(rng, n=40, K=3, d=2):
    X = rng.normal(scale=3, size=(n, d))
    params = GMMParams(rng.dirichlet(np.ones(K)), rng.normal(size=(K, d)), np.full((K, d), 2.0), "diag")
    return X, params


@pytest.mark.parametrize("seed", range(20))
def test_log_p_equals_elbo_plus_kl_for_random_q(seed):
    rng = np.random.default_rng(seed)
    X, params = mixture_problem(rng)
    log_joint = weighted_log_prob(X, params)
    q = rng.dirichlet(np.full(3, 0.3), size=len(X))
    parts = decompose(q, log_joint)
    assert parts.log_likelihood == pytest.approx(log_likelihood(X, params), rel=1e-12)
    assert parts.log_likelihood == pytest.approx(parts.elbo + parts.kl, rel=1e-10, abs=1e-10)
    assert parts.kl >= 0
    assert parts.elbo <= parts.log_likelihood


def test_kl_vanishes_at_the_posterior(rng):
    X, params = mixture_problem(rng)
    resp, ll = e_step(X, params)
    parts = decompose(resp, weighted_log_prob(X, params))
    assert abs(parts.kl) < 1e-10
    assert parts.elbo == pytest.approx(ll, rel=1e-12)


def test_kl_against_scipy_entropy(rng):
    q = rng.dirichlet(np.ones(4), size=5)
    p = rng.dirichlet(np.ones(4), size=5)
    want = sum(stats.entropy(q[i], p[i]) for i in range(5))
    assert kl(q, np.log(p)) == pytest.approx(want, rel=1e-12)


def test_zero_q_entries_count_as_zero():
    q = np.array([[1.0, 0.0]])
    log_joint = np.log(np.array([[0.3, 0.2]]))
    assert elbo(q, log_joint) == pytest.approx(np.log(0.3))
    assert np.isfinite(kl(q, log_joint - np.log(0.5)))


@settings(max_examples=60, deadline=None)
@given(
    w=st.lists(st.floats(0.01, 1.0), min_size=2, max_size=6),
    xs=st.lists(st.floats(-20, 20), min_size=6, max_size=6),
)
def test_jensen_gap_signs(w, xs):
    weights = np.array(w) / np.sum(w)
    x = np.array(xs[: len(w)])
    assert jensen_gap(np.square, weights, x) >= -1e-9  # convex
    assert jensen_gap(lambda t: np.log(1 + t**2 + 1e-300) * 0 - t**2, weights, x) <= 1e-9
    assert jensen_gap(lambda t: 3 * t - 1, weights, x) == pytest.approx(0.0, abs=1e-9)


def test_jensen_gap_of_log_is_the_em_inequality():
    weights = np.array([0.25, 0.25, 0.5])
    x = np.array([1.0, 2.0, 4.0])
    gap = jensen_gap(np.log, weights, x)
    assert gap == pytest.approx(weights @ np.log(x) - np.log(weights @ x))
    assert gap < 0  # log is concave: log E[X] >= E[log X]
    assert jensen_gap(np.log, weights, np.full(3, 2.0)) == pytest.approx(0.0, abs=1e-15)


def test_kl_of_a_distribution_with_itself_is_a_positive_zero():
    # Printed in notebook 01 as "KL(p||p) = 0.00000000": -0.0 would print with a minus sign.
    p = np.array([[0.1, 0.6, 0.3]])
    value = kl(p, np.log(p))
    assert value == 0.0 and np.copysign(1.0, value) == 1.0
