"""Bernoulli mixtures: against naive loops and scipy.stats, EM invariants, extremes, messages."""

import dataclasses
import importlib.util
import re
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp as sp_logsumexp
from scipy.stats import bernoulli, beta

from emlib.bernoulli import (
    BernoulliMixture,
    BernoulliParams,
    e_step,
    initial_params,
    log_likelihood,
    log_prior,
    m_step,
)
from emlib.densities import log_bernoulli
from emlib.em import EmptyComponentWarning
from emlib.kmeans import kmeans_plusplus, lloyd_step


def prototypes(rng, n, d, K, flip=0.15):
    """Binary data around K random prototype images, each pixel flipped with prob ``flip``."""
    protos = rng.random((K, d)) < 0.4
    z = rng.integers(K, size=n)
    X = (protos[z] ^ (rng.random((n, d)) < flip)).astype(np.float64)
    return X, z


def random_params(rng, K, d, low=0.05, high=0.95):
    return BernoulliParams(rng.dirichlet(np.full(K, 2.0)), rng.uniform(low, high, size=(K, d)))


def naive_log_joint(X, params):
    """log pi_k + sum_j log Bernoulli(x_ij | theta_kj), one (sample, component) pair at a time."""
    n, K = X.shape[0], params.n_components
    out = np.empty((n, K))
    for i in range(n):
        for k in range(K):
            with np.errstate(divide="ignore"):
                out[i, k] = np.log(params.pi[k]) + bernoulli.logpmf(X[i], params.theta[k]).sum()
    return out


def naive_em_step(X, params, a, b):
    """One EM iteration written out sample by sample from eqs. (5.4) and (5.6)."""
    n, d = X.shape
    K = params.n_components
    resp = np.empty((n, K))
    for i in range(n):
        logs = naive_log_joint(X[i : i + 1], params)[0]
        resp[i] = np.exp(logs - sp_logsumexp(logs))
    N_k = resp.sum(axis=0)
    theta = np.empty((K, d))
    for k in range(K):
        for j in range(d):
            theta[k, j] = (sum(resp[i, k] * X[i, j] for i in range(n)) + a - 1) / (
                N_k[k] + a + b - 2
            )
    return BernoulliParams(N_k / n, theta)


# ---------------------------------------------------------------- densities and the E-step


def test_log_bernoulli_matches_scipy_loop(rng):
    X = (rng.random((25, 12)) < 0.4).astype(float)
    theta = rng.uniform(0.01, 0.99, size=(4, 12))
    ours = log_bernoulli(X, theta)
    ref = naive_log_joint(X, BernoulliParams(np.full(4, 0.25), theta)) - np.log(0.25)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_log_bernoulli_matches_scipy_with_theta_exactly_0_and_1(rng):
    X = (rng.random((30, 6)) < 0.5).astype(float)
    theta = rng.uniform(0.1, 0.9, size=(3, 6))
    theta[0, 2] = 0.0
    theta[1, 4] = 1.0
    theta[2, :2] = [0.0, 1.0]
    ours = log_bernoulli(X, theta)
    ref = naive_log_joint(X, BernoulliParams(np.full(3, 1 / 3), theta)) - np.log(1 / 3)
    assert not np.isnan(ours).any()
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(ref))
    assert np.isneginf(ours).any() and np.isfinite(ours).any()
    finite = np.isfinite(ref)
    np.testing.assert_allclose(ours[finite], ref[finite], rtol=1e-12)


def test_e_step_matches_naive_per_sample_computation(rng):
    X, _ = prototypes(rng, 40, 10, 3)
    params = random_params(rng, 3, 10)
    resp, ll = e_step(X, params)
    logs = naive_log_joint(X, params)
    ref_ll = np.array([sp_logsumexp(row) for row in logs])
    ref_resp = np.array([np.exp(row - sp_logsumexp(row)) for row in logs])
    np.testing.assert_allclose(resp, ref_resp, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ll, ref_ll.sum(), rtol=1e-12)
    np.testing.assert_allclose(log_likelihood(X, params), ref_ll.sum(), rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_responsibilities_are_probabilities(seed):
    rng = np.random.default_rng(seed)
    X, _ = prototypes(rng, 200, 50, 4)
    resp, _ = e_step(X, random_params(rng, 4, 50, 0.001, 0.999))
    assert resp.shape == (200, 4)
    assert (resp >= 0).all() and (resp <= 1).all()
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_e_step_with_theta_0_and_1_gives_exact_zeros_not_nan():
    X = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    params = BernoulliParams(np.array([0.5, 0.5]), np.array([[1.0, 0.0], [0.5, 0.5]]))
    resp, ll = e_step(X, params)
    # Sample 0 is possible under both, samples 1 and 2 only under component 1.
    np.testing.assert_allclose(resp, [[0.8, 0.2], [0.0, 1.0], [0.0, 1.0]], rtol=1e-15)
    assert resp[1, 0] == 0.0 and resp[2, 0] == 0.0
    np.testing.assert_allclose(ll, np.log(0.5 + 0.125) + 2 * np.log(0.125), rtol=1e-14)


def test_d_784_log_probabilities_underflow_but_e_step_stays_finite(rng):
    X, _ = prototypes(rng, 100, 784, 3)
    theta = np.clip(rng.beta(0.5, 0.5, size=(3, 784)), 1e-6, 1 - 1e-6)
    params = BernoulliParams(np.array([0.2, 0.3, 0.5]), theta)
    with np.errstate(under="ignore"):
        assert (np.exp(log_bernoulli(X, params.theta)) == 0).all()  # the naive product is 0
    resp, ll = e_step(X, params)
    assert np.isfinite(resp).all() and np.isfinite(ll)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_sample_impossible_under_every_component_is_a_clear_error():
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    params = BernoulliParams(np.array([0.5, 0.5]), np.array([[1.0, 0.5], [0.5, 0.0]]))
    msg = (
        "sample 1 has zero probability under every component: each component has a weight of 0 "
        "or a theta of exactly 0 or 1 where X[1] has the other value, so its responsibilities "
        "are undefined. Fix: fit with a Beta prior a > 1 and b > 1 (e.g. a=b=1.01) so that "
        "theta stays inside (0, 1), or give every component a positive weight."
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        e_step(X, params)
    assert log_likelihood(X, params) == -np.inf  # the honest value: p(X | theta) = 0


def test_zero_weight_component_gets_no_responsibility(rng):
    X, _ = prototypes(rng, 50, 8, 2)
    theta = rng.uniform(0.2, 0.8, size=(3, 8))
    resp, ll = e_step(X, BernoulliParams(np.array([0.6, 0.0, 0.4]), theta))
    assert (resp[:, 1] == 0).all()
    resp2, ll2 = e_step(X, BernoulliParams(np.array([0.6, 0.4]), theta[[0, 2]]))
    np.testing.assert_allclose(resp[:, [0, 2]], resp2, rtol=1e-14)
    np.testing.assert_allclose(ll, ll2, rtol=1e-14)


# ---------------------------------------------------------------- the M-step and the prior


def test_map_m_step_by_hand():
    # eq. (5.6): N = (1.75, 1.25), sum_i r_ik x_i = (1.75, 0.75) and (0.25, 0.25).
    X = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    resp = np.array([[1.0, 0.0], [0.75, 0.25], [0.0, 1.0]])
    p = m_step(X, resp, a=2, b=3)
    np.testing.assert_allclose(p.pi, [7 / 12, 5 / 12], rtol=1e-15)
    np.testing.assert_allclose(p.theta, [[11 / 19, 7 / 19], [5 / 17, 5 / 17]], rtol=1e-15)
    # a = b = 1 is maximum likelihood, eq. (5.5), and can reach theta = 1 exactly.
    ml = m_step(X, resp, a=1, b=1)
    np.testing.assert_allclose(ml.theta, [[1.0, 3 / 7], [1 / 5, 1 / 5]], rtol=1e-15)
    assert ml.theta[0, 0] == 1.0


def test_m_step_accepts_responsibilities_that_sum_to_one_within_rounding(rng):
    X, _ = prototypes(rng, 30, 5, 2)
    resp = rng.dirichlet([1.0, 1.0], size=30)
    resp[0] *= 1 + 1e-9
    p = m_step(X, resp)
    np.testing.assert_allclose(p.pi.sum(), 1.0, rtol=1e-15)


def test_em_iteration_matches_naive_loop(rng):
    X, _ = prototypes(rng, 30, 6, 3)
    params = random_params(rng, 3, 6)
    for a, b in [(1.0, 1.0), (1.01, 1.01), (2.0, 5.0)]:
        ours, ref = params, params
        for _ in range(5):
            ours = m_step(X, e_step(X, ours)[0], a, b)
            ref = naive_em_step(X, ref, a, b)
        np.testing.assert_allclose(ours.pi, ref.pi, rtol=1e-10)
        np.testing.assert_allclose(ours.theta, ref.theta, rtol=1e-10)


def test_log_prior_matches_scipy_beta(rng):
    params = random_params(rng, 3, 7, 0.0, 1.0)
    for a, b in [(1.01, 1.01), (2.0, 3.5), (0.5, 0.7), (1.0, 1.0)]:
        ref = beta.logpdf(params.theta, a, b).sum()
        np.testing.assert_allclose(log_prior(params, a, b), ref, rtol=1e-12)
    assert log_prior(params, 1, 1) == 0.0


def test_log_prior_at_theta_0_and_1():
    params = BernoulliParams(np.array([1.0]), np.array([[0.0, 1.0, 0.5]]))
    for a, b in [(1.0, 1.0), (1.0, 2.5), (2.5, 1.0), (2.0, 3.0), (0.5, 1.0)]:
        ours = log_prior(params, a, b)
        ref = beta.logpdf(params.theta, a, b).sum()
        assert not np.isnan(ours)
        if np.isfinite(ref):
            np.testing.assert_allclose(ours, ref, rtol=1e-12)
        else:
            assert ours == ref


REMEDIES = " Remedies: fewer components, another init or random_state."


def test_empty_component_is_reseeded_at_the_least_likely_sample():
    X = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    resp = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    # Without re-seeding theta = (1, 1/2), (1/2, 1/2), (1/2, 1/2) with pi = (1/2, 0, 1/2): the
    # likelihoods are (3/8, 3/8, 3/8, 1/8), so sample 3 is the least likely. Re-seeded, the
    # likelihood rises from 27/4096 to 1/64.
    msg = (
        "component(s) [1] lost all responsibility (N_k ~ 0) and were re-seeded at sample(s) "
        "[3], the least likely." + REMEDIES
    )
    with pytest.warns(EmptyComponentWarning, match=re.escape(msg)):
        p = m_step(X, resp, a=1, b=1)
    np.testing.assert_allclose(p.pi, [0.5, 0.25, 0.25], rtol=1e-15)
    np.testing.assert_allclose(p.theta, [[1.0, 0.5], [0.0, 0.0], [1.0, 1.0]], rtol=1e-15)
    np.testing.assert_allclose(log_likelihood(X, p), np.log(1 / 64), rtol=1e-14)


@pytest.mark.parametrize(("a", "b", "mode"), [(1.0, 1.0, 0.5), (2.0, 3.0, 1 / 3)])
def test_empty_component_keeps_zero_weight_when_reseeding_would_not_help(a, b, mode):
    X = np.array([[1.0, 0.0]] * 4)  # one image: a second component cannot raise the posterior
    resp = np.array([[1.0, 0.0]] * 4)
    msg = (
        "component(s) [1] lost all responsibility (N_k ~ 0) and keep a weight of ~0 "
        "(re-seeding would not raise the log posterior)." + REMEDIES
    )
    with pytest.warns(EmptyComponentWarning, match=re.escape(msg)):
        p = m_step(X, resp, a=a, b=b)
    np.testing.assert_array_equal(p.pi, [1.0, 0.0])
    np.testing.assert_allclose(p.theta[1], [mode, mode], rtol=1e-15)  # the prior's mode
    resp_next, ll = e_step(X, p)
    assert (resp_next[:, 1] == 0).all() and np.isfinite(ll)


def test_more_components_than_samples_never_gives_nan():
    X = np.array([[1.0, 0.0]])
    with pytest.warns(EmptyComponentWarning):
        p = m_step(X, np.array([[1.0, 0.0, 0.0]]), a=1, b=1)
    np.testing.assert_array_equal(p.pi, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(p.theta, [[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]])
    resp, ll = e_step(X, p)
    assert np.isfinite(resp).all() and ll == 0.0


# ---------------------------------------------------------------- EM invariants


def _recording_fit(model, X):
    """Fit, keeping (t, params, resp, value) of every iterate; count EmptyComponentWarnings."""
    trace = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, callback=lambda t, p, r, value: trace.append((t, p, r, value)))
    n_empty = sum(issubclass(w.category, EmptyComponentWarning) for w in caught)
    return trace, n_empty


def _never_decreases(values):
    return np.all(np.diff(values) >= -1e-12 * np.abs(values[:-1]))


@pytest.mark.parametrize("seed", range(50))
def test_log_posterior_never_decreases(seed):
    rng = np.random.default_rng(1000 + seed)
    n, d, K = rng.integers(40, 200), rng.integers(3, 40), rng.integers(2, 6)
    X, _ = prototypes(rng, n, d, K, flip=rng.uniform(0.05, 0.3))
    a, b = rng.uniform(1.0, 3.0, size=2)
    init = ["random", "kmeans++"][seed % 2]
    model = BernoulliMixture(K, a=a, b=b, init=init, max_iter=60, tol=0, random_state=seed)
    trace, _ = _recording_fit(model, X)
    values = model.log_likelihoods_
    assert len(values) == model.n_iter_ + 1 == len(trace) > 1
    # Also through vanishing components (some of these problems have them: re-seeding is only
    # accepted when it raises the log posterior).
    assert _never_decreases(values)
    # What is recorded is log p(X | theta) + log p(theta), eq. (2.9), at every iterate.
    for t in np.unique(np.linspace(0, len(trace) - 1, 4).astype(int)):
        _, params, resp, value = trace[t]
        assert value == values[t]
        expected = log_likelihood(X, params) + log_prior(params, a, b)
        np.testing.assert_allclose(value, expected, rtol=1e-12)
        np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_vanishing_components_warn_and_the_log_posterior_still_never_falls():
    # Four distinct images and six components: under a Beta(2, 2) prior the spare components'
    # weights decay to 0, and re-seeding one cannot raise the log posterior.
    X = np.repeat(
        np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), 20, 0
    )
    model = BernoulliMixture(6, a=2, b=2, max_iter=200, tol=0, random_state=0)
    trace, n_empty = _recording_fit(model, X)
    assert n_empty > 0
    assert (model.weights_ < 1e-14).sum() >= 2
    assert _never_decreases(model.log_likelihoods_)
    assert np.isfinite(model.means_).all() and np.isfinite(model.log_likelihoods_).all()
    assert all(np.isfinite(resp).all() for _, _, resp, _ in trace)


@pytest.mark.parametrize("seed", range(10))
def test_log_likelihood_never_decreases_with_flat_prior(seed):
    rng = np.random.default_rng(2000 + seed)
    X, _ = prototypes(rng, 150, 20, 3, flip=0.1)
    model = BernoulliMixture(3, a=1, b=1, max_iter=60, tol=0, random_state=seed)
    trace, _ = _recording_fit(model, X)
    values = model.log_likelihoods_
    assert _never_decreases(values)
    for t in (0, len(trace) - 1):
        np.testing.assert_allclose(values[t], log_likelihood(X, trace[t][1]), rtol=1e-12)


@pytest.mark.parametrize("a", [1.0, 1.01])
def test_d_784_fit_has_no_nan_or_inf(rng, a):
    X, _ = prototypes(rng, 300, 784, 5)
    model = BernoulliMixture(5, a=a, b=a, init="kmeans++", random_state=0).fit(X)
    for arr in (model.weights_, model.means_, model.log_likelihoods_, model.result_.resp):
        assert np.isfinite(arr).all()
    assert np.all(np.diff(model.log_likelihoods_) >= -1e-12 * np.abs(model.log_likelihoods_[:-1]))
    assert np.isfinite(model.score_samples(X)).all()
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_flat_prior_fit_with_theta_exactly_0_and_1(rng):
    X, _ = prototypes(rng, 120, 10, 3, flip=0.1)
    X[:, 0] = 0.0  # a pixel never inked
    X[:, 1] = 1.0  # a pixel always inked
    theta0 = rng.uniform(0.25, 0.75, size=(3, 10))
    theta0[:, 0], theta0[:, 1] = 0.0, 1.0
    init = BernoulliParams(np.full(3, 1 / 3), theta0)
    model = BernoulliMixture(3, a=1, b=1, init=init, tol=0, max_iter=40)
    trace, _ = _recording_fit(model, X)
    assert np.isfinite(model.log_likelihoods_).all() and _never_decreases(model.log_likelihoods_)
    assert all(np.isfinite(resp).all() for _, _, resp, _ in trace)
    assert (model.means_[:, 0] == 0.0).all()  # sum_i r_ik x_i is exactly 0
    np.testing.assert_allclose(model.means_[:, 1], 1.0, rtol=0, atol=1e-15)
    # A new image with the never-inked pixel set has probability 0: -inf, not NaN, and no
    # responsibilities.
    x_new = X[:2].copy()
    x_new[1, 0] = 1.0
    scores = model.score_samples(x_new)
    assert np.isfinite(scores[0]) and scores[1] == -np.inf
    with pytest.raises(ValueError, match=re.escape("sample 1 has zero probability")):
        model.predict(x_new)
    # The default prior keeps every theta strictly inside (0, 1).
    smooth = BernoulliMixture(3, random_state=1).fit(X)
    assert (smooth.means_ > 0).all() and (smooth.means_ < 1).all()
    assert np.isfinite(smooth.score_samples(x_new)).all()


def test_binary_digits_clusters_follow_the_digits():
    if importlib.util.find_spec("emlib.datasets") is None:
        pytest.skip("emlib.datasets is not written yet")
    from emlib.datasets import load_binary_digits

    X, y = load_binary_digits()
    model = BernoulliMixture(10, init="kmeans++", n_init=2, random_state=0).fit(X)
    z = model.predict(X)
    # Cluster-majority accuracy: label each cluster with its most common digit. Chance is ~0.1.
    hits = sum(np.bincount(y[z == k]).max() for k in np.unique(z))
    assert hits / len(y) > 0.6
    assert model.converged_


# ---------------------------------------------------------------- the estimator


def test_fit_from_given_params_takes_exact_em_steps(rng):
    X, _ = prototypes(rng, 80, 12, 3)
    theta0 = random_params(rng, 3, 12)
    model = BernoulliMixture(3, a=1.5, b=2.0, init=theta0, max_iter=2, tol=0, n_init=5).fit(X)
    p = theta0
    for _ in range(2):
        p = m_step(X, e_step(X, p)[0], 1.5, 2.0)
    np.testing.assert_allclose(model.weights_, p.pi, rtol=1e-13)
    np.testing.assert_allclose(model.means_, p.theta, rtol=1e-13)
    assert model.params_ is model.result_.params
    assert model.weights_ is model.params_.pi and model.means_ is model.params_.theta
    assert model.n_iter_ == 2 and not model.converged_
    np.testing.assert_allclose(model.result_.resp, e_step(X, p)[0], rtol=1e-13)


def test_n_init_keeps_the_best_run(rng):
    X, _ = prototypes(rng, 150, 15, 4, flip=0.25)
    model = BernoulliMixture(4, n_init=4, random_state=7).fit(X)
    seeds = np.random.default_rng(7)
    finals = []
    for _ in range(4):
        theta0 = initial_params(X, 4, 1.01, 1.01, "random", seeds)
        finals.append(BernoulliMixture(4, init=theta0).fit(X).log_likelihoods_[-1])
    assert model.log_likelihoods_[-1] == max(finals)
    assert len(set(finals)) > 1  # the runs differ, so choosing among them matters


def test_random_init_is_bishops(rng):
    X, _ = prototypes(rng, 50, 30, 4)
    p = initial_params(X, 4, 1.01, 1.01, "random", np.random.default_rng(0))
    np.testing.assert_array_equal(p.pi, np.full(4, 0.25))
    assert (p.theta >= 0.25).all() and (p.theta <= 0.75).all() and p.theta.std() > 0.1


def test_kmeans_plusplus_init_is_the_m_step_of_hard_assignments(rng):
    X, _ = prototypes(rng, 60, 9, 3)
    p = initial_params(X, 3, 1.01, 1.01, "kmeans++", np.random.default_rng(5))
    centres, _ = kmeans_plusplus(X, 3, random_state=np.random.default_rng(5))
    labels = lloyd_step(X, centres).labels
    d2 = ((X[:, None, :] - centres[None]) ** 2).sum(axis=2)  # Hamming distances, exact
    np.testing.assert_array_equal(d2[np.arange(60), labels], d2.min(axis=1))  # nearest seeds
    expected = m_step(X, np.eye(3)[labels], 1.01, 1.01)
    np.testing.assert_allclose(p.pi, expected.pi, rtol=1e-15)
    np.testing.assert_allclose(p.theta, expected.theta, rtol=1e-15)


def test_same_seed_same_fit(rng):
    X, _ = prototypes(rng, 100, 20, 3)
    m1 = BernoulliMixture(3, n_init=2, random_state=3).fit(X)
    m2 = BernoulliMixture(3, n_init=2, random_state=3).fit(X)
    np.testing.assert_array_equal(m1.means_, m2.means_)
    np.testing.assert_array_equal(m1.log_likelihoods_, m2.log_likelihoods_)


def test_predict_score_and_criteria(rng):
    X, _ = prototypes(rng, 120, 16, 3)
    model = BernoulliMixture(3, random_state=0).fit(X)
    p = model.params_
    logs = naive_log_joint(X, p)
    ref = np.array([sp_logsumexp(row) for row in logs])
    np.testing.assert_allclose(model.score_samples(X), ref, rtol=1e-12)
    np.testing.assert_allclose(model.score(X), ref.mean(), rtol=1e-12)
    np.testing.assert_allclose(model.predict_proba(X), e_step(X, p)[0], rtol=1e-14)
    np.testing.assert_array_equal(model.predict(X), logs.argmax(axis=1))
    n_params = 3 - 1 + 3 * 16
    assert p.n_parameters() == n_params
    np.testing.assert_allclose(model.bic(X), -2 * ref.sum() + n_params * np.log(120), rtol=1e-12)
    np.testing.assert_allclose(model.aic(X), -2 * ref.sum() + 2 * n_params, rtol=1e-12)


def test_sample_follows_the_model(rng):
    theta = np.array([[0.9, 0.1, 0.5], [0.2, 0.7, 0.05]])
    init = BernoulliParams(np.array([0.3, 0.7]), theta)
    model = BernoulliMixture(2, init=init, max_iter=1, tol=0)
    model.fit((rng.random((20, 3)) < 0.5).astype(float))
    n = 40_000
    X, z = model.sample(n, random_state=0)
    assert X.shape == (n, 3) and z.shape == (n,) and X.dtype == np.float64
    assert set(np.unique(X)) <= {0.0, 1.0}
    pi, th = model.weights_, model.means_
    np.testing.assert_allclose(np.bincount(z, minlength=2) / n, pi, atol=4 * np.sqrt(0.25 / n))
    for k in range(2):
        Xk = X[z == k]
        np.testing.assert_allclose(Xk.mean(axis=0), th[k], atol=4 * np.sqrt(0.25 / len(Xk)))
    X2, z2 = model.sample(n, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(z, z2)


def test_reprs(rng):
    p = BernoulliParams(np.array([0.25, 0.75]), np.array([[0.0, 0.5], [0.125, 1.0]]))
    assert repr(p) == "BernoulliParams(K=2, d=2, pi=[0.25, 0.75], theta in [0, 1])"
    assert (p.n_components, p.n_features) == (2, 2)
    model = BernoulliMixture(2, a=2, random_state=0)
    assert repr(model) == "BernoulliMixture(n_components=2, a=2, b=1.01, init='random')"
    X, _ = prototypes(rng, 40, 5, 2)
    model.fit(X)
    assert repr(model).startswith(
        f"BernoulliMixture(n_components=2, a=2, b=1.01, init='random', fitted: "
        f"n_iter={model.n_iter_}, log posterior="
    )
    given = BernoulliMixture(2, init=p)
    assert (
        repr(given) == "BernoulliMixture(n_components=2, a=1.01, b=1.01, init=BernoulliParams(...))"
    )


def test_params_are_frozen_and_validated():
    p = BernoulliParams([0.5, 0.5], [[0.1, 0.2], [0.3, 0.4]])
    assert p.pi.dtype == np.float64 and p.theta.shape == (2, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.pi = np.array([1.0, 0.0])


# ---------------------------------------------------------------- every message


def _raises(exc, msg):
    return pytest.raises(exc, match=re.escape(msg))


def test_message_params_not_bernoulli_params():
    msg = "params must be a BernoulliParams; got dict. Fix: build one with BernoulliParams(pi, theta)."
    X = np.zeros((2, 2))
    for call in (
        lambda: e_step(X, {"pi": 1}),
        lambda: log_likelihood(X, {"pi": 1}),
        lambda: log_prior({"pi": 1}),
    ):
        with _raises(TypeError, msg):
            call()


def test_message_feature_mismatch(rng):
    p = BernoulliParams([1.0], [[0.5, 0.5, 0.5]])
    X = np.zeros((4, 2))
    msg = (
        "X has 2 features but params has 3; expected shape (n_samples, 3). Fix: pass data with "
        "the same columns as the data it was fitted on."
    )
    with _raises(ValueError, msg):
        e_step(X, p)
    with _raises(ValueError, msg):
        log_likelihood(X, p)
    model = BernoulliMixture(1, random_state=0).fit(np.eye(3))
    fitted = msg.replace("params has", "the fitted mixture has")
    for method in (model.predict, model.predict_proba, model.score_samples, model.bic, model.aic):
        with _raises(ValueError, fitted):
            method(X)
    with _raises(ValueError, msg.replace("params has", "init has")):
        BernoulliMixture(1, init=p).fit(X)


def test_message_init_with_wrong_number_of_components():
    p = BernoulliParams([0.5, 0.5], [[0.5, 0.5], [0.2, 0.2]])
    msg = (
        "init has K=2 components; expected K=3. Fix: build the BernoulliParams with the "
        "estimator's n_components."
    )
    with _raises(ValueError, msg):
        BernoulliMixture(3, init=p).fit(np.eye(4)[:, :2])


def test_message_unknown_init():
    msg = (
        "init='kmeans' is not supported; expected one of 'random', 'kmeans++'. "
        "Fix: pass one of those strings."
    )
    with _raises(ValueError, msg):
        BernoulliMixture(2, init="kmeans")


def test_message_not_fitted():
    model = BernoulliMixture(2)
    msg = "this BernoulliMixture is not fitted yet. Fix: call .fit(X) before using it."
    for call in (
        lambda: model.predict(np.eye(2)),
        lambda: model.predict_proba(np.eye(2)),
        lambda: model.score_samples(np.eye(2)),
        lambda: model.score(np.eye(2)),
        lambda: model.sample(3),
        lambda: model.bic(np.eye(2)),
        lambda: model.aic(np.eye(2)),
    ):
        with _raises(RuntimeError, msg):
            call()


@pytest.mark.parametrize("name", ["a", "b"])
def test_message_beta_prior_below_one(name):
    msg = (
        f"{name} (a parameter of the Beta(a, b) prior) must be a finite number >= 1, so that "
        f"the MAP update of eq. (5.6) stays in [0, 1]; got 0.5. Fix: pass {name}=1 for maximum "
        f"likelihood or e.g. {name}=1.01 for light smoothing."
    )
    with _raises(ValueError, msg):
        BernoulliMixture(2, **{name: 0.5})
    with _raises(ValueError, msg):
        m_step(np.eye(2), np.eye(2), **{name: 0.5})
    with _raises(TypeError, f"{name} must be a number; got '2'. Fix: pass e.g. {name}=1.01."):
        BernoulliMixture(2, **{name: "2"})


def test_message_log_prior_needs_positive_parameters():
    p = BernoulliParams([1.0], [[0.5]])
    msg = "a must be a finite positive number; got 0. Fix: pass e.g. 1e-6."
    with _raises(ValueError, msg):
        log_prior(p, a=0)


def test_message_non_binary_data():
    X = np.array([[0.0, 1.0], [0.5, 1.0]])
    msg = (
        "X must contain only 0 and 1 for a Bernoulli mixture; got 1 other value (first 0.5 at "
        "row 1, column 0). Fix: binarize it, e.g. (X > threshold).astype(float)."
    )
    with _raises(ValueError, msg):
        BernoulliMixture(1).fit(X)
    with _raises(ValueError, msg):
        e_step(X, BernoulliParams([1.0], [[0.5, 0.5]]))
    with _raises(ValueError, msg):
        m_step(X, np.ones((2, 1)))


def test_message_too_many_components():
    msg = (
        "n_components=5 is larger than the number of samples (3); expected at most 3. "
        "Fix: use fewer components or more data."
    )
    with _raises(ValueError, msg):
        BernoulliMixture(5).fit(np.eye(3))


def test_message_loop_settings():
    with _raises(
        ValueError, "tol must be a finite non-negative number; got -1. Fix: pass e.g. 1e-6."
    ):
        BernoulliMixture(2, tol=-1)
    with _raises(ValueError, "max_iter must be an integer >= 1; got 0. Fix: pass e.g. 100."):
        BernoulliMixture(2, max_iter=0)
    with _raises(ValueError, "n_init must be an integer >= 1; got 0. Fix: pass e.g. 100."):
        BernoulliMixture(2, n_init=0)
    model = BernoulliMixture(1, random_state=0).fit(np.eye(2))
    with _raises(ValueError, "n_samples must be an integer >= 1; got 0. Fix: pass e.g. 100."):
        model.sample(0)


def test_message_bad_random_state():
    msg = (
        "random_state must be None, a non-negative integer or a numpy Generator; got -3 of type "
        "int. Fix: pass a seed such as 0, or np.random.default_rng(0)."
    )
    with _raises(ValueError, msg):
        BernoulliMixture(1, random_state=-3).fit(np.eye(2))


def test_message_bad_responsibilities():
    msg = (
        "each row of resp must sum to 1 over components; row 0 sums to 0.5. Fix: normalise "
        "along axis=1, resp / resp.sum(axis=1, keepdims=True)."
    )
    with _raises(ValueError, msg):
        m_step(np.eye(2), np.array([[0.25, 0.25], [0.5, 0.5]]))


def test_message_bad_params():
    with _raises(
        ValueError,
        "theta must lie in [0, 1] (Bernoulli means); got values from 0.2 to 1.5. "
        "Fix: clip or re-estimate them with bernoulli.m_step.",
    ):
        BernoulliParams([0.5, 0.5], [[0.2, 1.5], [0.3, 0.3]])
    with _raises(
        ValueError,
        "theta must have shape (n_components, 3); got shape 3. "
        "Fix: one row of pixel probabilities per component.",
    ):
        BernoulliParams([1.0], [0.2, 0.3, 0.4])
    with _raises(
        ValueError,
        "pi must have shape (2,); got shape 3. Fix: pass one weight per component.",
    ):
        BernoulliParams([0.2, 0.3, 0.5], [[0.2, 0.3], [0.3, 0.3]])
    with _raises(ValueError, "pi must sum to 1; got a sum of 0.9. Fix: normalise, pi / pi.sum()."):
        BernoulliParams([0.4, 0.5], [[0.2, 0.3], [0.3, 0.3]])
