"""log densities against scipy.stats, and logsumexp on extreme inputs."""

import numpy as np
import pytest
from _helpers import random_sigma
from scipy import stats
from scipy.special import logsumexp as scipy_logsumexp

from emlib.densities import log_bernoulli, log_gaussian, logsumexp
from emlib.gmm import full_covariances

TYPES = ["full", "diag", "spherical", "tied"]


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("d", [1, 2, 7])
def test_log_gaussian_matches_scipy(rng, covariance_type, d):
    K, n = 3, 200
    mu = rng.normal(scale=3, size=(K, d))
    Sigma = random_sigma(rng, covariance_type, K, d)
    X = rng.normal(scale=3, size=(n, d))
    got = log_gaussian(X, mu, Sigma, covariance_type)
    dense = full_covariances(Sigma, covariance_type, K, d)
    want = np.column_stack(
        [stats.multivariate_normal(mu[k], dense[k]).logpdf(X).reshape(n) for k in range(K)]
    )
    assert got.shape == (n, K)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)


def test_log_gaussian_far_points_are_finite(rng):
    # Points 10^4 standard deviations away: the density is 0.0 in floats, its log is not.
    mu = np.zeros((2, 3))
    Sigma = np.stack([np.eye(3), 2 * np.eye(3)])
    X = np.full((4, 3), 1e4)
    got = log_gaussian(X, mu, Sigma)
    assert np.isfinite(got).all()
    want = stats.multivariate_normal(np.zeros(3), np.eye(3)).logpdf(X)
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-12)


@pytest.mark.parametrize("scale", [1e-8, 1e8])
@pytest.mark.parametrize("covariance_type", TYPES)
def test_log_gaussian_scaled_data(rng, scale, covariance_type):
    K, d = 2, 3
    mu = scale * rng.normal(size=(K, d))
    Sigma = random_sigma(rng, covariance_type, K, d, scale=scale**2)
    X = scale * rng.normal(size=(50, d))
    got = log_gaussian(X, mu, Sigma, covariance_type)
    dense = full_covariances(Sigma, covariance_type, K, d)
    want = np.column_stack([stats.multivariate_normal(mu[k], dense[k]).logpdf(X) for k in range(K)])
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_log_gaussian_one_dimensional_input_is_one_feature():
    x = np.array([0.2, -0.9, -1.0])
    got = log_gaussian(x, [[-3.0], [2.0]], [4.0, 4.0], "spherical")
    want = np.column_stack([stats.norm(-3, 2).logpdf(x), stats.norm(2, 2).logpdf(x)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_logsumexp_matches_scipy_and_handles_extremes(rng):
    a = rng.normal(scale=500, size=(30, 4))
    np.testing.assert_allclose(logsumexp(a, axis=1), scipy_logsumexp(a, axis=1), rtol=1e-14)
    np.testing.assert_allclose(logsumexp(a, axis=0), scipy_logsumexp(a, axis=0), rtol=1e-14)
    assert logsumexp(np.array([-1e6, -1e6])) == pytest.approx(-1e6 + np.log(2))
    assert logsumexp(np.array([1e6, 1e6])) == pytest.approx(1e6 + np.log(2))
    with np.errstate(all="raise"):
        assert logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
    assert logsumexp(a, axis=None) == pytest.approx(scipy_logsumexp(a), rel=1e-14)
    assert logsumexp(a, axis=1, keepdims=True).shape == (30, 1)


def test_log_bernoulli_against_scipy(rng):
    X = (rng.uniform(size=(40, 9)) < 0.4).astype(float)
    theta = rng.uniform(0.05, 0.95, size=(3, 9))
    got = log_bernoulli(X, theta)
    want = np.column_stack([stats.bernoulli(theta[k]).logpmf(X).sum(axis=1) for k in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_log_bernoulli_784_pixels_and_exact_zero_one(rng):
    X = (rng.uniform(size=(20, 784)) < 0.3).astype(float)
    theta = rng.uniform(0.01, 0.99, size=(2, 784))
    assert np.isfinite(log_bernoulli(X, theta)).all()
    theta_edge = np.array([[0.0, 1.0], [0.5, 0.5]])
    Xe = np.array([[0.0, 1.0], [1.0, 1.0]])
    got = log_bernoulli(Xe, theta_edge)
    assert got[0, 0] == 0.0  # x matches the certain pixels exactly
    assert got[1, 0] == -np.inf  # a pixel that theta calls impossible
    np.testing.assert_allclose(got[:, 1], 2 * np.log(0.5))
    assert not np.isnan(got).any()


def collapsed_first_component(covariance_type, d):
    """Two components, the first of variance 1e-20 ('tied': one shared covariance of 1e-20)."""
    tiny = 1e-20
    return {
        "full": np.stack([tiny * np.eye(d), np.eye(d)]),
        "diag": np.array([np.full(d, tiny), np.ones(d)]),
        "spherical": np.array([tiny, 1.0]),
        "tied": tiny * np.eye(d),
    }[covariance_type]


def exact_log_gaussian(X, mu, S):
    """log N(x | mu, S) from x - mu and the inverse of the dense S: no cancellation."""
    diff = X - mu
    maha = np.einsum("nd,de,ne->n", diff, np.linalg.inv(S), diff)
    return -0.5 * (X.shape[1] * np.log(2 * np.pi) + np.linalg.slogdet(S)[1] + maha)


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("offset", [0.0, 5.0, 1e4])
def test_points_near_a_collapsed_component_keep_their_digits(rng, covariance_type, offset):
    """A component of variance 1e-20 at mu far from the origin: the fast forms cancel, the
    entries near it are recomputed from x - mu (the singularity of notebook 06)."""
    d, K = 3, 2
    mu = offset + rng.normal(size=(K, d))
    Sigma = collapsed_first_component(covariance_type, d)
    X = np.vstack([mu[0] + 1e-10 * rng.normal(size=(20, d)), mu[1] + rng.normal(size=(5, d))])
    got = log_gaussian(X, mu, Sigma, covariance_type)
    dense = full_covariances(Sigma, covariance_type, K, d)
    for k in range(K):
        np.testing.assert_allclose(got[:, k], exact_log_gaussian(X, mu[k], dense[k]), rtol=1e-9)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_cancellation_repair_in_every_thread(rng, covariance_type):
    """Enough rows that the E-step shares them among threads, each checking its own rows: points
    next to a collapsed component, at both ends of X, keep their digits."""
    from emlib._fast import rows as _rows

    d, K, n = 3, 2, 120_000
    assert n * K * d // _rows.WORK_PER_THREAD >= 2  # more than one thread's worth of rows
    mu = 1e3 + rng.normal(size=(K, d))
    Sigma = collapsed_first_component(covariance_type, d)
    X = mu[1] + rng.normal(size=(n, d))
    near = np.r_[0:10, n - 10 : n]
    X[near] = mu[0] + 1e-10 * rng.normal(size=(near.size, d))
    got = log_gaussian(X, mu, Sigma, covariance_type)
    assert np.isfinite(got).all()
    dense = full_covariances(Sigma, covariance_type, K, d)
    want = exact_log_gaussian(X[near], mu[0], dense[0])
    np.testing.assert_allclose(got[near, 0], want, rtol=1e-9)


def test_spoiled_range_is_where_the_error_bound_exceeds_the_tolerance(rng):
    """The repair's per-component range ``low < m < high`` is exactly the set of squared
    distances m whose error bound ``a sqrt(m) + b`` exceeds ``RTOL (1 + m)``, with a = 0 (the
    expanded forms) and a > 0 (the whitened form), including m = 0."""
    from emlib._fast.cancellation import _RTOL, _spoiled_range

    K = 400
    a = np.where(rng.random(K) < 0.5, 0.0, 10 ** rng.uniform(-14, -6, K))
    b = 10 ** rng.uniform(-14, -6, K)
    m = 10 ** rng.uniform(-6, 8, (K, 300))
    m[:, :3] = 0.0
    low, high = _spoiled_range(a, b)
    spoiled = a[:, None] * np.sqrt(m) + b[:, None] > _RTOL * (1 + m)
    assert 0.1 < spoiled.mean() < 0.9  # both outcomes occur
    np.testing.assert_array_equal((m > low[:, None]) & (m < high[:, None]), spoiled)
