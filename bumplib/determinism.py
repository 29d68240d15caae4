"""One call that makes a run repeatable: seeds and deterministic ops, on every Keras backend."""

from __future__ import annotations

import keras

from bumplib.backend import backend_name, tf

__all__ = ["make_deterministic"]


def make_deterministic(seed: int = 0) -> None:
    """Seed Python, NumPy and Keras (and the backend), and turn on deterministic ops.

    ``keras.utils.set_random_seed`` seeds Python, NumPy and the running
    backend (TensorFlow's global seed, PyTorch's generators; JAX has no
    global seed, Keras' own seed generator covers it). Deterministic ops:
    TensorFlow's op determinism on TensorFlow; PyTorch's
    ``torch.use_deterministic_algorithms(True)`` on PyTorch; JAX on the CPU
    is deterministic already. Every notebook of the book and every test that
    trains calls this first, so that the same code gives the same numbers on
    every run.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    keras.utils.set_random_seed(seed)
    backend = backend_name()
    if backend == "tensorflow":
        tf.config.experimental.enable_op_determinism()
    elif backend == "torch":
        import torch

        torch.use_deterministic_algorithms(True)
