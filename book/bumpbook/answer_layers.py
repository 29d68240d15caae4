"""The three layers of the 2020 Q&A thread, kept as they were so the book can study them.

* :class:`QuestionBumpLayer` is the question's attempt (``tf.cond``, width unused).
* :class:`AnswerWhereBumpLayer` is the accepted answer's first working layer.
* :class:`AnswerBumpLayer` is the answer's final layer, with the inner ``tf.where``.

The thread's code is CC BY-SA 4.0 (question by FlabbyTheKatsu; answer by its
accepted answerer); here it is restated as Keras 3 layers with the same
operations. They are TensorFlow code, as the thread wrote them: on the JAX or
PyTorch backend they raise a ``RuntimeError`` when constructed, pointing to
:class:`~bumpbook.PortableAnswerBumpLayer` (the same double ``where`` in
``keras.ops``) and :class:`~bumplib.StableBumpLayer`. TensorFlow itself is
imported only when one of them first runs.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import keras

from bumpbook.tensorflow_only import require_tensorflow
from bumplib.backend import tf
from bumplib.base_layer import BaseBumpLayer
from bumplib.validation import check_sigma_values

__all__ = [
    "AnswerBumpLayer",
    "AnswerWhereBumpLayer",
    "QuestionBumpLayer",
    "TensorFlowBumpLayer",
    "classic_bump",
    "zeros_like",
]


def classic_bump(x: tf.Tensor) -> tf.Tensor:
    """The question's ``f_True``: ``exp(-1 / (1 - x**2))``, the sigma = 1 bump, no sigma in it."""
    bump_value = 1 - tf.math.pow(x, 2)
    bump_value = -tf.math.pow(bump_value, -1)
    return tf.math.exp(bump_value)


def zeros_like(x: tf.Tensor) -> tf.Tensor:
    """The question's ``f_False``: ``0 * x``."""
    return 0 * x


class TensorFlowBumpLayer(BaseBumpLayer):
    """A bump layer of the thread's: TensorFlow code, refused on another Keras backend."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        require_tensorflow(
            f"{type(self).__name__}, one of the thread's layers kept as it was,",
            "bumpbook.PortableAnswerBumpLayer (the answer's double where, in keras.ops) or "
            "bumplib.StableBumpLayer",
        )
        super().__init__(*args, **kwargs)

    # Show (and document) the arguments of BaseBumpLayer, which this passes on unchanged.
    __init__.__signature__ = inspect.signature(BaseBumpLayer.__init__)  # type: ignore[attr-defined]


@keras.saving.register_keras_serializable(package="bumpbook")
class QuestionBumpLayer(TensorFlowBumpLayer):
    """The question's layer: ``tf.cond(x < threshold, f_True(x), f_False(x))``.

    Formula (what the code computes, not what was intended)::

        y = exp(-1 / (1 - x**2))   if x < threshold_level   (one scalar test)
        y = 0 * x                  otherwise

    It has the two faults the thread diagnosed, and today's TensorFlow shows
    both: ``tf.cond`` needs one scalar predicate, so any input with more than
    one element fails (eagerly with *"The truth value of an array with more
    than one element is ambiguous"*; in a compiled graph, such as
    ``model.fit`` or ``model.predict``, with ``InvalidArgumentError`` *"The
    second input must be a scalar"*); and the weight never reaches the
    output, so its gradient is ``None`` and ``model.fit`` on single-element
    batches raises *"No gradients provided for any variable"*.

    Args:
        initial_sigma: Starting threshold. ``None`` (the default) draws it with
            ``GlorotUniform`` as the question did, so it may be negative.
        per_feature: One threshold per input feature.
        sigma_regularizer: Regularizer for the threshold.
        sigma_constraint: Constraint for the threshold (none in the question).
        **kwargs: Base layer keyword arguments.
    """

    weight_name = "threshold_level"

    def __init__(
        self,
        initial_sigma: float | Sequence[float] | None = None,
        per_feature: bool = False,
        sigma_regularizer: Any = None,
        sigma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            initial_sigma=initial_sigma,
            per_feature=per_feature,
            sigma_regularizer=sigma_regularizer,
            sigma_constraint=sigma_constraint,
            **kwargs,
        )

    def _check_initial_sigma(self, initial_sigma: Any) -> float | list[float] | None:
        """Accept ``None`` (GlorotUniform, as in the question) or a valid width."""
        return None if initial_sigma is None else check_sigma_values(initial_sigma)

    def _initial_weight(self) -> keras.initializers.Initializer:
        """``GlorotUniform`` when no ``initial_sigma`` is given, as in the question."""
        if self.initial_sigma is None:
            return keras.initializers.GlorotUniform()
        return super()._initial_weight()

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        """Apply the question's ``tf.cond`` (kept faithful, faults included)."""
        the_logic = tf.math.less(inputs, self.threshold_level)
        return tf.cond(the_logic, lambda: classic_bump(inputs), lambda: zeros_like(inputs))


@keras.saving.register_keras_serializable(package="bumpbook")
class AnswerWhereBumpLayer(TensorFlowBumpLayer):
    """The answer's first working layer: one element-wise ``tf.where``.

    Formula::

        y = exp(-sigma / (sigma - x**2))   if -sigma < x < sigma
        y = 0                              otherwise

    ``sigma`` now appears in the selected values, so it gets a gradient. But
    the formula is evaluated on *every* input, selected or not, and where the
    unselected branch is infinite (or its gradient is) ``tf.where``'s gradient
    is ``nan`` anyway (TensorFlow issue #38349). Example: ``sigma = 0.25``,
    ``x = 0.5`` gives ``sigma - x**2 == 0``.

    Args:
        initial_sigma: Starting width, a small non-negative value.
        per_feature: One width per input feature.
        sigma_regularizer: Regularizer for ``sigma``.
        sigma_constraint: Constraint for ``sigma``; ``"non_neg"`` by default.
        **kwargs: Base layer keyword arguments.
    """

    def bump_function(self, x: tf.Tensor) -> tf.Tensor:
        """Return ``exp(-sigma / (sigma - x**2))`` for every element of ``x``."""
        return tf.math.exp(-self.sigma / (self.sigma - tf.math.pow(x, 2)))

    def support(self, inputs: tf.Tensor) -> tf.Tensor:
        """Return the boolean mask ``-sigma < x < sigma``."""
        return tf.logical_and(
            tf.math.greater(inputs, -self.sigma), tf.math.less(inputs, self.sigma)
        )

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        """Select the bump inside the support and 0 outside, element by element."""
        return tf.where(self.support(inputs), self.bump_function(inputs), 0.0)


@keras.saving.register_keras_serializable(package="bumpbook")
class AnswerBumpLayer(AnswerWhereBumpLayer):
    """The answer's final layer: an inner ``tf.where`` feeds the bump a safe input.

    Formula: as :class:`AnswerWhereBumpLayer`. Outside the support the bump is
    evaluated at 0 instead of ``x``, which gives ``exp(-1)`` for any
    ``sigma > 0``, so no unselected value (or gradient) is infinite. Two traps
    remain: at ``sigma == 0`` the safe input gives ``-0 / (0 - 0) = nan`` and
    so a ``nan`` gradient, and for ``sigma > 1`` inputs with
    ``sqrt(sigma) < |x| < sigma`` are selected and explode.

    Args:
        initial_sigma: Starting width, a small non-negative value.
        per_feature: One width per input feature.
        sigma_regularizer: Regularizer for ``sigma``.
        sigma_constraint: Constraint for ``sigma``; ``"non_neg"`` by default.
        **kwargs: Base layer keyword arguments.
    """

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        """Select the bump of a safe input inside the support and 0 outside."""
        condition = self.support(inputs)
        safe_inputs = tf.where(condition, inputs, 0.0)
        return tf.where(condition, self.bump_function(safe_inputs), 0.0)
