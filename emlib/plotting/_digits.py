"""Notebooks 05 and 06: grids of binary images and Bernoulli means, one component of a fitted
Bernoulli mixture, tables of counts, and information criteria against K."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._base import image_panel, label_axes, new_axes, panel_grid


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


def plot_bernoulli_component(
    X, y, params, resp, k: int, *, fig: Figure, shape: tuple[int, int] = (8, 8), n_top: int = 8
) -> Figure:
    """One component of a fitted Bernoulli mixture: its means, its images, their labels.

    Left: theta_k as an image (eq. (5.5) of notebook 05: the responsibility-weighted mean of the
    images). Middle: the ``n_top`` images with the largest responsibility r_ik (eq. (5.4)).
    Right: the true labels ``y`` of the images whose most responsible component is k.

    Parameters
    ----------
    X : array, shape (n, d), entries 0 or 1
    y : array of int, shape (n,), the true labels (for display only)
    params : BernoulliParams (pi (K,), theta (K, d))
    resp : array, shape (n, K), the responsibilities of ``params``
    k : the component drawn
    fig : the (empty) figure to draw on
    shape : the image shape, h * w = d
    """
    y = np.asarray(y)
    cols = max(1, n_top // 2)
    gs = fig.add_gridspec(2, cols + 4)
    image_panel(fig.add_subplot(gs[:, :2]), params.theta[k], shape, f"θ_{k}, π_{k} = {params.pi[k]:.3f}")
    top = np.argsort(-resp[:, k], kind="stable")[:n_top]
    for m, i in enumerate(top):
        ax = fig.add_subplot(gs[m // cols, 2 + m % cols])
        image_panel(ax, X[i], shape, f"r = {resp[i, k]:.2f}", fontsize="x-small")
    ax_bar = fig.add_subplot(gs[:, cols + 2 :])
    classes = np.unique(y)
    hard = resp.argmax(axis=1)
    counts = np.array([np.sum((hard == k) & (y == c)) for c in classes])
    ax_bar.bar([str(c) for c in classes], counts, color="C0", label=f"{counts.sum()} images")
    label_axes(ax_bar, f"labels in cluster {k}", "true label", "images", legend=True, loc="best")
    return fig
