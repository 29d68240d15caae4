"""Tests of bumpbook.plotting.exercises, the figures of the worked exercises."""

from __future__ import annotations

import itertools

import matplotlib as mpl

mpl.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure
from step_records import fit_per_step

import bumplib
from bumpbook import AnswerBumpLayer
from bumpbook.diagnostics import unfiltered_data
from bumpbook.plotting.exercises import (
    plot_exploding_band,
    plot_failure_traces,
    plot_gradient_decay,
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
        "AnswerBumpLayer at 0": fit_per_step(AnswerBumpLayer(initial_sigma=0.0), x, y, epochs=1),
        "StableBumpLayer": fit_per_step(StableBumpLayer(initial_sigma=0.1), x, y, epochs=1),
        "inf targets": fit_per_step(AnswerBumpLayer(), x_inf, y_inf, epochs=1, batch_size=2001),
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
