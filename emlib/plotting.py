"""Figures that recur across the notebooks.

Every helper draws on a Matplotlib ``Axes`` (created when ``ax`` is None), gives it a title,
axis labels and a legend when there are several series, and returns the ``Axes`` (or the
``Figure`` for multi-panel helpers) so a notebook cell can end with ``plt.show()``.

Sections
--------
1. Shared helpers
2. Notebook 01: Jensen's inequality (chord / hull picture)
3. Notebook 02: the decomposition log p = L + KL (bars, bound curves)
4. Gaussian mixtures: covariance ellipses, fits, iteration grids, log-likelihood curves,
   density contours, animations (notebooks 03 onwards)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, Polygon

from . import bounds
from .gmm import GMMParams, log_density

# ---------------------------------------------------------------------------------------------
# 1. Shared helpers
# ---------------------------------------------------------------------------------------------

#: One colour per mixture component (and per cluster in notebook 04), in a fixed order.
COMPONENT_COLORS = tuple(plt.get_cmap("tab10").colors)


def new_axes(ax: Axes | None = None, figsize: tuple[float, float] = (6.0, 4.0)) -> Axes:
    """Return ``ax``, or the axes of a new figure of size ``figsize`` when ``ax`` is None."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def label_axes(
    ax: Axes, title: str, xlabel: str, ylabel: str, *, legend: bool = False, **legend_kw
) -> Axes:
    """Give ``ax`` its title and axis labels (every figure of the course has them)."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend(**{"fontsize": "small", **legend_kw})
    return ax


# ---------------------------------------------------------------------------------------------
# 2. Notebook 01: Jensen's inequality
# ---------------------------------------------------------------------------------------------


def _hull_polygon(px: np.ndarray, py: np.ndarray) -> np.ndarray | None:
    """Vertices of the convex hull of the points (px, py), or None when it has no area."""
    pts = np.unique(np.column_stack([px, py]), axis=0)
    if len(pts) < 3:
        return None

    # Andrew's monotone chain: lower hull then upper hull of the lexicographically sorted points.
    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    upper: list = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in pts[::-1]:
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    hull = np.array(lower[:-1] + upper[:-1])
    return hull if len(hull) >= 3 else None


def plot_jensen(
    f: Callable[[np.ndarray], np.ndarray],
    points,
    weights,
    *,
    ax: Axes | None = None,
    f_label: str = "f(x)",
    x_range: tuple[float, float] | None = None,
    title: str | None = None,
) -> Axes:
    """The hull picture of Jensen's inequality for a finite distribution.

    Draws the curve ``f``, the points ``(x_i, f(x_i))`` (marker area proportional to the weight),
    their convex hull, and above ``E[X]`` the two numbers that eq. (1.2) of notebook 01 compares:
    ``E[f(X)]`` (the weighted average of the points, which lies in the hull) and ``f(E[X])`` (on
    the curve). The vertical segment between them is the Jensen gap, eq. (1.3). With two points
    and weights (alpha, 1 - alpha) this is the chord picture of convexity, eq. (1.1).

    Parameters
    ----------
    f : callable, vectorised over a 1-D array
    points : array, shape (m,), the support x_1..x_m
    weights : array, shape (m,), probabilities summing to 1
    ax : Axes to draw on (a new figure when None)
    f_label : legend label of the curve
    x_range : x-interval of the curve (default: the points' range with a margin)
    title : default states the gap
    """
    x = np.asarray(points, dtype=np.float64)
    gap = bounds.jensen_gap(f, weights, x)  # validates the weights and shapes
    w = np.asarray(weights, dtype=np.float64)
    fx = np.asarray(f(x), dtype=np.float64)
    mean_x = float(w @ x)
    mean_fx = float(w @ fx)
    f_mean = float(f(np.array([mean_x]))[0])
    ax = new_axes(ax)
    if x_range is None:
        span = max(x.max() - x.min(), 1.0)
        x_range = (x.min() - 0.15 * span, x.max() + 0.15 * span)
    grid = np.linspace(*x_range, 400)
    ax.plot(grid, f(grid), color="black", lw=1.5, label=f_label)
    hull = _hull_polygon(x, fx)
    if hull is not None:
        ax.add_patch(
            Polygon(hull, closed=True, alpha=0.18, color="C0", label="convex hull of the points")
        )
    else:
        order = np.argsort(x)
        ax.plot(x[order], fx[order], color="C0", alpha=0.6, label="chord")
    ax.scatter(x, fx, s=40 + 400 * w, color="C0", zorder=3, label="$(x_i, f(x_i))$, size ∝ $w_i$")
    ax.plot([mean_x, mean_x], [f_mean, mean_fx], color="C3", lw=2.5, label=f"gap = {gap:.4g}")
    ax.scatter([mean_x], [mean_fx], color="C3", marker="o", zorder=4, label="$E[f(X)]$")
    ax.scatter([mean_x], [f_mean], color="C2", marker="s", zorder=4, label="$f(E[X])$")
    ax.axvline(mean_x, color="grey", lw=0.8, ls=":")
    if title is None:
        title = f"Jensen: E[f(X)] − f(E[X]) = {gap:.4g}"
    return label_axes(ax, title, "x", "f(x)", legend=True, loc="best")


# ---------------------------------------------------------------------------------------------
# 3. Notebook 02: the decomposition log p(X | theta) = L(q, theta) + KL(q || p(Z | X, theta))
# ---------------------------------------------------------------------------------------------


def plot_decomposition_bars(
    stages: Sequence[tuple[str, bounds.Decomposition]],
    *,
    ax: Axes | None = None,
    title: str = "ln p(X | θ) = L(q, θ) + KL(q ‖ p(Z | X, θ))",
) -> Axes:
    """One bar per stage: the ELBO below, the KL stacked on it, reaching ``ln p(X | theta)``.

    Eq. (2.4) of notebook 02 as a picture. The log-likelihoods are negative, so the bars grow
    from a common floor below the smallest ELBO; only differences between heights matter.

    Parameters
    ----------
    stages : sequence of (label, Decomposition), e.g. before the E-step, after it, after the
        M-step; each Decomposition from :func:`emlib.bounds.decompose`
    """
    ax = new_axes(ax, figsize=(7.5, 4.2))
    labels = [label for label, _ in stages]
    L = np.array([d.elbo for _, d in stages])
    KL = np.array([d.kl for _, d in stages])
    logp = np.array([d.log_likelihood for _, d in stages])
    span = max(float(logp.max() - L.min()), 1e-3)
    floor = float(L.min() - 0.6 * span)
    pos = np.arange(len(stages))
    ax.bar(pos, L - floor, bottom=floor, width=0.55, color="C0", label="L(q, θ)  (ELBO)")
    ax.bar(pos, KL, bottom=L, width=0.55, color="C1", label="KL(q ‖ p(Z|X,θ))")
    for i in pos:
        ax.hlines(
            logp[i],
            i - 0.38,
            i + 0.38,
            color="black",
            lw=2,
            label="ln p(X | θ)" if i == 0 else None,
        )
        ax.annotate(
            # rounding first, then + 0.0, so that a KL of -1e-17 prints as 0.000, not -0.000
            f"ln p = {logp[i]:.3f}\nL = {L[i]:.3f}\nKL = {np.round(KL[i], 3) + 0.0:.3f}",
            (i, logp[i]),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize="small",
        )
    ax.set_xticks(pos, labels)
    ax.set_ylim(floor, float(logp.max() + 0.9 * span))
    return label_axes(
        ax,
        title,
        "stage of the EM iteration",
        "nats",
        legend=True,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )


def plot_lower_bound(
    theta_grid,
    log_likelihood,
    bound,
    theta_old: float,
    theta_new: float | None = None,
    *,
    ax: Axes | None = None,
    theta_label: str = "θ",
    old_label: str = "θ_old",
    bound_label: str = "L(q, θ) with q = p(Z | X, θ_old)",
    title: str = "The lower bound touches ln p(X | θ) at θ_old",
) -> Axes:
    """The log-likelihood curve and a lower bound ``L(q, theta)`` over a grid of theta.

    Pictures eqs. (2.4)-(2.8) of notebook 02: the bound built at ``theta_old`` lies below the
    curve everywhere and touches it at ``theta_old``; its maximiser is ``theta_new``.

    Parameters
    ----------
    theta_grid : array, shape (m,)
    log_likelihood, bound : arrays, shape (m,), evaluated on the grid
    theta_old, theta_new : positions of the vertical markers
    """
    ax = new_axes(ax)
    theta_grid = np.asarray(theta_grid, dtype=np.float64)
    ax.plot(theta_grid, log_likelihood, color="black", lw=2, label="ln p(X | θ)")
    ax.plot(theta_grid, bound, color="C0", lw=1.5, ls="--", label=bound_label)
    ax.axvline(theta_old, color="C0", lw=0.8, ls=":", label=f"{old_label} = {theta_old:.3f}")
    if theta_new is not None:
        ax.axvline(theta_new, color="C3", lw=0.8, ls=":", label=f"θ_new = {theta_new:.3f}")
    lo = float(np.min(log_likelihood))
    hi = float(np.max(log_likelihood))
    ax.set_ylim(lo - 0.6 * (hi - lo), hi + 0.1 * (hi - lo))
    return label_axes(ax, title, theta_label, "nats", legend=True, loc="lower right")


# ---------------------------------------------------------------------------------------------
# 4. Gaussian mixtures (notebook 03 onwards)
# ---------------------------------------------------------------------------------------------


class EMSnapshot(NamedTuple):
    """One iterate of an EM run: parameters theta_t, their responsibilities and log-likelihood."""

    t: int
    params: Any
    resp: np.ndarray
    log_likelihood: float


class EMRecorder:
    """A ``callback`` for :func:`emlib.em.run_em` and ``fit(X, callback=...)`` that keeps iterates.

    ``recorder.snapshots[t]`` is the :class:`EMSnapshot` of iteration t (t = 0 is the start).
    """

    def __init__(self) -> None:
        self.snapshots: list[EMSnapshot] = []

    def __call__(self, t: int, params: Any, resp: np.ndarray, value: float) -> None:
        self.snapshots.append(EMSnapshot(int(t), params, np.array(resp), float(value)))

    def __repr__(self) -> str:
        return f"EMRecorder({len(self.snapshots)} snapshots)"


def full_covariances(Sigma, covariance_type: str, n_components: int, n_features: int) -> np.ndarray:
    """Any covariance parameterisation as (K, d, d) matrices (eq. (3.8)-(3.9) of notebook 03).

    ``full`` (K, d, d) is returned as is, ``diag`` (K, d) becomes diagonal matrices,
    ``spherical`` (K,) becomes sigma_k^2 I, ``tied`` (d, d) is repeated K times.
    """
    S = np.asarray(Sigma, dtype=np.float64)
    K, d = n_components, n_features
    if covariance_type == "full":
        return S.reshape(K, d, d)
    if covariance_type == "diag":
        return np.einsum("kd,de->kde", S, np.eye(d))
    if covariance_type == "spherical":
        return S[:, None, None] * np.eye(d)
    if covariance_type == "tied":
        return np.broadcast_to(S, (K, d, d)).copy()
    raise ValueError(
        f"covariance_type must be one of 'full', 'diag', 'spherical', 'tied'; got "
        f"{covariance_type!r}. Fix: use the covariance_type of the params."
    )


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


def resp_colors(resp) -> np.ndarray:
    """RGB colour of each point: the responsibility-weighted mix of the component colours."""
    resp = np.asarray(resp, dtype=np.float64)
    palette = np.array(COMPONENT_COLORS)[np.arange(resp.shape[1]) % len(COMPONENT_COLORS)]
    return np.clip(resp @ palette, 0.0, 1.0)


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


def panel_grid(
    n_panels: int, ncols: int, panel_size: float, *, extra: tuple[float, float] = (0.0, 0.0), **kw
) -> tuple[Figure, list[Axes]]:
    """A figure of ``n_panels`` axes in rows of ``ncols``; unused cells of the grid are hidden.

    ``extra`` adds (width, height) in inches (room for a colour bar or a title); other keywords
    go to ``plt.subplots`` (e.g. ``sharex=True``). Returns the figure and the used axes in order.
    """
    nrows = -(-n_panels // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(panel_size * ncols + extra[0], panel_size * nrows + extra[1]),
        layout="constrained",
        squeeze=False,
        **kw,
    )
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n_panels])


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


def mixture_log_density(points, params) -> np.ndarray:
    """``ln p(x) = logsumexp_k (ln pi_k + ln N(x | mu_k, Sigma_k))`` at each point, shape (m,).

    Eq. (3.2) of notebook 03 in log space (eq. (3.10)).
    """
    if not isinstance(params, GMMParams):
        ctype = getattr(params, "covariance_type", "full")
        params = GMMParams(params.pi, params.mu, params.Sigma, ctype)
    return log_density(points, params)


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
    logp = mixture_log_density(np.column_stack([G0.ravel(), G1.ravel()]), params)
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


# ---------------------------------------------------------------------------------------------
# 5. Notebooks 04-06: k-means, Bernoulli mixtures and the digits, EM in practice
# ---------------------------------------------------------------------------------------------


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


def d2_probabilities(X, chosen) -> np.ndarray:
    """The D² sampling probabilities of the next k-means++ centre, shape (n,).

    ``p_i = D(x_i)^2 / sum_j D(x_j)^2`` with ``D(x)`` the distance to the nearest centre among
    ``X[chosen]``: eq. (4.4) of notebook 04 (what :func:`emlib.kmeans.kmeans_plusplus` draws
    from). All zeros when every sample sits on a chosen centre.
    """
    X = np.asarray(X, dtype=np.float64)
    C = X[np.asarray(chosen, dtype=int)]
    d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2).min(axis=1)
    total = d2.sum()
    return d2 / total if total > 0 else np.zeros_like(d2)


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


def plot_images(
    images,
    *,
    shape: tuple[int, int] = (8, 8),
    titles: Sequence[str] | None = None,
    ncols: int = 10,
    panel_size: float = 1.1,
    suptitle: str = "Images",
    cmap: str = "gray_r",
    vmin: float = 0.0,
    vmax: float = 1.0,
    colorbar: bool = False,
) -> Figure:
    """A grid of images from flattened rows: binary digits, or Bernoulli means theta_k.

    Parameters
    ----------
    images : array, shape (m, h * w), one flattened image per row (or (m, h, w))
    shape : (h, w), e.g. (8, 8) for scikit-learn's digits, (28, 28) for MNIST
    titles : one short title per image
    vmin, vmax : the grey scale (0 white, 1 black with ``gray_r``): pixels and probabilities
    colorbar : add one shared colour bar (the meaning of a grey level)
    """
    imgs = np.asarray(images, dtype=np.float64)
    pixels = int(np.prod(shape))
    if imgs.ndim == 0 or imgs.size == 0 or imgs.size % pixels or imgs.shape[-1] not in (
        pixels,
        shape[-1],
    ):
        raise ValueError(
            f"images must hold whole images of shape {tuple(shape)} ({pixels} pixels each), one "
            f"flattened image per row; got an array of shape {np.shape(images)}. Fix: pass "
            f"shape=(h, w) with h * w equal to the length of a row, e.g. shape=(28, 28) for 784."
        )
    imgs = imgs.reshape(-1, *shape)
    m = len(imgs)
    ncols = max(1, min(ncols, m))
    fig, axes = panel_grid(m, ncols, panel_size, extra=(0.8 if colorbar else 0.0, 0.5))
    im = None
    for k, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        im = ax.imshow(imgs[k], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[k], fontsize="small")
    if colorbar and im is not None:
        fig.colorbar(im, ax=axes, shrink=0.8, label="value")
    fig.suptitle(suptitle)
    return fig


def plot_confusion(
    table,
    *,
    row_labels: Sequence[Any] | None = None,
    col_labels: Sequence[Any] | None = None,
    ax: Axes | None = None,
    title: str = "Confusion matrix",
    xlabel: str = "predicted",
    ylabel: str = "true",
    cmap: str = "Blues",
) -> Axes:
    """A table of counts as a heat map, every cell annotated with its count.

    Parameters
    ----------
    table : array of counts, shape (r, c), e.g. ``sklearn.metrics.confusion_matrix`` output
        (rows true classes, columns predicted ones) or clusters against labels
    row_labels, col_labels : tick labels (default 0..r-1 and 0..c-1)
    """
    T = np.asarray(table)
    r, c = T.shape
    ax = new_axes(ax, figsize=(0.45 * c + 2.2, 0.45 * r + 1.6))
    im = ax.imshow(T, cmap=cmap, aspect="auto")
    ax.figure.colorbar(im, ax=ax, label="count")
    ax.set_xticks(range(c), col_labels if col_labels is not None else range(c))
    ax.set_yticks(range(r), row_labels if row_labels is not None else range(r))
    threshold = T.max() / 2.0 if T.size else 0.0
    for a in range(r):
        for b in range(c):
            if T[a, b]:
                ax.text(
                    b,
                    a,
                    f"{T[a, b]:g}",
                    ha="center",
                    va="center",
                    fontsize="x-small",
                    color="white" if T[a, b] > threshold else "black",
                )
    return label_axes(ax, title, xlabel, ylabel)


def plot_criteria(
    Ks,
    curves: Mapping[str, Any],
    *,
    ax: Axes | None = None,
    title: str = "Model selection: information criteria against K",
    ylabel: str = "criterion (lower is better)",
) -> Axes:
    """Information criteria (BIC, AIC, ...) against the number of components, minima marked.

    Parameters
    ----------
    Ks : array of int, shape (m,)
    curves : mapping name -> array of shape (m,), e.g. ``{"BIC": ..., "AIC": ...}`` of
        eqs. (6.1) and (6.2) of notebook 06
    """
    Ks = np.asarray(Ks)
    ax = new_axes(ax, figsize=(6.0, 4.0))
    for n, (name, values) in enumerate(curves.items()):
        v = np.asarray(values, dtype=np.float64)
        color = f"C{n}"
        ax.plot(Ks, v, marker="o", color=color, label=name)
        best = int(np.argmin(v))
        ax.plot(
            Ks[best], v[best], marker="*", ms=16, color=color, mec="black",
            label=f"{name} minimum: K = {Ks[best]}",
        )
    ax.set_xticks(Ks)
    return label_axes(ax, title, "number of components K", ylabel, legend=True, loc="best")
