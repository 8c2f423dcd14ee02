"""ipywidgets explorers, one or more per notebook, each with a static view.

Every explorer is a function returning an :class:`Explorer`: a ``VBox`` of controls above an
``Image`` that holds the current figure as a PNG. The figure is drawn once when the explorer is
built, so a notebook saved with its widget state shows a real figure where no kernel runs (the
website renders saved widget state), and the drawing function behind each explorer is an
ordinary :mod:`emlib.plotting` helper that can be called on its own.

Sections
--------
1. The Explorer base (controls + rendered figure)
2. Notebook 01: Jensen explorer
3. Notebook 02: decomposition explorer
4. Notebook 03: EM iteration explorer
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from . import bounds, plotting
from .densities import logsumexp

# ---------------------------------------------------------------------------------------------
# 1. The Explorer base
# ---------------------------------------------------------------------------------------------


class Explorer(widgets.VBox):
    """Controls above a figure that is redrawn whenever a control changes.

    Parameters
    ----------
    controls : mapping name -> value widget (slider, dropdown, ...); their values are passed
        to ``draw`` as keyword arguments
    draw : ``draw(fig, **values)`` draws on an empty :class:`matplotlib.figure.Figure`
    title : shown above the controls and in the plain-text representation
    figsize, dpi : of the rendered PNG

    Attributes
    ----------
    figure : the Figure drawn for the current values (the static view)
    image : the ``ipywidgets.Image`` showing it
    """

    def __init__(
        self,
        controls: Mapping[str, widgets.ValueWidget],
        draw: Callable[..., None],
        *,
        title: str,
        figsize: tuple[float, float] = (9.0, 4.0),
        dpi: int = 80,
    ) -> None:
        self.controls = dict(controls)
        self.title = title
        self._draw = draw
        self._figsize = figsize
        self._dpi = dpi
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.figure: Figure | None = None
        box = widgets.HBox(
            list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")
        )
        super().__init__([widgets.HTML(f"<b>{title}</b>"), box, self.image])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.redraw()

    @property
    def values(self) -> dict:
        """The current value of every control."""
        return {name: c.value for name, c in self.controls.items()}

    def redraw(self) -> Figure:
        """Draw the figure for the current values and show it; return it."""
        # A bare Figure (not pyplot): nothing is registered with the inline backend, so the
        # explorer's figure never shows a second time as a cell output.
        fig = Figure(figsize=self._figsize, dpi=self._dpi, layout="constrained")
        self._draw(fig, **self.values)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=self._dpi)
        self.image.value = buf.getvalue()
        self.figure = fig
        return fig

    def _on_change(self, _change) -> None:
        self.redraw()

    def __repr__(self) -> str:
        state = ", ".join(f"{k}={_short(v)}" for k, v in self.values.items())
        return f"{type(self).__name__}({self.title!r}: {state})"


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else repr(value)


def _slider(
    value: float, lo: float, hi: float, step: float, description: str
) -> widgets.FloatSlider:
    return widgets.FloatSlider(
        value=value,
        min=lo,
        max=hi,
        step=step,
        description=description,
        continuous_update=False,
        readout_format=".2f",
        style={"description_width": "initial"},
        layout=widgets.Layout(width="220px"),
    )


# ---------------------------------------------------------------------------------------------
# 2. Notebook 01: Jensen explorer
# ---------------------------------------------------------------------------------------------

#: The functions offered by :func:`jensen_explorer` (all defined on x > 0).
JENSEN_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "exp(x)   convex": np.exp,
    "x²       convex": np.square,
    "−ln x    convex": lambda x: -np.log(x),
    "ln x     concave": np.log,
    "√x       concave": np.sqrt,
    "|x − 2|  convex, kink at 2": lambda x: np.abs(x - 2.0),
    "2x + 1   affine": lambda x: 2.0 * x + 1.0,
}


def jensen_explorer(
    points: Sequence[float] = (0.5, 1.2, 2.5, 3.6),
    weights: Sequence[float] = (0.4, 0.3, 0.2, 0.1),
    function: str = "ln x     concave",
) -> Explorer:
    """Move four points and their weights; watch ``f(E[X])``, ``E[f(X)]`` and the gap.

    The figure is :func:`emlib.plotting.plot_jensen` (eqs. (1.1)-(1.4) of notebook 01). The
    weight sliders are normalised to sum to 1 (all at 0 means equal weights).
    """
    if function not in JENSEN_FUNCTIONS:
        raise ValueError(
            f"function must be one of {list(JENSEN_FUNCTIONS)}; got {function!r}. "
            f"Fix: pick a key of emlib.widgets.JENSEN_FUNCTIONS."
        )
    if len(points) != 4 or len(weights) != 4:
        raise ValueError(
            f"points and weights must have 4 entries each; got {len(points)} and "
            f"{len(weights)}. Fix: pass four support points and four weights."
        )
    controls: dict[str, widgets.ValueWidget] = {
        "function": widgets.Dropdown(
            options=list(JENSEN_FUNCTIONS), value=function, description="f"
        ),
    }
    for i, x in enumerate(points):
        controls[f"x{i + 1}"] = _slider(float(x), 0.1, 4.0, 0.05, f"x{i + 1}")
    for i, w in enumerate(weights):
        controls[f"w{i + 1}"] = _slider(float(w), 0.0, 1.0, 0.05, f"weight {i + 1}")

    def draw(fig: Figure, function: str, **v) -> None:
        x = np.array([v[f"x{i}"] for i in range(1, 5)])
        raw = np.array([v[f"w{i}"] for i in range(1, 5)])
        w = raw / raw.sum() if raw.sum() > 0 else np.full(4, 0.25)
        plotting.plot_jensen(
            JENSEN_FUNCTIONS[function],
            x,
            w,
            ax=fig.subplots(),
            f_label=function.split()[0],
            x_range=(0.05, 4.1),
        )

    return Explorer(
        controls, draw, title="Jensen's inequality: E[f(X)] versus f(E[X])", figsize=(7.0, 4.5)
    )


# ---------------------------------------------------------------------------------------------
# 3. Notebook 02: decomposition explorer
# ---------------------------------------------------------------------------------------------


def decomposition_explorer(
    log_joint: Callable[[float], np.ndarray],
    theta_grid,
    *,
    theta: float,
    theta_q: float,
    blend: float = 0.0,
    theta_label: str = "θ",
) -> Explorer:
    """Move theta and q; watch ``L(q, theta)``, ``KL(q || p(Z | X, theta))`` and ``ln p(X | theta)``.

    ``q`` is the posterior under ``theta_q`` blended towards the uniform distribution,
    ``q = (1 - blend) p(Z | X, theta_q) + blend / K``, so it can be any posterior (blend 0) or
    something that is no posterior at all. Left: the bars of eq. (2.4) of notebook 02 at
    ``theta``. Right: ``ln p(X | theta')`` and the bound ``L(q, theta')`` over the grid; with
    blend 0 the bound touches the curve at ``theta_q`` (eq. (2.8)).

    Parameters
    ----------
    log_joint : ``log_joint(theta) -> (n, K)`` array of ``ln p(x_i, z_i = k | theta)``
    theta_grid : array, shape (m,), the range of the sliders and of the curves
    theta, theta_q, blend : initial values
    """
    grid = np.asarray(theta_grid, dtype=np.float64)
    joints = [np.asarray(log_joint(t), dtype=np.float64) for t in grid]
    curve = np.array([logsumexp(J, axis=1).sum() for J in joints])
    step = float(grid[1] - grid[0])
    controls = {
        "theta": _slider(theta, grid[0], grid[-1], step, f"{theta_label} (evaluate at)"),
        "theta_q": _slider(theta_q, grid[0], grid[-1], step, f"q = posterior at {theta_label}"),
        "blend": _slider(blend, 0.0, 1.0, 0.05, "blend q → uniform"),
    }

    def draw(fig: Figure, theta: float, theta_q: float, blend: float) -> None:
        J_q = np.asarray(log_joint(theta_q), dtype=np.float64)
        posterior = np.exp(J_q - logsumexp(J_q, axis=1, keepdims=True))
        q = (1.0 - blend) * posterior + blend / posterior.shape[1]
        dec = bounds.decompose(q, log_joint(theta))
        bound = np.array([bounds.elbo(q, J) for J in joints])
        ax_bar, ax_curve = fig.subplots(1, 2, width_ratios=(1.4, 2))
        plotting.plot_decomposition_bars(
            [(f"{theta_label} = {theta:.2f}", dec)], ax=ax_bar, title="ln p = L + KL"
        )
        plotting.plot_lower_bound(
            grid,
            curve,
            bound,
            theta_q,
            ax=ax_curve,
            theta_label=theta_label,
            old_label="θ of q",
            bound_label="L(q, θ')",
            title="ln p(X | θ') and the bound L(q, θ')",
        )
        ax_curve.vlines(
            theta,
            dec.elbo,
            dec.log_likelihood,
            color="C1",
            lw=3,
            label=f"KL at {theta_label} = {dec.kl:.3f}",
        )
        ax_curve.plot([theta], [dec.elbo], "o", color="C0")
        ax_curve.legend(fontsize="small", loc="lower right")

    return Explorer(
        controls, draw, title="ln p(X | θ) = L(q, θ) + KL(q ‖ p(Z | X, θ))", figsize=(10.0, 4.2)
    )


# ---------------------------------------------------------------------------------------------
# 4. Notebook 03: EM iteration explorer
# ---------------------------------------------------------------------------------------------


def em_iteration_explorer(
    X, snapshots: Sequence[plotting.EMSnapshot], *, t: int = 0, title: str = "EM"
) -> Explorer:
    """A slider over the iterations of a recorded EM run (:class:`emlib.plotting.EMRecorder`).

    Each position shows :func:`emlib.plotting.plot_em_frame`: the fit with its covariance
    ellipses and responsibilities beside the log-likelihood curve.
    """
    if not len(snapshots):
        raise ValueError(
            "snapshots is empty; expected the iterates of an EM run. Fix: pass "
            "callback=EMRecorder() to fit or run_em and use recorder.snapshots."
        )
    controls = {
        "t": widgets.IntSlider(
            value=t,
            min=0,
            max=len(snapshots) - 1,
            description="iteration t",
            continuous_update=False,
        ),
    }

    def draw(fig: Figure, t: int) -> None:
        plotting.plot_em_frame(X, snapshots, t, axes=fig.subplots(1, 2), title=title)

    return Explorer(controls, draw, title=f"{title}: one iteration at a time", figsize=(10.0, 4.2))


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
    from . import _validation as v
    from . import gmm

    X = v.check_X(X)
    mu = np.asarray(mu, dtype=np.float64)
    K = mu.shape[0] if mu.ndim else 0
    mu = v.check_means(mu, K, X.shape[1])
    pi = np.full(K, 1.0 / K) if pi is None else v.check_weights(pi, K)
    nearest = ((X[:, None, :] - mu[None]) ** 2).sum(axis=2).argmin(axis=1)
    controls = {"log10_eps": _slider(log10_eps, -3.0, 2.0, 0.1, "log10 ε")}

    def draw(fig: Figure, log10_eps: float) -> None:
        eps = 10.0**log10_eps
        resp, _ = gmm.e_step(X, gmm.GMMParams(pi, mu, np.full(K, eps), "spherical"))
        ax_pts, ax_hist = fig.subplots(1, 2, width_ratios=(1.2, 1))
        plotting.plot_clusters(
            X, centres=mu, resp=resp, ax=ax_pts, title=f"ε = {eps:.3g}: soft assignments"
        )
        top = resp.max(axis=1)
        ax_hist.hist(top, bins=np.linspace(1.0 / K, 1.0, 26), color="C0", label="points")
        agree = float(np.mean(resp.argmax(axis=1) == nearest))
        ax_hist.axvline(1.0, color="black", ls="--", label="one-hot (k-means)")
        plotting.label_axes(
            ax_hist,
            f"largest responsibility; mean {top.mean():.3f}, argmax = nearest mean for "
            f"{100 * agree:.0f} %",
            "max_k r_nk",
            "number of points",
            legend=True,
            loc="upper left",
        )
        ax_hist.title.set_fontsize("small")

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

    from .em import EmptyComponentWarning
    from .kmeans import KMeans, kmeans_plusplus

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
    """One component of a fitted Bernoulli mixture at a time: its means, images, labels.

    Left: theta_k as an image (eq. (5.5) of notebook 05: the responsibility-weighted mean of the
    images). Middle: the ``n_top`` images with the largest responsibility r_ik (eq. (5.4)).
    Right: the true labels ``y`` of the images whose most responsible component is k.

    Parameters
    ----------
    X : array, shape (n, d), entries 0 or 1
    y : array of int, shape (n,), the true labels (used for display only)
    params : BernoulliParams (pi (K,), theta (K, d))
    shape : the image shape, h * w = d
    """
    from . import bernoulli

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if int(np.prod(shape)) != params.theta.shape[1]:
        raise ValueError(
            f"shape={tuple(shape)} holds {int(np.prod(shape))} pixels but the components have "
            f"d = {params.theta.shape[1]}; expected h * w = d. Fix: pass shape=(8, 8) for the "
            f"8 x 8 digits or shape=(28, 28) for MNIST."
        )
    resp, _ = bernoulli.e_step(X, params)
    hard = resp.argmax(axis=1)
    classes = np.unique(y)
    K = resp.shape[1]
    controls = {
        "k": widgets.IntSlider(
            value=k, min=0, max=K - 1, description="component k", continuous_update=False
        )
    }

    def draw(fig: Figure, k: int) -> None:
        cols = max(1, n_top // 2)
        gs = fig.add_gridspec(2, cols + 4)
        ax_theta = fig.add_subplot(gs[:, :2])
        ax_theta.imshow(
            params.theta[k].reshape(shape), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest"
        )
        ax_theta.set_xticks([])
        ax_theta.set_yticks([])
        ax_theta.set_title(f"θ_{k}, π_{k} = {params.pi[k]:.3f}")
        top = np.argsort(-resp[:, k], kind="stable")[:n_top]
        for m, i in enumerate(top):
            ax = fig.add_subplot(gs[m // cols, 2 + m % cols])
            ax.imshow(X[i].reshape(shape), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"r = {resp[i, k]:.2f}", fontsize="x-small")
        ax_bar = fig.add_subplot(gs[:, cols + 2 :])
        counts = np.array([np.sum((hard == k) & (y == c)) for c in classes])
        ax_bar.bar([str(c) for c in classes], counts, color="C0", label=f"{counts.sum()} images")
        plotting.label_axes(
            ax_bar, f"labels in cluster {k}", "true label", "images", legend=True, loc="best"
        )

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
    from . import gmm

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
