"""Which Keras backend is running, and a lazy handle on TensorFlow for the TF-only code.

Keras 3 fixes its backend (``tensorflow``, ``jax`` or ``torch``) from
``KERAS_BACKEND`` when ``keras`` is first imported. The core layers of
``bumplib`` are written with ``keras.ops`` and run on all three; the thread's
layers and a few training helpers are TensorFlow code on purpose. They reach
TensorFlow through :data:`tf`, which imports it only when first used, so that
``import bumplib`` does not load TensorFlow on the JAX or PyTorch backend.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import keras

__all__ = ["LazyModule", "backend_name", "fuse_on_tensorflow", "require_tensorflow", "tf"]


class LazyModule:
    """A module that is imported on first attribute access.

    Args:
        name: The module's import name, such as ``"tensorflow"``.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        """Import the module (once) and return its ``attribute``."""
        if attribute.startswith("__"):  # copy, pickle and inspect probe dunders: not ours
            raise AttributeError(attribute)
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        """Say which module this stands for."""
        return f"LazyModule({self._name!r})"


#: TensorFlow, imported on first use (only the TF-only code touches it).
tf: Any = LazyModule("tensorflow")


def backend_name() -> str:
    """Return the running Keras backend: ``"tensorflow"``, ``"jax"`` or ``"torch"``."""
    return keras.backend.backend()


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


def fuse_on_tensorflow(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``function`` compiled by XLA on TensorFlow, and as it is on the other backends.

    TensorFlow without XLA, which is how Keras' ``fit`` runs on a machine with
    only CPUs, executes a chain of element-wise operations one operation at a
    time, each a pass over memory; XLA fuses the chain into one loop for each
    tensor the function returns. JAX needs no such help, since Keras compiles
    its training steps with ``jax.jit``, and PyTorch has no XLA. ``function``
    must take tensors only: it is traced once per dtype and rank, and XLA
    compiles it once per shape.
    """
    if backend_name() != "tensorflow":
        return function
    return tf.function(function, jit_compile=True, autograph=False, reduce_retracing=True)
