"""Which Keras backend is running, and a lazy handle on TensorFlow for the TF-only code.

Keras 3 fixes its backend (``tensorflow``, ``jax`` or ``torch``) from
``KERAS_BACKEND`` when ``keras`` is first imported. The core layers of
``bumplib`` are written with ``keras.ops`` and run on all three; the code that
compiles on TensorFlow (:func:`compile_on_tensorflow`) and the book's TensorFlow
code reach TensorFlow through :data:`tf`, which imports it only when first used, so that
``import bumplib`` does not load TensorFlow on the JAX or PyTorch backend.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import keras

__all__ = [
    "XLA_DEVICE_TYPES",
    "LazyModule",
    "backend_name",
    "compile_on_tensorflow",
    "tf",
    "xla_fuses_here",
    "xla_supports",
    "xla_supports_these_devices",
]


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


#: Device types XLA compiles for in TensorFlow's own builds. Plugin devices (Apple's Metal,
#: DirectML) have no XLA compiler, and appear as ``"GPU"`` in builds without CUDA or ROCm.
XLA_DEVICE_TYPES = frozenset({"CPU", "GPU", "TPU"})


def xla_supports(device_types: Iterable[str], gpus_are_cuda_or_rocm: bool) -> bool:
    """Return whether XLA can compile for every device type in ``device_types``.

    Args:
        device_types: TensorFlow's physical device types, such as ``["CPU", "GPU"]``.
        gpus_are_cuda_or_rocm: Whether TensorFlow was built with CUDA or ROCm, so
            that its ``"GPU"`` devices are ones XLA compiles for.
    """
    types = set(device_types)
    if "GPU" in types and not gpus_are_cuda_or_rocm:
        return False
    return types <= XLA_DEVICE_TYPES


@functools.cache
def xla_supports_these_devices() -> bool:
    """Return whether XLA can compile for every device TensorFlow sees on this machine."""
    types = [device.device_type for device in tf.config.list_physical_devices()]
    return xla_supports(types, tf.test.is_built_with_cuda() or tf.test.is_built_with_rocm())


def xla_fuses_here() -> bool:
    """Return whether :func:`compile_on_tensorflow`'s XLA functions run compiled here and now.

    That is: Keras runs on TensorFlow, the caller is inside a TensorFlow graph
    (``tf.function``, which Keras' ``fit``, ``evaluate`` and ``predict`` run), and
    XLA compiles for every device of the machine (:func:`xla_supports_these_devices`).
    """
    return backend_name() == "tensorflow" and tf.inside_function() and xla_supports_these_devices()


def compile_on_tensorflow(function: Callable[..., Any], *, xla: bool = True) -> Callable[..., Any]:
    """Return ``function`` compiled on the TensorFlow backend, as it is on the others.

    ``xla=True`` (the layers' passes): XLA compiles ``function`` inside
    TensorFlow graphs. A graph without XLA, which is what Keras' ``fit``,
    ``evaluate`` and ``predict`` run on a machine with only CPUs, executes a
    chain of element-wise operations one operation at a time, each a pass over
    memory; XLA fuses the chain into one loop for each tensor the function
    returns. Called eagerly, the function runs uncompiled: XLA compiles once per
    input shape (about 70 ms on a 2-core CPU), which a graph pays once per
    training run but an eager loop over varying shapes would pay at every call.
    It also runs uncompiled on a machine with a device XLA cannot compile for
    (:func:`xla_supports_these_devices`). The compiled function is the returned
    function's ``compiled`` attribute.

    ``xla=False`` (a function that Python calls eagerly, again and again, such as
    the least-squares fit's evaluation): every call runs one ``tf.function``
    graph, traced once per input shape and dtype, which saves the Python overhead
    of each operation; tracing takes tens of milliseconds where XLA's compile
    takes half a second.

    On JAX and PyTorch ``function`` is returned as it is: Keras compiles JAX's
    steps with ``jax.jit``, and PyTorch has no XLA (:mod:`bumplib.torch_fusion`
    compiles the layer there). ``function`` must take tensors only.
    """
    if backend_name() != "tensorflow":
        return function
    if not xla:
        return tf.function(function)
    # No reduce_retracing: a function that sums over broadcast axes must see the static shapes
    # (size-1 axes) of the graph it is called from, not shapes relaxed to unknown sizes or rank.
    compiled = tf.function(function, jit_compile=True, autograph=False)

    @functools.wraps(function)
    def fused(*args: Any) -> Any:
        if xla_fuses_here():
            return compiled(*args)
        return function(*args)

    fused.compiled = compiled  # type: ignore[attr-defined]
    return fused
