"""Benchmark: forward + backward throughput of the bump layers against a bare ``tf.exp``.

For 1e6 and 1e7 float32 elements, times one call of a ``tf.function`` that
computes the layer's output, sums it and takes the gradient with respect to
the input and to sigma (``tf.exp``: with respect to the input), with and
without ``jit_compile``. Prints the median time per call over several calls
and its ratio to ``tf.exp`` at the same size and compile mode.

Run: ``python benchmarks/bench_throughput.py [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf

import bumplib

SIZES = (1_000_000, 10_000_000)


def make_step(layer: tf.keras.layers.Layer | None, jit: bool) -> Callable[[tf.Tensor], object]:
    """Return a compiled forward+backward step for ``layer`` (or ``tf.exp`` when None)."""

    @tf.function(jit_compile=jit)
    def step(x: tf.Tensor) -> object:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.exp(x) if layer is None else layer(x)
            total = tf.reduce_sum(y)
        sources = [x] if layer is None else [x, *layer.trainable_variables]
        return tape.gradient(total, sources)

    return step


def median_seconds(step: Callable[[tf.Tensor], object], x: tf.Tensor, repeats: int) -> float:
    """Median wall time of ``step(x)`` after one warm-up call (which traces/compiles)."""
    step(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = step(x)
        _ = [g.numpy() for g in result]  # wait for the values
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print the throughput table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"{'elements':>10} {'jit':>5} {'op':>16} {'ms/call':>9} {'vs tf.exp':>9} {'Melem/s':>9}")
    for size in SIZES:
        x = tf.random.stateless_uniform((size, 1), seed=(0, 0), minval=-1.0, maxval=1.0)
        for jit in (False, True):
            rows = {
                "tf.exp": None,
                "BumpLayer": bumplib.BumpLayer(initial_sigma=0.5),
                "StableBumpLayer": bumplib.StableBumpLayer(initial_sigma=0.5),
            }
            base = None
            for name, layer in rows.items():
                seconds = median_seconds(make_step(layer, jit), x, args.repeats)
                base = base or seconds
                print(
                    f"{size:>10.0e} {jit!s:>5} {name:>16} {seconds * 1e3:>9.2f} "
                    f"{seconds / base:>8.2f}x {size / seconds / 1e6:>9.1f}"
                )


if __name__ == "__main__":
    main()
