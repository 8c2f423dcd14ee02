"""emlib.widgets, the explorers of notebooks 04-06: each draws a figure at once and redraws.

The figure drawn on creation is what a saved notebook shows where no kernel runs, so each test
checks that it exists as a PNG in the ``Image`` widget, that its plot axes are titled and labelled
(image panels carry a title), and that moving a control changes the picture. Where the titles
report numbers, they are checked against an independent computation.
"""

import re

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from _helpers import assert_static_view

from emlib import bernoulli, datasets, gmm, widgets
from emlib.kmeans import KMeans, kmeans_plusplus


def redraws(explorer, control, value):
    before = bytes(explorer.image.value)
    explorer.controls[control].value = value
    return bytes(explorer.image.value) != before


@pytest.fixture(scope="module")
def blobs():
    return datasets.make_mixture(
        150,
        [0.3, 0.3, 0.4],
        [[0.0, 0.0], [5.0, 0.0], [2.0, 5.0]],
        [0.5, 0.5, 0.5],
        "spherical",
        random_state=1,
    )


def test_eps_limit_explorer_hardens_the_assignments(blobs):
    mu = blobs.params.mu
    w = widgets.eps_limit_explorer(blobs.X, mu, log10_eps=1.0)
    assert_static_view(w)
    assert "ε = 10" in w.figure.axes[0].get_title()
    assert redraws(w, "log10_eps", -3.0)
    # At eps = 1e-3 every responsibility is one-hot on the nearest mean (eq. (4.5)).
    hist = w.figure.axes[1]
    assert "argmax = nearest mean for 100 %" in hist.get_title()
    assert "mean 1.000" in hist.get_title()
    assert "log10_eps=-3" in repr(w)


def test_eps_limit_explorer_soft_at_large_eps(blobs):
    w = widgets.eps_limit_explorer(blobs.X, blobs.params.mu, pi=[0.2, 0.3, 0.5], log10_eps=2.0)
    params = gmm.GMMParams([0.2, 0.3, 0.5], blobs.params.mu, np.full(3, 100.0), "spherical")
    resp, _ = gmm.e_step(blobs.X, params)
    assert f"mean {resp.max(axis=1).mean():.3f}" in w.figure.axes[1].get_title()


def test_kmeans_init_explorer_compares_with_the_best_seed(blobs):
    X = blobs.X
    w = widgets.kmeans_init_explorer(X, 3, seed=4, n_seeds=5)
    assert_static_view(w)
    best = min(
        KMeans(3, init=init).fit(X).inertia_
        for s in range(5)
        for init in (
            X[np.random.default_rng(s).choice(len(X), size=3, replace=False)],
            kmeans_plusplus(X, 3, random_state=s)[0],
        )
    )
    assert f"best J over 5 seeds: {best:.1f}" in w.title
    right = KMeans(3, init=kmeans_plusplus(X, 3, random_state=4)[0]).fit(X)
    assert f"J = {right.inertia_:.1f}" in w.figure.axes[1].get_title()
    assert redraws(w, "seed", 0)  # other initial centres (open circles), another picture


def test_bernoulli_component_explorer_shows_theta_and_labels():
    X, y = datasets.load_binary_digits()
    X, y = X[:300], y[:300]
    model = bernoulli.BernoulliMixture(4, n_init=1, random_state=0).fit(X)
    w = widgets.bernoulli_component_explorer(X, y, model.params_, k=1)
    assert_static_view(w)
    theta_ax = w.figure.axes[0]
    np.testing.assert_allclose(theta_ax.images[0].get_array(), model.means_[1].reshape(8, 8))
    bars = w.figure.axes[-1]
    wins = model.predict(X) == 1
    assert sum(p.get_height() for p in bars.patches) == wins.sum()
    assert redraws(w, "k", 2)


def test_model_selection_explorer_moves_through_K(blobs):
    X = blobs.X
    fits = {K: gmm.GaussianMixture(K, random_state=0).fit(X) for K in (1, 2, 3)}
    curves = {"BIC": [fits[K].bic(X) for K in fits], "AIC": [fits[K].aic(X) for K in fits]}
    w = widgets.model_selection_explorer(X, {K: f.params_ for K, f in fits.items()}, curves, K=3)
    assert_static_view(w)
    ll = gmm.log_likelihood(X, fits[3].params_)
    assert f"ln p(X | θ) = {ll:.1f}" in w.figure.axes[0].get_title()
    assert redraws(w, "K", 1)


def test_model_selection_explorer_rejects_mismatched_curves(blobs):
    fits = {1: gmm.GaussianMixture(1).fit(blobs.X).params_}
    with pytest.raises(ValueError, match=re.escape("curves['BIC'] has 2 values")):
        widgets.model_selection_explorer(blobs.X, fits, {"BIC": [1.0, 2.0]})


def test_eps_limit_explorer_rejects_means_of_the_wrong_dimension(blobs):
    message = "mu must have shape (3, 2) (n_components, n_features); got shape 3x3"
    with pytest.raises(ValueError, match=re.escape(message)):
        widgets.eps_limit_explorer(blobs.X, np.zeros((3, 3)))


def test_bernoulli_component_explorer_rejects_a_wrong_image_shape():
    X, y = datasets.load_binary_digits()
    params = bernoulli.BernoulliParams([0.5, 0.5], np.full((2, 64), 0.5))
    message = "shape=(28, 28) holds 784 pixels but the components have d = 64"
    with pytest.raises(ValueError, match=re.escape(message)):
        widgets.bernoulli_component_explorer(X[:10], y[:10], params, shape=(28, 28))
