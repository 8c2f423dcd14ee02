"""Notebook 03 onwards, Gaussian mixtures: covariance ellipses, fits, grids of EM iterations,
log-likelihood curves, density contours, frames and animations of a recorded run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from ..em import EMSnapshot
from ..gmm import GMMParams, full_covariances, log_density
from ._base import COMPONENT_COLORS, label_axes, new_axes, panel_grid, resp_colors


def covariance_ellipse(
    mean, cov, *, ax: Axes, n_std: float = 2.0, dims: tuple[int, int] = (0, 1), **kwargs
) -> Ellipse:
    """Add the ellipse ``(x - mean)^T cov^{-1} (x - mean) = n_std^2`` in the plane ``dims``.

    Its axes are the eigenvectors of the 2 x 2 block of ``cov``, with half-lengths
    ``n_std * sqrt(eigenvalue)``; for a 2-D Gaussian, n_std = 1, 2, 3 enclose 39 %, 86 % and
    99 % of the mass.
    """
    i, j = dims
    C = np.asarray(cov, dtype=np.float64)[np.ix_([i, j], [i, j])]
    vals, vecs = np.linalg.eigh(C)
    vals = np.clip(vals, 0.0, None)
    angle = float(np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1])))
    width, height = 2.0 * n_std * np.sqrt(vals[::-1])
    m = np.asarray(mean, dtype=np.float64)
    patch = Ellipse((m[i], m[j]), width, height, angle=angle, **{"fill": False, **kwargs})
    ax.add_patch(patch)
    return patch


def _params_arrays(params) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(pi, mu, Sigma as (K, d, d), covariance_type) of a GMMParams-like object."""
    pi = np.asarray(params.pi, dtype=np.float64)
    mu = np.asarray(params.mu, dtype=np.float64)
    mu = mu.reshape(len(pi), -1)
    ctype = getattr(params, "covariance_type", "full")
    return pi, mu, full_covariances(params.Sigma, ctype, *mu.shape), ctype


def plot_gmm(
    X,
    params,
    *,
    resp=None,
    ax: Axes | None = None,
    title: str = "Gaussian mixture",
    n_std: Sequence[float] = (1.0, 2.0),
    dims: tuple[int, int] = (0, 1),
    legend: bool = True,
) -> Axes:
    """Data and a Gaussian mixture: points coloured by responsibility, means, covariance ellipses.

    Parameters
    ----------
    X : array, shape (n, d), d >= 2 (the plane ``dims`` is drawn)
    params : GMMParams (or any object with pi (K,), mu (K, d), Sigma, covariance_type)
    resp : array, shape (n, K), optional; points are grey without it. A point's colour mixes
        the component colours by its responsibilities r_ik (eq. (3.4) of notebook 03), so soft
        assignments show as blended colours.
    n_std : the ellipses drawn per component (Mahalanobis radii)
    """
    X = np.asarray(X, dtype=np.float64)
    pi, mu, S, _ = _params_arrays(params)
    ax = new_axes(ax, figsize=(5.0, 4.5))
    i, j = dims
    colors = "0.6" if resp is None else resp_colors(resp)
    ax.scatter(X[:, i], X[:, j], s=8, c=colors, alpha=0.7, linewidths=0)
    for k in range(len(pi)):
        color = COMPONENT_COLORS[k % len(COMPONENT_COLORS)]
        for r, n in enumerate(n_std):
            covariance_ellipse(
                mu[k],
                S[k],
                ax=ax,
                n_std=n,
                dims=dims,
                edgecolor=color,
                lw=2.0 - 0.6 * r,
                label=f"k = {k + 1}, π = {pi[k]:.2f}" if r == 0 else None,
            )
        ax.scatter(mu[k, i], mu[k, j], marker="X", s=80, color=color, edgecolors="black", zorder=4)
    ax.set_aspect("equal", adjustable="box")
    return label_axes(ax, title, f"$x_{i + 1}$", f"$x_{j + 1}$", legend=legend, loc="best")


def plot_em_iterations(
    X,
    snapshots: Sequence[EMSnapshot] | Mapping[int, EMSnapshot],
    iterations: Sequence[int],
    *,
    ncols: int = 4,
    panel_size: float = 3.0,
    suptitle: str = "EM for a Gaussian mixture, iteration by iteration",
) -> Figure:
    """A grid of :func:`plot_gmm` panels, one per requested iteration of a recorded run.

    Parameters
    ----------
    X : array, shape (n, d)
    snapshots : from :class:`EMRecorder` (indexed by t)
    iterations : which t to draw, e.g. (0, 1, 2, 3, 4, 5, 6, 20)
    """
    fig, axes = panel_grid(len(iterations), ncols, panel_size, sharex=True, sharey=True)
    for ax, t in zip(axes, iterations, strict=True):
        snap = snapshots[t]
        plot_gmm(
            X,
            snap.params,
            resp=snap.resp,
            ax=ax,
            legend=False,
            title=f"t = {t}: ln p = {snap.log_likelihood:.1f}"
            if t
            else f"start: ln p = {snap.log_likelihood:.1f}",
        )
    fig.suptitle(suptitle)
    return fig


def plot_log_likelihood(
    values,
    *,
    ax: Axes | None = None,
    label: str | None = None,
    per_sample: int | None = None,
    title: str = "Log-likelihood per EM iteration",
    ylabel: str = "ln p(X | θ_t)",
    marker: str = "o",
) -> Axes:
    """The log-likelihood (or any EM objective) against the iteration t = 0, 1, 2, ...

    Call repeatedly on the same ``ax`` with a ``label`` to compare runs. ``per_sample=n``
    divides by the number of samples (the scale on which ``tol`` is tested).
    """
    y = np.asarray(values, dtype=np.float64)
    if per_sample:
        y = y / per_sample
        ylabel = f"{ylabel} / n"
    ax = new_axes(ax)
    ax.plot(np.arange(len(y)), y, marker=marker, ms=3, label=label)
    return label_axes(ax, title, "iteration t", ylabel, legend=label is not None, loc="lower right")


def plot_density(
    X,
    params,
    *,
    ax: Axes | None = None,
    resolution: int = 120,
    title: str = "Fitted mixture as a density estimator",
    margin: float = 0.15,
) -> Axes:
    """Filled contours of ``ln p(x)`` of a 2-D Gaussian mixture with the data on top."""
    X = np.asarray(X, dtype=np.float64)
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = margin * (hi - lo)
    g0 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    g1 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    G0, G1 = np.meshgrid(g0, g1)
    if not isinstance(params, GMMParams):  # any object with pi, mu, Sigma (and covariance_type)
        ctype = getattr(params, "covariance_type", "full")
        params = GMMParams(params.pi, params.mu, params.Sigma, ctype)
    logp = log_density(np.column_stack([G0.ravel(), G1.ravel()]), params)
    ax = new_axes(ax, figsize=(5.5, 4.5))
    top = float(logp.max())
    cs = ax.contourf(
        G0,
        G1,
        logp.reshape(G0.shape),
        levels=np.linspace(top - 12, top, 13),
        cmap="viridis",
        extend="min",
    )
    ax.figure.colorbar(cs, ax=ax, label="ln p(x)")
    ax.scatter(X[:, 0], X[:, 1], s=4, color="white", alpha=0.6, linewidths=0, label="data")
    return label_axes(ax, title, "$x_1$", "$x_2$", legend=True, loc="upper right")


def plot_em_frame(
    X,
    snapshots: Sequence[EMSnapshot],
    t: int,
    *,
    axes: Sequence[Axes] | None = None,
    title: str = "EM",
) -> Figure:
    """Iteration ``t`` of a recorded run: the fit beside the log-likelihood curve, t marked.

    The frame of :func:`em_animation` and of the notebook 03 iteration explorer. The axis limits
    of the fit panel are those of the data, so frames line up.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9.0, 4.0), layout="constrained")
    ax_fit, ax_ll = axes
    X = np.asarray(X, dtype=np.float64)
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0))
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    snap = snapshots[t]
    plot_gmm(X, snap.params, resp=snap.resp, ax=ax_fit, legend=False, title=f"{title}: t = {t}")
    ax_fit.set_xlim(lo[0], hi[0])
    ax_fit.set_ylim(lo[1], hi[1])
    ll = np.array([s.log_likelihood for s in snapshots])
    plot_log_likelihood(ll, ax=ax_ll, label="ln p(X | θ_t)", title="Log-likelihood, never falling")
    ax_ll.plot([t], [ll[t]], "o", color="C3", ms=9, label=f"t = {t}: {ll[t]:.2f}")
    ax_ll.legend(fontsize="small", loc="lower right")
    return ax_fit.figure


def em_animation(
    X,
    snapshots: Sequence[EMSnapshot],
    iterations: Sequence[int] | None = None,
    *,
    dpi: int = 55,
    interval: int = 600,
    figsize: tuple[float, float] = (7.0, 3.0),
    title: str = "EM",
    frame_format: str = "jpeg",
) -> str:
    """A scrubbable JavaScript animation of a recorded EM run, as an HTML string.

    Each frame is :func:`plot_em_frame`. Display it with
    ``IPython.display.HTML(em_animation(...))``; it plays in the browser without a kernel. Every
    frame is embedded as an image, so keep ``iterations`` and ``dpi`` small; JPEG frames are
    about half the size of PNG ones for scatter plots (``frame_format='png'`` for sharp lines).
    """
    import matplotlib
    from matplotlib.animation import FuncAnimation

    if iterations is None:
        iterations = [s.t for s in snapshots]
    fig, axes = plt.subplots(1, 2, figsize=figsize, dpi=dpi, layout="constrained")

    def draw(t: int) -> None:
        for ax in axes:
            ax.clear()
        plot_em_frame(X, snapshots, t, axes=axes, title=title)

    anim = FuncAnimation(fig, draw, frames=list(iterations), interval=interval)
    with matplotlib.rc_context({"animation.frame_format": frame_format}):
        html = anim.to_jshtml(default_mode="once")
    plt.close(fig)
    return html
