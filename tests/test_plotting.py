"""Tests of bumpbook.plotting: what is drawn is the reference maths, labelled, and warning-free.

pytest turns every warning into an error (pyproject.toml), so each test that
builds (and draws) a figure also checks that nothing warns.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")


import matplotlib.pyplot as plt
import numpy as np
import pytest
from IPython.display import HTML
from matplotlib.animation import AbstractMovieWriter, FuncAnimation
from matplotlib.colors import to_rgba
from plot_checks import assert_labelled

from bumpbook.plotting import (
    COLORS,
    animation_html,
    bump_animation,
)
from bumpbook.plotting.animation import ANIMATION_ALT, self_contained_player
from bumplib.reference import bump, bump_grad_sigma

MAX_HTML_BYTES = 1_500_000


# --- helpers ------------------------------------------------------------------------------------


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
