"""The stable layer's gradient compiled whole by XLA: one loop over the inputs writes memory.

XLA compiles the gradient of the summed output into loops ("fusions"). The layer's
backward pass needs ``q = x / sqrt(sigma)`` (kept inputs only) for both gradients;
if the width's gradient were summed from ``d_x * q``, XLA would write ``q`` to memory
in a loop of its own and read it back twice (1.5x a bare ``exp`` at 1e7 elements,
against about 1.2x, under ``jax.jit``). On TensorFlow, XLA's own sum of ``d_x * x``
writes the product and then partial sums, in one thread; a single width's gradient is
summed by :func:`~bumplib.stable_layer.blocked_total` instead (1.2x a bare ``exp``
before, 1.0x after: ``benchmarks/bench_throughput.py``). This checks the compiled
programs, ``jax.jit``'s and TensorFlow's ``jit_compile=True``: one loop of the
inputs' shape, which writes ``d_x``.
"""

from __future__ import annotations

import re

import pytest
from autodiff import BACKEND, tensorflow_xla_entry

from bumplib import StableBumpLayer

pytestmark = pytest.mark.skipif(BACKEND == "torch", reason="the programs are XLA's")

SHAPE = (3001, 2)  # not a whole number of blocked_total's rows


def _entry_fusions(per_feature: bool) -> list[str]:
    """The result types of the fusions of the compiled gradient's entry computation."""
    import numpy as np

    layer = StableBumpLayer(0.5, per_feature=per_feature)
    layer.build(SHAPE)
    x = np.linspace(-1.0, 1.0, SHAPE[0] * SHAPE[1], dtype="float32").reshape(SHAPE)
    if BACKEND == "jax":
        import jax
        import jax.numpy as jnp

        weights = [v.value for v in layer.trainable_variables]

        def total(x: jax.Array, weights: list) -> jax.Array:
            return jnp.sum(layer.stateless_call(weights, [], x)[0])

        program = jax.jit(jax.grad(total, argnums=(0, 1))).lower(x, weights).compile().as_text()
        entry = program[program.index("\nENTRY") :]
    else:
        import tensorflow as tf

        @tf.function(jit_compile=True)
        def step(x: tf.Tensor) -> list:
            with tf.GradientTape() as tape:
                tape.watch(x)
                total = tf.reduce_sum(layer(x))
            return tape.gradient(total, [x, *layer.trainable_variables])

        entry = tensorflow_xla_entry(step, tf.constant(x))
    return re.findall(r"= (\w+\[[\d,]*\])\S* fusion\(", entry)


@pytest.mark.parametrize(
    "per_feature",
    [
        False,
        pytest.param(
            True,
            marks=pytest.mark.xfail(
                BACKEND == "tensorflow",
                strict=True,
                reason="TensorFlow's XLA writes d_x * x for a per-feature sum (a width each)",
            ),
        ),
    ],
)
def test_one_loop_writes_an_array_of_the_inputs_shape(per_feature):
    fusions = _entry_fusions(per_feature)
    full = [kind for kind in fusions if kind == f"f32[{SHAPE[0]},{SHAPE[1]}]"]
    assert len(full) == 1, fusions
