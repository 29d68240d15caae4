"""Probing a bump layer element by element, in its compute dtype (chapter 6's mixed precision).

:func:`values_and_gradients` evaluates a one-weight bump layer on a few probe
inputs and differentiates it, one element at a time, in the layer's compute
dtype (float16 under ``dtype="mixed_float16"``): what the layer outputs, and
what its gradients are, where float16's small range breaks a formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike

__all__ = ["LayerProbe", "values_and_gradients"]


@dataclass(frozen=True)
class LayerProbe:
    """What :func:`values_and_gradients` returns, one value per input element (float64).

    Attributes:
        y: The layer's output.
        dy_dx: Derivative of each output with respect to its input.
        dy_dweight: Derivative of each output with respect to the layer's
            stored width (``sigma`` for the identity parametrization; the
            layer's single trainable weight), each from its own forward pass.
        batch_dweight: Derivative of ``sum(y)`` over all the probe inputs at
            once with respect to that weight: what a training step sees. One
            non-finite term makes it non-finite.
        dtype: The compute dtype the values were computed in.

    """

    y: np.ndarray
    dy_dx: np.ndarray
    dy_dweight: np.ndarray
    batch_dweight: float
    dtype: str

    @property
    def finite(self) -> bool:
        """Whether every value and derivative is finite."""
        return bool(
            np.isfinite(self.y).all()
            and np.isfinite(self.dy_dx).all()
            and np.isfinite(self.dy_dweight).all()
            and math.isfinite(self.batch_dweight)
        )


def values_and_gradients(layer: keras.layers.Layer, x: ArrayLike) -> LayerProbe:
    """Evaluate a one-weight bump layer on ``x`` and differentiate it, element by element.

    ``x`` is cast to the layer's compute dtype (float16 under
    ``dtype="mixed_float16"``), so the values and gradients are the ones that
    dtype gives. ``dy_dx`` comes from one gradient of ``sum(y)`` (each output
    depends on its own input only); ``dy_dweight`` from one gradient per
    element, each from a forward pass of that element alone (in one batch, a
    non-finite derivative at one element spreads to the shared weight's
    gradient: ``batch_dweight`` shows that). Meant for a few probe points.

    Args:
        layer: A bump layer with exactly one trainable weight (its width),
            built or not, with a single shared width.
        x: Probe inputs, any shape; a flat array is treated as ``(n, 1)``.

    Returns:
        A :class:`LayerProbe` whose arrays have the shape of ``x``.

    Raises:
        ValueError: if the layer does not have exactly one trainable weight.

    """
    x_np = np.asarray(x, dtype=np.float64)
    shape = x_np.shape
    x_t = tf.constant(x_np.reshape(-1, 1), dtype=layer.compute_dtype)
    if not layer.built:
        layer.build(tuple(x_t.shape))
    weights = layer.trainable_variables
    if len(weights) != 1:
        raise ValueError(
            f"values_and_gradients needs a layer with one trainable weight, "
            f"{layer.name!r} has {len(weights)}."
        )
    with tf.GradientTape() as tape:
        tape.watch(x_t)
        y = layer(x_t)
        total = tf.reduce_sum(y)
    dy_dx, batch_dw = tape.gradient(total, [x_t, weights[0]])
    dy_dw = []
    for i in range(x_t.shape[0]):  # one forward pass per element: no other element interferes
        with tf.GradientTape() as tape:
            y_i = tf.reduce_sum(layer(x_t[i : i + 1]))
        dy_dw.append(float(tf.cast(tape.gradient(y_i, weights[0])[0], tf.float64)))

    def as_f64(t: tf.Tensor) -> np.ndarray:
        return np.asarray(tf.cast(t, tf.float64).numpy(), dtype=np.float64).reshape(shape)

    return LayerProbe(
        y=as_f64(y),
        dy_dx=as_f64(dy_dx),
        dy_dweight=np.array(dy_dw).reshape(shape),
        batch_dweight=float(tf.cast(batch_dw[0], tf.float64)),
        dtype=str(layer.compute_dtype),
    )
