"""bumplib: Keras layers with a trainable width inside a piecewise bump function.

The generalized bump ``phi_sigma(x) = exp(-sigma / (sigma - x**2))`` for
``|x| < sigma`` (0 elsewhere), its NumPy reference, the layers of the 2020
Q&A thread and a numerically stable one, data generation, training helpers
and the figures of the book. Needs Keras 3 with the TensorFlow backend.
"""

from __future__ import annotations

import keras

if keras.backend.backend() != "tensorflow":  # pragma: no cover - depends on the environment
    raise ImportError(
        f"bumplib needs Keras' TensorFlow backend, but KERAS_BACKEND is "
        f"{keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow before importing keras."
    )

from bumplib.callbacks import SigmaHistory
from bumplib.data import generate_data, unstable_interval
from bumplib.determinism import make_deterministic
from bumplib.gaussian_layer import GaussianBumpLayer
from bumplib.least_squares import LeastSquaresFit, least_squares_sigma
from bumplib.models import make_localized_model
from bumplib.reference import bump, bump_grad_sigma, bump_grad_x, unstable_mask
from bumplib.scaled_layer import ScaledBumpLayer
from bumplib.stable_layer import StableBumpLayer, stable_bump
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
    "ScaledBumpLayer",
    "SigmaHistory",
    "StableBumpLayer",
    "WhereBumpLayer",
    "bump",
    "bump_grad_sigma",
    "bump_grad_x",
    "fit_full_batch",
    "fit_sigma",
    "fit_thread_recipe",
    "generate_data",
    "least_squares_sigma",
    "make_deterministic",
    "make_localized_model",
    "make_model",
    "make_recovery_optimizer",
    "stable_bump",
    "thread_epochs",
    "thread_recipe_model",
    "unstable_interval",
    "unstable_mask",
]
