"""k-means: D² sampling by chi-square, Lloyd against scikit-learn and a naive loop, invariants,
the empty-cluster policy, identical points, and every error message."""

import re
import warnings

import numpy as np
import pytest
from scipy.stats import chisquare
from sklearn.cluster import KMeans as SkKMeans

from emlib._fast import lloyd as lloyd_module
from emlib._fast import rows as rows_module
from emlib.em import ConvergenceWarning, EmptyComponentWarning
from emlib.kmeans import KMeans, LloydStep, kmeans_plusplus, lloyd_step


def raises(exc, message):
    return pytest.raises(exc, match=re.escape(message))


def blobs(rng, n, d, K, spread=5.0, offset=0.0):
    centres = offset + rng.normal(scale=spread, size=(K, d))
    z = rng.integers(K, size=n)
    return centres[z] + rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=K)[z][:, None]


def naive_lloyd_step(X, mu):
    """Eqs. (4.2)-(4.3) with explicit loops over samples and clusters."""
    n, K = len(X), len(mu)
    labels = np.empty(n, dtype=int)
    J = 0.0
    for i in range(n):
        d2 = [float(np.sum((X[i] - mu[k]) ** 2)) for k in range(K)]
        labels[i] = int(np.argmin(d2))
        J += d2[labels[i]]
    new = np.array([X[labels == k].mean(axis=0) for k in range(K)])
    return new, labels, J


def objective(X, mu):
    """J(mu) of eq. (4.1), by broadcasting."""
    return float(((X[:, None, :] - mu[None]) ** 2).sum(axis=2).min(axis=1).sum())


# ---------------------------------------------------------------- k-means++ (eq. (4.4))

X5 = np.array([0.0, 1.0, 3.0, 7.0, 12.0])
N_DRAWS = 20_000


@pytest.fixture(scope="module", params=[None, 2], ids=["one-block", "blocks-of-two"])
def first_two_draws(request):
    """(first, second) index of 20,000 seeded k-means++ draws of K = 2 on five 1-D points, the
    cumulative weights in one block or in blocks of two (see ``emlib._fast.lloyd._draw``)."""
    gen = np.random.default_rng(4)
    with pytest.MonkeyPatch.context() as patch:
        if request.param is not None:
            patch.setattr(lloyd_module, "_DRAW_BLOCK", request.param)
        pairs = np.array([kmeans_plusplus(X5, 2, random_state=gen)[1] for _ in range(N_DRAWS)])
    counts = np.zeros((5, 5), dtype=int)
    np.add.at(counts, (pairs[:, 0], pairs[:, 1]), 1)
    return counts


def test_first_centre_is_uniform(first_two_draws):
    first = first_two_draws.sum(axis=1)
    assert chisquare(first, np.full(5, N_DRAWS / 5)).pvalue > 1e-3


def conditional_expected(counts, weights):
    """Expected counts of the second index given the observed first, off the diagonal."""
    n_first = counts.sum(axis=1)
    P = weights / weights.sum(axis=1, keepdims=True)
    off = ~np.eye(5, dtype=bool)
    return (n_first[:, None] * P)[off]


def test_second_centre_follows_d2_weighting(first_two_draws):
    counts = first_two_draws
    assert np.trace(counts) == 0  # a chosen sample has D² = 0: never drawn again
    D2 = (X5[:, None] - X5[None]) ** 2
    off = ~np.eye(5, dtype=bool)
    # 20 cells, 5 constraints (the row totals are observed): 15 degrees of freedom.
    p = chisquare(counts[off], conditional_expected(counts, D2), ddof=4).pvalue
    assert p > 1e-3
    # The same test tells D² from D weighting: it has the power to fail.
    p_wrong = chisquare(counts[off], conditional_expected(counts, np.sqrt(D2)), ddof=4).pvalue
    assert p_wrong < 1e-10


# Weights summing to 8 (exact sums), in blocks of three: [0, 2, 0] [1, 0, 0] [4, 1, 0] [0, 0].
WEIGHTS = np.array([0.0, 2.0, 0.0, 1.0, 0.0, 0.0, 4.0, 1.0, 0.0, 0.0, 0.0])


def test_draw_in_blocks_is_the_first_index_above_u_times_the_total(monkeypatch):
    monkeypatch.setattr(lloyd_module, "_DRAW_BLOCK", 3)
    cum = np.cumsum(WEIGHTS)
    for u in [*(np.arange(64) / 64), np.nextafter(1.0, 0.0)]:  # every block boundary included
        i = lloyd_module._draw(WEIGHTS, u)
        assert i == min(np.searchsorted(cum, u * 8.0, side="right"), 7)
        assert WEIGHTS[i] > 0
    assert lloyd_module._draw(WEIGHTS, 0.25) == 3  # cum = 2 ends the first block: next weight
    # u * total rounded up to the total: the last positive weight, at both levels
    assert lloyd_module._draw(WEIGHTS, 1.0) == 7
    assert lloyd_module._draw(np.zeros(7), 0.5) is None


def test_draw_in_blocks_follows_the_weights(monkeypatch):
    monkeypatch.setattr(lloyd_module, "_DRAW_BLOCK", 3)
    u = np.random.default_rng(8).random(8000)
    counts = np.bincount([lloyd_module._draw(WEIGHTS, x) for x in u], minlength=len(WEIGHTS))
    assert counts[WEIGHTS == 0].sum() == 0
    positive = WEIGHTS > 0
    assert chisquare(counts[positive], 8000 * WEIGHTS[positive] / 8.0).pvalue > 1e-3


def test_kmeans_plusplus_returns_distinct_samples_reproducibly(rng):
    X = blobs(rng, 300, 4, 6)
    centres, idx = kmeans_plusplus(X, 6, random_state=7)
    assert centres.shape == (6, 4) and idx.shape == (6,)
    assert len(set(idx.tolist())) == 6
    np.testing.assert_array_equal(centres, X[idx])
    np.testing.assert_array_equal(kmeans_plusplus(X, 6, random_state=7)[1], idx)
    gen = np.random.default_rng(7)
    a = kmeans_plusplus(X, 6, random_state=gen)[1]
    b = kmeans_plusplus(X, 6, random_state=gen)[1]  # the Generator advanced
    assert not np.array_equal(a, b)


def test_kmeans_plusplus_on_data_far_from_the_origin(rng):
    """Centring keeps the expansion exact enough: the D² draws do not change under a shift."""
    X = blobs(rng, 200, 3, 4)
    for seed in range(5):
        idx = kmeans_plusplus(X, 4, random_state=seed)[1]
        np.testing.assert_array_equal(kmeans_plusplus(X + 1e7, 4, random_state=seed)[1], idx)


# ---------------------------------------------------------------- identical points


def test_kmeans_plusplus_with_all_points_identical():
    X = np.full((8, 3), 0.1)
    for seed in range(20):
        centres, idx = kmeans_plusplus(X + 1e6, 5, random_state=seed)
        assert len(set(idx.tolist())) == 5
        assert np.isfinite(centres).all() and (centres == 0.1 + 1e6).all()


def test_zero_d2_falls_back_to_uniform_over_unchosen_samples():
    """Three distinct rows repeated in random order, K = 4: the first three centres are the three
    rows; then every D² is zero and the fourth is uniform over the 98 unchosen samples. In 16-D
    the expansion leaves rounding noise (~1e-13) on some duplicates: it must count as zero, or
    those duplicates would take all the probability."""
    gen = np.random.default_rng(12)
    z = gen.integers(3, size=101)
    X = (gen.normal(size=(3, 16)) * 3.7 + 11.3)[z]
    n_draws = 10_000
    rank = np.zeros(98, dtype=int)
    for _ in range(n_draws):
        idx = kmeans_plusplus(X, 4, random_state=gen)[1]
        assert sorted(z[idx[:3]].tolist()) == [0, 1, 2]
        unchosen = np.setdiff1d(np.arange(101), idx[:3])
        rank[np.searchsorted(unchosen, idx[3])] += 1
    assert chisquare(rank, np.full(98, n_draws / 98)).pvalue > 1e-3


def test_kmeans_on_identical_points_has_no_nan():
    X = np.full((10, 2), 3.0)
    with pytest.warns(EmptyComponentWarning):
        km = KMeans(3, random_state=0).fit(X)
    assert np.isfinite(km.cluster_centers_).all()
    np.testing.assert_array_equal(km.cluster_centers_, np.full((3, 2), 3.0))
    assert km.inertia_ == 0.0 and km.converged_


# ---------------------------------------------------------------- one Lloyd step (eqs. (4.2)-(4.3))


@pytest.mark.parametrize("threads", [1, 2], ids=["one-thread", "two-threads"])
@pytest.mark.parametrize("block", [2**18, 300], ids=["one-block", "many-blocks"])
@pytest.mark.parametrize(("d", "K"), [(3, 4), (6, 4)], ids=["K>d-bincount", "K<=d-one-hot"])
def test_lloyd_step_matches_a_naive_loop(rng, monkeypatch, threads, block, d, K):
    monkeypatch.setattr(lloyd_module, "_BLOCK", block)  # 300 pairs: blocks of 256 rows
    # two threads: 350 rows each, a full block of 256 rows and a partial one
    monkeypatch.setattr(rows_module, "THREADS", threads)
    monkeypatch.setattr(rows_module, "WORK_PER_THREAD", 1)
    X = blobs(rng, 700, d, K)
    mu = X[rng.choice(700, K, replace=False)] + 0.1
    step = lloyd_step(X, mu)
    assert isinstance(step, LloydStep)
    ref_mu, ref_labels, ref_J = naive_lloyd_step(X, mu)
    np.testing.assert_array_equal(step.labels, ref_labels)
    np.testing.assert_allclose(step.mu, ref_mu, rtol=1e-12, atol=1e-12)
    # inertia is J of the centres passed in, not of the returned ones
    assert step.inertia == pytest.approx(ref_J, rel=1e-12)
    assert step.inertia == pytest.approx(objective(X, mu), rel=1e-12)
    assert objective(X, step.mu) <= step.inertia


def test_lloyd_step_accepts_one_feature_as_1d():
    step = lloyd_step([0.0, 1.0, 9.0, 11.0], [2.0, 8.0])
    np.testing.assert_array_equal(step.labels, [0, 0, 1, 1])
    np.testing.assert_allclose(step.mu, [[0.5], [10.0]])
    assert step.inertia == pytest.approx(4 + 1 + 1 + 9)


# ---------------------------------------------------------------- empty clusters


def test_empty_cluster_is_reseeded_at_the_farthest_sample():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [6.0, 0.0], [10.0, 10.0], [11.0, 10.0]])
    mu = np.array([[0.0, 0.0], [10.0, 10.0], [-100.0, -100.0]])  # cluster 2 gets no sample
    message = (
        "cluster(s) [2] received no sample; each was re-seeded at the sample farthest from its "
        "centre (sample(s) [3]). Remedies: init='kmeans++', fewer clusters, or another "
        "random_state."
    )
    with pytest.warns(EmptyComponentWarning, match=re.escape(message)):
        step = lloyd_step(X, mu)
    assert np.isfinite(step.mu).all()
    # labels stay the nearest-centre assignment of eq. (4.2)
    np.testing.assert_array_equal(step.labels, [0, 0, 0, 0, 1, 1])
    # sample 3 (squared distance 36) left cluster 0 and became cluster 2's centre
    np.testing.assert_allclose(step.mu, [[1 / 3, 1 / 3], [10.5, 10.0], [6.0, 0.0]], atol=1e-13)
    assert objective(X, step.mu) < step.inertia


def test_several_empty_clusters_take_the_farthest_samples_in_turn():
    X = np.array([0.0, 0.5, 3.0, 20.0, 20.5, 26.0])
    mu = np.array([0.0, 20.0, 500.0, 600.0])
    with pytest.warns(EmptyComponentWarning, match=re.escape("cluster(s) [2, 3]")):
        step = lloyd_step(X, mu)
    # farthest: sample 5 (36) to cluster 2, then sample 2 (9) to cluster 3
    np.testing.assert_allclose(step.mu.ravel(), [0.25, 20.25, 26.0, 3.0], atol=1e-13)


def test_a_sample_alone_in_its_cluster_is_not_moved():
    """The farthest sample (10) is its cluster's only member: moving it would empty that
    cluster, so the farthest sample of a cluster with two members is moved instead."""
    X = np.array([0.0, 2.0, 10.0])
    mu = np.array([0.5, 14.0, 100.0])
    with pytest.warns(EmptyComponentWarning, match=re.escape("(sample(s) [1])")):
        step = lloyd_step(X, mu)
    np.testing.assert_allclose(step.mu.ravel(), [0.0, 10.0, 2.0], atol=1e-13)


def test_fit_with_an_empty_cluster_agrees_with_sklearn(rng):
    X = blobs(rng, 300, 2, 3)
    init = np.vstack([X[:2], [[1e3, 1e3]]])
    with pytest.warns(EmptyComponentWarning):
        ours = KMeans(3, init=init, tol=0).fit(X)
    sk = SkKMeans(3, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X)
    assert np.isfinite(ours.cluster_centers_).all()
    assert ours.inertia_ == pytest.approx(sk.inertia_, rel=1e-10)
    assert (np.diff(ours.inertia_history_) <= 1e-12 * ours.inertia_history_[0]).all()


# ---------------------------------------------------------------- Lloyd against scikit-learn

DATASETS = [
    dict(n=300, d=2, K=3),
    dict(n=1000, d=5, K=8),
    dict(n=2000, d=16, K=10, spread=2.0),
    dict(n=500, d=3, K=4, offset=1e4),
]


@pytest.mark.parametrize("spec", DATASETS)
@pytest.mark.parametrize("tol", [0.0, 1e-4])
def test_lloyd_agrees_with_sklearn_from_the_same_centres(spec, tol):
    gen = np.random.default_rng(2026)
    X = blobs(gen, **spec)
    for seed in range(3):
        init, _ = kmeans_plusplus(X, spec["K"], random_state=seed)
        ours = KMeans(spec["K"], init=init, tol=tol).fit(X)
        sk = SkKMeans(spec["K"], init=init, n_init=1, algorithm="lloyd", tol=tol).fit(X)
        assert abs(ours.inertia_ - sk.inertia_) <= 1e-10 * sk.inertia_
        assert ours.n_iter_ == sk.n_iter_
        np.testing.assert_array_equal(ours.labels_, sk.labels_)
        np.testing.assert_allclose(ours.cluster_centers_, sk.cluster_centers_, rtol=1e-10, atol=1e-9)


def test_lloyd_agrees_with_sklearn_on_rows_shared_among_threads(monkeypatch):
    """The benchmark's shape (d = 16, K = 50), scaled down, with the rows split among three
    threads."""
    monkeypatch.setattr(rows_module, "THREADS", 3)
    monkeypatch.setattr(rows_module, "WORK_PER_THREAD", 2**14)
    X = blobs(np.random.default_rng(50), 6000, 16, 50, spread=2.0)
    init, _ = kmeans_plusplus(X, 50, random_state=0)
    ours = KMeans(50, init=init, max_iter=30, tol=0).fit(X)
    sk = SkKMeans(50, init=init, n_init=1, algorithm="lloyd", max_iter=30, tol=0).fit(X)
    assert abs(ours.inertia_ - sk.inertia_) <= 1e-10 * sk.inertia_
    assert ours.n_iter_ == sk.n_iter_
    np.testing.assert_array_equal(ours.labels_, sk.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, sk.cluster_centers_, rtol=1e-10, atol=1e-9)


def test_the_number_of_threads_does_not_change_the_fit(rng, monkeypatch):
    X = blobs(rng, 3000, 5, 12)
    init = X[:12].copy()
    monkeypatch.setattr(rows_module, "THREADS", 1)
    one = KMeans(12, init=init, tol=0).fit(X)
    monkeypatch.setattr(rows_module, "THREADS", 3)
    monkeypatch.setattr(rows_module, "WORK_PER_THREAD", 1000)
    three = KMeans(12, init=init, tol=0).fit(X)
    assert one.n_iter_ == three.n_iter_ > 2
    np.testing.assert_array_equal(three.labels_, one.labels_)
    np.testing.assert_array_equal(three.predict(X[::-1]), one.labels_[::-1])
    np.testing.assert_allclose(three.inertia_history_, one.inertia_history_, rtol=1e-14)
    np.testing.assert_allclose(three.cluster_centers_, one.cluster_centers_, rtol=1e-14, atol=1e-14)


# ---------------------------------------------------------------- the estimator's invariants


@pytest.mark.parametrize("init", ["kmeans++", "random"])
def test_inertia_history_never_increases(rng, init):
    X = blobs(rng, 600, 2, 6, spread=2.0)
    for seed in range(10):
        km = KMeans(6, init=init, random_state=seed, tol=0).fit(X)
        h = km.inertia_history_
        assert len(h) == km.n_iter_ + 1
        assert (np.diff(h) <= 1e-12 * h[0]).all()
        assert h[-1] == km.inertia_
        assert km.inertia_ == pytest.approx(objective(X, km.cluster_centers_), rel=1e-12)


def test_history_is_the_chain_of_lloyd_steps(rng):
    X = blobs(rng, 300, 3, 4)
    init = X[:4].copy()
    km = KMeans(4, init=init, tol=0).fit(X)
    mu, J = init, []
    for _ in range(km.n_iter_):
        step = lloyd_step(X, mu)
        J.append(step.inertia)
        mu = step.mu
    J.append(lloyd_step(X, mu).inertia)
    np.testing.assert_allclose(km.inertia_history_, J, rtol=1e-12)
    np.testing.assert_allclose(km.cluster_centers_, mu, rtol=1e-12, atol=1e-12)
    assert km.converged_


def test_predict_gives_the_nearest_fitted_centre(rng):
    X = blobs(rng, 400, 2, 5)
    km = KMeans(5, random_state=3).fit(X)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    np.testing.assert_array_equal(km.fit_predict(X), km.labels_)
    Y = rng.normal(scale=8.0, size=(50, 2))
    near = ((Y[:, None] - km.cluster_centers_[None]) ** 2).sum(axis=2).argmin(axis=1)
    np.testing.assert_array_equal(km.predict(Y), near)


def test_n_init_keeps_the_best_run(rng):
    X = blobs(rng, 500, 2, 8, spread=3.0)
    gen = np.random.default_rng(5)
    runs = [KMeans(8, init=kmeans_plusplus(X, 8, random_state=gen)[0]).fit(X) for _ in range(6)]
    best = KMeans(8, n_init=6, random_state=5).fit(X)
    assert len({round(r.inertia_, 6) for r in runs}) > 1  # the runs really differ
    assert best.inertia_ == min(r.inertia_ for r in runs)


def test_random_init_is_reproducible(rng):
    X = blobs(rng, 200, 2, 3)
    a = KMeans(3, init="random", random_state=1).fit(X)
    b = KMeans(3, init="random", random_state=1).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_repr_before_and_after_fit(rng):
    km = KMeans(3, random_state=0)
    assert repr(km) == (
        "KMeans(n_clusters=3, init='kmeans++', n_init=1, max_iter=300, tol=0.0001, "
        "random_state=0)"
    )
    km.fit(blobs(rng, 100, 2, 3))
    assert repr(km).startswith(repr(KMeans(3, random_state=0))[:-1] + ", fitted: inertia=")
    assert repr(KMeans(2, init=np.zeros((2, 3)))).startswith("KMeans(n_clusters=2, init=array(2, 3)")


def test_max_iter_reached_warns_with_remedies(rng):
    X = blobs(rng, 500, 2, 8, spread=1.0)
    with pytest.warns(
        ConvergenceWarning,
        match=re.escape(
            "k-means did not converge in max_iter=1 Lloyd steps (tol=0.0001). Remedies: raise "
            "max_iter, or use init='kmeans++' / more n_init."
        ),
    ):
        km = KMeans(8, max_iter=1, random_state=0).fit(X)
    assert km.n_iter_ == 1 and not km.converged_ and len(km.inertia_history_) == 2


def test_tol_zero_and_max_iter_zero_do_not_warn(rng):
    X = blobs(rng, 100, 2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        km = KMeans(3, max_iter=0, tol=0, random_state=0).fit(X)
    assert km.n_iter_ == 0 and len(km.inertia_history_) == 1 and not km.converged_


# ---------------------------------------------------------------- every error message


def test_n_clusters_larger_than_n_samples():
    msg = (
        "n_clusters=6 is larger than the number of samples (5); expected at most 5. "
        "Fix: use fewer components or more data."
    )
    with raises(ValueError, msg):
        kmeans_plusplus(X5, 6)
    with raises(ValueError, msg):
        KMeans(6).fit(X5)


def test_n_clusters_zero_and_not_an_integer():
    with raises(ValueError, "n_clusters must be at least 1; got 0. Fix: ask for one or more"):
        kmeans_plusplus(X5, 0)
    with raises(TypeError, "n_clusters must be an integer; got 2.5 of type float. Fix: pass a"):
        KMeans(2.5).fit(X5)


def test_bad_random_state():
    msg = (
        "random_state must be None, a non-negative integer or a numpy Generator; got 'abc' of "
        "type str. Fix: pass a seed such as 0, or np.random.default_rng(0)."
    )
    with raises(ValueError, msg):
        kmeans_plusplus(X5, 2, random_state="abc")
    with raises(ValueError, "got -1 of type int"):
        KMeans(2, random_state=-1).fit(X5)


def test_unknown_init_lists_the_choices():
    msg = (
        "init='kmeans+' is not supported; expected one of 'kmeans++', 'random'. "
        "Fix: pass one of those strings."
    )
    with raises(ValueError, msg):
        KMeans(2, init="kmeans+")
    with raises(ValueError, "init=None is not supported; expected one of 'kmeans++', 'random'"):
        KMeans(2, init=None)


def test_init_array_of_the_wrong_shape():
    with raises(
        ValueError,
        "init must have shape (2, 1) (n_components, n_features); got shape 3x1. "
        "Fix: one row per component, one column per feature.",
    ):
        KMeans(2, init=np.zeros((3, 1))).fit(X5)


def test_init_array_with_several_inits():
    with raises(
        ValueError,
        "n_init=3 with an array of initial centres would repeat the same run 3 times; expected "
        "n_init=1 when init is an array. Fix: pass n_init=1, or init='kmeans++' to compare "
        "several seedings.",
    ):
        KMeans(2, init=np.zeros((2, 1)), n_init=3)


def test_bad_n_init_max_iter_tol():
    with raises(ValueError, "n_init must be an integer >= 1; got 0. Fix: pass e.g. 100."):
        KMeans(2, n_init=0)
    with raises(ValueError, "max_iter must be an integer >= 0; got -1. Fix: pass e.g. 100."):
        KMeans(2, max_iter=-1)
    with raises(ValueError, "tol must be a finite non-negative number; got -1. Fix: pass e.g."):
        KMeans(2, tol=-1)


def test_lloyd_step_bad_centres():
    with raises(
        ValueError,
        "len(mu)=6 is larger than the number of samples (5); expected at most 5. "
        "Fix: use fewer components or more data.",
    ):
        lloyd_step(X5, np.zeros(6))
    with raises(ValueError, "mu must have shape (2, 3) (n_components, n_features); got shape 2x2."):
        lloyd_step(np.zeros((5, 3)), np.zeros((2, 2)))


def test_predict_before_fit_and_with_other_features(rng):
    with raises(RuntimeError, "this KMeans is not fitted yet. Fix: call .fit(X) before predict."):
        KMeans(2).predict(X5)
    km = KMeans(2, random_state=0).fit(rng.normal(size=(20, 3)))
    with raises(
        ValueError,
        "X has 2 features but the fitted KMeans has 3; expected shape (n_samples, 3). Fix: pass "
        "data with the same columns as the data it was fitted on.",
    ):
        km.predict(np.zeros((4, 2)))


def test_nan_in_X_is_refused():
    with raises(ValueError, "X contains 1 NaN or infinite value (first in row 2)"):
        KMeans(2).fit([0.0, 1.0, np.nan, 3.0])
