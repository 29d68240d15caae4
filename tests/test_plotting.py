"""Tests of bumpbook.plotting: what is drawn is the reference maths, labelled, and warning-free.

pytest turns every warning into an error (pyproject.toml), so each test that
builds (and draws) a figure also checks that nothing warns.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
from IPython.display import HTML
from matplotlib.animation import AbstractMovieWriter, FuncAnimation
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from plot_checks import assert_labelled

from bumpbook.plotting import (
    COLORS,
    animation_html,
    bump_animation,
    plot_bump_and_gradient,
    plot_sigma_trajectories,
)
from bumpbook.plotting.animation import self_contained_player
from bumplib.callbacks import SigmaHistory
from bumplib.reference import bump, bump_grad_sigma
from bumplib.training import FitResult

MAX_HTML_BYTES = 1_500_000


# --- helpers ------------------------------------------------------------------------------------


def lines_styled(ax, color, linestyle):
    """The lines of ``ax`` drawn in ``color`` with ``linestyle``."""
    return [
        line
        for line in ax.get_lines()
        if to_rgba(line.get_color()) == to_rgba(color) and line.get_linestyle() == linestyle
    ]


def vertical_positions(ax, color, linestyle):
    """The x positions of the vertical lines of ``ax`` in ``color`` with ``linestyle``."""
    positions = set()
    for line in lines_styled(ax, color, linestyle):
        x = np.asarray(line.get_xdata(), dtype=float)
        assert x[0] == x[-1]
        positions.add(float(x[0]))
    return positions


def assert_reference_curve(x, y, reference, sigma, top):
    """``y`` is ``reference(x, sigma)`` wherever drawn; values above ``top`` leave the axes."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    drawn = np.isfinite(y)
    assert drawn.sum() > 0.9 * len(y)
    expected = reference(x[drawn], sigma)
    inside = expected <= top
    np.testing.assert_array_equal(y[drawn][inside], expected[inside])
    assert (y[drawn][~inside] > top).all()


def fit_result(history, losses, steps, epochs):
    history = np.asarray(history, dtype=float)
    return FitResult(
        sigma=float(history[-1]),
        history=history,
        losses=np.asarray(losses, dtype=float),
        steps=np.asarray(steps),
        epochs=epochs,
        seconds=0.1,
    )


class FakeBumpLayer:
    """Stands in for a trained bump layer: SigmaHistory only calls get_sigma()."""

    def __init__(self, sigma):
        self.sigma = np.asarray(sigma, dtype=float)

    def get_sigma(self):
        return self.sigma.copy()


def sigma_history(sigmas_per_epoch, losses, every_n_batches=None):
    """A SigmaHistory filled through its callback methods, two batches per epoch."""
    layer = FakeBumpLayer(sigmas_per_epoch[0])
    record = SigmaHistory(layer=layer, every_n_batches=every_n_batches)
    optimizer = SimpleNamespace(iterations=0)  # SigmaHistory reads the step counter
    record.set_model(SimpleNamespace(optimizer=optimizer))
    record.on_train_begin()
    for epoch, (sigma, loss) in enumerate(zip(sigmas_per_epoch[1:], losses, strict=True)):
        layer.sigma = np.asarray(sigma, dtype=float)
        for batch in range(2):
            optimizer.iterations += 1
            record.on_train_batch_end(batch, {"loss": loss})
        record.on_epoch_end(epoch, {"loss": loss})
    return record


class FrameRecorder(AbstractMovieWriter):
    """A movie writer that keeps each frame's title and line data instead of writing a file."""

    def __init__(self):
        super().__init__()
        self.titles = []
        self.lines = []

    def setup(self, fig, outfile, dpi=None):
        super().setup(fig, outfile, dpi)

    def grab_frame(self, **savefig_kwargs):
        (ax,) = self.fig.axes
        self.titles.append(ax.get_title())
        self.lines.append(
            [
                (
                    to_rgba(line.get_color()),
                    line.get_linestyle(),
                    np.array(line.get_xdata(), dtype=float),
                    np.array(line.get_ydata(), dtype=float),
                )
                for line in ax.get_lines()
            ]
        )

    def finish(self):
        pass


# --- plot_bump_and_gradient ---------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.0, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0])
def test_bump_and_gradient_draws_reference_values_and_marks(sigma):
    fig = plot_bump_and_gradient(sigma)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert_labelled(ax)
    low, high = ax.get_xlim()
    assert low <= -max(sigma, np.sqrt(sigma))
    assert high >= max(sigma, np.sqrt(sigma))
    top = ax.get_ylim()[1]
    (phi,) = lines_styled(ax, COLORS["bump"], "-")
    (grad,) = lines_styled(ax, COLORS["grad_sigma"], ":")
    assert_reference_curve(*phi.get_data(), bump, sigma, top)
    assert_reference_curve(*grad.get_data(), bump_grad_sigma, sigma, top)
    assert vertical_positions(ax, COLORS["sigma"], "--") == {-sigma, sigma}
    assert vertical_positions(ax, COLORS["sqrt_sigma"], ":") == {-np.sqrt(sigma), np.sqrt(sigma)}
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    notes = [text.get_text() for text in ax.texts]
    if sigma > 1:
        assert any("explodes" in label for label in labels)
        assert any("leave the plot" in note for note in notes)
        assert top < 2  # the bounded part stays readable
    else:
        assert not notes
        assert top >= 4 * np.exp(-2.0)  # the largest bounded derivative is on the plot
    fig.draw_without_rendering()


def test_bump_and_gradient_notes_clipping_with_a_small_ylim():
    fig = plot_bump_and_gradient(0.5, x_range=(-1.0, 1.0), ylim=(0.0, 0.2))
    (ax,) = fig.axes
    assert ax.get_ylim() == (0.0, 0.2)
    assert any("leave the plot" in text.get_text() for text in ax.texts)
    (phi,) = lines_styled(ax, COLORS["bump"], "-")
    assert_reference_curve(*phi.get_data(), bump, 0.5, 0.2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sigma": -0.5}, "sigma must be >= 0"),
        ({"sigma": float("inf")}, "sigma must be finite"),
        ({"sigma": 1.0, "x_range": (1.0, -1.0)}, "x_range"),
        ({"sigma": 1.0, "ylim": (1.0, 0.0)}, "ylim"),
        ({"sigma": 1.0, "num": 0}, "num"),
    ],
)
def test_bump_and_gradient_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_bump_and_gradient(**kwargs)


# --- plot_sigma_trajectories --------------------------------------------------------------------


def test_sigma_trajectories_on_epochs_and_steps():
    fast = fit_result([1.0, 5.0, 20.0, 20.0], [np.nan, 1e-2, 1e-4, 1e-6], [0, 25, 50, 75], 75.0)
    slow = fit_result([0.05, 0.3, 0.5, 0.5], [np.nan, 1e-3, 1e-5, 1e-7], [0, 3125, 6250, 9375], 3.0)
    fig = plot_sigma_trajectories({"fast": fast, "slow": slow}, true_sigma=20.0)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert_labelled(ax)
    assert ax.get_yscale() == "log"
    curves = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(curves["fast"].get_ydata(), fast.history)
    np.testing.assert_array_equal(curves["slow"].get_ydata(), slow.history)
    np.testing.assert_array_equal(curves["fast"].get_xdata(), [0, 25, 50, 75])
    np.testing.assert_array_equal(curves["slow"].get_xdata(), [0, 1, 2, 3])
    assert curves["fast"].get_color() != curves["slow"].get_color()
    fig.draw_without_rendering()

    by_step = plot_sigma_trajectories({"slow": slow}, x_axis="steps")
    np.testing.assert_array_equal(by_step.axes[0].get_lines()[0].get_xdata(), slow.steps)
    assert by_step.axes[0].get_yscale() == "linear"  # 0.05 to 0.5 spans a factor 10 only


def test_sigma_trajectories_into_given_axes():
    fig, ax = plt.subplots()
    fit = fit_result([0.1, 0.2], [np.nan, 0.1], [0, 10], epochs=1.0)
    assert plot_sigma_trajectories({"a": fit}, ax=ax) is fig
    assert_labelled(ax)


def test_sigma_trajectories_rejects_bad_input():
    fit = fit_result([0.1, 0.2], [np.nan, 0.1], [0, 10], epochs=1.0)
    with pytest.raises(ValueError, match="non-empty mapping"):
        plot_sigma_trajectories({})
    with pytest.raises(ValueError, match="'epochs' or 'steps'"):
        plot_sigma_trajectories({"a": fit}, x_axis="hours")


# --- animation ----------------------------------------------------------------------------------


def test_bump_animation_frames(tmp_path):
    sigmas = [0.0, 0.5, 2.0, 4.999]
    anim = bump_animation(sigmas=sigmas, num=401)
    assert isinstance(anim, FuncAnimation)
    assert plt.get_fignums() == []  # closed in pyplot: no static copy in a notebook
    recorder = FrameRecorder()
    anim.save(str(tmp_path / "frames.unused"), writer=recorder)
    assert len(recorder.titles) == len(sigmas)
    (ax,) = recorder.fig.axes
    assert_labelled(ax)
    assert ax.get_ylim() == (-0.5, 1.5)
    for sigma, title, lines in zip(sigmas, recorder.titles, recorder.lines, strict=True):
        assert re.search(rf"= {sigma:.2f}$", title)

        def styled(color, linestyle, lines=lines):
            return [(x, y) for c, ls, x, y in lines if c == to_rgba(color) and ls == linestyle]

        ((x, y),) = styled(COLORS["bump"], "-")
        assert_reference_curve(x, y, bump, sigma, 1.5)
        ((x, y),) = styled(COLORS["grad_sigma"], ":")
        assert_reference_curve(x, y, bump_grad_sigma, sigma, 1.5)
        edges = styled(COLORS["sigma"], "--")
        assert {x[0] for x, _ in edges} == {-sigma, sigma}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sigmas": []}, "sigmas"),
        ({"sigmas": [0.5, -0.1]}, "sigmas"),
        ({"x_range": (3.0, 3.0)}, "x_range"),
        ({"num": 1}, "num"),
        ({"interval": 0}, "interval"),
        ({"dpi": -72}, "dpi"),
    ],
)
def test_bump_animation_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bump_animation(**kwargs)


def test_animation_html_default_is_small_and_has_41_frames():
    html = animation_html()
    assert isinstance(html, HTML)
    assert "<script" in html.data
    assert len(html.data.encode()) < MAX_HTML_BYTES
    assert html.data.count("data:image/png;base64,") == 41
    assert re.search(r'value="loop" id="[^"]*"\s+checked>', html.data)  # loops by default


def test_animation_html_is_reproducible_but_for_the_player_ids():
    def without_ids(html):
        (player_id,) = set(re.findall(r"_anim_img([0-9a-f]{32})", html))
        return html.replace(player_id, "ID")

    first = animation_html(sigmas=[0.5, 2.0], num=201).data
    second = animation_html(bump_animation(sigmas=[0.5, 2.0], num=201)).data
    assert first != second
    assert without_ids(first) == without_ids(second)


def test_animation_html_player_needs_no_network_and_fits_a_phone():
    html = animation_html(sigmas=[0.5, 2.0], num=201).data
    assert not re.search(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/""", html)  # no host named
    assert "font-awesome" not in html
    assert 'class="fa ' not in html
    assert html.count("<svg ") == 9  # one inline icon per button
    for title in ("Play", "Pause", "Play backwards", "First frame", "Last frame"):
        assert f'title="{title}"' in html
    assert not re.search(r"[^-]width: 374px", html)  # the slider is no longer fixed at 374 px
    assert "max-width: 100%" in html
    assert "flex-wrap: wrap" in html


def test_self_contained_player_rejects_an_unknown_template():
    with pytest.raises(RuntimeError, match="jshtml player changed"):
        self_contained_player("<div>not a matplotlib player</div>")
    player = animation_html(sigmas=[0.5], num=21).data
    with pytest.raises(RuntimeError, match="unknown icon 'fa fa-star'"):
        self_contained_player(player + '<i class="fa fa-star"></i>')


def test_animation_html_rejects_bad_input():
    with pytest.raises(ValueError, match="keyword arguments"):
        animation_html("not an animation", dpi=50)
    with pytest.raises(TypeError, match="Animation"):
        animation_html("not an animation")
