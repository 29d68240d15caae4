"""The figures of the book, drawn from the NumPy reference values of :mod:`bumplib.reference`.

* :mod:`bumpbook.plotting.style`: the shared colours, labels, sizes and
  drawing helpers of every figure.
* :mod:`bumpbook.plotting.animation`: the accepted answer's animated diagram,
  and the HTML player a notebook shows so that it plays in the book.
* :mod:`bumpbook.plotting.exercises`: the figures of the worked solutions
  (chapter 4).

Every function returns a :class:`~matplotlib.figure.Figure` (the animation
functions return the objects they name), never calls ``plt.show()``, and
detaches the figures it creates from pyplot: a notebook shows a figure once,
when it is the value of a cell. Colours are shared by all figures
(``COLORS``): the bump red, ``d(phi)/d(sigma)`` green, ``x = +-sigma``
blue, ``x = +-sqrt(sigma)`` purple.
"""

from __future__ import annotations

from bumpbook.plotting.animation import animation_html, bump_animation
from bumpbook.plotting.exercises import (
    plot_exploding_band,
    plot_failure_traces,
    plot_gradient_decay,
)
from bumpbook.plotting.style import COLORS

__all__ = [
    "COLORS",
    "animation_html",
    "bump_animation",
    "plot_exploding_band",
    "plot_failure_traces",
    "plot_gradient_decay",
]
