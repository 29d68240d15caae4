"""A bump layer with finite output and finite gradients for every input and every sigma >= 0.

This answers the thread's second exercise ("fix the layer so that it works for
every input value") and also fixes the ``sigma == 0`` trap of the answer's
final layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import keras
import ml_dtypes
import numpy as np
import tensorflow as tf

from bumplib.base_layer import BaseBumpLayer, constant_initializer
from bumplib.validation import check_sigma_values

__all__ = ["StableBumpLayer", "stable_bump"]

Parametrization = Literal["identity", "log"]


def underflow_cutoff(dtype: tf.DType) -> float:
    """Return ``T`` such that ``exp(-t)`` rounds to 0 in ``dtype`` for every ``t > T``.

    ``T = 1 - log(smallest subnormal)``: about 104.3 in float32, 745.1 in
    float64 and 17.6 in float16.
    """
    tiny = ml_dtypes.finfo(dtype.as_numpy_dtype).smallest_subnormal
    return 1.0 - math.log(float(tiny))


@tf.custom_gradient
def _stable_bump_same_shape(x: tf.Tensor, sigma: tf.Tensor) -> tuple[tf.Tensor, Any]:
    """Guarded bump of ``x`` and ``sigma`` of one shape, with closed-form gradients."""
    cutoff = underflow_cutoff(x.dtype)
    # Guard 1, the support: safe input 0 and safe denominator 1 outside it.
    inside = tf.abs(x) < sigma
    x_safe = tf.where(inside, x, tf.zeros_like(x))
    r = x_safe / tf.where(inside, sigma, tf.ones_like(sigma))  # |r| < 1
    w = 1 - r * x_safe  # (sigma - x**2) / sigma
    # Guard 2, the formula's own singularity: keep 1/w < T only. This drops
    # sqrt(sigma) <= |x| < sigma (w <= 0, where the formula explodes) and the
    # points so close to x**2 = sigma that exp(-1/w) already rounds to 0.
    keep = tf.logical_and(inside, w * cutoff > 1)
    t = 1 / tf.where(keep, w, tf.ones_like(w))
    phi = tf.where(keep, tf.exp(-t), tf.zeros_like(t))

    def grad(upstream: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        scale = upstream * phi * t * t  # 0 wherever phi is 0; t**2 < T**2
        return scale * (-2 * r), scale * (r * r)

    return phi, grad


def stable_bump(x: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """Return the bump of ``x`` with width ``sigma`` (broadcast), finite for all inputs.

    Definition::

        phi(x) = exp(-sigma / (sigma - x**2))   if |x| < min(sigma, sqrt(sigma))
               = 0                              otherwise

    Properties:

    * It equals the formula wherever the formula is at most 1 (everywhere for
      ``sigma <= 1``, and for ``|x| < sqrt(sigma)`` when ``sigma > 1``); it
      is 0 where the formula explodes (``sqrt(sigma) <= |x| < sigma``). That
      is the limit of the bump from inside its singularity, so for
      ``sigma > 1`` the output is a smooth bump on ``(-sqrt(sigma),
      sqrt(sigma))``, in ``[0, exp(-1)]``, instead of an infinite spike.
    * Its output and both gradients are finite for every finite ``x`` and
      every ``sigma >= 0`` of the input's dtype, ``sigma == 0``, subnormal
      ``sigma``, ``x == +-sigma``, ``x == +-sqrt(sigma)`` and ``|x| = 1e30``
      included. The gradients are the closed forms
      ``d(phi)/dx = -2 phi t**2 r`` and ``d(phi)/d(sigma) = phi t**2 r**2``
      with ``r = x / sigma`` and ``t = sigma / (sigma - x**2)``, each factor
      bounded where ``phi != 0``. They are given to TensorFlow directly
      because autodiff of the same forward pass divides by ``sigma`` twice:
      TensorFlow computes ``(-r / sigma)`` and stays finite, but XLA
      (``jit_compile=True``) rewrites it as ``x / (sigma * sigma)``, and
      ``sigma * sigma`` underflows to 0, so the gradient is ``inf``, for
      ``sigma`` below about ``1e-19`` in float32 (``1e-4`` in float16).
    """
    x = tf.convert_to_tensor(x)
    sigma = tf.cast(tf.convert_to_tensor(sigma), x.dtype)
    shape = tf.broadcast_dynamic_shape(tf.shape(x), tf.shape(sigma))
    return _stable_bump_same_shape(tf.broadcast_to(x, shape), tf.broadcast_to(sigma, shape))


@keras.saving.register_keras_serializable(package="bumplib")
class StableBumpLayer(BaseBumpLayer):
    """A bump layer that is finite in value and gradient for every input and sigma >= 0.

    Formula (see :func:`stable_bump`)::

        y = exp(-sigma / (sigma - x**2))   if |x| < min(sigma, sqrt(sigma))
        y = 0                              otherwise

    For ``sigma <= 1`` and for inputs in ``(-1, 1)`` this is exactly the
    thread's layer; for ``sigma > 1`` the band ``sqrt(sigma) <= |x| < sigma``,
    where the formula explodes, gives 0 (the bump's limit at its singularity)
    instead of values up to ``inf``.

    Args:
        initial_sigma: Starting width (default 1.0, the classic bump on
            ``(-1, 1)``, so every input in that range passes a gradient from
            the first step). Must be ``> 0`` with ``parametrization="log"``.
        per_feature: One width per input feature (last axis).
        parametrization: ``"identity"`` stores ``sigma`` itself (kept
            ``>= 0`` by the default ``"non_neg"`` constraint); ``"log"``
            stores ``log_sigma`` and uses ``sigma = exp(log_sigma)``, so each
            optimizer step changes sigma by a *relative* amount, which is what
            lets :func:`bumplib.fit_sigma` reach sigma = 50 as fast as 0.05.
        sigma_regularizer: Regularizer for the stored weight.
        sigma_constraint: Constraint for the stored weight; default
            ``"non_neg"`` for ``"identity"`` and none for ``"log"``.
        **kwargs: Base layer keyword arguments.
    """

    def __init__(
        self,
        initial_sigma: float | Sequence[float] = 1.0,
        per_feature: bool = False,
        parametrization: Parametrization = "identity",
        sigma_regularizer: Any = None,
        sigma_constraint: Any = "default",
        **kwargs: Any,
    ) -> None:
        if parametrization not in ("identity", "log"):
            raise ValueError(
                f"parametrization must be 'identity' or 'log', got {parametrization!r}."
            )
        self.parametrization = parametrization
        if sigma_constraint == "default":
            sigma_constraint = "non_neg" if parametrization == "identity" else None
        super().__init__(
            initial_sigma=initial_sigma,
            per_feature=per_feature,
            sigma_regularizer=sigma_regularizer,
            sigma_constraint=sigma_constraint,
            **kwargs,
        )
        if parametrization == "log":
            self.weight_name = "log_sigma"

    def _check_initial_sigma(self, initial_sigma: Any) -> float | list[float]:
        """A log parametrization needs ``initial_sigma > 0``."""
        return check_sigma_values(initial_sigma, positive=self.parametrization == "log")

    def _initial_weight(self) -> keras.initializers.Initializer:
        """Store ``log(initial_sigma)`` for the log parametrization."""
        if self.parametrization == "log":
            return constant_initializer(np.log(self.initial_sigma))
        return super()._initial_weight()

    def sigma_tensor(self) -> tf.Tensor:
        """Return ``sigma`` (``exp(log_sigma)`` for the log parametrization)."""
        stored = super().sigma_tensor()
        return tf.exp(stored) if self.parametrization == "log" else stored

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        """Apply :func:`stable_bump` element-wise."""
        return stable_bump(inputs, self.sigma_tensor())

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments, the parametrization included."""
        return {**super().get_config(), "parametrization": self.parametrization}
