"""Tests of bumpbook.plotting.exercises, the figures of the worked exercises."""

from __future__ import annotations

import itertools

import matplotlib as mpl

mpl.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

import bumplib
from bumpbook import AnswerBumpLayer
from bumpbook.diagnostics import ConvergenceRun, fit_layer, layer_gradients, unfiltered_data
from bumpbook.plotting.exercises import (
    plot_activation_histograms,
    plot_convergence,
    plot_exploding_band,
    plot_failure_traces,
    plot_gradient_decay,
    plot_kept_samples,
    plot_layer_check,
)
from bumpbook.plotting.style import MAX_FIGURE_WIDTH
from bumplib import SigmaHistory, StableBumpLayer


def assert_complete(fig: Figure, n_axes: int) -> list:
    """Every axes has a title, both axis labels and a legend with at least one entry."""
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    assert len(axes) == n_axes
    for ax in axes:
        assert ax.get_title()
        assert ax.get_xlabel()
        assert ax.get_ylabel()
        legend = ax.get_legend()
        assert legend is not None
        assert legend.get_texts()
    return axes


def assert_stacked_and_narrow(fig: Figure, axes: list) -> None:
    """The axes are stacked top to bottom in one column, and the figure fits a phone's page."""
    assert fig.get_figwidth() <= MAX_FIGURE_WIDTH
    fig.canvas.draw()
    boxes = [ax.get_position() for ax in axes]
    for upper, lower in itertools.pairwise(boxes):
        assert upper.y0 >= lower.y1 - 1e-9
        assert abs(upper.x0 - lower.x0) < 0.05


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --- exercise 1 ---------------------------------------------------------------------------------


def test_plot_exploding_band_rows_and_scales():
    fig = plot_exploding_band(sigmas=(2.0, 4.0), num=2001)
    axes = assert_complete(fig, 2)
    for ax in axes:
        assert ax.get_yscale() == "log"
        ylim = ax.get_ylim()
        assert ylim[0] < 1 < 3.4e38 < ylim[1]  # both "value 1" and float32's limit show
        # The bump (solid) and its sigma-derivative (dotted) share each panel.
        styles = {line.get_label(): line.get_linestyle() for line in ax.get_lines()}
        assert styles[r"$\varphi_\sigma(x)$"] == "-"
        assert styles[r"$|\partial\varphi_\sigma / \partial\sigma|$"] == ":"
    assert "2" in axes[0].get_title()
    assert "4" in axes[1].get_title()
    # Stacked in one column, narrow enough for a phone.
    assert axes[0].get_position().y0 > axes[1].get_position().y1 - 1e-9
    assert fig.get_figwidth() <= MAX_FIGURE_WIDTH
    # The band of sigma = 2 is shaded: sqrt(2) < |x| < 2.
    patches = [p for p in axes[0].patches if p.get_label() and "band" in p.get_label()]
    assert patches


def test_plot_exploding_band_draws_values_above_one_in_the_band():
    fig = plot_exploding_band(sigmas=(2.0,), num=4001)
    ax = fig.get_axes()[0]
    x, y = ax.get_lines()[0].get_data()
    band = (np.abs(x) > np.sqrt(2.0)) & (np.abs(x) < 2.0)
    assert np.all(np.asarray(y)[band] > 1)
    assert np.nanmax(np.asarray(y)[~band]) < 1


@pytest.mark.parametrize(
    "kwargs", [{"sigmas": ()}, {"sigmas": (-1.0,)}, {"x_range": (1, -1)}, {"num": 1}]
)
def test_plot_exploding_band_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=r"sigma|x_range|num"):
        plot_exploding_band(**kwargs)


# --- training traces ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def traces() -> dict[str, SigmaHistory]:
    bumplib.make_deterministic(0)
    x, y, _ = bumplib.generate_data(0.5, n=128, seed=0)
    x_inf, y_inf = unfiltered_data(2.0, -3.0, 3.0, n=2001, grid=True)
    return {
        "AnswerBumpLayer at 0": fit_layer(AnswerBumpLayer(initial_sigma=0.0), x, y, epochs=1),
        "StableBumpLayer": fit_layer(StableBumpLayer(initial_sigma=0.1), x, y, epochs=1),
        "inf targets": fit_layer(AnswerBumpLayer(), x_inf, y_inf, epochs=1, batch_size=2001),
    }


def test_plot_failure_traces_marks_the_failure(traces):
    fig = plot_failure_traces(traces, true_sigma=0.5)
    ax_sigma, ax_loss = assert_complete(fig, 2)
    assert_stacked_and_narrow(fig, [ax_sigma, ax_loss])
    labels = legend_texts(ax_sigma)
    assert "AnswerBumpLayer at 0: $\\sigma$ = nan after step 1" in labels
    assert "StableBumpLayer" in labels
    assert "true $\\sigma$" in labels
    assert ax_loss.get_yscale() == "log"
    assert "inf targets: loss = inf (1 steps)" in legend_texts(ax_loss)
    # Finite losses are drawn as a line; an inf one only as a tick along the top edge.
    lines = {line.get_label(): line for line in ax_loss.get_lines()}
    assert np.isfinite(lines["AnswerBumpLayer at 0"].get_ydata()).sum() == 1
    assert np.isfinite(lines["inf targets"].get_ydata()).sum() == 0


def test_plot_failure_traces_needs_per_step_records():
    with pytest.raises(ValueError, match="every batch"):
        plot_failure_traces({"per epoch": SigmaHistory()})
    with pytest.raises(ValueError, match="non-empty"):
        plot_failure_traces({})


# --- exercise 2 ---------------------------------------------------------------------------------


def test_plot_layer_check_counts_what_explodes():
    x = np.linspace(-5.5, 5.5, 1001)
    results = {
        "AnswerBumpLayer": layer_gradients(AnswerBumpLayer, x, 5.0),
        "StableBumpLayer": layer_gradients(StableBumpLayer, x, 5.0),
    }
    fig = plot_layer_check(results, 5.0)
    axes = assert_complete(fig, 3)
    assert_stacked_and_narrow(fig, axes)
    for ax in axes:
        texts = legend_texts(ax)
        assert "StableBumpLayer: 0 values > 1, 0 nan/inf" in texts
        thread = next(t for t in texts if t.startswith("AnswerBumpLayer:"))
        assert not thread.startswith("AnswerBumpLayer: 0 values > 1, 0 nan")
        assert ax.get_ylim() == (-1.5, 1.5)


def test_plot_layer_check_rejects_other_results():
    with pytest.raises(ValueError, match="LayerGradients"):
        plot_layer_check({"a": np.zeros(3)}, 1.0)


# --- exercise 3 ---------------------------------------------------------------------------------


def test_plot_activation_histograms_reports_the_share_outside():
    values = {"inside": np.linspace(-0.9, 0.9, 100), "wide": np.linspace(-3.0, 3.0, 100)}
    fig = plot_activation_histograms(values)
    assert fig.get_figwidth() <= MAX_FIGURE_WIDTH
    (ax,) = assert_complete(fig, 1)
    texts = legend_texts(ax)
    assert texts[0] == "inside: min -0.9, max 0.9, 0% outside"
    assert texts[1].startswith("wide: min -3, max 3, 66")
    assert "safe range (-1.0, 1.0)" in texts


def test_plot_activation_histograms_counts_nonfinite_and_rejects_empty():
    fig = plot_activation_histograms({"a": [0.1, np.nan, np.inf, 0.2]})
    assert legend_texts(fig.get_axes()[0])[0].endswith("2 nan/inf")
    with pytest.raises(ValueError, match="no finite"):
        plot_activation_histograms({"a": [np.nan]})


# --- exercise 4 ---------------------------------------------------------------------------------


def test_plot_gradient_decay():
    s = np.array([1.0, 10.0, 100.0])
    fig = plot_gradient_decay(s, 1 / s**2, 1 / s**2)
    assert fig.get_figwidth() <= MAX_FIGURE_WIDTH
    (ax,) = assert_complete(fig, 1)
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert any("slope" in t for t in legend_texts(ax))
    with pytest.raises(ValueError, match="sigmas"):
        plot_gradient_decay([1.0, 2.0], [1.0])


def test_plot_convergence():
    runs = [
        ConvergenceRun(1.0, 3, np.array([0.05, 0.5, 0.9, 0.995]), 313),
        ConvergenceRun(4.0, None, np.array([0.05, 0.6, 1.1]), 313),
    ]
    fig = plot_convergence(runs)
    ax_epochs, ax_path = assert_complete(fig, 2)
    assert_stacked_and_narrow(fig, [ax_epochs, ax_path])
    # The reference line is a yardstick (steps of exactly eta), not called a bound.
    for ax in (ax_epochs, ax_path):
        assert not any("bound" in t for t in legend_texts(ax))
        assert any("exactly" in t for t in legend_texts(ax))
    measured = ax_epochs.get_lines()[0].get_ydata()
    assert measured[0] == 3
    assert np.isnan(measured[1])  # never converged: not drawn
    bound = ax_epochs.get_lines()[1].get_ydata()
    np.testing.assert_allclose(bound, [(1.0 - 0.05) / 0.313, (4.0 - 0.05) / 0.313])
    assert "true $\\sigma$ = 4" in legend_texts(ax_path)
    with pytest.raises(ValueError, match="ConvergenceRun"):
        plot_convergence([])


# --- exercise 5 ---------------------------------------------------------------------------------


def test_plot_kept_samples_shades_the_band():
    x, _, _ = bumplib.generate_data(2.0, -3.0, 3.0, n=5000, seed=0)
    fig = plot_kept_samples(x, 2.0, (-3.0, 3.0), bins=60)
    assert fig.get_figwidth() <= MAX_FIGURE_WIDTH
    (ax,) = assert_complete(fig, 1)
    assert "5000 samples" in legend_texts(ax)
    heights = np.array([bar.get_height() for bar in ax.containers[0]])
    assert heights.sum() == 5000
    with pytest.raises(ValueError, match="bins"):
        plot_kept_samples(x, 2.0, (-3.0, 3.0), bins=0)
