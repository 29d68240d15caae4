"""Static figures of the book: one bump with its sigma-derivative, and sigma trajectories.

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

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from bumpbook.plotting.style import (
    COLORS,
    FONTSIZE,
    LABELS,
    SERIES_COLORS,
    X_AXES,
    X_AXIS_LABELS,
    break_at_support_edges,
    clip_above,
    new_axes,
    set_log_y_if_wide,
    shade_band,
    style_axes,
    true_sigma_lines,
    vertical_pair,
)
from bumplib.callbacks import SigmaHistory
from bumplib.data import unstable_interval
from bumplib.reference import bump, bump_grad_sigma
from bumplib.training import FitResult
from bumplib.validation import check_count, check_range, check_sigma

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "COLORS",
    "plot_bump_and_gradient",
    "plot_sigma_trajectories",
]


def _records(
    result: FitResult | SigmaHistory, x_axis: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], str]:
    """Return ``(x, sigmas, losses, x_label)`` of a fit; ``sigmas`` has shape ``(records, n)``.

    ``x_axis`` is ``"epoch(s)"`` or ``"step(s)"``. For a :class:`~bumplib.FitResult`,
    epochs are ``steps * result.epochs / result.steps[-1]``; for a
    :class:`~bumplib.SigmaHistory` that records once per epoch, the record index.
    """
    axis = X_AXES.get(x_axis) if isinstance(x_axis, str) else None
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
    return x, sigmas, losses, X_AXIS_LABELS[axis]


# --- figures ------------------------------------------------------------------------------------


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
    fig, ax = new_axes(ax)

    x = np.linspace(*x_range, num)
    phi, grad = bump(x, sigma), bump_grad_sigma(x, sigma)
    x_drawn, phi_drawn, grad_drawn = break_at_support_edges(
        x, sigma, clip_above(phi, ylim), clip_above(grad, ylim)
    )
    ax.plot(x_drawn, phi_drawn, color=COLORS["bump"], lw=2, label=LABELS["bump"])
    ax.plot(
        x_drawn, grad_drawn, color=COLORS["grad_sigma"], lw=2.2, ls=":", label=LABELS["grad_sigma"]
    )
    vertical_pair(ax, sigma, color=COLORS["sigma"], linestyle="--", label=LABELS["sigma"])
    vertical_pair(ax, root, color=COLORS["sqrt_sigma"], linestyle=":", label=LABELS["sqrt_sigma"])
    band_shown = shade_band(
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
            fontsize=FONTSIZE["legend"],
            bbox={"facecolor": "white", "edgecolor": "0.7", "alpha": 0.9},
        )
    ax.set_xlim(*x_range)
    ax.set_ylim(*ylim)
    style_axes(
        ax,
        xlabel="input x",
        ylabel="value",
        title=rf"The bump and its derivative with respect to $\sigma$, $\sigma$ = {sigma:g}",
        legend_loc="outside",
    )
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
    fig, ax = new_axes(ax)
    for i, (name, (x, sigmas, _, _)) in enumerate(records.items()):
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        for j in range(sigmas.shape[1]):
            label = None if j else str(name)
            ax.plot(x, sigmas[:, j], color=color, lw=2, label=label)
    truths = true_sigma_lines(ax, true_sigma)
    shown = np.concatenate([sigmas.ravel() for _, sigmas, _, _ in records.values()] + [truths])
    set_log_y_if_wide(ax, shown)
    style_axes(
        ax,
        xlabel=next(iter(records.values()))[3],
        ylabel=r"width $\sigma$",
        title=r"Width $\sigma$ during training",
    )
    return fig
