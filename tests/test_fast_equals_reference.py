"""fast == reference: the public (threaded, blocked) steps compute what emlib.reference writes out.

Every test draws its problems with hypothesis, derandomized (the same examples on every run):
random shapes, all four covariance types, weights near 0, points far from the origin, nearly
collapsed components, and the cases where the fast forms cancel. Agreement is 1e-10 relative to
the size of the numbers summed, with two documented exceptions, each checked against an exact
computation in higher precision (``np.longdouble``, 64-bit mantissa on x86-64) instead:

- the diagonal and spherical M-step take variances about a centre inside the data
  (``sum r (x - c)^2 - N (mu - c)^2``), which cancels for a narrow component far from that
  centre: its error is bounded by ``1e-12 (sigma^2 + ||mu_k - c||^2)`` rather than by sigma^2;
- a point next to a component of variance ~1e-20 far from the origin: the reference's
  ``x - mu`` is exact, the fast expansion is repaired to the tolerance of ``_fast.cancellation``.

Row sharing among threads is exercised with the work per thread lowered (``rows``' threshold),
so that even small problems are split.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emlib import bernoulli, gmm, kmeans, reference
from emlib._fast import rows
from emlib.densities import log_bernoulli, log_gaussian, logsumexp

TYPES = ("full", "diag", "spherical", "tied")
REPRODUCIBLE = settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(autouse=True)
def small_shares(monkeypatch):
    """Split rows among threads from the first few rows on."""
    monkeypatch.setattr(rows, "WORK_PER_THREAD", 8)


def problem(seed, covariance_type, n, d, K, *, offset=0.0, narrow=1.0, tiny_weight=False):
    """X (n, d), and GMMParams whose means lie among the data; ``offset`` moves everything away
    from the origin, ``narrow`` scales the first component's covariance down."""
    rng = np.random.default_rng(seed)
    mu = offset + 3.0 * rng.normal(size=(K, d))
    if covariance_type == "full":
        Q = np.linalg.qr(rng.normal(size=(K, d, d)))[0]
        Sigma = np.einsum("kij,kj,klj->kil", Q, rng.uniform(0.05, 3.0, (K, d)), Q)
        Sigma[0] *= narrow
    elif covariance_type == "tied":
        Q = np.linalg.qr(rng.normal(size=(d, d)))[0]
        Sigma = (Q * rng.uniform(0.05, 3.0, d)) @ Q.T * narrow
    elif covariance_type == "diag":
        Sigma = rng.uniform(0.05, 3.0, (K, d))
        Sigma[0] *= narrow
    else:
        Sigma = rng.uniform(0.05, 3.0, K)
        Sigma[0] *= narrow
    pi = rng.dirichlet(np.ones(K))
    if tiny_weight and K > 1:
        pi[0] = 1e-200
        pi /= pi.sum()
    z = rng.integers(K, size=n)
    X = mu[z] + np.sqrt(narrow) * rng.normal(size=(n, d))
    X[: n // 4] = offset + 10.0 * rng.normal(size=(n // 4, d))  # some points far from any mean
    return X, gmm.GMMParams(pi, mu, Sigma, covariance_type)


def assert_close(fast, ref, scale, rtol=1e-10):
    """|fast - ref| <= rtol * scale, entry by entry (scale: the size of the numbers summed)."""
    fast, ref = np.asarray(fast), np.asarray(ref)
    assert fast.shape == ref.shape
    excess = np.abs(fast - ref) - rtol * np.asarray(scale)
    assert excess.max(initial=-1.0) <= 0, f"worst excess {excess.max():.3g}"


shapes = st.tuples(
    st.integers(0, 2**32 - 1),
    st.sampled_from(TYPES),
    st.integers(1, 60),
    st.integers(1, 6),
    st.integers(1, 4),
)


# ---------------------------------------------------------------- log densities, eq. (3.1)


@REPRODUCIBLE
@given(shapes, st.sampled_from([0.0, 50.0, 1e4]), st.sampled_from([1.0, 1e-6]))
def test_log_gaussian(shape, offset, narrow):
    X, p = problem(*shape, offset=offset, narrow=narrow)
    ref = reference.log_gaussian(X, p.mu, p.Sigma, p.covariance_type)
    fast = log_gaussian(X, p.mu, p.Sigma, p.covariance_type)
    # the terms summed: d/2 log 2 pi, 1/2 |log det Sigma_k|, 1/2 the squared distance (<= |ref|+..)
    half_log_det = 0.5 * np.abs(np.linalg.slogdet(gmm.full_covariances(p.Sigma, p.covariance_type, *p.mu.shape))[1])
    assert_close(fast, ref, 1.0 + np.abs(ref) + X.shape[1] * np.log(2 * np.pi) + half_log_det)


@REPRODUCIBLE
@given(st.lists(st.one_of(st.floats(-1e300, 1e300), st.just(-np.inf)), min_size=1, max_size=30))
def test_logsumexp(values):
    a = np.array(values).reshape(1, -1)
    ref, fast = reference.logsumexp(a, axis=1), logsumexp(a, axis=1)
    if np.isneginf(ref[0]):
        assert np.isneginf(fast[0])
    else:
        assert_close(fast, ref, 1.0 + np.abs(ref))


# ---------------------------------------------------------------- E- and M-steps, eqs. (3.4)-(3.9)


@REPRODUCIBLE
@given(shapes, st.sampled_from([0.0, 1e4]), st.booleans())
def test_e_step(shape, offset, tiny_weight):
    X, p = problem(*shape, offset=offset, tiny_weight=tiny_weight)
    resp_ref, ll_ref = reference.e_step(X, p.pi, p.mu, p.Sigma, p.covariance_type)
    resp, ll = gmm.e_step(X, p)
    assert_close(resp, resp_ref, 1.0)
    log_px = reference.logsumexp(reference.log_joint(X, p.pi, p.mu, p.Sigma, p.covariance_type), axis=1)
    assert_close(ll, ll_ref, 1.0 + np.abs(log_px).sum() + X.size)
    assert ll == pytest.approx(gmm.log_likelihood(X, p), rel=1e-12)
    assert reference.log_likelihood(X, p.pi, p.mu, p.Sigma, p.covariance_type) == ll_ref


@REPRODUCIBLE
@given(shapes, st.sampled_from([0.0, 100.0]))
def test_m_step(shape, offset):
    seed, covariance_type, n, d, K = shape
    X, _ = problem(seed, covariance_type, n, d, K, offset=offset)
    resp = np.random.default_rng(seed).dirichlet(np.full(K, 0.5), size=n)
    resp[:, 0] = np.maximum(resp[:, 0], 1e-3)  # every N_k clear of the empty-component re-seed
    resp /= resp.sum(axis=1, keepdims=True)
    ref = reference.m_step(X, resp, covariance_type, reg_covar=1e-6)
    fast = gmm.m_step(X, resp, covariance_type, reg_covar=1e-6)
    size = np.abs(X).max() + 1.0
    assert_close(fast.pi, ref.pi, 1.0)
    assert_close(fast.mu, ref.mu, size)
    # variances about a centre inside the data: exact up to rounding of the data's spread
    spread = float(np.ptp(X, axis=0).max()) ** 2 + 1.0
    assert_close(fast.Sigma, ref.Sigma, np.abs(ref.Sigma) + spread)


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_m_step_cancellation_is_within_its_documented_bound(covariance_type):
    """A narrow component (variance 1e-8) far from the centre of the data: the fast variances
    are exact to 1e-12 (sigma^2 + ||mu_k - c||^2), the reference's to 1e-12 sigma^2, both
    against the same sums in long double."""
    rng = np.random.default_rng(3)
    d, n = 3, 400
    X = np.vstack([rng.normal(size=(n, d)), 1e3 + 1e-4 * rng.normal(size=(n, d))])
    resp = np.zeros((2 * n, 2))
    resp[:n, 0] = resp[n:, 1] = 1.0
    Xl, rl = X.astype(np.longdouble), resp.astype(np.longdouble)
    N_k = rl.sum(axis=0)
    mu = rl.T @ Xl / N_k[:, None]
    var = np.stack([(rl[:, k : k + 1] * (Xl - mu[k]) ** 2).sum(axis=0) / N_k[k] for k in range(2)])
    exact = var if covariance_type == "diag" else var.mean(axis=1)
    fast = gmm.m_step(X, resp, covariance_type, reg_covar=0.0).Sigma
    ref = reference.m_step(X, resp, covariance_type).Sigma
    far = float(((mu[1] - X.mean(axis=0)) ** 2).sum())
    assert np.all(np.abs(ref - exact) <= 1e-12 * exact)
    assert np.all(np.abs(fast - exact) <= 1e-12 * (exact + far))


@pytest.mark.parametrize("covariance_type", TYPES)
def test_e_step_near_a_collapsed_component_against_long_double(covariance_type):
    """Points within 1e-10 of a component of variance 1e-20 at 1e4 from the origin: both paths
    agree with log N computed from x - mu in long double."""
    rng = np.random.default_rng(4)
    d = 3
    mu = 1e4 + rng.normal(size=(2, d))
    Sigma = {
        "full": np.stack([1e-20 * np.eye(d), np.eye(d)]),
        "diag": np.array([np.full(d, 1e-20), np.ones(d)]),
        "spherical": np.array([1e-20, 1.0]),
        "tied": 1e-20 * np.eye(d),
    }[covariance_type]
    X = np.vstack([mu[0] + 1e-10 * rng.normal(size=(30, d)), mu[1] + rng.normal(size=(30, d))])
    dense = gmm.full_covariances(Sigma, covariance_type, 2, d)
    diff = X.astype(np.longdouble) - mu[0].astype(np.longdouble)
    maha = (diff**2).sum(axis=1) / np.longdouble(dense[0, 0, 0])
    exact = -0.5 * (d * np.log(2 * np.pi) + np.linalg.slogdet(dense[0])[1] + maha)
    near = slice(0, 30)
    for got in (log_gaussian(X, mu, Sigma, covariance_type), reference.log_gaussian(X, mu, Sigma, covariance_type)):
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got[near, 0], exact[near].astype(np.float64), rtol=1e-9)


# ---------------------------------------------------------------- Bernoulli, eqs. (5.1)-(5.6)


binary = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 30), st.integers(1, 5))


def bernoulli_problem(seed, n, d, K, edge=1e-12):
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.02, 0.98, (K, d))
    theta[0, : d // 2] = edge  # near (or at) the edges of [0, 1]
    theta[-1, d // 2 :] = 1.0 - edge
    X = (rng.random((n, d)) < theta[rng.integers(K, size=n)]).astype(np.float64)
    return X, rng.dirichlet(np.ones(K)), theta


@REPRODUCIBLE
@given(binary, st.sampled_from([1e-12, 0.0]))
def test_log_bernoulli(problem_shape, edge):
    X, _, theta = bernoulli_problem(*problem_shape, edge=edge)
    ref, fast = reference.log_bernoulli(X, theta), log_bernoulli(X, theta)
    np.testing.assert_array_equal(np.isneginf(fast), np.isneginf(ref))
    finite = np.isfinite(ref)
    assert_close(fast[finite], ref[finite], 1.0 + np.abs(ref[finite]))


@REPRODUCIBLE
@given(binary)
def test_bernoulli_e_step(problem_shape):
    X, pi, theta = bernoulli_problem(*problem_shape)
    resp_ref, ll_ref = reference.bernoulli_e_step(X, pi, theta)
    resp, ll = bernoulli.e_step(X, bernoulli.BernoulliParams(pi, theta))
    assert_close(resp, resp_ref, 1.0)
    assert_close(ll, ll_ref, 1.0 + np.abs(ll_ref) + X.size)


@REPRODUCIBLE
@given(binary, st.sampled_from([1.0, 1.01, 2.0, 3.5]), st.sampled_from([1.0, 1.01, 1.5]))
def test_bernoulli_m_step(problem_shape, a, b):
    seed, n, _, K = problem_shape
    X, _, _ = bernoulli_problem(*problem_shape)
    resp = np.random.default_rng(seed).dirichlet(np.ones(K), size=n)
    resp[:, 0] = np.maximum(resp[:, 0], 1e-3)
    resp /= resp.sum(axis=1, keepdims=True)
    ref = reference.bernoulli_m_step(X, resp, a, b)
    fast = bernoulli.m_step(X, resp, a, b)
    assert_close(fast.pi, ref.pi, 1.0)
    assert_close(fast.theta, ref.theta, 1.0)
    prior = bernoulli.log_prior(fast, a, b)
    assert_close(prior, reference.log_beta_prior(fast.theta, a, b), 1.0 + abs(prior))


# ---------------------------------------------------------------- k-means, eqs. (4.1)-(4.4)


clusters = st.tuples(
    st.integers(0, 2**32 - 1), st.integers(2, 80), st.integers(1, 5), st.integers(1, 6),
    st.sampled_from([0.0, 1e3]),
)


@REPRODUCIBLE
@given(clusters)
def test_lloyd_step(problem_shape):
    seed, n, d, K, offset = problem_shape
    rng = np.random.default_rng(seed)
    K = min(K, n)
    X = offset + rng.normal(size=(n, d)) + 4.0 * rng.normal(size=(K, d))[rng.integers(K, size=n)]
    mu = X[rng.choice(n, K, replace=False)] + 0.01 * rng.normal(size=(K, d))
    ref = reference.lloyd_step(X, mu)
    if len(np.unique(ref.labels)) < K:
        return  # an empty cluster: the library re-seeds it (a policy the reference leaves out)
    fast = kmeans.lloyd_step(X, mu)
    np.testing.assert_array_equal(fast.labels, ref.labels)
    assert_close(fast.mu, ref.mu, np.abs(X).max() + 1.0)
    assert_close(fast.inertia, ref.inertia, ref.inertia + 1.0)


@REPRODUCIBLE
@given(clusters)
def test_kmeans_plusplus_draws_the_same_seeding(problem_shape):
    """Both draw the first centre, then one uniform number per next centre, from the same
    generator: the same seed gives the same indices."""
    seed, n, d, K, offset = problem_shape
    X = offset + np.random.default_rng(seed).normal(size=(n, d))
    K = min(K, n)
    _, fast = kmeans.kmeans_plusplus(X, K, random_state=seed)
    ref = reference.kmeans_plusplus(X, K, np.random.default_rng(seed))
    np.testing.assert_array_equal(fast, ref)


def test_kmeans_plusplus_on_duplicates_draws_the_same_seeding():
    """Fewer distinct points than centres: both fall back to the samples not chosen yet."""
    X = np.repeat(np.array([[0.0, 1.0], [2.0, 3.0]]), 3, axis=0)
    for seed in range(20):
        _, fast = kmeans.kmeans_plusplus(X, 4, random_state=seed)
        np.testing.assert_array_equal(fast, reference.kmeans_plusplus(X, 4, np.random.default_rng(seed)))
