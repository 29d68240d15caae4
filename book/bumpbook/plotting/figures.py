"""Static figures of the book: the bump family, training curves and the recovery plot.

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
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
from numpy.typing import NDArray

from bumpbook.plotting.style import (
    COLORS,
    HATCHES,
    LABELS,
    X_AXES,
    X_AXIS_LABELS,
    break_at_support_edges,
    detached_figure,
    new_axes,
    set_log_y_if_wide,
    shade_band,
    style_axes,
    true_sigma_lines,
)
from bumplib.callbacks import SigmaHistory
from bumplib.data import unstable_interval
from bumplib.reference import bump, unstable_mask
from bumplib.training import FitResult
from bumplib.validation import check_count, check_range, check_sigma_list

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "COLORS",
    "plot_bump_family",
    "plot_training",
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
    fig, ax = new_axes(ax)
    x = np.linspace(*x_range, num)
    shades = mpl.colormaps["Reds"](np.linspace(0.45, 1.0, len(sigmas)))
    colors = [mpl.colors.to_hex(shade) for shade in shades]
    for sigma, color in zip(sigmas, colors, strict=True):
        y = np.where(unstable_mask(x, sigma), np.nan, bump(x, sigma))
        ax.plot(
            *break_at_support_edges(x, sigma, y), color=color, lw=2, label=rf"$\sigma$ = {sigma:g}"
        )
    # The bands after all the curves, so that the legend lists them last.
    exploding = [(s, c) for s, c in zip(sigmas, colors, strict=True) if unstable_interval(s)]
    for (sigma, color), hatch in zip(exploding, itertools.cycle(HATCHES)):
        shade_band(
            ax,
            sigma,
            x_range,
            color=color,
            hatch=hatch,
            label=rf"$\sigma$ = {sigma:g}: formula" "\nexplodes, not drawn",
        )
    ax.set_xlim(*x_range)
    ax.set_ylim(-0.02, 0.45)
    style_axes(
        ax,
        xlabel="input x",
        ylabel=LABELS["bump"],
        title=r"The generalized bump $\varphi_\sigma(x)$ for several widths $\sigma$",
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
    fig = detached_figure(figsize=(7.0, 3.6))
    ax_sigma, ax_loss = fig.subplots(1, 2)
    marker = "o" if len(x) <= 60 else None
    n = sigmas.shape[1]
    colors = [COLORS["sigma"]] if n == 1 else mpl.colormaps["Blues"](np.linspace(0.45, 1.0, n))
    for i, color in enumerate(colors):
        label = r"learned $\sigma$" if n == 1 else rf"learned $\sigma_{{{i}}}$"
        ax_sigma.plot(x, sigmas[:, i], color=color, lw=2, marker=marker, ms=4, label=label)
    truths = true_sigma_lines(ax_sigma, true_sigma)
    set_log_y_if_wide(ax_sigma, np.concatenate([sigmas.ravel(), truths]))
    style_axes(
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
    style_axes(ax_loss, xlabel=xlabel, ylabel="mean squared error", title="Loss (log scale)")
    return fig
