"""EM for Gaussian mixtures: against scikit-learn, the five-point problem, invariants, extremes."""

import re
import warnings

import numpy as np
import pytest
from _helpers import random_sigma
from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from emlib.densities import log_gaussian
from emlib.em import EmptyComponentWarning, run_em
from emlib.gmm import (
    GaussianMixture,
    GMMParams,
    e_step,
    full_covariances,
    log_likelihood,
    m_step,
)

TYPES = ["full", "diag", "spherical", "tied"]


def blobs(rng, n=400, d=3, K=3, spread=4.0):
    centres = rng.normal(scale=spread, size=(K, d))
    z = rng.integers(K, size=n)
    return centres[z] + rng.normal(size=(n, d)) * rng.uniform(0.5, 1.5, size=K)[z][:, None]


def precisions_of(Sigma, covariance_type):
    if covariance_type in ("full", "tied"):
        return np.linalg.inv(Sigma)
    return 1.0 / Sigma


@pytest.mark.parametrize("covariance_type", TYPES)
def test_agrees_with_sklearn_from_the_same_start(rng, covariance_type):
    X = blobs(rng)
    K, d = 3, X.shape[1]
    theta0 = GMMParams(
        np.array([0.2, 0.3, 0.5]),
        X[rng.choice(len(X), K, replace=False)],
        random_sigma(rng, covariance_type, K, d),
        covariance_type,
    )
    n_iter = 15
    ours = GaussianMixture(
        K, covariance_type=covariance_type, init=theta0, max_iter=n_iter, tol=-1
    ).fit(X)
    sk = SkGaussianMixture(
        K,
        covariance_type=covariance_type,
        weights_init=theta0.pi,
        means_init=theta0.mu,
        precisions_init=precisions_of(theta0.Sigma, covariance_type),
        max_iter=n_iter,
        tol=0,
        reg_covar=1e-6,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkConvergenceWarning)
        sk.fit(X)
    assert ours.n_iter_ == n_iter
    np.testing.assert_allclose(ours.weights_, sk.weights_, rtol=1e-8)
    np.testing.assert_allclose(ours.means_, sk.means_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours.covariances_, sk.covariances_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(log_likelihood(X, ours.params_), sk.score(X) * len(X), rtol=1e-8)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-8)
    np.testing.assert_allclose(ours.score_samples(X), sk.score_samples(X), rtol=1e-8)
    np.testing.assert_allclose(ours.bic(X), sk.bic(X), rtol=1e-8)
    np.testing.assert_allclose(ours.aic(X), sk.aic(X), rtol=1e-8)


def five_point_params():
    return GMMParams([0.5, 0.5], [[-3.0], [2.0]], [4.0, 4.0], "spherical")


def sig5(x):
    return float(f"{x:.5g}")


def test_five_point_problem_e_step_and_m_step():
    """The worked problem of notebook 03 (eqs. (3.4)-(3.6), (3.9)), to 5 significant digits."""
    x = np.array([0.2, -0.9, -1.0, 1.2, 1.8])
    resp, _ = e_step(x, five_point_params())
    assert [sig5(p) for p in resp[:, 0]] == [0.29421, 0.62246, 0.65135, 0.10669, 0.053403]
    new = m_step(x, resp, "spherical", reg_covar=0.0)
    assert sig5(new.pi[0]) == 0.34562
    assert sig5(new.mu[0, 0]) == -0.53733
    assert sig5(new.Sigma[0]) == 0.57579


def test_spherical_variance_divides_by_d(rng):
    """Eq. (3.9): the spherical variance averages over the d coordinates."""
    X = rng.normal(size=(50, 4)) * 3.0
    resp = rng.dirichlet(np.ones(2), size=50)
    got = m_step(X, resp, "spherical", reg_covar=0.0)
    for k in range(2):
        sq = ((X - got.mu[k]) ** 2).sum(axis=1)
        want = (resp[:, k] * sq).sum() / (4 * resp[:, k].sum())
        assert got.Sigma[k] == pytest.approx(want, rel=1e-12)


def test_m_step_against_naive_loop(rng):
    X = rng.normal(size=(30, 3))
    resp = rng.dirichlet(np.ones(3), size=30)
    got = m_step(X, resp, "full", reg_covar=0.0)
    for k in range(3):
        N_k = sum(resp[i, k] for i in range(30))
        mu_k = sum(resp[i, k] * X[i] for i in range(30)) / N_k
        S_k = sum(resp[i, k] * np.outer(X[i] - mu_k, X[i] - mu_k) for i in range(30)) / N_k
        assert got.pi[k] == pytest.approx(N_k / 30, rel=1e-12)
        np.testing.assert_allclose(got.mu[k], mu_k, rtol=1e-12)
        np.testing.assert_allclose(got.Sigma[k], S_k, rtol=1e-11)


@pytest.mark.parametrize("n, d", [(5000, 4), (9001, 64)])  # one block; blocks in two threads
@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_diagonal_m_step_far_from_the_origin_against_two_passes(rng, covariance_type, n, d):
    """Variances of 1e-2 at 1e6 from the origin: the raw second moment would cancel all but a
    few digits; the one-pass moments about a centre inside the data keep them. Row counts that
    are not multiples of the 256-row tiles of the centre's subtraction."""
    K = 3
    X = 1e6 + 0.1 * rng.normal(size=(n, d))
    resp = rng.dirichlet(np.ones(K), size=n)
    got = m_step(X, resp, covariance_type, reg_covar=0.0)
    N_k = resp.sum(axis=0)
    mu = (resp.T @ X) / N_k[:, None]
    var = np.stack([resp[:, k] @ (X - mu[k]) ** 2 for k in range(K)]) / N_k[:, None]
    if covariance_type == "spherical":
        var = var.mean(axis=1)
    np.testing.assert_allclose(got.mu, mu, rtol=1e-14)
    np.testing.assert_allclose(got.Sigma, var, rtol=1e-9)


@pytest.mark.filterwarnings("ignore:(overflow|invalid value):RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("covariance_type", TYPES)
def test_steps_name_nan_and_infinity_in_X(rng, bad, covariance_type):
    """The steps look for NaN and infinity only when their results are not finite; the message
    is still the one that names X."""
    X = blobs(rng, n=50)
    X[7, 1] = bad
    params = GMMParams(
        [0.5, 0.5],
        [[0.0] * 3, [1.0] * 3],
        random_sigma(rng, covariance_type, 2, 3),
        covariance_type,
    )
    msg = re.escape("X contains 1 NaN or infinite value (first in row 7)")
    with pytest.raises(ValueError, match=msg):
        e_step(X, params)
    with pytest.raises(ValueError, match=msg):
        m_step(X, rng.dirichlet(np.ones(2), size=50), covariance_type)


@pytest.mark.filterwarnings("ignore:(overflow|invalid value):RuntimeWarning")
@pytest.mark.parametrize("covariance_type", TYPES)
def test_e_step_names_a_sample_no_component_can_explain(rng, covariance_type):
    params = GMMParams(
        [0.5, 0.5],
        [[0.0, 0.0], [1.0, 1.0]],
        random_sigma(rng, covariance_type, 2, 2),
        covariance_type,
    )
    X = np.array([[0.0, 0.0], [1e200, 0.0], [1.0, 1.0]])  # its squared distance overflows
    with pytest.raises(ValueError, match="sample 1 has zero probability under every component"):
        e_step(X, params)


def random_problem(seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 5))
    K = int(rng.integers(2, 5))
    X = blobs(rng, n=int(rng.integers(60, 200)), d=d, K=K, spread=float(rng.uniform(0.5, 5)))
    return rng, X, K, TYPES[seed % 4]


@pytest.mark.parametrize("seed", range(50))
def test_log_likelihood_never_decreases_and_resp_are_distributions(seed):
    _, X, K, covariance_type = random_problem(seed)
    seen = []

    def record(t, params, resp, ll):
        seen.append(resp)

    model = GaussianMixture(
        K, covariance_type=covariance_type, init="random", max_iter=40, tol=-1, random_state=seed
    ).fit(X, callback=record)
    lls = model.log_likelihoods_
    assert np.all(np.diff(lls) >= -1e-9 * np.abs(lls[:-1]))
    for resp in seen:
        assert resp.shape == (len(X), K)
        assert resp.min() >= 0 and resp.max() <= 1
        np.testing.assert_allclose(resp.sum(axis=1), 1.0, atol=1e-12)


def test_points_far_from_every_component_give_finite_responsibilities():
    params = GMMParams([0.5, 0.5], [[0.0, 0.0], [1.0, 0.0]], np.stack([np.eye(2)] * 2))
    X = np.array([[1e4, 1e4], [-1e4, 0.0], [0.5, 0.0]])
    resp, ll = e_step(X, params)
    assert np.isfinite(resp).all() and np.isfinite(ll)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, atol=1e-12)
    assert resp[0, 1] == pytest.approx(1.0)  # the nearer mean takes the point


@pytest.mark.parametrize("scale", [1e-8, 1e8])
@pytest.mark.parametrize("covariance_type", TYPES)
def test_scaled_data_fits_without_nan(rng, scale, covariance_type):
    X = blobs(rng, n=200, d=2, K=2) * scale
    model = GaussianMixture(
        2, covariance_type=covariance_type, reg_covar=1e-6 * scale**2, random_state=0
    ).fit(X)
    assert np.isfinite(model.log_likelihoods_).all()
    assert np.isfinite(model.covariances_).all() and np.isfinite(model.means_).all()


@pytest.mark.parametrize("covariance_type", TYPES)
def test_identical_points_do_not_crash(covariance_type):
    X = np.ones((20, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyComponentWarning)
        model = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(X)
    assert np.isfinite(model.log_likelihoods_).all()
    np.testing.assert_allclose(model.means_, 1.0)


def test_component_collapsing_onto_one_point_stays_positive_definite(rng):
    X = np.vstack([rng.normal(size=(50, 2)), np.full((1, 2), 30.0)])
    resp = np.zeros((51, 2))
    resp[:50, 0] = 1.0
    resp[50, 1] = 1.0
    params = m_step(X, resp, "full", reg_covar=1e-6)
    np.testing.assert_allclose(params.Sigma[1], 1e-6 * np.eye(2), rtol=1e-9)
    resp2, ll = e_step(X, params)
    assert np.isfinite(ll) and np.isfinite(resp2).all()


def test_component_with_vanishing_responsibility_is_reseeded_with_a_warning(rng):
    X = rng.normal(size=(40, 2))
    resp = np.zeros((40, 3))
    resp[:, 0] = 0.6
    resp[:, 1] = 0.4  # component 2 has no responsibility at all
    with pytest.warns(EmptyComponentWarning, match=re.escape("component(s) [2] lost all")):
        params = m_step(X, resp)
    assert np.isfinite(params.mu).all() and np.isfinite(params.Sigma).all()
    far = np.argmax(((X - X.mean(0)) ** 2).sum(1))
    np.testing.assert_allclose(params.mu[2], X[far])
    assert params.pi[2] == pytest.approx(1 / 40)
    # the covariance of the whole data, as documented: not the singular spike at one sample
    np.testing.assert_allclose(params.Sigma[2], np.cov(X.T, bias=True) + 1e-6 * np.eye(2),
                               rtol=1e-12)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_a_reseeded_component_is_broad_for_every_covariance_type(rng, covariance_type):
    X = rng.normal(size=(40, 3)) * [1.0, 2.0, 3.0]
    resp = np.zeros((40, 3))
    resp[:, 0] = 0.6
    resp[:, 1] = 0.4
    with pytest.warns(EmptyComponentWarning):
        params = m_step(X, resp, covariance_type, reg_covar=1e-6)
    variances = X.var(axis=0) + 1e-6
    expected = {"full": np.cov(X.T, bias=True) + 1e-6 * np.eye(3), "diag": variances,
                "spherical": X.var(axis=0).mean() + 1e-6}
    if covariance_type == "tied":  # one covariance for all: the re-seeded sample shares it
        assert params.Sigma.shape == (3, 3)
    else:
        np.testing.assert_allclose(params.Sigma[2], expected[covariance_type], rtol=1e-12)
    _, ll = e_step(X, params)
    assert np.isfinite(ll)


def test_fit_predict_sample_and_repr(rng):
    X = blobs(rng, n=300, d=2, K=3, spread=8)
    model = GaussianMixture(3, n_init=2, random_state=1).fit(X)
    assert model.converged_ and model.n_iter_ < 100
    assert model.predict(X).shape == (300,)
    assert "fitted" in repr(model) and "GaussianMixture(n_components=3" in repr(model)
    Xs, z = model.sample(500, random_state=3)
    assert Xs.shape == (500, 2) and set(np.unique(z)) <= {0, 1, 2}
    assert repr(model.params_).startswith("GMMParams(K=3, d=2, covariance_type='full'")


@pytest.mark.parametrize("init", ["kmeans++", "kmeans", "random", "random_from_data"])
@pytest.mark.parametrize("covariance_type", TYPES)
def test_every_init_fits(rng, init, covariance_type):
    X = blobs(rng, n=150, d=2, K=2, spread=6)
    model = GaussianMixture(2, covariance_type=covariance_type, init=init, random_state=0).fit(X)
    assert np.isfinite(model.log_likelihoods_).all()


def test_run_em_warns_with_remedies(rng):
    X = blobs(rng)
    from emlib.em import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="Remedies: raise max_iter"):
        GaussianMixture(3, max_iter=1, tol=1e-12, init="random", random_state=0).fit(X)


def test_run_em_records_the_initial_and_final_likelihood(rng):
    X = blobs(rng)
    theta0 = m_step(X, rng.dirichlet(np.ones(3), size=len(X)))
    result = run_em(X, theta0, e_step, lambda X, r: m_step(X, r), max_iter=5, tol=-1)
    assert len(result.log_likelihoods) == 6
    assert result.log_likelihoods[0] == pytest.approx(log_likelihood(X, theta0))
    assert result.log_likelihoods[-1] == pytest.approx(log_likelihood(X, result.params))
    assert "EMResult(n_iter=5, converged=False" in repr(result)


def test_zero_iterations_return_the_initial_parameters(rng):
    X = blobs(rng)
    model = GaussianMixture(3, max_iter=0, init="random", random_state=0).fit(X)
    assert model.n_iter_ == 0 and not model.converged_
    assert len(model.log_likelihoods_) == 1


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_full_covariances_matches_the_densities(rng, covariance_type):
    K, d = 3, 2
    Sigma = random_sigma(rng, covariance_type, K, d)
    full = full_covariances(Sigma, covariance_type, K, d)
    assert full.shape == (K, d, d)
    X = rng.normal(size=(5, d))
    mu = rng.normal(size=(K, d))
    np.testing.assert_allclose(
        log_gaussian(X, mu, full, "full"), log_gaussian(X, mu, Sigma, covariance_type), rtol=1e-10
    )


def test_full_covariances_names_the_valid_types():
    with pytest.raises(
        ValueError, match=re.escape("covariance_type must be one of 'full', 'diag'")
    ):
        full_covariances(np.ones(2), "round", 2, 1)
