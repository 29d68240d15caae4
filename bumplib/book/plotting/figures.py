"""Static figures of the book: the bump family, one bump with its sigma-derivative, training.

Every value drawn comes from the NumPy reference (:mod:`bumplib.reference`
and :func:`~bumplib.unstable_interval`); nothing here re-derives the
formula. Each function returns a :class:`~matplotlib.figure.Figure` and never
calls ``plt.show()``. A figure made here is detached from pyplot as soon as it
is created (``plt.close``), so a notebook shows it exactly once, when it is the
value of a cell (or through ``display(fig)``); in a script, use
``fig.savefig``. Given an ``ax``, a function draws into it and returns the
figure that holds it, which stays the caller's to show or close.

The colours are the same in every figure (see ``COLORS``): the bump is
red, its derivative with respect to sigma green, lines at ``x = +-sigma``
blue, lines at ``x = +-sqrt(sigma)`` purple.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import ArrayLike, NDArray

from bumplib.callbacks import SigmaHistory
from bumplib.data import unstable_interval
from bumplib.reference import bump, bump_grad_sigma, unstable_mask
from bumplib.training import FitResult
from bumplib.validation import check_count, check_range, check_sigma, check_sigma_list

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

__all__ = [
    "COLORS",
    "plot_bump_and_gradient",
    "plot_bump_family",
    "plot_recovery_table_figure",
    "plot_sigma_trajectories",
    "plot_training",
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
_LABELS = MappingProxyType(
    {
        "bump": r"$\phi_\sigma(x)$",
        "grad_sigma": r"$\partial\phi_\sigma / \partial\sigma$",
        "sigma": r"$x = \pm\sigma$",
        "sqrt_sigma": r"$x = \pm\sqrt{\sigma}$",
    }
)

#: Colours and markers of the methods compared in one figure, in order.
_SERIES_COLORS = (
    "tab:blue",
    "tab:orange",
    "tab:purple",
    "tab:brown",
    "tab:cyan",
    "tab:olive",
    "tab:pink",
    "tab:gray",
)
_SERIES_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

_FIGSIZE = (7.0, 4.0)
_FONTSIZE = {"title": 12, "label": 11, "tick": 10, "legend": 10}
_SPAN_FOR_LOG = 10.0  # a log axis once the values span more than this factor
_BAND_ALPHA = 0.15
_HATCHES = ("//", "\\\\", "xx", "..")  # tell apart the bands of several widths
_X_AXES = {"epoch": "epoch", "epochs": "epoch", "step": "step", "steps": "step"}
_X_AXIS_LABELS = {
    "epoch": "epochs (passes over the data)",
    "step": "optimizer steps",
}


# --- argument checks ----------------------------------------------------------------------------


def _check_positive(value: float, name: str) -> float:
    """Return ``value`` as a float after checking it is finite and ``> 0``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return float(value)


# --- shared drawing helpers ---------------------------------------------------------------------


def _detached_figure(
    figsize: tuple[float, float] = _FIGSIZE, dpi: float | None = None, layout: str = "constrained"
) -> Figure:
    """Return a new figure that pyplot has already let go of.

    It is made through pyplot, so that a notebook's inline backend is loaded
    and can display it, and closed there at once, so that pyplot never shows
    it a second time.
    """
    fig = plt.figure(figsize=figsize, dpi=dpi, layout=layout)
    plt.close(fig)
    return fig


def _new_axes(
    ax: Axes | None = None,
    figsize: tuple[float, float] = _FIGSIZE,
    dpi: float | None = None,
    layout: str = "constrained",
) -> tuple[Figure, Axes]:
    """Return ``ax`` and its figure, or a new detached figure and its one axes."""
    if ax is not None:
        return ax.get_figure(root=True), ax
    fig = _detached_figure(figsize, dpi, layout)
    return fig, fig.add_subplot()


def _style_axes(
    ax: Axes,
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    legend_loc: str = "best",
    legend_ncols: int = 1,
) -> None:
    """Label, title, grid and legend of every axes of the book, at readable sizes.

    ``legend_loc="outside"`` puts the legend to the right of the axes (the
    constrained layout makes room for it).
    """
    ax.set_xlabel(xlabel, fontsize=_FONTSIZE["label"])
    ax.set_ylabel(ylabel, fontsize=_FONTSIZE["label"])
    ax.set_title(title, fontsize=_FONTSIZE["title"])
    ax.tick_params(labelsize=_FONTSIZE["tick"])
    ax.grid(alpha=0.3)
    where = (
        {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0)}
        if legend_loc == "outside"
        else {"loc": legend_loc}
    )
    ax.legend(**where, ncols=legend_ncols, fontsize=_FONTSIZE["legend"], framealpha=0.9)


def _break_at_support_edges(
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


def _clip_above(values: NDArray[np.float64], ylim: tuple[float, float]) -> NDArray[np.float64]:
    """Cap ``values`` (which may be ``inf``) 5% above ``ylim``, so that they visibly leave the axes.

    Drawing the cap instead of ``inf`` or ``1e300`` keeps the curve joined up
    to the top edge, and keeps huge numbers out of matplotlib's transforms.
    """
    return np.minimum(values, ylim[1] + 0.05 * (ylim[1] - ylim[0]))


def _vertical_pair(
    ax: Axes, at: float, *, color: str, linestyle: str, label: str
) -> tuple[Line2D, Line2D]:
    """Draw the vertical lines ``x = -at`` and ``x = at``, with one legend entry for both."""
    left = ax.axvline(-at, color=color, linestyle=linestyle, linewidth=1.5, label=label)
    right = ax.axvline(at, color=color, linestyle=linestyle, linewidth=1.5)
    return left, right


def _shade_band(
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
                facecolor=mpl.colors.to_rgba(color, _BAND_ALPHA),
                edgecolor=mpl.colors.to_rgba(color, 0.5),
                hatch=hatch,
                linewidth=0.0,
                label=None if shown else label,
            )
            shown = True
    return shown


def _set_log_y_if_wide(ax: Axes, values: ArrayLike) -> None:
    """Use a log y-axis when the finite positive ``values`` span more than a factor 10."""
    values = np.asarray(values, dtype=np.float64)
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size and positive.max() > _SPAN_FOR_LOG * positive.min():
        ax.set_yscale("log", nonpositive="mask")


def _true_sigma_lines(ax: Axes, true_sigma: float | Sequence[float] | None) -> list[float]:
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


def _records(
    result: FitResult | SigmaHistory, x_axis: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], str]:
    """Return ``(x, sigmas, losses, x_label)`` of a fit; ``sigmas`` has shape ``(records, n)``.

    ``x_axis`` is ``"epoch(s)"`` or ``"step(s)"``. For a :class:`~bumplib.FitResult`,
    epochs are ``steps * result.epochs / result.steps[-1]``; for a
    :class:`~bumplib.SigmaHistory` that records once per epoch, the record index.
    """
    axis = _X_AXES.get(x_axis) if isinstance(x_axis, str) else None
    if axis is None:
        raise ValueError(f"the x-axis must be 'epochs' or 'steps', got {x_axis!r}.")
    if isinstance(result, FitResult):
        sigmas, losses = result.history, result.losses
    elif isinstance(result, SigmaHistory):
        sigmas, losses = result.sigmas, result.losses
    else:
        raise TypeError(
            f"expected a bumplib FitResult or SigmaHistory, got {type(result).__name__}."
        )
    steps = np.asarray(result.steps, dtype=np.float64)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    if sigmas.size == 0:
        raise ValueError("the fit has no records yet: train with it (or fit) first.")
    sigmas = sigmas.reshape(len(sigmas), -1)
    if not len(sigmas) == len(losses) == len(steps):
        raise ValueError(
            f"inconsistent records: {len(sigmas)} sigmas, {len(losses)} losses, "
            f"{len(steps)} step counts."
        )
    if axis == "step":
        x = steps
    elif isinstance(result, FitResult):
        x = steps * result.epochs / steps[-1] if steps[-1] > 0 else steps
    elif result.every_n_batches is None:
        x = np.arange(len(steps), dtype=np.float64)
    else:
        raise ValueError(
            "this SigmaHistory records every few batches, so its records are not epochs: "
            "pass 'steps' as the x-axis."
        )
    return x, sigmas, losses, _X_AXIS_LABELS[axis]


# --- figures ------------------------------------------------------------------------------------


def plot_bump_family(
    sigmas: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0),
    x_range: tuple[float, float] = (-2.5, 2.5),
    num: int = 2001,
    ax: Axes | None = None,
) -> Figure:
    """Plot ``phi_sigma(x)`` for several widths on one axes.

    For ``0 < sigma < 1`` the bump jumps from ``exp(-1 / (1 - sigma))`` to 0
    at ``|x| = sigma``; the curve is broken there, not joined by a vertical
    segment. For ``sigma > 1`` the formula explodes on ``sqrt(sigma) < |x| <
    sigma`` (values above 1, up to ``inf``): those values are not drawn, and
    the band is shaded instead. Elsewhere ``phi <= exp(-1)``, so the y-axis
    shows ``[-0.02, 0.45]``.

    Args:
        sigmas: Widths ``>= 0``, at least one.
        x_range: ``(min, max)`` of the inputs shown.
        num: Number of grid points (before the breaks are added).
        ax: Axes to draw into; a new figure when None.

    Returns:
        The figure.

    Raises:
        ValueError: for no width, a negative or non-finite width, a bad
            ``x_range`` or ``num < 2``.

    """
    sigmas = check_sigma_list(sigmas, "sigmas")
    x_range = check_range(x_range, "x_range")
    num = check_count(num, "num", 2)
    fig, ax = _new_axes(ax)
    x = np.linspace(*x_range, num)
    shades = mpl.colormaps["Reds"](np.linspace(0.45, 1.0, len(sigmas)))
    colors = [mpl.colors.to_hex(shade) for shade in shades]
    for sigma, color in zip(sigmas, colors, strict=True):
        y = np.where(unstable_mask(x, sigma), np.nan, bump(x, sigma))
        ax.plot(
            *_break_at_support_edges(x, sigma, y), color=color, lw=2, label=rf"$\sigma$ = {sigma:g}"
        )
    # The bands after all the curves, so that the legend lists them last.
    exploding = [(s, c) for s, c in zip(sigmas, colors, strict=True) if unstable_interval(s)]
    for (sigma, color), hatch in zip(exploding, itertools.cycle(_HATCHES)):
        _shade_band(
            ax,
            sigma,
            x_range,
            color=color,
            hatch=hatch,
            label=rf"$\sigma$ = {sigma:g}: formula" "\nexplodes, not drawn",
        )
    ax.set_xlim(*x_range)
    ax.set_ylim(-0.02, 0.45)
    _style_axes(
        ax,
        xlabel="input x",
        ylabel=_LABELS["bump"],
        title=r"The generalized bump $\phi_\sigma(x)$ for several widths $\sigma$",
        legend_loc="outside",
    )
    return fig


def plot_bump_and_gradient(
    sigma: float,
    x_range: tuple[float, float] | None = None,
    num: int = 4001,
    ax: Axes | None = None,
    ylim: tuple[float, float] | None = None,
) -> Figure:
    """Plot ``phi_sigma(x)`` (solid red) and ``d(phi)/d(sigma)`` (dotted green) for one width.

    Dashed blue lines mark ``x = +-sigma`` (the support's edges), dotted
    purple lines ``x = +-sqrt(sigma)`` (the formula's singularities). For
    ``sigma > 1`` both curves explode on ``sqrt(sigma) < |x| < sigma``: the
    band is shaded. Values above the plot are cut just above its top edge, so
    the curves visibly leave it, and a note says so. The jumps at ``|x| =
    sigma`` are drawn as breaks.

    Args:
        sigma: The width, ``>= 0``.
        x_range: ``(min, max)`` of the inputs; by default ``+-1.25`` times the
            larger of ``sigma`` and ``sqrt(sigma)`` (``+-1`` for ``sigma = 0``).
        num: Number of grid points.
        ax: Axes to draw into; a new figure when None.
        ylim: y-limits; by default ``(-0.05, 0.65)``, which holds every
            bounded value (``phi <= exp(-1)``, ``d(phi)/d(sigma) <= 4 exp(-2)``),
            or ``(-0.05, 1.6)`` for ``sigma > 1``, to show where values pass 1.

    Returns:
        The figure.

    Raises:
        ValueError: for a negative or non-finite ``sigma``, a bad ``x_range``
            or ``ylim``, or ``num < 2``.

    """
    sigma = check_sigma(sigma)
    root = math.sqrt(sigma)
    if x_range is None:
        half = 1.25 * max(sigma, root) if sigma > 0 else 1.0
        x_range = (-half, half)
    x_range = check_range(x_range, "x_range")
    num = check_count(num, "num", 2)
    explodes = unstable_interval(sigma) is not None
    if ylim is None:
        ylim = (-0.05, 1.6 if explodes else 0.65)
    ylim = check_range(ylim, "ylim")
    fig, ax = _new_axes(ax)

    x = np.linspace(*x_range, num)
    phi, grad = bump(x, sigma), bump_grad_sigma(x, sigma)
    x_drawn, phi_drawn, grad_drawn = _break_at_support_edges(
        x, sigma, _clip_above(phi, ylim), _clip_above(grad, ylim)
    )
    ax.plot(x_drawn, phi_drawn, color=COLORS["bump"], lw=2, label=_LABELS["bump"])
    ax.plot(
        x_drawn, grad_drawn, color=COLORS["grad_sigma"], lw=2.2, ls=":", label=_LABELS["grad_sigma"]
    )
    _vertical_pair(ax, sigma, color=COLORS["sigma"], linestyle="--", label=_LABELS["sigma"])
    _vertical_pair(ax, root, color=COLORS["sqrt_sigma"], linestyle=":", label=_LABELS["sqrt_sigma"])
    band_shown = _shade_band(
        ax,
        sigma,
        x_range,
        color=COLORS["bump"],
        hatch="",
        label="formula explodes\n" r"($\sqrt{\sigma} < |x| < \sigma$)",
    )
    if max(phi.max(), grad.max()) > ylim[1]:
        ax.text(
            0.5,
            0.96,
            "curves leave the plot"
            + (":\n" r"$\to\infty$ at $x = \pm\sqrt{\sigma}$" if band_shown else ""),
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=_FONTSIZE["legend"],
            bbox={"facecolor": "white", "edgecolor": "0.7", "alpha": 0.9},
        )
    ax.set_xlim(*x_range)
    ax.set_ylim(*ylim)
    _style_axes(
        ax,
        xlabel="input x",
        ylabel="value",
        title=rf"The bump and its derivative with respect to $\sigma$, $\sigma$ = {sigma:g}",
        legend_loc="outside",
    )
    return fig


def plot_training(
    result: FitResult | SigmaHistory,
    true_sigma: float | Sequence[float] | None = None,
    x_label: str = "epoch",
) -> Figure:
    """Plot sigma (left) and the training loss on a log axis (right) of one fit.

    Args:
        result: A :class:`~bumplib.FitResult` (``history``, ``losses``,
            ``steps``) or a :class:`~bumplib.SigmaHistory` callback after
            training (``sigmas`` of shape ``(records, n_sigma)``); with
            several widths (``per_feature=True``) one line per width.
        true_sigma: The width(s) the data were generated with, drawn as
            dashed horizontal lines.
        x_label: What the x-axis counts: ``"epoch"`` (passes over the data,
            fractional for a :class:`~bumplib.FitResult` recorded every few steps) or
            ``"step"`` (optimizer steps). Plurals are accepted.

    Returns:
        The figure, with two axes.

    Raises:
        ValueError: for a result without records, a bad ``x_label`` or
            ``true_sigma``, or epochs asked of a ``SigmaHistory`` that records
            every few batches.
        TypeError: for any other kind of ``result``.

    """
    x, sigmas, losses, xlabel = _records(result, x_label)
    fig = _detached_figure(figsize=(7.5, 3.6))
    ax_sigma, ax_loss = fig.subplots(1, 2)
    marker = "o" if len(x) <= 60 else None
    n = sigmas.shape[1]
    colors = [COLORS["sigma"]] if n == 1 else mpl.colormaps["Blues"](np.linspace(0.45, 1.0, n))
    for i, color in enumerate(colors):
        label = r"learned $\sigma$" if n == 1 else rf"learned $\sigma_{{{i}}}$"
        ax_sigma.plot(x, sigmas[:, i], color=color, lw=2, marker=marker, ms=4, label=label)
    truths = _true_sigma_lines(ax_sigma, true_sigma)
    _set_log_y_if_wide(ax_sigma, np.concatenate([sigmas.ravel(), truths]))
    _style_axes(
        ax_sigma, xlabel=xlabel, ylabel=r"width $\sigma$", title=r"Width $\sigma$ during training"
    )

    shown = np.isfinite(losses) & (losses > 0)
    hidden = int((~shown[1:]).sum())  # the first record, before training, has no loss
    label = "training loss (MSE)" + (f"\n{hidden} nan/inf/≤0 not shown" if hidden else "")
    ax_loss.plot(
        x[shown], losses[shown], color=COLORS["loss"], lw=1.5, marker=marker, ms=4, label=label
    )
    if shown.any():
        ax_loss.set_yscale("log")
    _style_axes(ax_loss, xlabel=xlabel, ylabel="mean squared error", title="Loss (log scale)")
    return fig


def plot_sigma_trajectories(
    results: Mapping[str, FitResult],
    true_sigma: float | None = None,
    x_axis: str = "epochs",
    ax: Axes | None = None,
) -> Figure:
    """Plot how sigma moved during several fits, on one axes.

    The y-axis is logarithmic when the widths shown span more than a factor
    10. A :class:`~bumplib.SigmaHistory` is accepted in place of a
    :class:`~bumplib.FitResult`; several widths of one fit share its colour.

    Args:
        results: Fits by name (the name is the legend's label).
        true_sigma: The width the data were generated with (dashed line).
        x_axis: ``"epochs"`` (``result.epochs / result.steps[-1]`` epochs per
            step) or ``"steps"`` (optimizer steps). Singulars are accepted.
        ax: Axes to draw into; a new figure when None.

    Returns:
        The figure.

    Raises:
        ValueError: for no results, a result without records, a bad
            ``x_axis`` or ``true_sigma``.

    """
    if not isinstance(results, Mapping) or not results:
        raise ValueError(
            f"results must be a non-empty mapping of name to FitResult, got {results!r}."
        )
    records = {name: _records(result, x_axis) for name, result in results.items()}
    fig, ax = _new_axes(ax)
    for i, (name, (x, sigmas, _, _)) in enumerate(records.items()):
        color = _SERIES_COLORS[i % len(_SERIES_COLORS)]
        for j in range(sigmas.shape[1]):
            label = None if j else str(name)
            ax.plot(x, sigmas[:, j], color=color, lw=2, label=label)
    truths = _true_sigma_lines(ax, true_sigma)
    shown = np.concatenate([sigmas.ravel() for _, sigmas, _, _ in records.values()] + [truths])
    _set_log_y_if_wide(ax, shown)
    _style_axes(
        ax,
        xlabel=next(iter(records.values()))[3],
        ylabel=r"width $\sigma$",
        title=r"Width $\sigma$ during training",
    )
    return fig


def plot_recovery_table_figure(
    true_sigmas: Sequence[float], learned: Mapping[str, Sequence[float]]
) -> Figure:
    """Plot the learned against the true widths on log-log axes, one marker style per method.

    A dashed identity line marks perfect recovery. The markers are open and
    of decreasing size, so methods that agree stay visible on top of each
    other. Learned values that cannot be shown on a log axis (``nan``,
    ``inf``, ``<= 0``: failed fits) are left out and counted in the legend.

    Args:
        true_sigmas: The widths the data were generated with, all ``> 0``.
        learned: For each method's name, the learned widths, in the order of
            ``true_sigmas``.

    Returns:
        The figure.

    Raises:
        ValueError: for no true width, a true width that is not finite and
            ``> 0``, no method, or a method with the wrong number of values.

    """
    true = np.asarray(true_sigmas, dtype=np.float64).ravel()
    if true.size == 0 or not (np.isfinite(true) & (true > 0)).all():
        raise ValueError(
            f"true_sigmas must be a non-empty sequence of finite widths > 0 (log axes), "
            f"got {true_sigmas!r}."
        )
    if not isinstance(learned, Mapping) or not learned:
        raise ValueError(
            f"learned must be a non-empty mapping of method name to widths, got {learned!r}."
        )
    values = {name: np.asarray(v, dtype=np.float64).ravel() for name, v in learned.items()}
    for name, v in values.items():
        if v.shape != true.shape:
            raise ValueError(
                f"method {name!r} has {v.size} learned widths for {true.size} true ones."
            )
    everything = np.concatenate([true, *values.values()])
    everything = everything[np.isfinite(everything) & (everything > 0)]
    low, high = everything.min() / 1.5, everything.max() * 1.5

    fig, ax = _new_axes(figsize=(5.6, 5.0))
    ax.plot(
        [low, high], [low, high], color=COLORS["reference"], ls="--", lw=1.5, label="learned = true"
    )
    for i, (name, v) in enumerate(values.items()):
        shown = np.isfinite(v) & (v > 0)
        missing = int((~shown).sum())
        ax.plot(
            true[shown],
            v[shown],
            linestyle="none",
            marker=_SERIES_MARKERS[i % len(_SERIES_MARKERS)],
            markersize=max(4.0, 11.0 - 1.5 * i),
            markerfacecolor="none",
            markeredgewidth=1.8,
            color=_SERIES_COLORS[i % len(_SERIES_COLORS)],
            label=str(name) + (f" ({missing} failed, not shown)" if missing else ""),
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_aspect("equal")
    _style_axes(
        ax,
        xlabel=r"true $\sigma$ (used to generate the data)",
        ylabel=r"learned $\sigma$",
        title=r"Learned against true width $\sigma$",
        legend_loc="upper left",
    )
    return fig
