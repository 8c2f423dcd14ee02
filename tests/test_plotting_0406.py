"""emlib.plotting, the helpers of notebooks 04-06: titled, labelled figures drawn from right numbers.

Smoke tests (every helper draws, titles and labels its axes, and returns what its docstring says)
plus checks of the numbers behind the pictures against independent computations: the D² weights
of k-means++ (eq. (4.4)) against scipy's distance matrix, the counts of a confusion table, the
minima marked on the criteria curves.
"""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy.spatial.distance import cdist

from emlib import datasets, plotting, reference
from emlib import kmeans as km


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def blobs():
    return datasets.make_mixture(
        120,
        [0.3, 0.3, 0.4],
        [[0.0, 0.0], [4.0, 1.0], [1.5, 4.0]],
        [0.5, 0.5, 0.5],
        "spherical",
        random_state=0,
    )


def assert_labelled(ax):
    assert ax.get_title(), "missing title"
    assert ax.get_xlabel(), "missing x label"
    assert ax.get_ylabel(), "missing y label"


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# -- notebook 04 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("colouring", ["labels", "resp", "none"])
def test_plot_clusters_draws_points_and_centres(blobs, colouring):
    X, z = blobs.X, blobs.z
    kwargs = {"labels": z} if colouring == "labels" else {}
    if colouring == "resp":
        kwargs["resp"] = np.eye(3)[z]
    ax = plotting.plot_clusters(X, centres=blobs.params.mu, title="t", **kwargs)
    assert_labelled(ax)
    assert legend_texts(ax) == ["samples", "centres"]
    points, centres = ax.collections
    assert points.get_offsets().shape == (len(X), 2)
    np.testing.assert_allclose(centres.get_offsets(), blobs.params.mu)


def test_plot_clusters_colours_follow_the_labels(blobs):
    ax = plotting.plot_clusters(blobs.X, blobs.z)
    colours = ax.collections[0].get_facecolors()[:, :3]
    expected = np.array(plotting.COMPONENT_COLORS)[blobs.z]
    np.testing.assert_allclose(colours, expected)


def test_plot_lloyd_iterations_one_panel_per_step(blobs):
    X = blobs.X
    mu = X[:3]
    steps = []
    for _ in range(4):
        step = km.lloyd_step(X, mu)
        steps.append((mu, step))
        mu = step.mu
    fig = plotting.plot_lloyd_iterations(X, steps, ncols=3)
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 4
    for ax, (_, step) in zip(visible, steps, strict=True):
        assert_labelled(ax)
        assert f"J = {step.inertia:.1f}" in ax.get_title()
    assert fig.get_suptitle()


def test_d2_probabilities_match_eq_4_4(blobs):
    X = blobs.X
    chosen = [5, 60]
    p = reference.d2_probabilities(X, chosen)
    d2 = cdist(X, X[chosen], "sqeuclidean").min(axis=1)
    np.testing.assert_allclose(p, d2 / d2.sum(), rtol=1e-12, atol=1e-15)
    assert p[chosen].tolist() == [0.0, 0.0]
    assert p.sum() == pytest.approx(1.0)


def test_d2_probabilities_all_zero_when_every_sample_is_a_centre():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    assert reference.d2_probabilities(X, [0, 1]).tolist() == [0.0, 0.0, 0.0]


def test_plot_d2_weights_marks_the_chosen_centres(blobs):
    ax = plotting.plot_d2_weights(blobs.X, [3, 70])
    assert_labelled(ax)
    assert "after 2 centres" in ax.get_title()
    assert legend_texts(ax) == ["samples (area ∝ probability)", "chosen centres"]
    stars = ax.collections[1].get_offsets()
    np.testing.assert_allclose(stars, blobs.X[[3, 70]])
    assert len(ax.figure.axes) == 2  # the colour bar


def test_plot_final_objectives_draws_both_series_and_the_lines():
    rng = np.random.default_rng(0)
    values = {"random": rng.uniform(10, 20, 50), "kmeans++": rng.uniform(10, 12, 50)}
    ax = plotting.plot_final_objectives(values, best=10.0, poor=10.5)
    assert_labelled(ax)
    texts = legend_texts(ax)
    assert sorted(texts) == sorted(
        ["best found: 10", "poor beyond 10.5", "random (50 runs)", "kmeans++ (50 runs)"]
    )
    heights = [sum(p.get_height() for p in c) for c in ax.containers]
    assert heights == [50, 50]


# -- notebook 05 -----------------------------------------------------------------------------------


def test_plot_images_one_titled_panel_per_image():
    X, y = datasets.load_binary_digits()
    fig = plotting.plot_images(X[:7], titles=[str(v) for v in y[:7]], ncols=4, suptitle="digits")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 7
    assert [ax.get_title() for ax in visible] == [str(v) for v in y[:7]]
    np.testing.assert_array_equal(visible[2].images[0].get_array(), X[2].reshape(8, 8))
    assert fig.get_suptitle() == "digits"


def test_plot_images_colorbar_and_28_by_28():
    fig = plotting.plot_images(np.zeros((2, 784)), shape=(28, 28), colorbar=True)
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)


def test_plot_images_rejects_rows_of_the_wrong_length():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "images must hold whole images of shape (8, 8) (64 pixels each), one flattened image "
            "per row; got an array of shape (3, 63)."
        ),
    ):
        plotting.plot_images(np.zeros((3, 63)))


def test_plot_confusion_annotates_every_non_zero_count():
    table = np.array([[5, 0, 1], [0, 7, 0], [2, 0, 9]])
    ax = plotting.plot_confusion(table, title="c")
    assert_labelled(ax)
    texts = sorted(int(t.get_text()) for t in ax.texts)
    assert texts == sorted(table[table > 0].tolist())
    np.testing.assert_array_equal(ax.images[0].get_array(), table)


# -- notebook 06 -----------------------------------------------------------------------------------


def test_plot_criteria_marks_each_minimum():
    Ks = np.arange(1, 6)
    curves = {
        "BIC": np.array([9.0, 5.0, 4.0, 6.0, 7.0]),
        "AIC": np.array([9.0, 5.0, 4.5, 4.0, 4.2]),
    }
    ax = plotting.plot_criteria(Ks, curves)
    assert_labelled(ax)
    texts = legend_texts(ax)
    assert "BIC minimum: K = 3" in texts and "AIC minimum: K = 4" in texts
    assert list(ax.get_xticks()) == list(Ks)
