"""emlib.widgets: the explorers of notebooks 01-03 build, draw a figure at once, and redraw.

The figure drawn on creation is what a saved notebook shows where no kernel runs, so each test
checks that it exists, is a PNG in the ``Image`` widget and has a title and labelled axes.
"""

import re

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from _helpers import assert_static_view

from emlib import datasets, gmm, plotting, widgets
from emlib.densities import log_gaussian
from emlib.em import run_em


def test_jensen_explorer_draws_and_redraws():
    w = widgets.jensen_explorer()
    assert_static_view(w)
    first = bytes(w.image.value)
    w.controls["function"].value = "exp(x)   convex"
    assert bytes(w.image.value) != bytes(first)
    assert "exp" in w.figure.axes[0].get_legend().get_texts()[0].get_text()
    assert "function='exp(x)   convex'" in repr(w)


def test_jensen_explorer_all_weights_zero_means_equal_weights():
    w = widgets.jensen_explorer(weights=(0.0, 0.0, 0.0, 0.0), function="x²       convex")
    x = np.array([w.controls[f"x{i}"].value for i in range(1, 5)])
    gap = float(np.mean(x**2) - np.mean(x) ** 2)
    assert f"{gap:.4g}" in w.figure.axes[0].get_title()


def test_jensen_explorer_rejects_an_unknown_function():
    with pytest.raises(ValueError, match=re.escape("function must be one of")):
        widgets.jensen_explorer(function="tan")


def test_jensen_explorer_needs_four_points():
    with pytest.raises(ValueError, match=re.escape("points and weights must have 4 entries each")):
        widgets.jensen_explorer(points=(1.0, 2.0))


@pytest.fixture(scope="module")
def one_d():
    sample = datasets.make_mixture(
        60, [0.6, 0.4], [-1.5, 2.0], [1.0, 0.8], "spherical", random_state=1
    )
    x = sample.X[:, 0]

    def log_joint(mu1):
        return np.log([0.6, 0.4]) + log_gaussian(x, np.array([mu1, 2.0]), [1.0, 0.8], "spherical")

    return log_joint


def test_decomposition_explorer_kl_vanishes_when_q_is_the_posterior(one_d):
    w = widgets.decomposition_explorer(one_d, np.linspace(-3, 3, 31), theta=0.4, theta_q=0.4)
    assert_static_view(w)
    kl_text = w.figure.axes[0].texts[0].get_text()
    assert "KL = 0.000" in kl_text
    w.controls["theta_q"].value = -2.0
    assert "KL = 0.000" not in w.figure.axes[0].texts[0].get_text()


def test_decomposition_explorer_blend_opens_the_gap_at_theta_q(one_d):
    grid = np.linspace(-3, 3, 31)
    w = widgets.decomposition_explorer(one_d, grid, theta=0.0, theta_q=0.0)
    at_q = np.argmin(np.abs(grid))
    curve = w.figure.axes[1].lines[0].get_ydata()
    bound = w.figure.axes[1].lines[1].get_ydata()
    assert bound[at_q] == pytest.approx(curve[at_q], abs=1e-9)  # touches at theta_q
    w.controls["blend"].value = 0.5
    blended = w.figure.axes[1].lines[1].get_ydata()
    assert blended[at_q] < curve[at_q] - 1e-3  # q is no posterior: the gap at theta_q opens
    assert "KL = 0.000" not in w.figure.axes[0].texts[0].get_text()


def test_em_iteration_explorer_moves_through_the_run():
    sample = datasets.make_mixture(
        80, [0.5, 0.5], [[0.0, 0.0], [3.0, 3.0]], [np.eye(2), np.eye(2)], random_state=2
    )
    start = gmm.GMMParams([0.5, 0.5], [[1.0, 1.0], [2.0, 2.0]], np.stack([np.eye(2)] * 2))
    recorder = plotting.EMRecorder()
    run_em(sample.X, start, gmm.e_step, gmm.m_step, max_iter=4, tol=0.0, callback=recorder)
    w = widgets.em_iteration_explorer(sample.X, recorder.snapshots, t=1)
    assert_static_view(w)
    assert w.controls["t"].max == 4
    assert w.figure.axes[0].get_title().endswith("t = 1")
    w.controls["t"].value = 4
    assert w.figure.axes[0].get_title().endswith("t = 4")


def test_em_iteration_explorer_needs_snapshots():
    with pytest.raises(ValueError, match=re.escape("snapshots is empty; expected the iterates")):
        widgets.em_iteration_explorer(np.zeros((3, 2)), [])
