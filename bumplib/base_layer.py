"""The shared skeleton of every bump layer: one trainable width ``sigma``.

A bump layer holds ``sigma`` either as one scalar (shape ``(1,)``, the thread's
layer) or, with ``per_feature=True``, as one width per input feature (shape
``(features,)``, broadcast over the last axis). Subclasses only say how the
output is computed from ``inputs`` and ``sigma``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from bumplib.validation import check_sigma_values

__all__ = ["BaseBumpLayer", "constant_initializer"]


def constant_initializer(value: Any) -> keras.initializers.Initializer:
    """Return a ``Constant`` initializer that is exact in every float dtype.

    ``keras.initializers.Constant(0.3)`` casts the Python float through float32, so a
    float64 weight would start at 0.30000001192...; a float64 array is cast once,
    directly to the weight's dtype.
    """
    return keras.initializers.Constant(np.asarray(value, dtype=np.float64))


class BaseBumpLayer(keras.layers.Layer):
    """Base class of the bump layers: a trainable width ``sigma`` and its bookkeeping.

    Args:
        initial_sigma: Starting width, ``>= 0`` and finite; one number, or with
            ``per_feature=True`` optionally one number per input feature.
        per_feature: Learn one ``sigma`` per input feature (last axis) instead
            of one shared scalar.
        sigma_regularizer: Regularizer for the stored weight.
        sigma_constraint: Constraint for the stored weight. The default,
            ``"non_neg"``, keeps ``sigma >= 0`` after every update, because the
            interval ``(-sigma, sigma)`` is empty for a negative ``sigma``.
        **kwargs: Base layer keyword arguments, such as ``name`` and ``dtype``.
    """

    #: Name of the stored weight.
    weight_name = "sigma"

    def __init__(
        self,
        initial_sigma: float | Sequence[float] = 0.1,
        per_feature: bool = False,
        sigma_regularizer: Any = None,
        sigma_constraint: Any = "non_neg",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(per_feature, bool):
            raise TypeError(f"per_feature must be True or False, got {per_feature!r}.")
        self.initial_sigma = self._check_initial_sigma(initial_sigma)
        if isinstance(self.initial_sigma, list) and not per_feature:
            raise ValueError(
                f"initial_sigma has {len(self.initial_sigma)} values but per_feature=False "
                "keeps a single shared sigma. Pass one number, or set per_feature=True."
            )
        self.per_feature = per_feature
        self.sigma_regularizer = keras.regularizers.get(sigma_regularizer)
        self.sigma_constraint = keras.constraints.get(sigma_constraint)
        self.supports_masking = True

    def _check_initial_sigma(self, initial_sigma: Any) -> float | list[float] | None:
        """Validate ``initial_sigma``; subclasses may accept more (or less)."""
        return check_sigma_values(initial_sigma)

    def _sigma_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int]:
        """Return the weight's shape for inputs of ``input_shape``, checking it fits."""
        if not self.per_feature:
            return (1,)
        features = input_shape[-1] if len(input_shape) else None
        if features is None:
            raise ValueError(
                f"per_feature=True needs a known last axis, got input shape {input_shape}. "
                "Give the model an Input with a fixed number of features."
            )
        if isinstance(self.initial_sigma, list) and len(self.initial_sigma) != features:
            raise ValueError(
                f"initial_sigma has {len(self.initial_sigma)} values but the input has "
                f"{features} features (last axis of {input_shape}). Pass one value per "
                "feature, or a single number for all of them."
            )
        return (features,)

    def _initial_weight(self) -> keras.initializers.Initializer:
        """Return the initializer of the stored weight."""
        return constant_initializer(self.initial_sigma)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        """Create the weight: shape ``(1,)``, or ``(features,)`` with ``per_feature``."""
        setattr(
            self,
            self.weight_name,
            self.add_weight(
                name=self.weight_name,
                shape=self._sigma_shape(tuple(input_shape)),
                initializer=self._initial_weight(),
                regularizer=self.sigma_regularizer,
                constraint=self.sigma_constraint,
                trainable=True,
            ),
        )

    def sigma_tensor(self) -> Any:
        """Return the current width as a tensor (in the compute dtype inside ``call``)."""
        return ops.convert_to_tensor(getattr(self, self.weight_name))

    def get_sigma(self) -> np.ndarray:
        """Return the current width as a NumPy array of shape ``(1,)`` or ``(features,)``."""
        if not self.built:
            raise ValueError(
                f"Layer {self.name!r} has no sigma yet: call it on data (or build it) first."
            )
        return np.asarray(ops.convert_to_numpy(self.sigma_tensor()))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        """Return ``input_shape``: the bump acts element-wise."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments, each serialized."""
        config = super().get_config()
        config.update(
            {
                "initial_sigma": self.initial_sigma,
                "per_feature": self.per_feature,
                "sigma_regularizer": keras.regularizers.serialize(self.sigma_regularizer),
                "sigma_constraint": keras.constraints.serialize(self.sigma_constraint),
            }
        )
        return config
