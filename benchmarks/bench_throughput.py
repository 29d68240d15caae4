"""Benchmark: forward + backward throughput of the bump layers against a bare ``exp``.

For 1e6 and 1e7 float32 elements (shape ``(n, 1)``, one shared sigma), times
one call that computes the layer's output, sums it and takes the gradient
with respect to the input and to sigma; the baseline is ``exp`` of the same
input, summed, with its gradient with respect to the input. Each Keras
backend runs in its own process (Keras fixes its backend at import):

* TensorFlow: a ``tf.function`` with ``tf.GradientTape``, with and without
  XLA (``jit_compile``);
* JAX: ``jax.jit`` of ``jax.grad`` (XLA);
* PyTorch: eager ``torch.autograd`` (the default way PyTorch code runs).

TensorFlow runs twice, with each of its CPU memory allocators: the default
one, which takes every buffer from ``malloc`` and gives it back after each
operation, and its caching "BFC" allocator (``TF_CPU_ALLOCATOR_USE_BFC=true``,
the algorithm TensorFlow uses for GPU memory). With the default one a buffer
of tens of megabytes comes back from the operating system as fresh pages on
every call, and at 1e7 elements that costs a bare ``exp`` more than its
arithmetic; the BFC allocator keeps its memory and removes that cost, so the
ratios under it are those of the arithmetic and the memory traffic alone.

Both sides of each ratio run in the same process, at the same settings.
Each call is timed ``--repeats`` times after two warm-up calls (which trace
and compile); the calls of one size take turns, so that a change in the
machine's load hits them alike. The table prints the fastest call and the
median one: on a shared machine the slower calls are mostly other processes'
work (the reason ``timeit`` reports the fastest), and the median shows how
much that moves. "vs best exp" divides by the fastest ``exp`` of the backend
in any mode: XLA's ``exp`` on its own is slower than TensorFlow's, so a ratio
to it alone would flatter XLA. The targets of issue 9 are checked on
TensorFlow, with both allocators, on the fastest calls and on the medians:
``StableBumpLayer`` at most 1.5x ``exp`` with XLA and 2.5x without, at both
sizes.

Run: ``python benchmarks/bench_throughput.py [--repeats 15] [--backends
tensorflow,jax,torch] [--tf-allocators default,bfc]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

SIZES = (1_000_000, 10_000_000)
#: The Keras backends the benchmark runs, each in its own process.
BACKENDS = ("tensorflow", "jax", "torch")
LAYERS = ("AnswerBumpLayer", "PortableAnswerBumpLayer", "StableBumpLayer")
TARGETS = {("tensorflow", "XLA"): 1.5, ("tensorflow", "graph"): 2.5}
#: TensorFlow's CPU allocators, by name: the value of ``TF_CPU_ALLOCATOR_USE_BFC``.
TF_ALLOCATORS = {"default": "false", "bfc": "true"}


def call_seconds(calls: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Wall times of ``repeats`` runs of each blocking call, after two warm-up calls.

    The calls take turns (one round of every call per repeat), so that a
    change in the machine's load during the run hits every call alike.
    """
    for call in calls.values():
        call()
        call()
    times: dict[str, list[float]] = {key: [] for key in calls}
    for _ in range(repeats):
        for key, call in calls.items():
            start = time.perf_counter()
            call()
            times[key].append(time.perf_counter() - start)
    return times


def tensorflow_steps(size: int) -> dict[str, Callable[[], object]]:
    """TensorFlow: every layer and the baseline, as graphs with and without XLA."""
    import tensorflow as tf

    import bumplib

    x = tf.random.stateless_uniform((size, 1), seed=(0, 0), minval=-1.0, maxval=1.0)
    steps = {}
    for mode, jit in (("graph", False), ("XLA", True)):
        for name in ("exp", *LAYERS):
            layer = None if name == "exp" else getattr(bumplib, name)(initial_sigma=0.5)

            @tf.function(jit_compile=jit)
            def step(x: tf.Tensor, layer: object = layer) -> object:
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    total = tf.reduce_sum(tf.exp(x) if layer is None else layer(x))
                sources = [x] if layer is None else [x, *layer.trainable_variables]
                return tape.gradient(total, sources)

            if layer is not None:
                layer.build(x.shape)
            steps[f"{mode}|{name}"] = lambda step=step: [g.numpy() for g in step(x)]
    return steps


def jax_steps(size: int) -> dict[str, Callable[[], object]]:
    """JAX: every keras.ops layer and the baseline under ``jax.jit``."""
    import jax
    import jax.numpy as jnp

    import bumplib

    x = jax.random.uniform(jax.random.PRNGKey(0), (size, 1), minval=-1.0, maxval=1.0)
    steps = {}
    grad_exp = jax.jit(jax.grad(lambda x: jnp.sum(jnp.exp(x))))
    steps["XLA|exp"] = lambda: grad_exp(x).block_until_ready()
    for name in LAYERS[1:]:
        layer = getattr(bumplib, name)(initial_sigma=0.5)
        layer.build(x.shape)
        weights = [v.value for v in layer.trainable_variables]

        def total(x: jax.Array, weights: list, layer: object = layer) -> jax.Array:
            return jnp.sum(layer.stateless_call(weights, [], x)[0])

        grad = jax.jit(jax.grad(total, argnums=(0, 1)))
        steps[f"XLA|{name}"] = lambda grad=grad, weights=weights: jax.block_until_ready(
            grad(x, weights)
        )
    return steps


def torch_steps(size: int) -> dict[str, Callable[[], object]]:
    """PyTorch: every keras.ops layer and the baseline, eager autograd."""
    import torch

    import bumplib

    generator = torch.Generator().manual_seed(0)
    x = (torch.rand((size, 1), generator=generator) * 2 - 1).requires_grad_()

    def exp_step() -> object:
        return torch.autograd.grad(torch.exp(x).sum(), [x])

    steps = {"eager|exp": exp_step}
    for name in LAYERS[1:]:
        layer = getattr(bumplib, name)(initial_sigma=0.5)
        layer.build(tuple(x.shape))
        sources = [x, *(v.value for v in layer.trainable_variables)]

        def step(layer: object = layer, sources: list = sources) -> object:
            return torch.autograd.grad(layer(x).sum(), sources)

        steps[f"eager|{name}"] = step
    return steps


def worker(backend: str, repeats: int) -> None:
    """Time every step of ``backend`` (the running one) and print the results as JSON."""
    make = {"tensorflow": tensorflow_steps, "jax": jax_steps, "torch": torch_steps}[backend]
    results = []
    for size in SIZES:
        for key, seconds in call_seconds(make(size), repeats).items():
            mode, name = key.split("|")
            results.append({"size": size, "mode": mode, "op": name, "seconds": seconds})
    print(json.dumps(results))


def run_backend(backend: str, repeats: int, allocator: str = "default") -> list[dict]:
    """Run :func:`worker` in a fresh process with ``KERAS_BACKEND=backend``.

    ``allocator`` names TensorFlow's CPU allocator (a key of ``TF_ALLOCATORS``);
    it is set explicitly, so that the caller's environment does not choose it.
    """
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_CPU_ALLOCATOR_USE_BFC": TF_ALLOCATORS[allocator],
    }
    command = [sys.executable, __file__, "--worker", backend, "--repeats", str(repeats)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"the {backend} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print the throughput table of every backend, then one line per target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument(
        "--tf-allocators",
        default="default,bfc",
        help="TensorFlow's CPU allocators to run with: default, bfc or both (default: both)",
    )
    args = parser.parse_args()
    if args.repeats < 3:
        parser.error(f"--repeats must be at least 3 for a median, got {args.repeats}.")
    backends = args.backends.split(",")
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"--backends takes tensorflow, jax and torch; got {', '.join(unknown)}.")
    allocators = args.tf_allocators.split(",")
    unknown = sorted(set(allocators) - set(TF_ALLOCATORS))
    if unknown:
        parser.error(f"--tf-allocators takes default and bfc; got {', '.join(unknown)}.")
    if args.worker:
        worker(args.worker, args.repeats)
        return
    print(f"{args.repeats} timed calls after 2 warm-up calls; forward + backward, float32")
    print(
        f"{'':>14} {'':>5} {'':>8} {'':>18} {'ms per call':>20} {'vs exp':>13} {'vs best exp':>11}"
    )
    print(
        f"{'backend':>14} {'mode':>5} {'elements':>8} {'op':>18} "
        f"{'fastest':>10} {'median':>9} {'fast':>6} {'median':>6} {'fastest':>11}"
    )
    runs = [
        (backend, allocator)
        for backend in backends
        for allocator in (allocators if backend == "tensorflow" else ["default"])
    ]
    ratios = {}
    for backend, allocator in runs:
        label = f"{backend} (BFC)" if allocator == "bfc" else backend
        results = run_backend(backend, args.repeats, allocator)
        for r in results:
            r["fastest"], r["median"] = min(r["seconds"]), statistics.median(r["seconds"])
        base = {(r["size"], r["mode"]): r for r in results if r["op"] == "exp"}
        best = {
            size: min(r["fastest"] for r in results if r["op"] == "exp" and r["size"] == size)
            for size in SIZES
        }
        for r in results:
            exp = base[r["size"], r["mode"]]
            fast, median = r["fastest"] / exp["fastest"], r["median"] / exp["median"]
            ratios[backend, allocator, r["mode"], r["size"], r["op"]] = (fast, median)
            print(
                f"{label:>14} {r['mode']:>5} {r['size']:>8.0e} {r['op']:>18} "
                f"{r['fastest'] * 1e3:>10.2f} {r['median'] * 1e3:>9.2f} "
                f"{fast:>5.2f}x {median:>5.2f}x {r['fastest'] / best[r['size']]:>10.2f}x"
            )
    print()
    for (backend, mode), limit in TARGETS.items():
        for allocator in TF_ALLOCATORS:
            for size in SIZES:
                ratio = ratios.get((backend, allocator, mode, size, "StableBumpLayer"))
                if ratio is None:
                    continue
                verdicts = ", ".join(
                    f"{which} {value:.2f}x {'met' if value <= limit else 'NOT met'}"
                    for which, value in zip(("fastest", "median"), ratio, strict=True)
                )
                print(
                    f"target: StableBumpLayer on {backend} ({mode}, {allocator} allocator), "
                    f"{size:.0e} elements, <= {limit}x exp: {verdicts}"
                )


if __name__ == "__main__":
    main()
