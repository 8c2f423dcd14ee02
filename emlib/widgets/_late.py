"""Explorers of notebooks 04-06: the eps -> 0 limit, k-means seeding, the components of a
Bernoulli mixture, and model selection over K."""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from .. import _validation as v
from .. import bernoulli, gmm, plotting
from ..exceptions import EmptyComponentWarning
from ..kmeans import KMeans, kmeans_plusplus
from ._explorer import Explorer, _slider

# ---------------------------------------------------------------------------------------------
# 5. Notebooks 04-06: eps -> 0 limit, k-means seeding, Bernoulli components, model selection
# ---------------------------------------------------------------------------------------------


def eps_limit_explorer(X, mu, pi=None, *, log10_eps: float = 0.0) -> Explorer:
    """Shrink the shared variance eps of a spherical mixture; watch the assignments harden.

    The mixture has the means ``mu``, weights ``pi`` (equal by default) and covariance
    ``eps I`` for every component; its responsibilities (eq. (3.4) of notebook 03, computed by
    :func:`emlib.gmm.e_step`) tend to the one-hot k-means assignment as eps -> 0 (eq. (4.5) of
    notebook 04). Left: the points coloured by their responsibilities (blended colours are soft
    assignments). Right: the histogram of each point's largest responsibility.

    Parameters
    ----------
    X : array, shape (n, 2)
    mu : array, shape (K, 2)
    pi : array, shape (K,), optional
    log10_eps : initial value of the slider, log10 of eps (from -3 to 2)
    """
    X = v.check_X(X)
    mu = np.asarray(mu, dtype=np.float64)
    K = mu.shape[0] if mu.ndim else 0
    mu = v.check_means(mu, K, X.shape[1])
    pi = np.full(K, 1.0 / K) if pi is None else v.check_weights(pi, K)
    controls = {"log10_eps": _slider(log10_eps, -3.0, 2.0, 0.1, "log10 ε")}

    def draw(fig: Figure, log10_eps: float) -> None:
        eps = 10.0**log10_eps
        resp, _ = gmm.e_step(X, gmm.GMMParams(pi, mu, np.full(K, eps), "spherical"))
        plotting.plot_eps_limit(X, mu, resp, eps, axes=fig.subplots(1, 2, width_ratios=(1.2, 1)))

    return Explorer(
        controls,
        draw,
        title="The ε → 0 limit: a spherical mixture with covariance ε I turns into k-means",
        figsize=(10.0, 4.2),
    )


def kmeans_init_explorer(X, n_clusters: int, *, seed: int = 0, n_seeds: int = 100) -> Explorer:
    """Random versus k-means++ initialisation of k-means, one seed at a time.

    For each seed, ``'random'`` starts from K distinct samples drawn uniformly
    (``np.random.default_rng(seed).choice(n, K, replace=False)``) and ``'kmeans++'`` from
    :func:`emlib.kmeans.kmeans_plusplus` with ``random_state=seed`` (eq. (4.4) of notebook 04);
    both then run :class:`emlib.kmeans.KMeans` to convergence. The titles compare each final J
    with the best J found over all ``n_seeds`` seeds of both methods (computed once, when the
    explorer is built). Open circles mark the initial centres, crosses the final ones.
    """
    import warnings

    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]

    def initial(init: str, s: int) -> np.ndarray:
        if init == "random":
            return X[np.random.default_rng(s).choice(n, size=n_clusters, replace=False)]
        return kmeans_plusplus(X, n_clusters, random_state=s)[0]

    def run(init: str, s: int) -> tuple[np.ndarray, KMeans]:
        mu0 = initial(init, s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EmptyComponentWarning)
            return mu0, KMeans(n_clusters, init=mu0).fit(X)

    best = min(run(init, s)[1].inertia_ for init in ("random", "kmeans++") for s in range(n_seeds))
    controls = {
        "seed": widgets.IntSlider(
            value=seed, min=0, max=n_seeds - 1, description="seed", continuous_update=False
        )
    }

    def draw(fig: Figure, seed: int) -> None:
        for ax, init in zip(fig.subplots(1, 2, sharex=True, sharey=True), ("random", "kmeans++"),
                            strict=True):
            mu0, km = run(init, seed)
            plotting.plot_clusters(
                X,
                km.labels_,
                km.cluster_centers_,
                ax=ax,
                title=f"{init}: J = {km.inertia_:.1f} = {km.inertia_ / best:.2f} × best",
                centre_label="final centres",
            )
            ax.scatter(
                mu0[:, 0], mu0[:, 1], s=120, facecolors="none", edgecolors="black", lw=1.5,
                label="initial centres",
            )
            ax.legend(fontsize="small", loc="best")

    return Explorer(
        controls,
        draw,
        title=f"k-means from random and k-means++ seeds (best J over {n_seeds} seeds: {best:.1f})",
        figsize=(10.0, 4.4),
    )


def bernoulli_component_explorer(
    X, y, params, *, shape: tuple[int, int] = (8, 8), k: int = 0, n_top: int = 8
) -> Explorer:
    """One component of a fitted Bernoulli mixture at a time, drawn by
    :func:`emlib.plotting.plot_bernoulli_component` (theta_k, its most responsible images, their
    true labels); the slider picks k.

    Parameters
    ----------
    X : array, shape (n, d), entries 0 or 1
    y : array of int, shape (n,), the true labels (used for display only)
    params : BernoulliParams (pi (K,), theta (K, d))
    shape : the image shape, h * w = d
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if int(np.prod(shape)) != params.theta.shape[1]:
        raise ValueError(
            f"shape={tuple(shape)} holds {int(np.prod(shape))} pixels but the components have "
            f"d = {params.theta.shape[1]}; expected h * w = d. Fix: pass shape=(8, 8) for the "
            f"8 x 8 digits or shape=(28, 28) for MNIST."
        )
    resp, _ = bernoulli.e_step(X, params)
    K = resp.shape[1]
    controls = {
        "k": widgets.IntSlider(
            value=k, min=0, max=K - 1, description="component k", continuous_update=False
        )
    }

    def draw(fig: Figure, k: int) -> None:
        plotting.plot_bernoulli_component(X, y, params, resp, k, fig=fig, shape=shape, n_top=n_top)

    return Explorer(
        controls,
        draw,
        title="A Bernoulli mixture, one component at a time",
        figsize=(11.0, 3.8),
    )


def model_selection_explorer(X, fits: Mapping[int, object], curves: Mapping[str, object], *,
                             K: int | None = None) -> Explorer:
    """A slider over K: the mixture fitted with K components beside the criteria curves.

    Parameters
    ----------
    X : array, shape (n, 2)
    fits : mapping K -> fitted GMMParams (e.g. ``GaussianMixture(K).fit(X).params_``)
    curves : mapping name -> array over the sorted keys of ``fits`` (BIC, AIC of eqs. (6.1),
        (6.2) of notebook 06), drawn by :func:`emlib.plotting.plot_criteria`
    K : the initial position (default: the smallest K)
    """
    Ks = sorted(fits)
    for name, values in curves.items():
        if len(values) != len(Ks):
            raise ValueError(
                f"curves[{name!r}] has {len(values)} values but fits has {len(Ks)} values of K "
                f"({Ks}); expected one value per K, in the order of sorted(fits). Fix: compute "
                f"each curve over the same K as fits."
            )
    controls = {
        "K": widgets.IntSlider(
            value=Ks[0] if K is None else K, min=Ks[0], max=Ks[-1], description="K",
            continuous_update=False,
        )
    }

    def draw(fig: Figure, K: int) -> None:
        ax_fit, ax_crit = fig.subplots(1, 2, width_ratios=(1, 1.1))
        params = fits[K]
        resp, ll = gmm.e_step(X, params)
        plotting.plot_gmm(
            X, params, resp=resp, ax=ax_fit, legend=False, title=f"K = {K}: ln p(X | θ) = {ll:.1f}"
        )
        plotting.plot_criteria(Ks, curves, ax=ax_crit)
        ax_crit.axvline(K, color="0.4", ls=":", label=f"shown: K = {K}")
        ax_crit.legend(fontsize="small", loc="best")

    return Explorer(
        controls, draw, title="Choosing K: the fit and the criteria", figsize=(10.5, 4.3)
    )
