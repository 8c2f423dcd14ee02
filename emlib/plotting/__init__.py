"""Figures that recur across the notebooks: ``from emlib import plotting; plotting.plot_gmm(...)``.

Every helper draws on a Matplotlib ``Axes`` (created when ``ax`` is None), gives it a title,
axis labels and a legend when there are several series, and returns the ``Axes`` (or the
``Figure`` for multi-panel helpers) so a notebook cell can end with ``plt.show()``. The helpers
only draw: what they show is computed by the model modules (:mod:`emlib.gmm`, :mod:`emlib.em`,
:mod:`emlib.reference`).

Sections (one private module each)
----------------------------------
1. ``_base``: colours, axes and labels, grids of panels, image panels
2. ``_bounds``: notebooks 01-02, Jensen's inequality, the decomposition log p = L + KL
3. ``_mixtures``: notebook 03 onwards, Gaussian mixtures: ellipses, fits, iteration grids,
   log-likelihood curves, density contours, animations
4. ``_kmeans``: notebook 04, clusters, Lloyd's iterations, D² weights, final objectives
5. ``_digits``: notebooks 05-06, images and Bernoulli components, counts, information criteria
"""

from ..em import EMRecorder, EMSnapshot
from ..gmm import log_density as mixture_log_density
from ._base import COMPONENT_COLORS, image_panel, label_axes, new_axes, panel_grid, resp_colors
from ._bounds import plot_decomposition_bars, plot_jensen, plot_lower_bound
from ._digits import (
    plot_bernoulli_component,
    plot_confusion,
    plot_criteria,
    plot_images,
)
from ._kmeans import (
    plot_clusters,
    plot_d2_weights,
    plot_eps_limit,
    plot_final_objectives,
    plot_lloyd_iterations,
)
from ._mixtures import (
    covariance_ellipse,
    em_animation,
    plot_density,
    plot_em_frame,
    plot_em_iterations,
    plot_gmm,
    plot_log_likelihood,
)

# EMRecorder (a run_em callback, in emlib.em) and mixture_log_density (emlib.gmm.log_density) are
# computations, not figures; the notebooks' code cells reach them through plotting, so the names
# stay here.
__all__ = [
    "COMPONENT_COLORS",
    "EMRecorder",
    "EMSnapshot",
    "covariance_ellipse",
    "em_animation",
    "image_panel",
    "label_axes",
    "mixture_log_density",
    "new_axes",
    "panel_grid",
    "plot_bernoulli_component",
    "plot_clusters",
    "plot_confusion",
    "plot_criteria",
    "plot_d2_weights",
    "plot_decomposition_bars",
    "plot_density",
    "plot_em_frame",
    "plot_em_iterations",
    "plot_eps_limit",
    "plot_final_objectives",
    "plot_gmm",
    "plot_images",
    "plot_jensen",
    "plot_lloyd_iterations",
    "plot_log_likelihood",
    "plot_lower_bound",
    "resp_colors",
]
