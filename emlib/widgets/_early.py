"""Explorers of notebooks 01-03: Jensen's inequality, the decomposition log p = L + KL, and a
recorded EM run, one iteration at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from .. import bounds, plotting
from ..densities import logsumexp
from ._explorer import Explorer, _slider

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
