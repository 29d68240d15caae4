"""The accepted answer's animated diagram, as an animation that plays in the HTML book.

As sigma grows from 0 to 5, the bump ``phi_sigma(x)`` (solid red), its
derivative with respect to sigma (dotted green) and the lines ``x = -sigma``
and ``x = sigma`` (dashed blue) move on fixed axes; where the formula explodes
(``sigma > 1``, ``sqrt(sigma) < |x| < sigma``) the curves leave the frame.
:func:`animation_html` turns it into the self-contained JavaScript player that
a notebook displays (``matplotlib``'s ``to_jshtml``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
from matplotlib.animation import Animation, FuncAnimation

from bumplib.book.plotting.style import (
    COLORS,
    LABELS,
    break_at_support_edges,
    check_positive,
    clip_above,
    new_axes,
    style_axes,
    vertical_pair,
)
from bumplib.reference import bump, bump_grad_sigma
from bumplib.validation import check_count, check_range, check_sigma_list

if TYPE_CHECKING:
    from IPython.display import HTML
    from matplotlib.artist import Artist

__all__ = ["animation_html", "bump_animation"]

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


def animation_html(animation: Animation | None = None, **kwargs: Any) -> HTML:
    """Return an animation as HTML with an embedded JavaScript player, looping.

    This is what a notebook shows so that the animation plays in the HTML
    book: ``HTML(animation.to_jshtml(default_mode="loop"))``, with the frames
    as base64 PNG images. The frames are reproducible: two calls give the same
    string except for the random element ids matplotlib puts in the player.
    The default animation (41 frames of 504 x 288 pixels) is about 1.1 MB.

    Args:
        animation: The animation; by default ``bump_animation(**kwargs)``.
        **kwargs: Arguments of :func:`bump_animation`, only when
            ``animation`` is None.

    Returns:
        An ``IPython.display.HTML`` object.

    Raises:
        ValueError: if both ``animation`` and ``kwargs`` are given.
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
        return HTML(animation.to_jshtml(default_mode="loop"))
