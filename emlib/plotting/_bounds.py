"""Notebooks 01 and 02: Jensen's inequality (chord and hull), the decomposition
log p(X | theta) = L(q, theta) + KL(q || p(Z | X, theta)) as bars, and the lower-bound curves."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Polygon

from .. import bounds
from ._base import label_axes, new_axes


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
