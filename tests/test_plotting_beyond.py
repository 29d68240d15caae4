"""Tests of bumpbook.plotting.beyond: chapter 5's figures are drawn, labelled, warning-free."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from plot_checks import assert_labelled

import bumpbook
import bumplib
from bumpbook.comparison import generate_gaussian_data
from bumpbook.plotting.beyond import (
    FAMILY_COLORS,
    plot_ablation_trajectories,
    plot_family_fits,
    plot_localized_fits,
    plot_per_feature_sigmas,
    plot_width_gradients,
)
from bumpbook.recovery import Recovery
from bumplib import ScaledBumpLayer
from bumplib.reference import bump_grad_sigma
from bumplib.training import LayerFit


def drawn(fig: Figure) -> Figure:
    """Draw ``fig`` (so that layout and text problems surface) and return it."""
    fig.canvas.draw()
    return fig


def fake_layer_fit(layer, sigmas: np.ndarray) -> LayerFit:
    records = len(sigmas)
    return LayerFit(
        layer=layer,
        losses=np.geomspace(1e-1, 1e-6, records),
        steps=np.arange(records) * 25,
        sigmas=sigmas,
    )


def fake_row(method: str, true_sigma: float, end: float) -> Recovery:
    """An ablation row whose sigma moves geometrically from 1 to ``end`` (no training)."""
    history = np.geomspace(1.0, end, 21) if end > 0 else np.r_[np.geomspace(1.0, 0.1, 20), 0.0]
    return Recovery(method, true_sigma, end, 500, 1.0, history, np.arange(21) * 25)


def test_ablation_trajectories():
    rows = [
        fake_row("fit_sigma (adam)", 50.0, 50.0),
        fake_row("identity parametrization", 50.0, 25.6),
        fake_row("identity parametrization", 0.05, 0.0),
        fake_row("fit_sigma (adam)", 0.05, 0.05),
    ]
    fig = drawn(plot_ablation_trajectories(rows, 50.0))
    (ax,) = fig.axes
    assert_labelled(ax)
    assert ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["fit_sigma (adam)", "identity parametrization"]
    assert any("true" in label for label in labels)
    assert fig.get_figwidth() <= 7.0
    # A run that ends at sigma = 0 is drawn at the bottom edge, not dropped by the log scale.
    fig = drawn(plot_ablation_trajectories(rows, 0.05))
    (ax,) = fig.axes
    bottom = ax.get_ylim()[0]
    lines = [line for line in ax.get_lines() if line.get_label() == "identity parametrization"]
    assert lines[0].get_ydata()[-1] == pytest.approx(bottom)


def test_ablation_trajectories_errors():
    rows = [fake_row("fit_sigma (adam)", 50.0, 50.0)]
    with pytest.raises(ValueError, match="no row"):
        plot_ablation_trajectories(rows, 5.0)
    bare = [Recovery("curve_fit (scipy)", 50.0, 50.0, 9, 0.1)]
    with pytest.raises(ValueError, match="history"):
        plot_ablation_trajectories(bare, 50.0)


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
    assert fig.get_figwidth() <= 7.0  # stacked, legible on a phone
    with pytest.raises(ValueError, match="no fits"):
        plot_family_fits({"other": (xb, yb)}, fits)


def test_width_gradients_draw_the_reference_derivative():
    fig = drawn(plot_width_gradients(sigmas=(0.5, 2.0), num=401))
    assert len(fig.axes) == 4
    assert fig.get_figwidth() <= 7.0
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
    model = bumpbook.make_localized_model(1, 3, bumplib.StableBumpLayer(per_feature=True))
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
