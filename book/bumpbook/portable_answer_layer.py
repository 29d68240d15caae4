"""The accepted answer's double ``where`` layer, written with ``keras.ops`` for every backend.

The thread's :class:`~bumpbook.AnswerBumpLayer` is TensorFlow code. The trap it
fixes, a ``nan`` gradient from the branch that ``where`` does not select, is
the same in JAX (its FAQ entry "Gradients contain NaN where using where") and
in PyTorch, and so is the fix: an inner ``where`` that feeds the formula a
safe input. This module is that layer on any Keras backend, with plain
autodiff, as the answer wrote it (traps included).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from bumplib.base_layer import BaseBumpLayer

__all__ = ["PortableAnswerBumpLayer"]


@keras.saving.register_keras_serializable(package="bumpbook")
class PortableAnswerBumpLayer(BaseBumpLayer):
    """The answer's final layer in ``keras.ops``: an outer and an inner ``where``.

    Formula::

        y = exp(-sigma / (sigma - x**2))   if |x| < sigma
        y = 0                              otherwise

    computed as ``where(|x| < sigma, bump(where(|x| < sigma, x, 0)), 0)``:
    outside the support the formula sees the safe input 0, where it is
    ``exp(-1)`` for any ``sigma > 0``, so no unselected value or gradient is
    infinite and autodiff gives finite gradients on TensorFlow, JAX and
    PyTorch alike. It keeps the answer's two traps, on every backend: at
    ``sigma == 0`` the safe input gives ``-0 / (0 - 0) = nan`` and so a
    ``nan`` sigma gradient, and for ``sigma > 1`` the inputs with
    ``sqrt(sigma) < |x| < sigma`` are selected and explode. Use
    :class:`~bumplib.StableBumpLayer` for a layer without them.

    Args:
        initial_sigma: Starting width, a small non-negative value.
        per_feature: One width per input feature.
        sigma_regularizer: Regularizer for ``sigma``.
        sigma_constraint: Constraint for ``sigma``; ``"non_neg"`` by default.
        **kwargs: Base layer keyword arguments.
    """

    def call(self, inputs: Any) -> Any:
        """Select the bump of a safe input inside the support and 0 outside."""
        sigma = self.sigma_tensor()
        condition = ops.abs(inputs) < sigma
        safe_inputs = ops.where(condition, inputs, 0.0)
        bump = ops.exp(-sigma / (sigma - ops.square(safe_inputs)))
        return ops.where(condition, bump, 0.0)
