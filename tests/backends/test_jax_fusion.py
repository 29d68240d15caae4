"""The stable layer's passes under ``jax.jit``: one loop over the inputs writes memory.

XLA compiles the gradient of the summed output into loops ("fusions"). The layer's
backward pass needs ``q = x / sqrt(sigma)`` (kept inputs only) for both gradients;
if the width's gradient were summed from ``d_x * q``, XLA would write ``q`` to memory
in a loop of its own and read it back twice (1.5x a bare ``exp`` at 1e7 elements,
against about 1.2x: ``benchmarks/bench_throughput.py``). This checks the compiled
program: one loop of the inputs' shape (it writes ``d_x``) and one sum.
"""

from __future__ import annotations

import re

import pytest
from autodiff import BACKEND

from bumplib import StableBumpLayer

pytestmark = pytest.mark.skipif(BACKEND != "jax", reason="the program is jax.jit's")

SHAPE = (2048, 2)


def _entry_fusions(per_feature: bool) -> list[str]:
    """The result types of the fusions of the compiled gradient's entry computation."""
    import jax
    import jax.numpy as jnp

    layer = StableBumpLayer(0.5, per_feature=per_feature)
    layer.build(SHAPE)
    weights = [v.value for v in layer.trainable_variables]

    def total(x: jax.Array, weights: list) -> jax.Array:
        return jnp.sum(layer.stateless_call(weights, [], x)[0])

    x = jnp.linspace(-1.0, 1.0, SHAPE[0] * SHAPE[1], dtype="float32").reshape(SHAPE)
    program = jax.jit(jax.grad(total, argnums=(0, 1))).lower(x, weights).compile().as_text()
    entry = program[program.index("\nENTRY") :]
    return re.findall(r"= (\w+\[[\d,]*\])\S* fusion\(", entry)


@pytest.mark.parametrize("per_feature", [False, True])
def test_one_loop_writes_an_array_of_the_inputs_shape(per_feature):
    fusions = _entry_fusions(per_feature)
    full = [kind for kind in fusions if kind == f"f32[{SHAPE[0]},{SHAPE[1]}]"]
    assert len(full) == 1, fusions
