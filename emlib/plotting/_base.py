"""What every figure of the course shares: colours, axes, labels, grids of panels, image panels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

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


def resp_colors(resp) -> np.ndarray:
    """RGB colour of each point: the responsibility-weighted mix of the component colours."""
    resp = np.asarray(resp, dtype=np.float64)
    palette = np.array(COMPONENT_COLORS)[np.arange(resp.shape[1]) % len(COMPONENT_COLORS)]
    return np.clip(resp @ palette, 0.0, 1.0)


def image_panel(ax: Axes, image, shape: tuple[int, int], title: str, **title_kw):
    """Draw one flattened image (pixels or probabilities in [0, 1], 0 white, 1 black) on ``ax``,
    without ticks, under ``title``; return the ``AxesImage``."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, **title_kw)
    pixels = np.asarray(image, dtype=np.float64).reshape(shape)
    return ax.imshow(pixels, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
