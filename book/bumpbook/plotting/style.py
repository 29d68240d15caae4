"""The shared look of every figure of the book: colours, labels, sizes and drawing helpers.

The figure modules (:mod:`~bumpbook.plotting.animation`,
:mod:`~bumpbook.plotting.exercises`) and the chapters' own plotting cells draw
with these, so that a colour, a font
size or a band's hatching means the same thing on every page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import ArrayLike, NDArray

from bumplib.data import unstable_interval
from bumplib.validation import check_sigma_values

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

__all__ = [
    "BAND_ALPHA",
    "COLORS",
    "FIGSIZE",
    "FONTSIZE",
    "LABELS",
    "MAX_FIGURE_WIDTH",
    "SERIES_COLORS",
    "SERIES_MARKERS",
    "SPAN_FOR_LOG",
    "X_AXES",
    "X_AXIS_LABELS",
    "break_at_support_edges",
    "check_positive",
    "check_sigma_list",
    "clip_above",
    "detached_figure",
    "new_axes",
    "set_log_y_if_wide",
    "shade_band",
    "style_axes",
    "true_sigma_lines",
    "vertical_pair",
]

#: Colour of each kind of curve, the same in every figure of the book.
COLORS: Mapping[str, str] = MappingProxyType(
    {
        "bump": "tab:red",  # phi_sigma(x)
        "grad_sigma": "tab:green",  # d(phi)/d(sigma)
        "sigma": "tab:blue",  # x = +-sigma, and learned sigma
        "sqrt_sigma": "tab:purple",  # x = +-sqrt(sigma)
        "reference": "0.3",  # true sigma, identity line
        "loss": "black",
    }
)

#: Legend labels of the curves and lines named in ``COLORS``.
LABELS = MappingProxyType(
    {
        "bump": r"$\varphi_\sigma(x)$",
        "grad_sigma": r"$\partial\varphi_\sigma / \partial\sigma$",
        "sigma": r"$x = \pm\sigma$",
        "sqrt_sigma": r"$x = \pm\sqrt{\sigma}$",
    }
)

#: The widest figure of the book in inches. At the default 100 dpi a figure this wide is
#: 700 px, which a phone's 360 px page shrinks by about half and still shows legibly at
#: ``FONTSIZE``. Wider content is stacked into rows instead (issue 12).
MAX_FIGURE_WIDTH = 7.0

#: Colours and markers of the methods compared in one figure, in order.
SERIES_COLORS = (
    "tab:blue",
    "tab:orange",
    "tab:purple",
    "tab:brown",
    "tab:cyan",
    "tab:olive",
    "tab:pink",
    "tab:gray",
)
SERIES_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

FIGSIZE = (7.0, 4.0)
FONTSIZE = {"title": 12, "label": 11, "tick": 10, "legend": 10}
SPAN_FOR_LOG = 10.0  # a log axis once the values span more than this factor
BAND_ALPHA = 0.15
X_AXES = {"epoch": "epoch", "epochs": "epoch", "step": "step", "steps": "step"}
X_AXIS_LABELS = {
    "epoch": "epochs (passes over the data)",
    "step": "optimizer steps",
}


# --- argument checks ----------------------------------------------------------------------------


def check_sigma_list(values: float | Sequence[float], name: str = "sigmas") -> list[float]:
    """Return one or several widths as a non-empty list of floats ``>= 0``.

    Raises as :func:`bumplib.validation.check_sigma_values` does.
    """
    checked = check_sigma_values(values, name)
    return checked if isinstance(checked, list) else [checked]


def check_positive(value: float, name: str) -> float:
    """Return ``value`` as a float after checking it is finite and ``> 0``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return float(value)


# --- shared drawing helpers ---------------------------------------------------------------------


def detached_figure(
    figsize: tuple[float, float] = FIGSIZE, dpi: float | None = None, layout: str = "constrained"
) -> Figure:
    """Return a new figure that pyplot has already let go of.

    It is made through pyplot, so that a notebook's inline backend is loaded
    and can display it, and closed there at once, so that pyplot never shows
    it a second time.
    """
    fig = plt.figure(figsize=figsize, dpi=dpi, layout=layout)
    plt.close(fig)
    return fig


def new_axes(
    ax: Axes | None = None,
    figsize: tuple[float, float] = FIGSIZE,
    dpi: float | None = None,
    layout: str = "constrained",
) -> tuple[Figure, Axes]:
    """Return ``ax`` and its figure, or a new detached figure and its one axes."""
    if ax is not None:
        return ax.get_figure(root=True), ax
    fig = detached_figure(figsize, dpi, layout)
    return fig, fig.add_subplot()


def style_axes(
    ax: Axes,
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    legend_loc: str = "best",
    legend_ncols: int = 1,
) -> None:
    """Label, title, grid and legend of every axes of the book, at readable sizes.

    ``legend_loc="outside"`` puts the legend to the right of the axes and
    ``legend_loc="below"`` under them (the constrained layout makes room for
    either); "below" keeps a figure narrow, for a phone's page.
    """
    ax.set_xlabel(xlabel, fontsize=FONTSIZE["label"])
    ax.set_ylabel(ylabel, fontsize=FONTSIZE["label"])
    ax.set_title(title, fontsize=FONTSIZE["title"])
    ax.tick_params(labelsize=FONTSIZE["tick"])
    ax.grid(alpha=0.3)
    if legend_loc == "outside":
        where = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0)}
    elif legend_loc == "below":
        # Anchored a fixed distance under the axes: below the tick labels and the x label.
        below = mpl.transforms.offset_copy(
            ax.transAxes,
            fig=ax.get_figure(root=True),
            y=-2.6 * FONTSIZE["label"] - 8,
            units="points",
        )
        where = {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0), "bbox_transform": below}
    else:
        where = {"loc": legend_loc}
    ax.legend(**where, ncols=legend_ncols, fontsize=FONTSIZE["legend"], framealpha=0.9)


def break_at_support_edges(
    x: NDArray[np.float64], sigma: float, *ys: NDArray[np.float64]
) -> tuple[NDArray[np.float64], ...]:
    """Insert a ``nan`` point at ``x = +-sigma`` wherever the grid crosses the support's edge.

    The bump jumps there for ``0 < sigma < 1`` (and for ``sigma > 1``, from
    the exploding band to 0); the ``nan`` stops matplotlib from drawing a
    vertical segment across the jump. Returns ``(x, *ys)`` with the points added.
    """
    inside = np.abs(x) < sigma
    cuts = np.flatnonzero(inside[1:] != inside[:-1]) + 1
    edges = np.copysign(sigma, x[cuts - 1] + x[cuts])
    return (np.insert(x, cuts, edges), *(np.insert(y, cuts, np.nan) for y in ys))


def clip_above(values: NDArray[np.float64], ylim: tuple[float, float]) -> NDArray[np.float64]:
    """Cap ``values`` (which may be ``inf``) 5% above ``ylim``, so that they visibly leave the axes.

    Drawing the cap instead of ``inf`` or ``1e300`` keeps the curve joined up
    to the top edge, and keeps huge numbers out of matplotlib's transforms.
    """
    return np.minimum(values, ylim[1] + 0.05 * (ylim[1] - ylim[0]))


def vertical_pair(
    ax: Axes, at: float, *, color: str, linestyle: str, label: str
) -> tuple[Line2D, Line2D]:
    """Draw the vertical lines ``x = -at`` and ``x = at``, with one legend entry for both."""
    left = ax.axvline(-at, color=color, linestyle=linestyle, linewidth=1.5, label=label)
    right = ax.axvline(at, color=color, linestyle=linestyle, linewidth=1.5)
    return left, right


def shade_band(
    ax: Axes, sigma: float, x_range: tuple[float, float], *, color: str, hatch: str, label: str
) -> bool:
    """Shade ``sqrt(sigma) < |x| < sigma`` within ``x_range``; return whether any of it shows."""
    band = unstable_interval(sigma)
    if band is None:
        return False
    low, high = band
    shown = False
    for a, b in ((-high, -low), (low, high)):
        a, b = max(a, x_range[0]), min(b, x_range[1])
        if a < b:
            ax.axvspan(
                a,
                b,
                facecolor=mpl.colors.to_rgba(color, BAND_ALPHA),
                edgecolor=mpl.colors.to_rgba(color, 0.5),
                hatch=hatch,
                linewidth=0.0,
                label=None if shown else label,
            )
            shown = True
    return shown


def set_log_y_if_wide(ax: Axes, values: ArrayLike) -> None:
    """Use a log y-axis when the finite positive ``values`` span more than a factor 10."""
    values = np.asarray(values, dtype=np.float64)
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size and positive.max() > SPAN_FOR_LOG * positive.min():
        ax.set_yscale("log", nonpositive="mask")


def true_sigma_lines(ax: Axes, true_sigma: float | Sequence[float] | None) -> list[float]:
    """Draw a dashed horizontal line at each true sigma; return their values."""
    if true_sigma is None:
        return []
    values = check_sigma_list(true_sigma, "true_sigma")
    label = r"true $\sigma$" if len(values) == 1 else r"true $\sigma$ (per feature)"
    for i, value in enumerate(values):
        ax.axhline(
            value,
            color=COLORS["reference"],
            linestyle="--",
            linewidth=1.5,
            label=None if i else label,
        )
    return values
