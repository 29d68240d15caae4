"""One call that makes a run repeatable: seeds and deterministic TensorFlow ops."""

from __future__ import annotations

import keras
import tensorflow as tf

__all__ = ["make_deterministic"]


def make_deterministic(seed: int = 0) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, and turn on TensorFlow op determinism.

    Every notebook of the book and every test that trains calls this first,
    so that the same code gives the same numbers on every run.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
