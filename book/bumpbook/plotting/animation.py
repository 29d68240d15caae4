"""The accepted answer's animated diagram, as an animation that plays in the HTML book.

As sigma grows from 0 to 5, the bump ``phi_sigma(x)`` (solid red), its
derivative with respect to sigma (dotted green) and the lines ``x = -sigma``
and ``x = sigma`` (dashed blue) move on fixed axes; where the formula explodes
(``sigma > 1``, ``sqrt(sigma) < |x| < sigma``) the curves leave the frame.
:func:`animation_html` turns it into the self-contained JavaScript player that
a notebook displays (``matplotlib``'s ``to_jshtml``, made by
:func:`self_contained_player` to need no network and to fit a phone's width).
"""

from __future__ import annotations

import html as html_escape
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
from matplotlib.animation import Animation, FuncAnimation

from bumpbook.plotting.style import (
    COLORS,
    LABELS,
    break_at_support_edges,
    check_positive,
    check_sigma_list,
    clip_above,
    new_axes,
    style_axes,
    vertical_pair,
)
from bumplib.reference import bump, bump_grad_sigma
from bumplib.validation import check_count, check_range

if TYPE_CHECKING:
    from IPython.display import HTML
    from matplotlib.artist import Artist

__all__ = [
    "ANIMATION_ALT",
    "animation_html",
    "bump_animation",
    "label_player",
    "self_contained_player",
]

_MARGINS = {"left": 0.1, "right": 0.98, "bottom": 0.13, "top": 0.92}  # of the 7 x 4 figure
_YLIM = (-0.5, 1.5)  # fixed: the bump stays below exp(-1), exploding values leave the frame
# Settings that change the frames to_jshtml embeds, fixed so that the output is reproducible.
_JSHTML_RC = {
    "animation.frame_format": "png",
    "savefig.dpi": "figure",
    "savefig.bbox": "standard",
    "savefig.facecolor": "auto",
    "savefig.edgecolor": "auto",
    "savefig.transparent": False,
}

# --- the player's buttons and style, in place of matplotlib's ----------------------------------
# matplotlib's jshtml player draws its buttons with Font Awesome 4.4 icons from a CDN (a
# stylesheet link: nothing shows offline, and the page loads from another host) and fixes its
# slider at 374 px (clipped in a phone's 358 px column). Inline SVG icons and a style that
# shrinks and wraps to the width it is given replace both.
_FONT_AWESOME_LINK = re.compile(
    r"""<link\s+rel="stylesheet"\s+href="[^"]*font-awesome[^"]*"\s*/?>\s*"""
)
_ICON = re.compile(r"""<i class="(fa fa-[a-z-]+(?: fa-flip-horizontal)?)"></i>""")
_STYLE = re.compile(r"<style>\s*\.animation \{.*?</style>", re.DOTALL)
# The frame has no alt text and the slider no label: a screen reader announces an unnamed
# image and an unnamed slider (axe: image-alt and label, critical).
_FRAME = re.compile(r'<img id="(_anim_img[0-9a-f]+)">')
_SLIDER = re.compile(r'(<input id="_anim_slider[0-9a-f]+" type="range" class="anim-slider")')
#: What :func:`bump_animation` shows, for a reader who cannot see it: the frame's alt text.
ANIMATION_ALT = (
    "Animation as sigma grows from 0 to 5: the bump (solid red), its derivative with respect "
    "to sigma (dotted green) and the support edges x = -sigma and x = sigma (dashed blue). "
    "While sigma is below 1 the bump is a hill that widens; above 1 the curves leave the "
    "frame between x = square root of sigma and x = sigma, where the formula explodes."
)
#: SVG paths (16 x 16 box) of the player's nine buttons, by matplotlib's icon classes.
ICON_PATHS: dict[str, str] = {
    "fa fa-minus": "M3 7h10v2H3z",
    "fa fa-fast-backward": "M15 2 9 8l6 6zM9 2 3 8l6 6zM1 2h2v12H1z",
    "fa fa-step-backward": "M13 2 5 8l8 6zM3 2h2v12H3z",
    "fa fa-play fa-flip-horizontal": "M12 2 2 8l10 6z",
    "fa fa-pause": "M4 2h3v12H4zM9 2h3v12H9z",
    "fa fa-play": "M4 2l10 6-10 6z",
    "fa fa-step-forward": "M3 2l8 6-8 6zM11 2h2v12h-2z",
    "fa fa-fast-forward": "M1 2l6 6-6 6zM7 2l6 6-6 6zM13 2h2v12h-2z",
    "fa fa-plus": "M7 3h2v4h4v2H9v4H7V9H3V7h4z",
}
PLAYER_STYLE = """<style>
.animation { display: inline-block; max-width: 100%; text-align: center; }
.animation img { max-width: 100%; height: auto; }
input[type=range].anim-slider {
    width: 100%; max-width: 374px; margin-left: auto; margin-right: auto;
}
.anim-buttons {
    display: flex; flex-wrap: wrap; justify-content: center; gap: 2px; margin: 8px 0px;
}
.anim-buttons button {
    display: inline-flex; align-items: center; justify-content: center;
    box-sizing: border-box; padding: 0; width: 34px; height: 28px;
}
.anim-buttons svg { width: 14px; height: 14px; }
.anim-state label { margin-right: 8px; }
.anim-state input { margin: 0; vertical-align: middle; }
</style>"""


def _icon_svg(match: re.Match[str]) -> str:
    """Return the inline SVG for one of matplotlib's Font Awesome icon elements."""
    path = ICON_PATHS.get(match.group(1))
    if path is None:
        raise RuntimeError(f"unknown icon {match.group(1)!r} in matplotlib's jshtml player")
    return (
        '<svg viewBox="0 0 16 16" width="14" height="14" fill="currentColor" '
        f'aria-hidden="true" focusable="false"><path d="{path}"/></svg>'
    )


def label_player(html: str, alt: str) -> str:
    """Give the player's frame the alt text ``alt`` and its slider the name "Animation frame"."""
    if not alt.strip():
        raise ValueError("alt must say what the animation shows; got an empty text.")
    html = _FRAME.sub(lambda m: f'<img id="{m.group(1)}" alt="{html_escape.escape(alt)}">', html)
    return _SLIDER.sub(r'\1 aria-label="Animation frame"', html)


def self_contained_player(html: str, alt: str = ANIMATION_ALT) -> str:
    """Return matplotlib's jshtml player ``html`` made offline, accessible and narrow-screen ready.

    The Font Awesome stylesheet link (a CDN) is removed, each icon becomes an
    inline SVG (the buttons keep their ``title`` and ``aria-label``), the frame
    gets ``alt`` as its alternative text and the slider a name, and the
    player's style lets the frame, the slider and the row of buttons shrink
    (and the buttons wrap) to the width of their box, down to a phone's.

    Args:
        html: The output of ``Animation.to_jshtml()``.
        alt: What the animation shows, in words (default: :data:`ANIMATION_ALT`).

    Returns:
        The same player with no reference to another host.

    Raises:
        RuntimeError: if ``html`` is not the player this was written for (a
            new matplotlib template): then this function needs updating.

    """
    html, links = _FONT_AWESOME_LINK.subn("", html)
    html, icons = _ICON.subn(_icon_svg, html)
    html, styles = _STYLE.subn(lambda _: PLAYER_STYLE, html)
    frames, sliders = len(_FRAME.findall(html)), len(_SLIDER.findall(html))
    if (links, icons, styles, frames, sliders) != (1, len(ICON_PATHS), 1, 1, 1):
        raise RuntimeError(
            f"matplotlib {mpl.__version__}'s jshtml player changed: found {links} Font "
            f"Awesome link(s), {icons} icon(s), {styles} style block(s), {frames} frame(s) "
            f"and {sliders} slider(s), expected 1, {len(ICON_PATHS)}, 1, 1 and 1; update "
            "bumpbook.plotting.animation."
        )
    return label_player(html, alt)


def _frame_title(sigma: float) -> str:
    """Return the title of the frame for ``sigma``.

    Plain text (a Greek sigma, not mathtext): a new mathtext string per frame
    would be parsed anew for each, which takes longer than drawing the frame.
    """
    return f"The bump and its \u03c3-derivative, \u03c3 = {sigma:.2f}"


def bump_animation(
    sigmas: Sequence[float] | None = None,
    x_range: tuple[float, float] = (-6.0, 6.0),
    num: int = 1201,
    interval: float = 150,
    dpi: float = 72,
) -> FuncAnimation:
    """Return the animated diagram of the bump as its width sigma grows.

    One frame per width: ``phi_sigma(x)`` as a solid red line,
    ``d(phi)/d(sigma)`` as a dotted green line, ``x = -sigma`` and ``x =
    sigma`` as dashed blue lines, and the width (2 decimals) in the title.
    The y-axis is fixed to ``[-0.5, 1.5]``; larger values (up to ``inf``
    where the formula explodes) are cut just above it, so the curves visibly
    leave the frame. The jumps at ``|x| = sigma`` are drawn as breaks.

    The figure is already closed in pyplot, so a notebook shows only the
    animation (see :func:`animation_html`), not a static copy.

    Args:
        sigmas: The widths, one per frame; default ``np.linspace(0, 5, 41)``.
        x_range: ``(min, max)`` of the inputs shown.
        num: Number of grid points.
        interval: Delay between frames, in milliseconds.
        dpi: Resolution of the frames (the figure is 7 x 4 inches).

    Returns:
        The animation.

    Raises:
        ValueError: for no width, a negative or non-finite width, a bad
            ``x_range``, ``num < 2``, or a non-positive ``interval`` or ``dpi``.

    """
    frames = check_sigma_list(np.linspace(0.0, 5.0, 41) if sigmas is None else sigmas, "sigmas")
    x_range = check_range(x_range, "x_range")
    num = check_count(num, "num", 2)
    interval = check_positive(interval, "interval")
    dpi = check_positive(dpi, "dpi")

    # Fixed margins, no layout engine: the frames differ only inside the axes and in the
    # title's digits, and a layout engine would lay out (and half draw) every frame again.
    fig, ax = new_axes(dpi=dpi, layout="none")
    fig.subplots_adjust(**_MARGINS)
    x = np.linspace(*x_range, num)
    (bump_line,) = ax.plot([], [], color=COLORS["bump"], lw=2, label=LABELS["bump"])
    # Not antialiased: crisp dots look the same at 72 dpi and make the PNG frames that
    # animation_html embeds about a fifth smaller.
    (grad_line,) = ax.plot(
        [],
        [],
        color=COLORS["grad_sigma"],
        lw=2.2,
        ls=":",
        antialiased=False,
        label=LABELS["grad_sigma"],
    )
    edges = vertical_pair(
        ax, frames[0], color=COLORS["sigma"], linestyle="--", label=LABELS["sigma"]
    )
    ax.set_xlim(*x_range)
    ax.set_ylim(*_YLIM)
    style_axes(
        ax,
        xlabel="input x",
        ylabel="value",
        title=_frame_title(frames[0]),
        legend_loc="lower center",  # the bump and its derivative are never negative
        legend_ncols=3,
    )

    def draw(sigma: float) -> tuple[Artist, ...]:
        """Draw the frame for ``sigma``."""
        x_drawn, phi, grad = break_at_support_edges(
            x,
            sigma,
            clip_above(bump(x, sigma), _YLIM),
            clip_above(bump_grad_sigma(x, sigma), _YLIM),
        )
        bump_line.set_data(x_drawn, phi)
        grad_line.set_data(x_drawn, grad)
        for line, at in zip(edges, (-sigma, sigma), strict=True):
            line.set_xdata([at, at])
        ax.title.set_text(_frame_title(sigma))
        return bump_line, grad_line, *edges, ax.title

    draw(frames[0])
    return FuncAnimation(fig, draw, frames=frames, interval=interval, repeat=True)


def animation_html(
    animation: Animation | None = None, alt: str = ANIMATION_ALT, **kwargs: Any
) -> HTML:
    """Return an animation as HTML with an embedded JavaScript player, looping.

    This is what a notebook shows so that the animation plays in the HTML
    book: ``HTML(animation.to_jshtml(default_mode="loop"))``, with the frames
    as base64 PNG images, through :func:`self_contained_player` (no Font
    Awesome from a CDN; fits a phone's width). The frames are reproducible: two calls give the same
    string except for the random element ids matplotlib puts in the player.
    The default animation (41 frames of 504 x 288 pixels) is about 1.1 MB.

    Args:
        animation: The animation; by default ``bump_animation(**kwargs)``.
        alt: What the animation shows, the frame's alternative text (default:
            :data:`ANIMATION_ALT`, which describes :func:`bump_animation`'s).
        **kwargs: Arguments of :func:`bump_animation`, only when
            ``animation`` is None.

    Returns:
        An ``IPython.display.HTML`` object.

    Raises:
        ValueError: if both ``animation`` and ``kwargs`` are given, or ``alt`` is empty.
        TypeError: if ``animation`` is not a matplotlib animation.

    """
    from IPython.display import HTML  # only needed here; IPython comes with Jupyter

    if animation is None:
        animation = bump_animation(**kwargs)
    elif kwargs:
        raise ValueError(
            f"keyword arguments {sorted(kwargs)} build the default animation; "
            "pass them without an animation, or set them on the animation you pass."
        )
    elif not isinstance(animation, Animation):
        raise TypeError(f"expected a matplotlib Animation, got {type(animation).__name__}.")
    with mpl.rc_context(_JSHTML_RC):
        return HTML(self_contained_player(animation.to_jshtml(default_mode="loop"), alt))
