"""The other answer's alternative: a Gaussian bump with trainable height, width and centre."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from bumplib.base_layer import BaseBumpLayer, constant_initializer
from bumplib.validation import check_finite_values, check_sigma_values

__all__ = ["GaussianBumpLayer"]


@keras.saving.register_keras_serializable(package="bumplib")
class GaussianBumpLayer(BaseBumpLayer):
    """A Gaussian bump, the thread's other answer: ``y = a * exp(-b * (x - c)**2)``.

    Formula::

        y = a * exp(-b * (x - c)**2),   b = 1 / sigma**2

    with trainable height ``a``, inverse width ``b`` (kept ``>= 0``) and centre
    ``c``; one kernel per input feature with ``per_feature=True``. It is smooth
    everywhere and never exactly 0, unlike the compactly supported bump.
    ``get_sigma()`` returns ``1 / sqrt(b)``, the distance from the centre at
    which the exponent reaches ``-1`` (as the bump's does at ``x = 0``).

    Args:
        initial_sigma: Starting width, ``> 0`` (so that ``b`` is finite).
        initial_height: Starting ``a``.
        initial_center: Starting ``c``.
        per_feature: One ``(a, b, c)`` per input feature.
        sigma_regularizer: Regularizer for ``b``.
        sigma_constraint: Constraint for ``b``; ``"non_neg"`` by default.
        **kwargs: Base layer keyword arguments.
    """

    weight_name = "inverse_width"

    def __init__(
        self,
        initial_sigma: float | Sequence[float] = 1.0,
        initial_height: float | Sequence[float] = 1.0,
        initial_center: float | Sequence[float] = 0.0,
        per_feature: bool = False,
        sigma_regularizer: Any = None,
        sigma_constraint: Any = "non_neg",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            initial_sigma=initial_sigma,
            per_feature=per_feature,
            sigma_regularizer=sigma_regularizer,
            sigma_constraint=sigma_constraint,
            **kwargs,
        )
        self.initial_height = check_finite_values(initial_height, "initial_height")
        self.initial_center = check_finite_values(initial_center, "initial_center")

    def _check_initial_sigma(self, initial_sigma: Any) -> float | list[float]:
        """A Gaussian width must be ``> 0``."""
        return check_sigma_values(initial_sigma, positive=True)

    def _initial_weight(self) -> keras.initializers.Initializer:
        """Store ``b = 1 / sigma**2``."""
        return constant_initializer(1.0 / np.square(self.initial_sigma))

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        """Create ``inverse_width`` (b), then ``height`` (a) and ``center`` (c), same shape."""
        super().build(input_shape)
        shape = tuple(self.inverse_width.shape)
        for name in ("initial_height", "initial_center"):
            if np.size(getattr(self, name)) not in (1, shape[0]):
                raise ValueError(
                    f"{name} has {np.size(getattr(self, name))} values but the layer has "
                    f"{shape[0]} kernel(s). Pass one number, or one per feature with "
                    "per_feature=True."
                )
        self.height = self.add_weight(
            name="height", shape=shape, initializer=constant_initializer(self.initial_height)
        )
        self.center = self.add_weight(
            name="center", shape=shape, initializer=constant_initializer(self.initial_center)
        )

    def sigma_tensor(self) -> Any:
        """Return ``1 / sqrt(b)`` (``inf`` if ``b`` has reached 0)."""
        return ops.rsqrt(super().sigma_tensor())

    def call(self, inputs: Any) -> Any:
        """Return ``a * exp(-b * (x - c)**2)``."""
        return self.height * ops.exp(-self.inverse_width * ops.square(inputs - self.center))

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments, height and centre included."""
        return {
            **super().get_config(),
            "initial_height": self.initial_height,
            "initial_center": self.initial_center,
        }
