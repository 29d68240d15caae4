"""bumplib: Keras layers with a trainable width inside a piecewise bump function.

The generalized bump ``phi_sigma(x) = exp(-sigma / (sigma - x**2))`` for
``|x| < sigma`` (0 elsewhere): a layer that is finite in value and gradient for
every input and every ``sigma >= 0`` (:class:`StableBumpLayer`, and the op
:func:`stable_bump`), the Gaussian and scaled alternatives, the NumPy
reference maths, training data, the recovery of ``sigma`` from data
(:func:`fit_sigma`, :func:`least_squares_sigma`), a callback that records
``sigma`` during ``fit``, and a finder of gradient traps for any function or
layer written with ``keras.ops``
(:func:`~bumplib.gradient_traps.search.find_gradient_traps`).

The layers are written with ``keras.ops`` and run on every Keras 3 backend
(TensorFlow, JAX, PyTorch, chosen by ``KERAS_BACKEND`` before ``keras`` is
imported). Importing ``bumplib`` does not import TensorFlow unless Keras runs
on it. The book's own helpers and the 2020 thread's layers are a separate
package, ``bumpbook``.
"""

from __future__ import annotations

import importlib.metadata

from bumplib.callbacks import SigmaHistory
from bumplib.data import generate_data, unstable_interval
from bumplib.determinism import make_deterministic
from bumplib.gaussian_layer import GaussianBumpLayer
from bumplib.gradient_traps import assert_no_gradient_traps, find_gradient_traps
from bumplib.least_squares import FitResult, least_squares_sigma
from bumplib.reference import bump, bump_grad_sigma, bump_grad_x, unstable_mask
from bumplib.scaled_layer import ScaledBumpLayer
from bumplib.stable_layer import (
    StableBumpLayer,
    flushes_subnormals,
    stable_bump,
    underflow_cutoff,
)
from bumplib.training import fit_sigma, make_recovery_optimizer

# The version of the installed distribution (pyproject.toml names it, once).
__version__ = importlib.metadata.version("bumplib")

__all__ = [
    "FitResult",
    "GaussianBumpLayer",
    "ScaledBumpLayer",
    "SigmaHistory",
    "StableBumpLayer",
    "assert_no_gradient_traps",
    "bump",
    "bump_grad_sigma",
    "bump_grad_x",
    "find_gradient_traps",
    "fit_sigma",
    "flushes_subnormals",
    "generate_data",
    "least_squares_sigma",
    "make_deterministic",
    "make_recovery_optimizer",
    "stable_bump",
    "underflow_cutoff",
    "unstable_interval",
    "unstable_mask",
]
