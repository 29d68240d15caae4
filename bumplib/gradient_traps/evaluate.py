"""Values and gradients of a target at many points in one call, with the backend's own autodiff.

The target is evaluated element-wise over a batch: every input and parameter
is a vector with one entry per point, so one call (one trace, one compilation)
covers all the points of a dtype. The gradient of the summed output with
respect to each vector is then the gradient at each point. Autodiff is the
running backend's own: ``tf.GradientTape`` (eagerly, in a ``tf.function``
graph, or compiled by XLA), ``jax.value_and_grad`` (eagerly or under
``jax.jit``), ``torch.autograd.grad`` (eagerly or through ``torch.compile``).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras import ops

from bumplib.gradient_traps.spec import SearchSpec

__all__ = [
    "Evaluation",
    "batched_target",
    "float64_enabled",
    "make_runner",
    "mode_support",
]


@dataclass(frozen=True)
class Evaluation:
    """The value and the gradient with respect to each variable, at every point (float64)."""

    value: np.ndarray
    gradients: dict[str, np.ndarray]


@contextlib.contextmanager
def float64_enabled() -> Iterator[None]:
    """Let float64 be float64 inside the block (JAX computes in float32 unless x64 is on)."""
    if keras.backend.backend() == "jax":
        import jax

        with jax.enable_x64(True):
            yield
    else:
        yield


@functools.cache
def mode_support(backend: str, mode: str) -> str:
    """Return ``"ok"`` if ``mode`` runs on ``backend`` here, else why not.

    ``"graph"`` is TensorFlow's alone. ``torch.compile`` needs a working
    compiler toolchain (on a CPU, a C++ compiler for its Inductor backend):
    it is probed once per process on a tiny function.
    """
    if mode == "graph" and backend != "tensorflow":
        return "not applicable: graph mode is TensorFlow's"
    if mode == "compiled" and backend == "torch":
        import torch

        try:
            probe = torch.compile(lambda t: t * 2 + 1)
            probe(torch.ones(3))
        except Exception as error:  # any failure means: not usable on this machine
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            return f"unavailable: torch.compile failed ({type(error).__name__}: {first[:200]})"
    return "ok"


def batched_target(spec: SearchSpec, dtype: str) -> Callable[..., Any]:
    """Return ``call(*tensors) -> values``: the target on vectors (inputs, then parameters).

    A function target is called with the variables by keyword. A layer target
    is re-created from its config in ``dtype`` and called on the inputs as one
    row, with its trainable weights replaced by the parameter vectors through a
    :class:`keras.StatelessScope`, so that each point has its own parameters.

    Raises:
        ValueError: (when called) if the output does not have one value per point.
    """
    names = spec.variables
    if spec.layer_config is None:
        function = spec.target

        def call(*tensors: Any) -> Any:
            out = function(**dict(zip(names, tensors, strict=True)))
            return _checked_output(out, tensors[0])

        return call
    layer = spec.target.from_config({**spec.layer_config, "dtype": dtype})
    layer.build((None, 1))
    weights = list(layer.trainable_variables)

    def call_layer(x: Any, *parameters: Any) -> Any:
        with keras.StatelessScope() as scope:
            for weight, value in zip(weights, parameters, strict=True):
                scope.add_update((weight, value))
            out = layer.call(ops.reshape(x, (1, -1)))
        return _checked_output(ops.reshape(out, (-1,)) if len(out.shape) == 2 else out, x)

    return call_layer


def _checked_output(out: Any, first: Any) -> Any:
    """Check one output value per point."""
    if tuple(out.shape) != tuple(first.shape):
        raise ValueError(
            f"the target must act element-wise and return one value per point: for inputs of "
            f"shape {tuple(first.shape)} it returned shape {tuple(out.shape)}. Reduce a vector "
            "operation to one number per point inside the function (for example "
            "ops.norm(ops.stack([x, y], axis=-1), axis=-1))."
        )
    return out


def _to_numpy(tensor: Any) -> np.ndarray:
    """A backend tensor as a float64 NumPy array (16-bit floats through float32)."""
    if keras.backend.standardize_dtype(tensor.dtype) != "float64":
        tensor = ops.cast(tensor, "float32")
    return np.asarray(ops.convert_to_numpy(tensor), dtype=np.float64)


def _tensor(values: np.ndarray, dtype: str) -> Any:
    """``values`` (representable in ``dtype``) as a backend tensor of ``dtype``."""
    wide = values.astype(np.float64 if dtype == "float64" else np.float32)
    return ops.cast(ops.convert_to_tensor(wide), dtype)


def make_runner(
    call: Callable[..., Any], names: Sequence[str], dtype: str, mode: str
) -> Callable[[dict[str, np.ndarray]], Evaluation]:
    """Return ``run(points) -> Evaluation`` for ``call`` in ``dtype`` and ``mode`` on this backend.

    The function (and its compilation) is built once; ``points`` maps each
    variable name to a float64 vector of values representable in ``dtype``.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        step = _tensorflow_step(call, mode)
    elif backend == "jax":
        step = _jax_step(call, len(names), mode)
    else:
        step = _torch_step(call, mode)

    def run(points: dict[str, np.ndarray]) -> Evaluation:
        tensors = [_tensor(points[name], dtype) for name in names]
        value, gradients = step(tensors)
        return Evaluation(
            value=_to_numpy(value),
            gradients={name: _to_numpy(g) for name, g in zip(names, gradients, strict=True)},
        )

    return run


def _tensorflow_step(call: Callable[..., Any], mode: str) -> Callable[[list[Any]], Any]:
    import tensorflow as tf

    def step(*tensors: Any) -> tuple[Any, list[Any]]:
        with tf.GradientTape() as tape:
            for tensor in tensors:
                tape.watch(tensor)
            value = call(*tensors)
            total = tf.reduce_sum(value)
        gradients = tape.gradient(
            total, list(tensors), unconnected_gradients=tf.UnconnectedGradients.ZERO
        )
        return value, gradients

    if mode != "eager":
        step = tf.function(step, jit_compile=mode == "compiled")
    return lambda tensors: step(*tensors)


def _jax_step(call: Callable[..., Any], count: int, mode: str) -> Callable[[list[Any]], Any]:
    import jax
    import jax.numpy as jnp

    def total(*tensors: Any) -> tuple[Any, Any]:
        value = call(*tensors)
        return jnp.sum(value), value

    step = jax.value_and_grad(total, argnums=tuple(range(count)), has_aux=True)
    if mode == "compiled":
        step = jax.jit(step)

    def run(tensors: list[Any]) -> tuple[Any, Any]:
        (_, value), gradients = step(*tensors)
        return value, gradients

    return run


def _torch_step(call: Callable[..., Any], mode: str) -> Callable[[list[Any]], Any]:
    import torch

    function = torch.compile(call) if mode == "compiled" else call

    def run(tensors: list[Any]) -> tuple[Any, Any]:
        leaves = [t.detach().requires_grad_() for t in tensors]
        value = function(*leaves)
        gradients = torch.autograd.grad(value.sum(), leaves, allow_unused=True)
        gradients = [
            torch.zeros_like(t) if g is None else g for t, g in zip(leaves, gradients, strict=True)
        ]
        return value.detach(), gradients

    return run
