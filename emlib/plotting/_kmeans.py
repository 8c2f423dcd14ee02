"""Notebook 04, k-means: clusters, Lloyd's iterations, the D² weights of k-means++, and the final
objectives of many runs (also notebook 06)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..reference import d2_probabilities
from ._base import COMPONENT_COLORS, label_axes, new_axes, panel_grid, resp_colors


def plot_clusters(
    X,
    labels=None,
    centres=None,
    *,
    resp=None,
    ax: Axes | None = None,
    title: str = "Clusters",
    centre_label: str = "centres",
    dims: tuple[int, int] = (0, 1),
    s: float = 10.0,
) -> Axes:
    """Points coloured by their cluster (or by their responsibilities), centres as crosses.

    Parameters
    ----------
    X : array, shape (n, d), d >= 2 (the plane ``dims`` is drawn)
    labels : array of int, shape (n,), optional: hard assignments (eq. (4.2) of notebook 04)
    centres : array, shape (K, d), optional
    resp : array, shape (n, K), optional: soft assignments, drawn as blended colours
        (:func:`resp_colors`); used instead of ``labels`` when given
    centre_label : legend entry of the centres
    """
    X = np.asarray(X, dtype=np.float64)
    i, j = dims
    ax = new_axes(ax, figsize=(5.0, 4.5))
    if resp is not None:
        colors = resp_colors(resp)
    elif labels is not None:
        labels = np.asarray(labels, dtype=int)
        colors = np.array(COMPONENT_COLORS)[labels % len(COMPONENT_COLORS)]
    else:
        colors = "0.55"
    ax.scatter(X[:, i], X[:, j], s=s, c=colors, alpha=0.75, linewidths=0, label="samples")
    if centres is not None:
        C = np.asarray(centres, dtype=np.float64).reshape(-1, X.shape[1])
        ax.scatter(
            C[:, i],
            C[:, j],
            marker="X",
            s=110,
            c=np.array(COMPONENT_COLORS)[np.arange(len(C)) % len(COMPONENT_COLORS)],
            edgecolors="black",
            zorder=4,
            label=centre_label,
        )
    ax.set_aspect("equal", adjustable="box")
    return label_axes(ax, title, f"$x_{i + 1}$", f"$x_{j + 1}$", legend=True, loc="best")


def plot_lloyd_iterations(
    X,
    steps: Sequence[Any],
    *,
    ncols: int = 3,
    panel_size: float = 3.2,
    suptitle: str = "Lloyd's algorithm, step by step",
) -> Figure:
    """One panel per Lloyd step: the assignment to the centres, and the centres it moves to.

    Parameters
    ----------
    X : array, shape (n, d)
    steps : sequence of ``(mu_old, step)`` pairs, ``step`` the
        :class:`emlib.kmeans.LloydStep` returned by ``lloyd_step(X, mu_old)``; panel t shows the
        labels of eq. (4.2) under ``mu_old`` (crosses), arrows to the new means of eq. (4.3),
        and ``J(mu_old)`` of eq. (4.1) in the title.
    """
    X = np.asarray(X, dtype=np.float64)
    fig, axes = panel_grid(len(steps), ncols, panel_size, sharex=True, sharey=True)
    for t, (ax, (mu_old, step)) in enumerate(zip(axes, steps, strict=True)):
        mu_old = np.asarray(mu_old, dtype=np.float64)
        plot_clusters(
            X,
            step.labels,
            mu_old,
            ax=ax,
            title=f"step {t + 1}: J = {step.inertia:.1f}",
            centre_label="centres before",
        )
        for k in range(len(mu_old)):
            ax.annotate(
                "",
                xy=tuple(step.mu[k, :2]),
                xytext=tuple(mu_old[k, :2]),
                arrowprops={"arrowstyle": "->", "lw": 1.5, "color": "black"},
            )
        if t:
            ax.get_legend().remove()
    fig.suptitle(suptitle)
    return fig


def plot_d2_weights(
    X,
    chosen,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    dims: tuple[int, int] = (0, 1),
) -> Axes:
    """The chances of every sample to become the next k-means++ centre (eq. (4.4)).

    Each sample is drawn with an area and a colour proportional to its probability
    :func:`d2_probabilities`; the centres chosen so far are numbered stars.
    """
    X = np.asarray(X, dtype=np.float64)
    chosen = [int(c) for c in np.atleast_1d(chosen)]
    p = d2_probabilities(X, chosen)
    i, j = dims
    ax = new_axes(ax, figsize=(5.0, 4.5))
    sc = ax.scatter(
        X[:, i],
        X[:, j],
        s=4 + 2000 * p,
        c=p,
        cmap="viridis",
        alpha=0.85,
        linewidths=0,
        label="samples (area ∝ probability)",
    )
    ax.figure.colorbar(sc, ax=ax, label="P(next centre)")
    ax.scatter(
        X[chosen, i],
        X[chosen, j],
        marker="*",
        s=260,
        color="C3",
        edgecolors="black",
        zorder=4,
        label="chosen centres",
    )
    for order, c in enumerate(chosen, start=1):
        ax.annotate(str(order), (X[c, i], X[c, j]), xytext=(6, 6), textcoords="offset points")
    ax.set_aspect("equal", adjustable="box")
    if title is None:
        title = f"D² weights after {len(chosen)} centre{'s' if len(chosen) > 1 else ''}"
    return label_axes(ax, title, f"$x_{i + 1}$", f"$x_{j + 1}$", legend=True, loc="best")


def plot_final_objectives(
    values: Mapping[str, Any],
    *,
    best: float | None = None,
    poor: float | None = None,
    ax: Axes | None = None,
    bins: int = 30,
    title: str = "Final objective over many seeds",
    xlabel: str = "final J (inertia)",
) -> Axes:
    """Overlaid histograms of the final objective of many runs, one series per method.

    Parameters
    ----------
    values : mapping label -> array of final objectives (e.g. k-means inertia per seed for
        ``'random'`` and ``'kmeans++'`` initialisation, or EM log-likelihoods per seed)
    best : drawn as a solid vertical line (the best value found)
    poor : drawn as a dashed vertical line (the threshold of a "poor local optimum")
    """
    ax = new_axes(ax, figsize=(6.5, 4.0))
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
    allv = np.concatenate(list(arrays.values()))
    edges = np.histogram_bin_edges(allv, bins=bins)
    for label, v in arrays.items():
        ax.hist(v, bins=edges, alpha=0.55, label=f"{label} ({len(v)} runs)")
    if best is not None:
        ax.axvline(best, color="black", lw=1.5, label=f"best found: {best:.4g}")
    if poor is not None:
        ax.axvline(poor, color="black", lw=1.2, ls="--", label=f"poor beyond {poor:.4g}")
    return label_axes(ax, title, xlabel, "number of runs", legend=True, loc="best")


def plot_eps_limit(X, mu, resp, eps: float, *, axes: Sequence[Axes]) -> Figure:
    """The responsibilities of a spherical mixture with covariance ``eps I`` beside k-means.

    Left: the points coloured by their responsibilities (blended colours are soft assignments),
    the means as crosses. Right: the histogram of each point's largest responsibility, which
    tends to 1 (the one-hot assignment of k-means) as eps -> 0 (eq. (4.5) of notebook 04).

    Parameters
    ----------
    X : array, shape (n, 2)
    mu : array, shape (K, 2)
    resp : array, shape (n, K), the responsibilities under covariance eps I (eq. (3.4))
    eps : the shared variance, for the titles
    axes : the two axes to draw on
    """
    ax_pts, ax_hist = axes
    X, mu, resp = (np.asarray(a, dtype=np.float64) for a in (X, mu, resp))
    K = resp.shape[1]
    plot_clusters(X, centres=mu, resp=resp, ax=ax_pts, title=f"ε = {eps:.3g}: soft assignments")
    top = resp.max(axis=1)
    ax_hist.hist(top, bins=np.linspace(1.0 / K, 1.0, 26), color="C0", label="points")
    nearest = ((X[:, None, :] - mu[None]) ** 2).sum(axis=2).argmin(axis=1)
    agree = float(np.mean(resp.argmax(axis=1) == nearest))
    ax_hist.axvline(1.0, color="black", ls="--", label="one-hot (k-means)")
    label_axes(
        ax_hist,
        f"largest responsibility; mean {top.mean():.3f}, argmax = nearest mean for "
        f"{100 * agree:.0f} %",
        "max_k r_nk",
        "number of points",
        legend=True,
        loc="upper left",
    )
    ax_hist.title.set_fontsize("small")
    return ax_pts.figure
