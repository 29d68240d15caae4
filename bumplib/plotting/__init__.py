"""The figures of the book, drawn from the NumPy reference values of :mod:`bumplib.reference`.

* :mod:`bumplib.plotting.figures`: static figures: the bump family, one bump
  with its derivative with respect to sigma, training curves, sigma
  trajectories and the recovery plot.
* :mod:`bumplib.plotting.animation`: the accepted answer's animated diagram,
  and the HTML player a notebook shows so that it plays in the book.

Later modules (``exercises``, ``beyond``) add their figures next to these and
re-export them here.

Every function returns a :class:`~matplotlib.figure.Figure` (the animation
functions return the objects they name), never calls ``plt.show()``, and
detaches the figures it creates from pyplot: a notebook shows a figure once,
when it is the value of a cell. Colours are shared by all figures
(``COLORS``): the bump red, ``d(phi)/d(sigma)`` green, ``x = +-sigma``
blue, ``x = +-sqrt(sigma)`` purple.
"""

from __future__ import annotations

from bumplib.plotting.animation import animation_html, bump_animation
from bumplib.plotting.figures import (
    COLORS,
    plot_bump_and_gradient,
    plot_bump_family,
    plot_recovery_table_figure,
    plot_sigma_trajectories,
    plot_training,
)

__all__ = [
    "COLORS",
    "animation_html",
    "bump_animation",
    "plot_bump_and_gradient",
    "plot_bump_family",
    "plot_recovery_table_figure",
    "plot_sigma_trajectories",
    "plot_training",
]
