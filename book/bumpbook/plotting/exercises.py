"""Figures of the worked exercises (chapter 4).

* :func:`plot_exploding_band`: the bump and its sigma-derivative for
  ``sigma > 1``, on a log axis, where they pass 1 and reach ``inf``.
* :func:`plot_failure_traces`: sigma and the loss, step by step, of fits that
  may end with ``sigma = nan`` or an infinite loss.
* :func:`plot_layer_check`: a layer's output and both gradients over a range
  of inputs, with every ``nan`` and ``inf`` marked.
* :func:`plot_activation_histograms`: the values that reach a bump layer
  inside a model, against the safe range ``(-1, 1)``.
* :func:`plot_gradient_decay` and :func:`plot_convergence`: why a large sigma
  needs more epochs.
* :func:`plot_kept_samples`: where :func:`~bumplib.generate_data` puts its
  samples when the range meets the exploding band.

Like :mod:`bumpbook.plotting.figures`, every function returns a
:class:`~matplotlib.figure.Figure` detached from pyplot (a notebook shows it
once, as the value of a cell), with labelled axes, a legend and a title, in
the book's colours (:data:`~bumpbook.plotting.style.COLORS`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from bumpbook.diagnostics import ConvergenceRun, LayerGradients, first_nonfinite
from bumpbook.plotting.style import (
    COLORS,
    SERIES_COLORS,
    detached_figure,
    shade_band,
    style_axes,
    vertical_pair,
)
from bumplib.callbacks import SigmaHistory
from bumplib.reference import bump, bump_grad_sigma
from bumplib.validation import check_range, check_sigma, check_sigma_list

__all__ = [
    "plot_activation_histograms",
    "plot_convergence",
    "plot_exploding_band",
    "plot_failure_traces",
    "plot_gradient_decay",
    "plot_kept_samples",
    "plot_layer_check",
]

#: Largest finite float32: a value above it is ``inf`` in a Keras model.
FLOAT32_MAX = float(np.finfo(np.float32).max)
_LOG_TOP = 1e50  # top of the log axes of plot_exploding_band
_BAND_LABEL = r"band $\sqrt{\sigma} < |x| < \sigma$"


def _check_mapping(value: Mapping, name: str) -> None:
    """Raise ValueError unless ``value`` is a non-empty mapping."""
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"{name} must be a non-empty mapping of label to data, got {value!r}.")


def _plain_log_ticks(axis: mpl.axis.Axis, values: ArrayLike) -> None:
    """Put ticks at 1, 2, 5 times powers of 10 covering ``values``, labelled as plain numbers."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return
    low, high = math.floor(math.log10(v.min())), math.ceil(math.log10(v.max()))
    ticks = [m * 10.0**e for e in range(low, high + 1) for m in (1, 2, 5)]
    ticks = [t for t in ticks if v.min() / 2.5 <= t <= v.max() * 2.5]
    axis.set_major_locator(mpl.ticker.FixedLocator(ticks))
    axis.set_major_formatter(mpl.ticker.FormatStrFormatter("%g"))
    axis.set_minor_locator(mpl.ticker.NullLocator())


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
    as :func:`bumpbook.diagnostics.fit_layer` makes). Where sigma becomes
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


# --- exercise 2: a layer that works for every input ---------------------------------------------


def plot_layer_check(
    results: Mapping[str, LayerGradients],
    sigma: float,
    ylim: tuple[float, float] = (-1.5, 1.5),
) -> Figure:
    """Plot a layer's output, ``dy/dx`` and ``dy/dsigma`` against ``x``, marking what explodes.

    The axes show the bump's own scale (``ylim``); values beyond it leave the
    frame. The legend counts, for each layer, the points where the quantity
    is finite but larger than 1 in magnitude, and those where it is ``nan``
    or ``inf``; the latter also get a tick along the top edge.

    Args:
        results: Evaluations by label (from
            :func:`bumpbook.diagnostics.layer_gradients`), all at ``sigma``.
        sigma: The width they were computed at (for the band and the title).
        ylim: y-limits of the three axes.

    Returns:
        The figure, with three axes stacked in one column (6.5 in wide,
        legible on a phone).

    """
    _check_mapping(results, "results")
    sigma = check_sigma(sigma)
    ylim = check_range(ylim, "ylim")
    fig = detached_figure(figsize=(6.5, 11.0))
    axes = fig.subplots(3, 1, sharex=True)
    names = (("y", "output $y$"), ("dy_dx", r"$\partial y/\partial x$"))
    names += (("dy_dsigma", r"$\partial y/\partial\sigma$"),)
    for label, result in results.items():
        if not isinstance(result, LayerGradients):
            raise ValueError(f"results[{label!r}] must be a LayerGradients.")
    x_all = np.concatenate([np.asarray(r.x, dtype=float) for r in results.values()])
    x_range = (float(x_all.min()), float(x_all.max()))
    for ax, (field, ylabel) in zip(axes, names, strict=True):
        transform = mpl.transforms.blended_transform_factory(ax.transData, ax.transAxes)
        for i, (label, result) in enumerate(results.items()):
            color = SERIES_COLORS[i % len(SERIES_COLORS)]
            x = np.asarray(result.x, dtype=float)
            values = np.asarray(getattr(result, field), dtype=float)
            order = np.argsort(x)
            x, values = x[order], values[order]
            bad = ~np.isfinite(values)
            big = int((np.abs(values[~bad]) > 1).sum())
            drawn = np.clip(np.where(bad, np.nan, values), 10 * ylim[0], 10 * ylim[1])
            text = f"{label}: {big} values > 1, {int(bad.sum())} nan/inf"
            ax.plot(x, drawn, color=color, lw=2.4 - 0.8 * i, label=text)
            if bad.any():
                ax.plot(
                    x[bad],
                    np.full(bad.sum(), 0.97 - 0.04 * i),
                    "|",
                    color=color,
                    ms=9,
                    transform=transform,
                )
        shade_band(ax, sigma, x_range, color=COLORS["bump"], hatch="", label=_BAND_LABEL)
        vertical_pair(ax, sigma, color=COLORS["sigma"], linestyle="--", label=r"$x = \pm\sigma$")
        ax.set_ylim(*ylim)
        ax.set_xlim(*x_range)
        style_axes(
            ax,
            xlabel="input $x$",
            ylabel=ylabel,
            title=rf"{ylabel}, $\sigma$ = {sigma:g}",
            legend_loc="lower center",
        )
        ax.xaxis.set_tick_params(labelbottom=True)
    return fig


# --- exercise 3: what reaches the bump layer ----------------------------------------------------


def plot_activation_histograms(
    activations: Mapping[str, ArrayLike],
    bounds: tuple[float, float] = (-1.0, 1.0),
    bins: int = 80,
) -> Figure:
    """Plot histograms of the values that reach a layer, with the safe range marked.

    One outline histogram per entry, on shared bins; dashed lines at
    ``bounds``. The legend (under the axes) gives each entry's minimum and
    maximum (4 significant digits) and the share of its values strictly outside
    ``bounds``. Non-finite values are counted, not drawn.

    Args:
        activations: Values (any shape) by label.
        bounds: The range the values should stay in, ``(-1, 1)`` for the
            thread's layer.
        bins: Number of bins.

    Returns:
        The figure.

    """
    _check_mapping(activations, "activations")
    bounds = check_range(bounds, "bounds")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}.")
    data = {label: np.asarray(v, dtype=float).ravel() for label, v in activations.items()}
    finite = np.concatenate([v[np.isfinite(v)] for v in data.values()])
    if finite.size == 0:
        raise ValueError("activations hold no finite value to draw.")
    low = min(float(finite.min()), bounds[0])
    high = max(float(finite.max()), bounds[1])
    edges = np.linspace(low, high, bins + 1)
    fig = detached_figure(figsize=(6.5, 5.0))
    ax = fig.add_subplot()
    for i, (label, values) in enumerate(data.items()):
        ok = values[np.isfinite(values)]
        outside = float(np.mean((ok < bounds[0]) | (ok > bounds[1]))) if ok.size else 0.0
        text = f"{label}: min {ok.min():.4g}, max {ok.max():.4g}, {100 * outside:.3g}% outside"
        if ok.size < values.size:
            text += f", {values.size - ok.size} nan/inf"
        ax.hist(
            ok,
            bins=edges,
            density=True,
            histtype="step",
            lw=2,
            color=SERIES_COLORS[i % len(SERIES_COLORS)],
            label=text,
        )
    ax.axvline(bounds[0], color=COLORS["reference"], ls="--", lw=1.5, label=f"safe range {bounds}")
    ax.axvline(bounds[1], color=COLORS["reference"], ls="--", lw=1.5)
    style_axes(
        ax,
        xlabel="value reaching the bump layer",
        ylabel="density",
        title="Inputs of the bump layer",
        legend_loc="below",
    )
    return fig


# --- exercise 4: large sigma is slow ------------------------------------------------------------


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
        asymptote: The large-sigma limit at each width (from
            :func:`bumpbook.diagnostics.asymptotic_mean_abs_grad_sigma`),
            drawn dashed and labelled with its slope, -2.

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


def plot_convergence(runs: Sequence[ConvergenceRun], learning_rate: float = 0.001) -> Figure:
    """Plot epochs to converge against sigma (top) and sigma's path in each run (bottom).

    Both axes compare the runs with a reference: steps of exactly
    ``learning_rate``, all in the right direction, which need ``(sigma -
    sigma_0) / (learning_rate * steps_per_epoch)`` epochs. It is a yardstick,
    not a bound: Adam's steps are longer than ``learning_rate`` while the
    gradient grows, so a path may run above that line for a while. The
    bottom axes draw sigma after each epoch of every run. The two axes are
    stacked (6.5 in wide, legible on a phone).

    Args:
        runs: Results of :func:`bumpbook.diagnostics.measure_epochs_to_converge`.
        learning_rate: Adam's learning rate in those runs.

    Returns:
        The figure, with two axes.

    """
    if not runs or not all(isinstance(r, ConvergenceRun) for r in runs):
        raise ValueError("runs must be a non-empty sequence of ConvergenceRun.")
    if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}.")
    fig = detached_figure(figsize=(6.5, 8.6))
    ax_epochs, ax_path = fig.subplots(2, 1)
    reference_label = rf"steps of exactly $\eta$ = {learning_rate:g}"
    true = np.array([r.true_sigma for r in runs])
    measured = np.array([np.nan if r.epochs is None else r.epochs for r in runs], dtype=float)
    reference = np.array(
        [(r.true_sigma - r.history[0]) / (learning_rate * r.steps_per_epoch) for r in runs]
    )
    ax_epochs.plot(true, measured, "o-", color=COLORS["sigma"], lw=2, ms=7, label="measured")
    ax_epochs.plot(true, reference, "--", color=COLORS["reference"], lw=1.5, label=reference_label)
    ax_epochs.set_xscale("log")
    ax_epochs.set_yscale("log")
    _plain_log_ticks(ax_epochs.xaxis, true)
    _plain_log_ticks(ax_epochs.yaxis, np.concatenate([measured, reference]))
    style_axes(
        ax_epochs,
        xlabel=r"true $\sigma$",
        ylabel="epochs to 1% relative error",
        title="Epochs needed against the width",
        legend_loc="upper left",
    )
    longest = max(len(r.history) for r in runs)
    for i, run in enumerate(runs):
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        epochs = np.arange(len(run.history))
        ax_path.plot(
            epochs, run.history, color=color, lw=2, label=rf"true $\sigma$ = {run.true_sigma:g}"
        )
        ax_path.axhline(run.true_sigma, color=color, ls=":", lw=1)
    first = runs[0]
    steady = first.history[0] + learning_rate * first.steps_per_epoch * np.arange(longest)
    ax_path.plot(
        np.arange(longest),
        np.minimum(steady, max(true) * 1.05),
        "--",
        color=COLORS["reference"],
        lw=1.5,
        label=reference_label,
    )
    style_axes(
        ax_path,
        xlabel="epochs",
        ylabel=r"learned $\sigma$ (dotted: true)",
        title=r"$\sigma$ after each epoch",
        legend_loc="lower right",
    )
    return fig


# --- exercise 5: what generate_data keeps -------------------------------------------------------


def plot_kept_samples(
    x: ArrayLike, sigma: float, x_range: tuple[float, float], bins: int = 100
) -> Figure:
    """Plot a histogram of sampled ``x`` with the exploding band shaded.

    Args:
        x: Samples (any shape), for example the ``x`` of
            :func:`~bumplib.generate_data`.
        sigma: Their width (for the band).
        x_range: ``(min, max)`` the samples were asked for.
        bins: Number of bins over ``x_range``.

    Returns:
        The figure.

    """
    sigma = check_sigma(sigma)
    x_range = check_range(x_range, "x_range")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}.")
    values: NDArray[np.float64] = np.asarray(x, dtype=float).ravel()
    fig = detached_figure(figsize=(6.5, 3.8))
    ax: Axes = fig.add_subplot()
    ax.hist(
        values,
        bins=np.linspace(*x_range, bins + 1),
        color=COLORS["sigma"],
        alpha=0.8,
        label=f"{values.size} samples",
    )
    shade_band(ax, sigma, x_range, color=COLORS["bump"], hatch="//", label=_BAND_LABEL)
    ax.set_xlim(*x_range)
    style_axes(
        ax,
        xlabel="input $x$",
        ylabel="samples per bin",
        title=rf"Where the samples fall, $\sigma$ = {sigma:g}",
        legend_loc="lower center",
    )
    return fig
