"""ipywidgets explorers, one or more per notebook, each with a static view.

Every explorer is a function returning an :class:`Explorer`: a ``VBox`` of controls above an
``Image`` that holds the current figure as a PNG. The figure is drawn once when the explorer is
built, so a notebook saved with its widget state shows a real figure where no kernel runs (the
website renders saved widget state), and the drawing function behind each explorer is an
ordinary :mod:`emlib.plotting` helper that can be called on its own.

Sections (one private module each)
----------------------------------
1. ``_explorer``: the Explorer base (controls + rendered figure)
2. ``_early``: notebook 01 Jensen explorer, notebook 02 decomposition explorer, notebook 03 EM
   iteration explorer
3. ``_late``: notebooks 04-06, the eps -> 0 limit, k-means seeding, Bernoulli components, model
   selection
"""

from ._early import JENSEN_FUNCTIONS, decomposition_explorer, em_iteration_explorer, jensen_explorer
from ._explorer import Explorer
from ._late import (
    bernoulli_component_explorer,
    eps_limit_explorer,
    kmeans_init_explorer,
    model_selection_explorer,
)

__all__ = [
    "JENSEN_FUNCTIONS",
    "Explorer",
    "bernoulli_component_explorer",
    "decomposition_explorer",
    "em_iteration_explorer",
    "eps_limit_explorer",
    "jensen_explorer",
    "kmeans_init_explorer",
    "model_selection_explorer",
]
