"""emlib.plotting: every figure has a title and labelled axes; the geometry behind them is right.

Smoke tests for the helpers of notebooks 01-03 (the helpers of notebooks 04-06 are tested beside
them by their author), plus reference checks of the numbers the figures are drawn from.
"""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import spatial, special, stats

from emlib import bounds, datasets, gmm, plotting
from emlib.em import run_em
from emlib.plotting._bounds import _hull_polygon


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def assert_labelled(ax):
    """A title and both axis labels, as every figure of the course has."""
    assert ax.get_title(), "missing title"
    assert ax.get_xlabel(), "missing x label"
    assert ax.get_ylabel(), "missing y label"


@pytest.fixture(scope="module")
def mixture():
    return datasets.make_mixture(
        200,
        pi=[0.5, 0.3, 0.2],
        mu=[[0.0, 0.0], [4.0, 2.0], [0.0, 5.0]],
        Sigma=[[[1.0, 0.4], [0.4, 0.8]], np.eye(2), 0.5 * np.eye(2)],
        random_state=0,
    )


@pytest.fixture(scope="module")
def recorded(mixture):
    start = gmm.GMMParams(
        [1 / 3] * 3, [[1.0, 1.0], [2.0, 1.0], [1.0, 2.0]], np.stack([np.eye(2)] * 3)
    )
    recorder = plotting.EMRecorder()
    result = run_em(
        mixture.X, start, gmm.e_step, gmm.m_step, max_iter=6, tol=0.0, callback=recorder
    )
    return recorder, result


# -- notebook 01 ---------------------------------------------------------------------------------


def test_plot_jensen_is_labelled_and_states_the_gap():
    w, x = np.array([0.1, 0.4, 0.3, 0.2]), np.array([0.2, 0.9, 1.7, 2.6])
    ax = plotting.plot_jensen(np.exp, x, w)
    assert_labelled(ax)
    gap = bounds.jensen_gap(np.exp, w, x)
    assert f"{gap:.4g}" in ax.get_title()
    assert len(ax.get_legend().get_texts()) >= 4


def test_plot_jensen_two_points_draws_the_chord():
    ax = plotting.plot_jensen(np.square, [-1.0, 2.0], [0.3, 0.7], title="chord")
    assert ax.get_title() == "chord"
    assert "chord" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_jensen_rejects_bad_weights_with_the_validation_message():
    with pytest.raises(ValueError, match=re.escape("weights must sum to 1; got a sum of 0.5")):
        plotting.plot_jensen(np.exp, [1.0, 2.0], [0.25, 0.25])


def test_hull_polygon_matches_scipy(rng):
    pts = rng.normal(size=(30, 2))
    hull = _hull_polygon(pts[:, 0], pts[:, 1])
    reference = spatial.ConvexHull(pts)
    assert len(hull) == len(reference.vertices)
    assert {tuple(p) for p in hull} == {tuple(pts[i]) for i in reference.vertices}


def test_hull_polygon_of_collinear_points_is_none():
    assert _hull_polygon(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0])) is None


# -- notebook 02 ---------------------------------------------------------------------------------


def test_decomposition_bars_show_the_three_numbers(rng):
    log_joint = rng.normal(-3.0, 1.0, (10, 2))
    q = rng.dirichlet(np.ones(2), size=10)
    post = np.exp(log_joint - special.logsumexp(log_joint, axis=1, keepdims=True))
    stages = [
        ("any q", bounds.decompose(q, log_joint)),
        ("posterior", bounds.decompose(post, log_joint)),
    ]
    ax = plotting.plot_decomposition_bars(stages)
    assert_labelled(ax)
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 2
    assert "KL = 0.000" in texts[1]  # never -0.000, even when the KL rounds from below
    assert [t.get_text() for t in ax.get_xticklabels()] == ["any q", "posterior"]


def test_plot_lower_bound_is_labelled():
    grid = np.linspace(-1.0, 1.0, 21)
    ax = plotting.plot_lower_bound(grid, -(grid**2), -(grid**2) - grid**4, 0.0, 0.1)
    assert_labelled(ax)
    assert len(ax.get_legend().get_texts()) == 4


# -- Gaussian mixtures ---------------------------------------------------------------------------


def test_covariance_ellipse_axes_are_the_eigenvalues():
    _, ax = plt.subplots()
    cov = np.array([[3.0, 1.0], [1.0, 2.0]])
    patch = plotting.covariance_ellipse([1.0, -1.0], cov, ax=ax, n_std=2.0)
    vals = np.linalg.eigvalsh(cov)
    assert patch.width == pytest.approx(4.0 * np.sqrt(vals[1]))
    assert patch.height == pytest.approx(4.0 * np.sqrt(vals[0]))
    # the boundary point along the major axis is at Mahalanobis distance n_std
    vec = np.linalg.eigh(cov)[1][:, 1]
    assert np.degrees(np.arctan2(vec[1], vec[0])) % 180 == pytest.approx(patch.angle % 180)
    point = np.array(patch.center) + 0.5 * patch.width * vec
    diff = point - [1.0, -1.0]
    assert diff @ np.linalg.solve(cov, diff) == pytest.approx(4.0)


def test_resp_colors_are_the_palette_for_one_hot_rows():
    colours = plotting.resp_colors(np.eye(3))
    np.testing.assert_allclose(colours, np.array(plotting.COMPONENT_COLORS[:3]))
    mixed = plotting.resp_colors(np.array([[0.5, 0.5, 0.0]]))
    np.testing.assert_allclose(mixed[0], 0.5 * (colours[0] + colours[1]))


def test_plot_gmm_is_labelled_and_draws_two_ellipses_per_component(mixture):
    resp, _ = gmm.e_step(mixture.X, mixture.params)
    ax = plotting.plot_gmm(mixture.X, mixture.params, resp=resp, title="truth")
    assert_labelled(ax)
    assert len(ax.patches) == 2 * 3
    assert len(ax.get_legend().get_texts()) == 3


def test_em_recorder_keeps_every_iterate(recorded):
    recorder, result = recorded
    assert [s.t for s in recorder.snapshots] == list(range(7))
    np.testing.assert_allclose(
        [s.log_likelihood for s in recorder.snapshots], result.log_likelihoods, rtol=0, atol=0
    )
    assert repr(recorder) == "EMRecorder(7 snapshots)"


def test_plot_em_iterations_titles_every_panel(mixture, recorded):
    recorder, _ = recorded
    fig = plotting.plot_em_iterations(mixture.X, recorder.snapshots, [0, 1, 2, 6], ncols=3)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 4
    for ax in visible:
        assert_labelled(ax)
    assert visible[-1].get_title().startswith("t = 6")
    assert fig.get_suptitle()


def test_plot_log_likelihood_per_sample(recorded):
    _, result = recorded
    ax = plotting.plot_log_likelihood(result.log_likelihoods, per_sample=200, label="run")
    assert_labelled(ax)
    assert ax.get_ylabel().endswith("/ n")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), result.log_likelihoods / 200)


def test_mixture_log_density_matches_scipy(mixture, rng):
    pts = rng.normal(0.0, 3.0, (20, 2))
    p = mixture.params
    ref = special.logsumexp(
        np.log(p.pi)
        + np.column_stack(
            [stats.multivariate_normal(p.mu[k], p.Sigma[k]).logpdf(pts) for k in range(3)]
        ),
        axis=1,
    )
    np.testing.assert_allclose(plotting.mixture_log_density(pts, p), ref, rtol=1e-10)


def test_plot_density_is_labelled(mixture):
    ax = plotting.plot_density(mixture.X, mixture.params, resolution=30)
    assert_labelled(ax)


def test_plot_em_frame_and_animation(mixture, recorded):
    recorder, _ = recorded
    fig = plotting.plot_em_frame(mixture.X, recorder.snapshots, 2)
    for ax in fig.axes:
        assert_labelled(ax)
    html = plotting.em_animation(mixture.X, recorder.snapshots, [0, 1, 2], dpi=30)
    assert html.count("data:image/jpeg;base64") == 3
    assert "<script" in html
