"""bumplib: Keras layers with a trainable width inside a piecewise bump function.

The generalized bump ``phi_sigma(x) = exp(-sigma / (sigma - x**2))`` for
``|x| < sigma`` (0 elsewhere), its NumPy reference, the layers of the 2020
Q&A thread and a numerically stable one, data generation, training helpers
and the figures of the book.

The core layers (:class:`StableBumpLayer`, :class:`SafeWhereBumpLayer`,
:class:`GaussianBumpLayer`, :class:`ScaledBumpLayer`) are written with
``keras.ops`` and run on every Keras 3 backend (TensorFlow, JAX, PyTorch,
chosen by ``KERAS_BACKEND`` before ``keras`` is imported). The thread's own
layers (:class:`CondBumpLayer`, :class:`WhereBumpLayer`, :class:`BumpLayer`)
are TensorFlow code, as the thread wrote them, and say so when built on
another backend. Importing ``bumplib`` does not import TensorFlow unless
Keras runs on it.
"""

from __future__ import annotations

from bumplib.callbacks import SigmaHistory
from bumplib.compiled_training import fit_compiled
from bumplib.data import generate_data, unstable_interval
from bumplib.determinism import make_deterministic
from bumplib.gaussian_layer import GaussianBumpLayer
from bumplib.least_squares import LeastSquaresFit, least_squares_sigma
from bumplib.models import make_localized_model
from bumplib.reference import bump, bump_grad_sigma, bump_grad_x, unstable_mask
from bumplib.safe_where_layer import SafeWhereBumpLayer
from bumplib.scaled_layer import ScaledBumpLayer
from bumplib.stable_layer import (
    StableBumpLayer,
    flushes_subnormals,
    stable_bump,
    underflow_cutoff,
)
from bumplib.thread_layers import BumpLayer, CondBumpLayer, WhereBumpLayer
from bumplib.training import (
    FitResult,
    LayerFit,
    fit_full_batch,
    fit_sigma,
    fit_thread_recipe,
    make_model,
    make_recovery_optimizer,
    thread_epochs,
    thread_recipe_model,
)

__version__ = "1.0.0"

__all__ = [
    "BumpLayer",
    "CondBumpLayer",
    "FitResult",
    "GaussianBumpLayer",
    "LayerFit",
    "LeastSquaresFit",
    "SafeWhereBumpLayer",
    "ScaledBumpLayer",
    "SigmaHistory",
    "StableBumpLayer",
    "WhereBumpLayer",
    "bump",
    "bump_grad_sigma",
    "bump_grad_x",
    "fit_compiled",
    "fit_full_batch",
    "fit_sigma",
    "fit_thread_recipe",
    "flushes_subnormals",
    "generate_data",
    "least_squares_sigma",
    "make_deterministic",
    "make_localized_model",
    "make_model",
    "make_recovery_optimizer",
    "stable_bump",
    "thread_epochs",
    "thread_recipe_model",
    "underflow_cutoff",
    "unstable_interval",
    "unstable_mask",
]
