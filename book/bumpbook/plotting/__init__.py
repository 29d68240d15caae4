"""The figures of the book, drawn from the NumPy reference values of :mod:`bumplib.reference`.

* :mod:`bumpbook.plotting.style`: the shared colours, labels, sizes and
  drawing helpers of every figure.
* :mod:`bumpbook.plotting.figures`: static figures: one bump
  with its derivative with respect to sigma, and sigma trajectories.
* :mod:`bumpbook.plotting.animation`: the accepted answer's animated diagram,
  and the HTML player a notebook shows so that it plays in the book.
* :mod:`bumpbook.plotting.exercises`: the figures of the worked solutions
  (chapter 4).
* :mod:`bumpbook.plotting.beyond`: the figures of chapter 5.

Every function returns a :class:`~matplotlib.figure.Figure` (the animation
functions return the objects they name), never calls ``plt.show()``, and
detaches the figures it creates from pyplot: a notebook shows a figure once,
when it is the value of a cell. Colours are shared by all figures
(``COLORS``): the bump red, ``d(phi)/d(sigma)`` green, ``x = +-sigma``
blue, ``x = +-sqrt(sigma)`` purple.
"""

from __future__ import annotations

from bumpbook.plotting.animation import animation_html, bump_animation
from bumpbook.plotting.beyond import (
    FAMILY_COLORS,
    plot_ablation_trajectories,
    plot_family_fits,
    plot_localized_fits,
    plot_per_feature_sigmas,
    plot_width_gradients,
)
from bumpbook.plotting.exercises import (
    plot_activation_histograms,
    plot_convergence,
    plot_exploding_band,
    plot_failure_traces,
    plot_gradient_decay,
    plot_kept_samples,
    plot_layer_check,
)
from bumpbook.plotting.figures import (
    plot_bump_and_gradient,
    plot_sigma_trajectories,
)
from bumpbook.plotting.style import COLORS

__all__ = [
    "COLORS",
    "FAMILY_COLORS",
    "animation_html",
    "bump_animation",
    "plot_ablation_trajectories",
    "plot_activation_histograms",
    "plot_bump_and_gradient",
    "plot_convergence",
    "plot_exploding_band",
    "plot_failure_traces",
    "plot_family_fits",
    "plot_gradient_decay",
    "plot_kept_samples",
    "plot_layer_check",
    "plot_localized_fits",
    "plot_per_feature_sigmas",
    "plot_sigma_trajectories",
    "plot_width_gradients",
]
