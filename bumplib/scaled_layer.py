"""The stable bump with a trainable height and centre, for a fair comparison with the Gaussian."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import keras
import numpy as np

from bumplib.stable_layer import StableBumpLayer, stable_bump

__all__ = ["ScaledBumpLayer"]


@keras.saving.register_keras_serializable(package="bumplib")
class ScaledBumpLayer(StableBumpLayer):
    """The stable bump with a trainable height and centre: ``y = a * phi_sigma(x - c)``.

    Formula::

        y = a * phi_sigma(x - c)      (phi_sigma as in bumplib.stable_bump)

    It has the same three kinds of parameter as
    :class:`~bumplib.GaussianBumpLayer` (height ``a``, width ``sigma``,
    centre ``c``), so the two families can be compared on equal terms. The
    width is stored as in :class:`~bumplib.StableBumpLayer` (``"log"`` by
    default here); height and centre are plain weights of the same shape.

    Args:
        initial_sigma: Starting width, ``> 0`` with the log parametrization.
        initial_height: Starting ``a``.
        initial_center: Starting ``c``.
        per_feature: One ``(a, sigma, c)`` per input feature.
        parametrization: ``"log"`` (default), ``"identity"`` or ``"softplus"``, as in
            :class:`~bumplib.StableBumpLayer`.
        **kwargs: Other keyword arguments of :class:`~bumplib.StableBumpLayer`.

    """

    def __init__(
        self,
        initial_sigma: float | Sequence[float] = 1.0,
        initial_height: float = 1.0,
        initial_center: float = 0.0,
        per_feature: bool = False,
        parametrization: Literal["identity", "log", "softplus"] = "log",
        **kwargs: Any,
    ) -> None:
        """Create the layer; see the class docstring for the arguments."""
        super().__init__(
            initial_sigma=initial_sigma,
            per_feature=per_feature,
            parametrization=parametrization,
            **kwargs,
        )
        for name, value in (("initial_height", initial_height), ("initial_center", initial_center)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise TypeError(f"{name} must be a number, got {value!r}.")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}.")
        self.initial_height = float(initial_height)
        self.initial_center = float(initial_center)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        """Create the width, then ``height`` and ``center`` of the same shape."""
        super().build(input_shape)
        shape = tuple(getattr(self, self.weight_name).shape)
        self.height = self.add_weight(
            name="height", shape=shape, initializer=keras.initializers.Constant(self.initial_height)
        )
        self.center = self.add_weight(
            name="center", shape=shape, initializer=keras.initializers.Constant(self.initial_center)
        )

    def call(self, inputs: Any) -> Any:
        """Return ``height * stable_bump(inputs - center, sigma)``."""
        return self.height * stable_bump(inputs - self.center, self.sigma_tensor())

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments, height and centre included."""
        return {
            **super().get_config(),
            "initial_height": self.initial_height,
            "initial_center": self.initial_center,
        }
