"""Tests of bumplib.book.plotting.beyond: chapter 5's figures are drawn, labelled, warning-free."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from plot_checks import assert_labelled

import bumplib
from bumplib import ScaledBumpLayer
from bumplib.book.comparison import generate_gaussian_data
from bumplib.book.plotting.beyond import (
    FAMILY_COLORS,
    plot_family_fits,
    plot_localized_fits,
    plot_per_feature_sigmas,
    plot_recovery_trajectories,
    plot_width_gradients,
)
from bumplib.reference import bump_grad_sigma
from bumplib.training import FitResult, LayerFit


def drawn(fig: Figure) -> Figure:
    """Draw ``fig`` (so that layout and text problems surface) and return it."""
    fig.canvas.draw()
    return fig


def fake_fit(start: float, end: float, steps: int, records: int, epochs: float) -> FitResult:
    """A FitResult that moves geometrically from ``start`` to ``end`` (no training)."""
    history = np.geomspace(start, end, records)
    return FitResult(
        sigma=end,
        history=history,
        losses=np.r_[np.nan, np.geomspace(1e-2, 1e-9, records - 1)],
        steps=np.linspace(0, steps, records).astype(int),
        epochs=epochs,
        seconds=1.0,
    )


def fake_layer_fit(layer, sigmas: np.ndarray) -> LayerFit:
    records = len(sigmas)
    return LayerFit(
        layer=layer,
        losses=np.geomspace(1e-1, 1e-6, records),
        steps=np.arange(records) * 25,
        sigmas=sigmas,
    )


def test_recovery_trajectories():
    recipe = {s: fake_fit(0.06, s, 3125 * 3, 4, 3.0) for s in (0.1, 2.0)}
    fast = {s: fake_fit(1.0, s, 500, 21, 500.0) for s in (0.05, 0.1, 2.0, 50.0)}
    fig = drawn(plot_recovery_trajectories(recipe, fast, recipe_max_steps=31_250))
    (ax,) = fig.axes
    assert_labelled(ax)
    assert ax.get_xscale() == "symlog"
    assert ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sum("true" in label for label in labels) == 4  # one colour per distinct width
    assert any("recipe" in label for label in labels)
    assert any("fit_sigma" in label for label in labels)
    # The speed limit: start + lr * steps, through the recipe's start.
    limit = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert len(limit) == 1
    x, y = limit[0].get_data()
    np.testing.assert_allclose(y, 0.06 + 1e-3 * x, rtol=1e-6)
    # The recipe's records are markers only: nothing is known between epochs.
    markers = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(markers) == 2
    assert all(line.get_linestyle() == "None" for line in markers)


def test_recovery_trajectories_only_fast_and_errors():
    fig = drawn(plot_recovery_trajectories({}, {1.0: fake_fit(1.0, 1.0, 500, 21, 500.0)}))
    assert_labelled(fig.axes[0])
    with pytest.raises(ValueError, match="at least one"):
        plot_recovery_trajectories({}, {})
    with pytest.raises(TypeError, match="FitResult"):
        plot_recovery_trajectories({1.0: "fit"}, {})


def test_family_fits():
    bumplib.make_deterministic(0)
    xb, yb, _ = bumplib.generate_data(1.0, min_x=-2.0, max_x=2.0, n=100, seed=0)
    xg, yg = generate_gaussian_data(0.8, 1.0, 0.3, min_x=-2.0, max_x=2.0, n=100, seed=0)
    bump_layer, gauss_layer = ScaledBumpLayer(1.0), bumplib.GaussianBumpLayer(1.0)
    fits = {
        name: {
            "bump": fake_layer_fit(bump_layer, np.ones((2, 1))),
            "gaussian": fake_layer_fit(gauss_layer, np.ones((2, 1))),
        }
        for name in ("bump", "gaussian")
    }
    fig = drawn(plot_family_fits({"bump": (xb, yb), "gaussian": (xg, yg)}, fits))
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert_labelled(ax)
        colors = {to_rgba(line.get_color()) for line in ax.get_lines()}
        assert to_rgba(FAMILY_COLORS["bump"]) in colors
        assert to_rgba(FAMILY_COLORS["gaussian"]) in colors
    assert fig.axes[1].get_title() == "Data from the Gaussian family"
    with pytest.raises(ValueError, match="no fits"):
        plot_family_fits({"other": (xb, yb)}, fits)


def test_width_gradients_draw_the_reference_derivative():
    fig = drawn(plot_width_gradients(sigmas=(0.5, 2.0), num=401))
    assert len(fig.axes) == 4
    for ax in fig.axes:
        assert_labelled(ax)
    bottom_left = fig.axes[2]
    bump_line = next(
        line
        for line in bottom_left.get_lines()
        if to_rgba(line.get_color()) == to_rgba(FAMILY_COLORS["bump"])
    )
    x, y = (np.asarray(v, dtype=float) for v in bump_line.get_data())
    keep = np.isfinite(y)
    np.testing.assert_allclose(y[keep], bump_grad_sigma(x[keep], 0.5), rtol=1e-9, atol=1e-300)
    assert np.isnan(y).sum() == 2  # breaks at the two jumps, x = +-0.5
    with pytest.raises(ValueError, match="> 0"):
        plot_width_gradients(sigmas=(0.0,))


def test_per_feature_sigmas():
    true = [0.2, 0.5, 1.0, 2.0]
    sigmas = np.vstack([np.ones(4), np.array(true), np.array(true)])
    fit = fake_layer_fit(bumplib.StableBumpLayer(per_feature=True), sigmas)
    fig = drawn(plot_per_feature_sigmas(fit, true))
    (ax,) = fig.axes
    assert_labelled(ax)
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="true widths"):
        plot_per_feature_sigmas(fit, [0.5])


def test_localized_fits():
    model = bumplib.make_localized_model(1, 3, bumplib.StableBumpLayer(per_feature=True))
    x = np.linspace(-3.0, 3.0, 50)[:, None]
    fits = {"bump": fake_layer_fit(model, np.ones((3, 3)))}
    fig = drawn(plot_localized_fits(x, np.zeros(50), fits))
    ax_fit, ax_loss = fig.axes
    assert_labelled(ax_fit)
    assert_labelled(ax_loss)
    assert ax_loss.get_yscale() == "log"
    with pytest.raises(ValueError, match="points"):
        plot_localized_fits(x, np.zeros(3), fits)
    with pytest.raises(ValueError, match="non-empty"):
        plot_localized_fits(x, np.zeros(50), {})


def test_figures_are_detached_from_pyplot():
    before = plt.get_fignums()
    plot_width_gradients(num=11)
    assert plt.get_fignums() == before
