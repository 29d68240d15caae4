"""Each backend's own autodiff, for the backend tests: values and gradients of a layer.

Keras' ``Layer.stateless_call`` runs a layer on given weight values on every
backend; the gradient of the summed output with respect to the input and to
every trainable weight is then taken with TensorFlow's ``GradientTape``,
``jax.value_and_grad`` or ``torch.autograd``, not through Keras.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Sequence

import keras
import numpy as np

BACKEND = keras.backend.backend()

#: The ways :func:`gradient_function` can run: eagerly, as a TensorFlow graph without XLA
#: (what Keras' ``fit`` runs on a CPU, with Grappler's rewrites), and compiled with XLA.
MODES = ("eager", "graph", "compiled") if BACKEND == "tensorflow" else ("eager", "compiled")


@contextlib.contextmanager
def float64_enabled() -> Iterator[None]:
    """Let float64 be float64 inside the block: JAX computes in float32 unless x64 is on."""
    if BACKEND == "jax":
        import jax

        with jax.enable_x64(True):
            yield
    else:
        yield


def gradient_function(layer: keras.layers.Layer, mode: str = "compiled") -> Callable:
    """Return ``run(x, weights) -> (y, d_x, [d_weight, ...])`` as NumPy arrays.

    ``mode`` is one of :data:`MODES`: ``"compiled"`` runs it as a ``tf.function``
    with XLA on TensorFlow and under ``jax.jit`` on JAX (PyTorch runs eagerly),
    ``"graph"`` as a ``tf.function`` without XLA (TensorFlow only). The function
    is built once, so calls with inputs of one shape do not trace again.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES} on {BACKEND}, got {mode!r}.")
    compiled = mode == "compiled"
    if BACKEND == "tensorflow":
        import tensorflow as tf

        def step(x, weights):
            with tf.GradientTape() as tape:
                tape.watch([x, *weights])
                y, _ = layer.stateless_call(list(weights), [], x)
                total = tf.reduce_sum(tf.cast(y, tf.float32))
            d_x, *d_w = tape.gradient(total, [x, *weights])
            return y, d_x, d_w

        if mode != "eager":
            step = tf.function(step, jit_compile=compiled)

        def run(x, weights):
            y, d_x, d_w = step(tf.constant(x), [tf.constant(w) for w in weights])
            return _numpy(y, d_x, d_w)

        return run
    if BACKEND == "jax":
        import jax
        import jax.numpy as jnp

        def total(x, weights):
            y, _ = layer.stateless_call(list(weights), [], x)
            return jnp.sum(y.astype(jnp.float32)), y

        grad = jax.value_and_grad(total, argnums=(0, 1), has_aux=True)
        grad = jax.jit(grad) if compiled else grad

        def run(x, weights):
            (_, y), (d_x, d_w) = grad(jnp.asarray(x), [jnp.asarray(w) for w in weights])
            return _numpy(y, d_x, d_w)

        return run
    import torch

    def tensor(a):  # torch.tensor cannot read ml_dtypes' bfloat16 arrays
        a = np.asarray(a)
        dtype = getattr(torch, a.dtype.name)
        return torch.tensor(a.astype(np.float64)).to(dtype).requires_grad_()

    def run(x, weights):
        x = tensor(x)
        weights = [tensor(w) for w in weights]
        y, _ = layer.stateless_call(weights, [], x)
        y.float().sum().backward()
        return _numpy(y.detach(), x.grad, [w.grad for w in weights])

    return run


def weights_of(layer: keras.layers.Layer) -> list[np.ndarray]:
    """Copies of the layer's trainable weights, as NumPy arrays."""
    return [np.asarray(keras.ops.convert_to_numpy(v.value)) for v in layer.trainable_variables]


def _numpy(y, d_x, d_w: Sequence) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    convert = keras.ops.convert_to_numpy
    return convert(y), convert(d_x), [convert(g) for g in d_w]


def tensorflow_xla_entry(function: Callable, *args: object) -> str:
    """The entry computation of XLA's optimized program for a ``jit_compile`` ``tf.function``."""
    # TensorFlow finds the default device with a random op unless it is named, and random
    # ops refuse to run unseeded under op determinism; naming it is deprecated, hence the filter.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "device_name is being deprecated", UserWarning)
        program = function.experimental_get_compiler_ir(*args)(
            stage="optimized_hlo", device_name="/device:CPU:0"
        )
    return program[program.index("\nENTRY") :]
