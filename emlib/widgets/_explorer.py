"""The Explorer base of :mod:`emlib.widgets`: controls above a figure rendered as a PNG."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

import ipywidgets as widgets
from matplotlib.figure import Figure


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
