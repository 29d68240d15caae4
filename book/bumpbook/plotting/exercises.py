"""Figures of the worked exercises (chapter 4).

* :func:`plot_exploding_band`: the bump and its sigma-derivative for
  ``sigma > 1``, on a log axis, where they pass 1 and reach ``inf``.
* :func:`plot_failure_traces`: sigma and the loss, step by step, of fits that
  may end with ``sigma = nan`` or an infinite loss.
* :func:`plot_gradient_decay`: why a large sigma needs more epochs.

Every function returns a
:class:`~matplotlib.figure.Figure` detached from pyplot (a notebook shows it
once, as the value of a cell), with labelled axes, a legend and a title, in
the book's colours (:data:`~bumpbook.plotting.style.COLORS`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from bumpbook.diagnostics import first_nonfinite
from bumpbook.plotting.style import (
    COLORS,
    SERIES_COLORS,
    check_sigma_list,
    detached_figure,
    shade_band,
    style_axes,
    vertical_pair,
)
from bumplib.callbacks import SigmaHistory
from bumplib.reference import bump, bump_grad_sigma
from bumplib.validation import check_range, check_sigma

__all__ = ["plot_exploding_band", "plot_failure_traces", "plot_gradient_decay"]

#: Largest finite float32: a value above it is ``inf`` in a Keras model.
FLOAT32_MAX = float(np.finfo(np.float32).max)
_LOG_TOP = 1e50  # top of the log axes of plot_exploding_band
_BAND_LABEL = r"band $\sqrt{\sigma} < |x| < \sigma$"


def _check_mapping(value: Mapping, name: str) -> None:
    """Raise ValueError unless ``value`` is a non-empty mapping."""
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"{name} must be a non-empty mapping of label to data, got {value!r}.")


# --- exercise 1: the exploding band -------------------------------------------------------------


def plot_exploding_band(
    sigmas: Sequence[float] = (2.0, 4.0),
    x_range: tuple[float, float] = (-5.0, 5.0),
    num: int = 40_001,
) -> Figure:
    """Plot ``phi_sigma(x)`` and ``|d(phi)/d(sigma)|`` on a log axis, one panel per sigma, stacked.

    Between ``sqrt(sigma)`` and ``sigma`` (shaded) both exceed 1 and grow
    without bound towards ``x = +-sqrt(sigma)`` (dotted lines). A
    dash-dotted line marks the largest float32: above it a Keras model holds
    ``inf``. Values come from the float64 reference and leave the plot at
    the top. Zeros (for ``|x| >= sigma``) cannot be shown on a log axis and
    are left out. The panels are stacked in one column, 6.5 in wide, so that
    they stay legible on a phone.

    Args:
        sigmas: Widths, at least one; those ``> 1`` have a band.
        x_range: ``(min, max)`` of the inputs.
        num: Number of grid points (many, to resolve the spikes).

    Returns:
        The figure, with one axes per width.

    """
    sigmas = check_sigma_list(sigmas)
    x_range = check_range(x_range, "x_range")
    if isinstance(num, bool) or not isinstance(num, int) or num < 2:
        raise ValueError(f"num must be an integer >= 2, got {num!r}.")
    x = np.linspace(*x_range, num)
    fig = detached_figure(figsize=(6.5, 5.2 * len(sigmas)))
    axes = np.atleast_1d(fig.subplots(len(sigmas), 1))
    curves = (
        (bump, "bump", "-", r"$\varphi_\sigma(x)$"),
        (bump_grad_sigma, "grad_sigma", ":", r"$|\partial\varphi_\sigma / \partial\sigma|$"),
    )
    for ax, sigma in zip(axes, sigmas, strict=True):
        for function, kind, style, label in curves:
            with np.errstate(over="ignore"):
                values = np.abs(function(x, sigma))
            # Cap what leaves the axes (up to inf) just above it, so autoscaling stays finite.
            shown = np.where(values > 0, np.minimum(values, 10 * _LOG_TOP), np.nan)
            ax.plot(x, shown, color=COLORS[kind], ls=style, lw=2.2, label=label)
        shade_band(ax, sigma, x_range, color=COLORS["bump"], hatch="//", label=_BAND_LABEL)
        vertical_pair(
            ax,
            math.sqrt(sigma),
            color=COLORS["sqrt_sigma"],
            linestyle=":",
            label=r"$x = \pm\sqrt{\sigma}$",
        )
        vertical_pair(ax, sigma, color=COLORS["sigma"], linestyle="--", label=r"$x = \pm\sigma$")
        ax.axhline(1.0, color=COLORS["reference"], ls="--", lw=1.2, label="value 1")
        ax.axhline(FLOAT32_MAX, color=COLORS["loss"], ls="-.", lw=1.2, label="largest float32")
        ax.set_yscale("log")
        ax.set_ylim(1e-6, _LOG_TOP)
        ax.set_xlim(*x_range)
        style_axes(
            ax,
            xlabel="input $x$",
            ylabel="value (log scale)",
            title=rf"The bump and its $\sigma$-derivative, $\sigma$ = {sigma:g}",
            legend_loc="below",
            legend_ncols=2,
        )
    return fig


# --- training that fails ------------------------------------------------------------------------


def plot_failure_traces(
    histories: Mapping[str, SigmaHistory],
    true_sigma: float | None = None,
    sigma_log: bool = False,
) -> Figure:
    """Plot sigma (top) and the loss (bottom, log) after each optimizer step, marking failures.

    Each history must record every batch (``SigmaHistory(every_n_batches=1)``,
    a per-step record of ``model.fit``). Where sigma becomes
    ``nan`` the curve ends with a cross, and the legend says after which
    step. Losses that are ``inf`` or ``nan`` cannot be drawn on a log axis:
    they are shown as ticks along the top edge (``inf``) or just below it
    (``nan``), with their count in the legend.

    Args:
        histories: Recorded fits by label, one scalar sigma each.
        true_sigma: The width the data were made with (dashed line).
        sigma_log: Use a log axis for sigma.

    Returns:
        The figure, with two axes stacked (6.5 in wide, legible on a phone).

    """
    _check_mapping(histories, "histories")
    fig = detached_figure(figsize=(6.5, 7.6))
    ax_sigma, ax_loss = fig.subplots(2, 1, sharex=True)
    transform = mpl.transforms.blended_transform_factory(ax_loss.transData, ax_loss.transAxes)
    for i, (label, history) in enumerate(histories.items()):
        if not isinstance(history, SigmaHistory) or history.every_n_batches != 1:
            raise ValueError(
                f"histories[{label!r}] must be a SigmaHistory that records every batch "
                "(every_n_batches=1)."
            )
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        steps = history.steps.astype(float)
        sigmas = history.sigmas.reshape(len(steps), -1)[:, 0]
        losses = history.losses
        failed = first_nonfinite(sigmas)
        name = str(label) if failed is None else f"{label}: $\\sigma$ = nan after step {failed}"
        ax_sigma.plot(steps, sigmas, color=color, lw=1.8, label=name)
        if failed is not None and failed > 0:
            ax_sigma.plot(steps[failed - 1], sigmas[failed - 1], "X", color=color, ms=11)
        finite = np.isfinite(losses) & (losses > 0)
        # nan where the loss cannot be drawn, so the line breaks there instead of bridging.
        ax_loss.plot(steps, np.where(finite, losses, np.nan), color=color, lw=1.5, label=f"{label}")
        for kind, mask, height in (
            ("inf", np.isinf(losses), 0.97),
            ("nan", np.isnan(losses) & (steps > 0), 0.91),
        ):
            if mask.any():
                ax_loss.plot(
                    steps[mask],
                    np.full(mask.sum(), height - 0.02 * i),
                    "|",
                    color=color,
                    ms=8,
                    transform=transform,
                    label=f"{label}: loss = {kind} ({int(mask.sum())} steps)",
                )
    if true_sigma is not None:
        ax_sigma.axhline(
            check_sigma(true_sigma, "true_sigma"),
            color=COLORS["reference"],
            ls="--",
            lw=1.5,
            label=r"true $\sigma$",
        )
    if sigma_log:
        ax_sigma.set_yscale("log")
    ax_loss.set_yscale("log")
    style_axes(
        ax_sigma,
        xlabel="optimizer steps",
        ylabel=r"width $\sigma$",
        title=r"Width $\sigma$ after each step",
    )
    ax_sigma.xaxis.set_tick_params(labelbottom=True)
    style_axes(
        ax_loss,
        xlabel="optimizer steps",
        ylabel="loss (mean of the epoch so far)",
        title="Loss as Keras reports it (log scale)",
        legend_loc="lower left",
    )
    return fig


def plot_gradient_decay(
    sigmas: ArrayLike,
    mean_grads: ArrayLike,
    asymptote: NDArray[np.float64] | Sequence[float] | None = None,
) -> Figure:
    """Plot the mean ``|d(phi)/d(sigma)|`` against sigma on log-log axes.

    Args:
        sigmas: Widths, all ``> 0``.
        mean_grads: The mean gradient at each width (from
            :func:`bumpbook.diagnostics.mean_abs_grad_sigma`).
        asymptote: The large-sigma limit ``exp(-1) * mean(x**2) / sigma**2``
            at each width, drawn dashed and labelled with its slope, -2.

    Returns:
        The figure.

    """
    s = np.asarray(sigmas, dtype=float).ravel()
    g = np.asarray(mean_grads, dtype=float).ravel()
    if s.size == 0 or s.shape != g.shape or not (s > 0).all():
        raise ValueError("sigmas and mean_grads must be equal-length, non-empty, with sigmas > 0.")
    fig = detached_figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot()
    ax.loglog(
        s,
        g,
        color=COLORS["grad_sigma"],
        lw=2.2,
        label=r"mean $|\partial\varphi/\partial\sigma|$",
    )
    if asymptote is not None:
        a = np.asarray(asymptote, dtype=float).ravel()
        if a.shape != s.shape:
            raise ValueError("asymptote must have one value per sigma.")
        ax.loglog(
            s,
            a,
            color=COLORS["reference"],
            ls="--",
            lw=1.5,
            label=r"$e^{-1}\,\overline{x^2}/\sigma^2$ (slope $-2$)",
        )
    ax.axvline(1.0, color=COLORS["sigma"], ls=":", lw=1.2, label=r"$\sigma = 1$")
    style_axes(
        ax,
        xlabel=r"width $\sigma$ (layer and data alike)",
        ylabel="mean gradient per sample",
        title=r"Gradient of the bump with respect to $\sigma$, $x \in (-1, 1)$",
        legend_loc="lower left",
    )
    return fig
