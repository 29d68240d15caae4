"""The book's TensorFlow-only code refuses to run on another Keras backend, saying what to use."""

from __future__ import annotations

from bumplib.backend import backend_name


def require_tensorflow(what: str, instead: str) -> None:
    """Raise a ``RuntimeError`` unless Keras runs on TensorFlow.

    Args:
        what: The TensorFlow-only thing the caller is about to do, for the message.
        instead: What to use on the other backends, for the message.

    Raises:
        RuntimeError: on the JAX or PyTorch backend, naming it.
    """
    backend = backend_name()
    if backend != "tensorflow":
        raise RuntimeError(
            f"{what} is TensorFlow code, but Keras runs on the {backend!r} backend "
            f"(KERAS_BACKEND={backend}). Use {instead}, or set KERAS_BACKEND=tensorflow "
            "before keras is first imported."
        )
