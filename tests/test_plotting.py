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
    plot_bump_family,
    plot_training,
)
from bumpbook.plotting.animation import ANIMATION_ALT, self_contained_player
from bumplib.callbacks import SigmaHistory
from bumplib.reference import bump, bump_grad_sigma, unstable_mask
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


# --- plot_bump_family ---------------------------------------------------------------------------


def test_bump_family_draws_the_reference_bump_but_not_the_exploding_band():
    sigmas = (0.25, 0.5, 1.0, 2.0, 4.0)
    fig = plot_bump_family(sigmas)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert_labelled(ax)
    assert ax.get_ylim()[1] <= 0.5
    curves = {line.get_label(): line for line in ax.get_lines()}
    grid = np.linspace(-2.5, 2.5, 2001)
    for sigma in sigmas:
        line = curves[f"$\\sigma$ = {sigma:g}"]
        x = np.asarray(line.get_xdata(), dtype=float)
        y = np.asarray(line.get_ydata(), dtype=float)
        drawn = np.isfinite(y)
        np.testing.assert_array_equal(y[drawn], bump(x[drawn], sigma))
        assert y[drawn].max() <= np.exp(-1.0)
        assert not unstable_mask(x[drawn], sigma).any()
        assert drawn.sum() == len(grid) - unstable_mask(grid, sigma).sum()
    assert max(np.nanmax(np.asarray(line.get_ydata(), dtype=float)) for line in ax.get_lines()) <= 1
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    explodes = [label for label in labels if "explodes" in label]
    assert len(explodes) == 2  # sigma = 2 and sigma = 4
    fig.draw_without_rendering()


def test_bump_family_breaks_the_curve_at_the_jump():
    fig = plot_bump_family(sigmas=[0.5], x_range=(-1.0, 1.0), num=1001)
    (line,) = fig.axes[0].get_lines()
    x = np.asarray(line.get_xdata(), dtype=float)
    y = np.asarray(line.get_ydata(), dtype=float)
    breaks = np.flatnonzero(np.isnan(y))
    assert x[breaks].tolist() == [-0.5, 0.5]
    for i in breaks:  # the bump jumps from exp(-2) to 0 across each break
        assert abs(y[i - 1] - y[i + 1]) == pytest.approx(np.exp(-2.0), rel=0.05)


def test_bump_family_draws_into_given_axes():
    fig, ax = plt.subplots()
    assert plot_bump_family(sigmas=0.5, ax=ax) is fig
    assert len(ax.get_lines()) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sigmas": ()}, "non-empty"),
        ({"sigmas": (0.5, -1.0)}, ">= 0"),
        ({"sigmas": (float("nan"),)}, "finite"),
        ({"x_range": (1.0, 1.0)}, "min < max"),
        ({"x_range": (2.0, -2.0)}, "min < max"),
        ({"x_range": (0.0, float("inf"))}, "finite"),
        ({"x_range": (1.0, 2.0, 3.0)}, "two numbers"),
        ({"num": 1}, "num"),
    ],
)
def test_bump_family_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plot_bump_family(**kwargs)


# --- plot_training ------------------------------------------------------------------------------


def test_training_of_a_fit_result():
    fit = fit_result(
        history=[1.0, 3.0, 8.0, 19.5, 20.0],
        losses=[np.nan, 1e-2, 1e-3, np.inf, 1e-5],
        steps=[0, 25, 50, 75, 100],
        epochs=50.0,
    )
    fig = plot_training(fit, true_sigma=20.0)
    assert isinstance(fig, Figure)
    ax_sigma, ax_loss = fig.axes
    assert_labelled(ax_sigma)
    assert_labelled(ax_loss)
    (line,) = lines_styled(ax_sigma, COLORS["sigma"], "-")
    np.testing.assert_array_equal(line.get_ydata(), fit.history)
    np.testing.assert_array_equal(line.get_xdata(), [0.0, 12.5, 25.0, 37.5, 50.0])  # epochs
    (true_line,) = lines_styled(ax_sigma, COLORS["reference"], "--")
    assert list(true_line.get_ydata()) == [20.0, 20.0]
    assert ax_sigma.get_yscale() == "log"  # sigma spans a factor 20
    assert ax_loss.get_yscale() == "log"
    (loss,) = ax_loss.get_lines()
    np.testing.assert_array_equal(loss.get_ydata(), [1e-2, 1e-3, 1e-5])
    assert "1 nan/inf" in loss.get_label()
    fig.draw_without_rendering()

    by_step = plot_training(fit, x_label="steps")
    (line,) = lines_styled(by_step.axes[0], COLORS["sigma"], "-")
    np.testing.assert_array_equal(line.get_xdata(), fit.steps)


def test_training_of_a_sigma_history_with_one_width_per_feature():
    record = sigma_history(
        [[0.1, 1.0], [0.3, 1.5], [0.5, 2.0]], losses=[0.02, 0.001], every_n_batches=None
    )
    fig = plot_training(record, true_sigma=[0.5, 2.0])
    ax_sigma, ax_loss = fig.axes
    assert_labelled(ax_sigma)
    assert_labelled(ax_loss)
    learned = [line for line in ax_sigma.get_lines() if line.get_label().startswith("learned")]
    assert len(learned) == 2
    for i, line in enumerate(learned):
        np.testing.assert_array_equal(line.get_ydata(), record.sigmas[:, i])
        np.testing.assert_array_equal(line.get_xdata(), [0, 1, 2])  # epochs
    assert sorted(
        y
        for line in lines_styled(ax_sigma, COLORS["reference"], "--")
        for y in set(line.get_ydata())
    ) == [0.5, 2.0]
    (loss,) = ax_loss.get_lines()
    np.testing.assert_array_equal(loss.get_ydata(), [0.02, 0.001])
    fig.draw_without_rendering()

    by_step = plot_training(record, x_label="step")
    np.testing.assert_array_equal(by_step.axes[0].get_lines()[0].get_xdata(), [0, 2, 4])


def test_training_without_any_finite_loss_keeps_a_linear_axis():
    fit = fit_result([0.1, np.nan], [np.nan, np.nan], [0, 32], epochs=1.0)
    fig = plot_training(fit)
    assert fig.axes[1].get_yscale() == "linear"
    assert_labelled(fig.axes[1])
    fig.draw_without_rendering()


def test_training_rejects_bad_input():
    fit = fit_result([0.1, 0.2], [np.nan, 0.1], [0, 10], epochs=1.0)
    with pytest.raises(ValueError, match="'epochs' or 'steps'"):
        plot_training(fit, x_label="minutes")
    with pytest.raises(ValueError, match="true_sigma"):
        plot_training(fit, true_sigma=-1.0)
    with pytest.raises(ValueError, match="no records"):
        plot_training(SigmaHistory(layer=FakeBumpLayer([0.1])))
    by_batches = sigma_history([[0.1], [0.2]], losses=[0.1], every_n_batches=1)
    with pytest.raises(ValueError, match="steps"):
        plot_training(by_batches, x_label="epoch")
    with pytest.raises(TypeError, match="FitResult or SigmaHistory"):
        plot_training({"history": [0.1]})


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


def test_animation_html_player_has_alt_text_and_named_controls():
    html = animation_html(sigmas=[0.5], num=21, alt="A hill <that> widens").data
    assert re.search(r'<img id="_anim_img[0-9a-f]+" alt="A hill &lt;that&gt; widens">', html)
    assert re.search(r'class="anim-slider" aria-label="Animation frame"', html)
    for name in ("Play", "Pause", "Play backwards", "First frame", "Last frame"):
        assert f'aria-label="{name}"' in html
    default = animation_html(sigmas=[0.5], num=21).data
    assert f'alt="{ANIMATION_ALT}"' in default
    with pytest.raises(ValueError, match="alt must say what the animation shows"):
        animation_html(sigmas=[0.5], num=21, alt=" ")


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
