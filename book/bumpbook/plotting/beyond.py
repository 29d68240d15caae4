"""Figures of chapter 5, "Beyond the answer".

* :func:`plot_ablation_trajectories`: sigma during training with
  ``fit_sigma``'s Adam settings and with each of them switched back alone.
* :func:`plot_family_fits`: bump and Gaussian layers fitted to data of each
  family.
* :func:`plot_width_gradients`: the two families and their derivatives with
  respect to the width, across ``x``.
* :func:`plot_per_feature_sigmas`: several widths learned in one fit.
* :func:`plot_localized_fits`: networks with bump and with plain activations
  against a target made of narrow bumps, and their losses.

The conventions are those of :mod:`bumpbook.plotting.figures`: every function
returns a :class:`~matplotlib.figure.Figure` already detached from pyplot
(a notebook shows it once, as the value of a cell), never calls
``plt.show()``, labels its axes and has a legend and a title; the bump is
red and the Gaussian blue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import matplotlib as mpl
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from bumpbook.comparison import width_gradient
from bumpbook.plotting.style import (
    COLORS,
    SERIES_COLORS,
    break_at_support_edges,
    detached_figure,
    style_axes,
)
from bumpbook.recovery import Recovery
from bumplib.stable_layer import stable_bump
from bumplib.training import LayerFit
from bumplib.validation import check_count, check_range, check_sigma_list

__all__ = [
    "FAMILY_COLORS",
    "plot_ablation_trajectories",
    "plot_family_fits",
    "plot_localized_fits",
    "plot_per_feature_sigmas",
    "plot_width_gradients",
]

#: Colour of each family of bump in this chapter's figures.
FAMILY_COLORS: Mapping[str, str] = {"bump": COLORS["bump"], "gaussian": "tab:blue"}
_FAMILY_NAMES = {"bump": "bump", "gaussian": "Gaussian"}
_LINESTYLES = ("-", "--", "-.", ":")


def plot_ablation_trajectories(rows: Sequence[Recovery], true_sigma: float) -> Figure:
    """Plot sigma against optimizer steps for each variant of an ablation, at one true sigma.

    One line per variant (:func:`bumpbook.recovery.adam_ablation`'s
    rows whose ``true_sigma`` is ``true_sigma``), on a logarithmic sigma
    axis, with the true sigma dashed. A variant that ends at sigma = 0 is
    drawn down to the axis' bottom edge.

    Args:
        rows: Rows of an ablation, with their ``history`` and ``history_steps``.
        true_sigma: Which true sigma to draw.

    Returns:
        The figure.

    Raises:
        ValueError: if no row has that true sigma, or a row has no history.
    """
    (true_sigma,) = check_sigma_list([true_sigma], "true_sigma")
    chosen = [row for row in rows if row.true_sigma == true_sigma]
    if not chosen:
        raise ValueError(f"no row of the ablation has true_sigma = {true_sigma:g}.")
    if any(row.history.size == 0 or row.history.shape != row.history_steps.shape for row in chosen):
        raise ValueError("every row needs a history and its steps (adam_ablation records them).")
    fig = detached_figure(figsize=(7.0, 4.4))
    ax = fig.add_subplot()
    positive = np.concatenate([row.history[row.history > 0] for row in chosen])
    floor = min(float(positive.min()), true_sigma) / 3
    for i, row in enumerate(chosen):
        ax.plot(
            row.history_steps,
            np.maximum(row.history, floor),
            color=SERIES_COLORS[i % len(SERIES_COLORS)],
            ls=_LINESTYLES[i % len(_LINESTYLES)],
            lw=2.2 if i == 0 else 1.6,
            label=row.method,
        )
    ax.axhline(true_sigma, color="0.3", lw=1, ls="--", label=rf"true $\sigma = {true_sigma:g}$")
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor)
    style_axes(
        ax,
        xlabel="optimizer steps",
        ylabel=r"$\sigma$ (log scale)",
        title=rf"Recovering $\sigma = {true_sigma:g}$, one change at a time",
        legend_loc="best",
    )
    return fig


def _predict(layer: keras.layers.Layer, x: np.ndarray) -> np.ndarray:
    """Return ``layer(x)`` as a float64 NumPy array."""
    out = layer(tf.constant(x, dtype=tf.float32))
    return np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float64)


def plot_family_fits(
    data: Mapping[str, tuple[ArrayLike, ArrayLike]],
    fits: Mapping[str, Mapping[str, LayerFit]],
    x_range: tuple[float, float] = (-2.0, 2.0),
    num: int = 801,
    max_points: int = 400,
) -> Figure:
    """Plot each data set with the curves that the bump and the Gaussian fitted to it.

    One panel per data set: a sample of the data as grey dots, and each
    fitted layer evaluated on a grid (bump red, Gaussian blue), with its final
    mean squared error in the legend.

    Args:
        data: ``(x, y)`` by data family name (``"bump"``, ``"gaussian"``).
        fits: For each data family, the fits by model family name
            (``"bump"``, ``"gaussian"``); each a :class:`~bumplib.LayerFit`.
        x_range: ``(min, max)`` of the grid.
        num: Grid points.
        max_points: Data points drawn per panel (the first ones).

    Returns:
        The figure.

    Raises:
        ValueError: for no data, a data set without fits, or bad settings.

    """
    if not isinstance(data, Mapping) or not data:
        raise ValueError("data must be a non-empty mapping of family name to (x, y).")
    x_range = check_range(x_range, "x_range")
    num = check_count(num, "num", 2)
    max_points = check_count(max_points, "max_points", 1)
    grid = np.linspace(*x_range, num).reshape(-1, 1)
    fig = detached_figure(figsize=(7.0, 3.8 * len(data)))
    axes = np.atleast_1d(fig.subplots(len(data), 1, sharex=True))
    for ax, (data_name, (x, y)) in zip(axes, data.items(), strict=True):
        if data_name not in fits or not fits[data_name]:
            raise ValueError(f"no fits given for the data set {data_name!r}.")
        x = np.asarray(x, dtype=np.float64).ravel()[:max_points]
        y = np.asarray(y, dtype=np.float64).ravel()[:max_points]
        shown_name = _FAMILY_NAMES.get(data_name, data_name)
        ax.plot(x, y, ".", color="0.6", ms=3, label=f"{shown_name} data (first {len(x)})")
        for i, (model_name, fit) in enumerate(fits[data_name].items()):
            color = FAMILY_COLORS.get(model_name, SERIES_COLORS[i % len(SERIES_COLORS)])
            ax.plot(
                grid.ravel(),
                _predict(fit.layer, grid).ravel(),
                color=color,
                lw=2,
                ls="-" if i == 0 else "--",
                label=f"{_FAMILY_NAMES.get(model_name, model_name)} fit (MSE {fit.loss:.2g})",
            )
        ax.set_xlim(*x_range)
        style_axes(
            ax,
            xlabel="input x",
            ylabel="y",
            title=f"Data from the {shown_name} family",
            legend_loc="upper left",
        )
    return fig


def plot_width_gradients(
    sigmas: Sequence[float] = (0.5, 2.0),
    x_range: tuple[float, float] = (-2.5, 2.5),
    num: int = 2001,
) -> Figure:
    """Plot the bump and a Gaussian of the same width, and their derivatives in the width.

    Top row: ``phi_sigma(x)`` (the stable bump, red) and ``exp(-1) *
    exp(-x**2 / sigma**2)`` (a Gaussian of width ``sigma`` and the bump's
    height, blue). Bottom row: their derivatives with respect to ``sigma``
    (:func:`bumpbook.comparison.width_gradient`). One column per width. Dotted
    lines mark ``x = +-sigma`` (grey) and, for ``sigma > 1``, ``x =
    +-sqrt(sigma)`` (purple), where the stable bump's support ends. The
    bump's jumps at ``|x| = sigma`` (for ``sigma < 1``) are drawn as breaks.

    Args:
        sigmas: Widths ``> 0``, one column each.
        x_range: ``(min, max)`` of the inputs.
        num: Grid points.

    Returns:
        The figure.

    Raises:
        ValueError: for no width, a width ``<= 0`` or bad settings.

    """
    sigmas = check_sigma_list(sigmas, "sigmas")
    if min(sigmas) <= 0:
        raise ValueError(f"every width must be > 0, got {sigmas!r}.")
    x_range = check_range(x_range, "x_range")
    num = check_count(num, "num", 2)
    x = np.linspace(*x_range, num)
    height = float(np.exp(-1.0))
    fig = detached_figure(figsize=(min(7.0, 3.5 * len(sigmas)), 6.4))
    axes = fig.subplots(2, len(sigmas), sharex=True, squeeze=False)
    for col, sigma in enumerate(sigmas):
        phi = stable_bump(tf.constant(x), tf.constant(sigma, tf.float64)).numpy()
        gauss = height * np.exp(-np.square(x) / sigma**2)
        d_phi = width_gradient("bump", x, sigma)
        d_gauss = width_gradient("gaussian", x, sigma, height=height)
        top, bottom = axes[0, col], axes[1, col]
        for ax, (bump_y, gauss_y), ylabel, what in (
            (top, (phi, gauss), "value", "Values"),
            (bottom, (d_phi, d_gauss), r"derivative in $\sigma$", r"Derivatives in $\sigma$"),
        ):
            ax.plot(
                *break_at_support_edges(x, sigma, bump_y),
                color=FAMILY_COLORS["bump"],
                lw=2,
                label="bump" if ax is top else r"$\partial\varphi_\sigma/\partial\sigma$",
            )
            ax.plot(
                x,
                gauss_y,
                color=FAMILY_COLORS["gaussian"],
                lw=2,
                ls="--",
                label="Gaussian" if ax is top else r"$\partial g_\sigma/\partial\sigma$",
            )
            ax.axvline(-sigma, color="0.5", lw=1, ls=":")
            ax.axvline(sigma, color="0.5", lw=1, ls=":", label=r"$x = \pm\sigma$")
            if sigma > 1:
                root = float(np.sqrt(sigma))
                ax.axvline(-root, color=COLORS["sqrt_sigma"], lw=1, ls=":")
                ax.axvline(
                    root, color=COLORS["sqrt_sigma"], lw=1, ls=":", label=r"$x = \pm\sqrt{\sigma}$"
                )
            top = max(np.nanmax(bump_y), np.nanmax(gauss_y))
            ax.set_ylim(-0.05 * top, 1.45 * top)
            style_axes(
                ax,
                xlabel="input x",
                ylabel=ylabel,
                title=rf"{what}, $\sigma$ = {sigma:g}",
                legend_loc="upper right",
            )
    return fig


def plot_per_feature_sigmas(fit: LayerFit, true_sigmas: Sequence[float]) -> Figure:
    """Plot each width of a per-feature fit against optimizer steps, with the true widths.

    Args:
        fit: A :class:`~bumplib.LayerFit` of a per-feature bump
            layer (``fit.sigmas`` of shape ``(records, features)``).
        true_sigmas: The width of each feature, dashed.

    Returns:
        The figure.

    Raises:
        ValueError: if the numbers of widths disagree or a width is bad.

    """
    true = check_sigma_list(true_sigmas, "true_sigmas")
    if fit.sigmas.ndim != 2 or fit.sigmas.shape[1] != len(true):
        raise ValueError(
            f"the fit has {fit.sigmas.shape[-1] if fit.sigmas.ndim else 0} widths per record "
            f"but {len(true)} true widths were given."
        )
    fig = detached_figure(figsize=(7.0, 4.0))
    ax = fig.add_subplot()
    for j, sigma in enumerate(true):
        color = SERIES_COLORS[j % len(SERIES_COLORS)]
        ax.plot(fit.steps, fit.sigmas[:, j], color=color, lw=2, label=rf"learned $\sigma_{j}$")
        ax.axhline(sigma, color=color, lw=1, ls="--")
    ax.plot([], [], color="0.4", lw=1, ls="--", label=r"true $\sigma_j$")
    ax.set_yscale("log")
    ax.set_yticks(true, [f"{s:g}" for s in true])
    ax.yaxis.set_minor_locator(mpl.ticker.NullLocator())
    style_axes(
        ax,
        xlabel="optimizer steps",
        ylabel=r"width $\sigma_j$ (log scale)",
        title=rf"{len(true)} widths learned in one fit",
        legend_loc="center right",
    )
    return fig


def plot_localized_fits(
    x: ArrayLike,
    target: ArrayLike,
    fits: Mapping[str, LayerFit],
) -> Figure:
    """Plot trained networks against a target (left) and their losses (right, log scale).

    Args:
        x: Grid of inputs, shape ``(num, 1)``, increasing.
        target: The target at ``x``.
        fits: Fits of networks by name; each network is evaluated on ``x``.

    Returns:
        The figure.

    Raises:
        ValueError: for no fits or mismatched shapes.

    """
    if not isinstance(fits, Mapping) or not fits:
        raise ValueError("fits must be a non-empty mapping of name to LayerFit.")
    x = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    target = np.asarray(target, dtype=np.float64).ravel()
    if target.shape[0] != x.shape[0]:
        raise ValueError(f"x has {x.shape[0]} points but target has {target.shape[0]}.")
    fig = detached_figure(figsize=(7.0, 8.0))
    ax_fit, ax_loss = fig.subplots(2, 1)
    ax_fit.plot(x.ravel(), target, color="black", lw=3.5, alpha=0.35, label="target")
    for i, (name, fit) in enumerate(fits.items()):
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        style = _LINESTYLES[i % len(_LINESTYLES)]
        prediction = _predict(fit.layer, x).ravel()
        ax_fit.plot(x.ravel(), prediction, color=color, lw=1.8, ls=style, label=name)
        ax_loss.plot(fit.steps, fit.losses, color=color, lw=1.8, ls=style, label=name)
    ax_loss.set_yscale("log")
    style_axes(
        ax_fit, xlabel="input x", ylabel="y", title="Predictions after training", legend_loc="best"
    )
    style_axes(
        ax_loss,
        xlabel="optimizer steps",
        ylabel="training MSE (log scale)",
        title="Training loss",
        legend_loc="upper right",
    )
    return fig
