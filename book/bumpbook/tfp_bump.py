"""TensorFlow Probability's bump function, its ``tf.where`` trap, and the fix.

TensorFlow Probability has ``tfp.math.round_exponential_bump_function``, the
classic bump scaled to 1 at 0, ``exp(1 - 1 / (1 - x**2))`` for ``|x| < 1``
and 0 elsewhere. Its body (``tensorflow_probability/python/math/
special.py``, version 0.25.0, Apache License 2.0) is three lines: one
``reciprocal_no_nan`` and one ``tf.where``. :func:`tfp_round_exponential_bump`
reproduces that body (TensorFlow Probability 0.25.0 imports beside Keras 3
only with ``tf-keras``, whose own requirement pulls in the full ``tensorflow``
package next to ``tensorflow-cpu``, so the book does not depend on it; the
test suite compares the two when TensorFlow Probability is installed).

Just outside the support, ``1 - x**2`` is a small negative number, so the
unselected branch is ``exp(1 + 1/|1 - x**2|)``, which overflows to ``inf``
in float32 for ``1 < |x| < 1.0057`` (about). ``tf.where``'s gradient then
multiplies a zero upstream gradient by ``inf``: ``nan``, the trap of the
thread's answer. :func:`fixed_round_exponential_bump` feeds the formula a safe
value wherever the condition is false (the inner ``tf.where`` of the accepted
answer), so the unsafe values are never computed.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

__all__ = ["fixed_round_exponential_bump", "tfp_round_exponential_bump"]


def tfp_round_exponential_bump(x: Any) -> tf.Tensor:
    """Return TensorFlow Probability 0.25.0's ``round_exponential_bump_function(x)``, as written.

    The body of ``tfp.math.round_exponential_bump_function``: ``exp(1 -
    reciprocal_no_nan(1 - x**2))`` where ``1 - x**2 > 0``, else 0. Its value
    is right everywhere; its gradient is ``nan`` just outside ``[-1, 1]``.
    """
    x = tf.convert_to_tensor(x)
    one_m_x2 = 1 - x**2
    y = tf.math.exp(1.0 - tf.math.reciprocal_no_nan(one_m_x2))
    return tf.where(one_m_x2 > 0.0, y, 0.0)


def fixed_round_exponential_bump(x: Any) -> tf.Tensor:
    """Return the same function with a finite gradient everywhere: a safe input, then ``tf.where``.

    Where ``1 - x**2 <= 0`` the formula sees 1 instead (so it computes
    ``exp(0) = 1``, harmless), and the outer ``tf.where`` returns 0 there.
    The values equal :func:`tfp_round_exponential_bump`'s bit for bit.
    """
    x = tf.convert_to_tensor(x)
    one_m_x2 = 1 - x**2
    inside = one_m_x2 > 0.0
    safe = tf.where(inside, one_m_x2, tf.ones_like(one_m_x2))
    y = tf.math.exp(1.0 - tf.math.reciprocal_no_nan(safe))
    return tf.where(inside, y, 0.0)
