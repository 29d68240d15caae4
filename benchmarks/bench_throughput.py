"""Benchmark: forward + backward throughput of the bump layers against a bare ``exp``.

For 1e6 and 1e7 float32 elements (shape ``(n, 1)``, one shared sigma), times
one call that computes the layer's output, sums it and takes the gradient
with respect to the input and to sigma; the baseline is ``exp`` of the same
input, summed, with its gradient with respect to the input. Beside the layers
runs the "double where" a user would write instead of ``StableBumpLayer``
(safe input, then the formula, then 0 outside), in each framework's own
operations. Each Keras backend runs in its own process (Keras fixes its
backend at import):

* TensorFlow: a ``tf.function`` with ``tf.GradientTape``, with and without
  XLA (``jit_compile``): "graph" is what Keras' ``fit`` runs on a CPU;
* JAX: ``jax.jit`` of ``jax.grad`` (XLA), what Keras' JAX trainer runs;
* PyTorch: eager ``torch.autograd`` (what Keras' torch backend runs by
  default), and "compiled": the forward pass under ``torch.compile``
  (TorchInductor), which compiles the backward pass with it.

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
to it alone would flatter XLA. The targets of issue 21 (:data:`TARGETS`) are
checked on the fastest calls, with each TensorFlow allocator: at most 2x
``exp`` in a TensorFlow graph at both sizes, and at 1e7 elements, against the
fastest ``exp`` of the backend, at most 1.25x with XLA (TensorFlow, JAX), 3x
eager and 1.5x compiled on PyTorch; and in every mode and size no slower than
the double ``where``.

Run: ``python benchmarks/bench_throughput.py [--repeats 15] [--backends
tensorflow,jax,torch] [--tf-allocators default,bfc]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

SIZES = (1_000_000, 10_000_000)
#: The Keras backends the benchmark runs, each in its own process.
BACKENDS = ("tensorflow", "jax", "torch")
LAYERS = ("AnswerBumpLayer", "PortableAnswerBumpLayer", "StableBumpLayer")
#: The double ``where`` a user would write instead of the layer, in the framework itself.
DOUBLE_WHERE = "double where"


def layer_class(name: str) -> type:
    """The layer called ``name``: the core's ``StableBumpLayer`` or one of bumpbook's."""
    import bumpbook
    import bumplib

    return getattr(bumplib, name, None) or getattr(bumpbook, name)


#: TensorFlow's CPU allocators, by name: the value of ``TF_CPU_ALLOCATOR_USE_BFC``.
TF_ALLOCATORS = {"default": "false", "bfc": "true"}


@dataclasses.dataclass(frozen=True)
class Target:
    """A bound on ``StableBumpLayer``'s fastest call, as a multiple of a bare ``exp``'s.

    Attributes:
        backend: The Keras backend.
        mode: The mode the layer runs in (``"graph"``, ``"XLA"``, ``"eager"``, ``"compiled"``).
        sizes: The numbers of elements it is checked at.
        limit: The largest ratio that meets it.
        best_exp: Whether the ``exp`` is the fastest of the backend in any mode
            (else the ``exp`` of the same mode).
    """

    backend: str
    mode: str
    sizes: tuple[int, ...]
    limit: float
    best_exp: bool


#: The targets of issue 21; besides these, the layer must be no slower than the framework's
#: own double ``where`` in every mode and at every size.
TARGETS = (
    Target("tensorflow", "graph", SIZES, 2.0, best_exp=False),
    Target("tensorflow", "XLA", SIZES[-1:], 1.25, best_exp=True),
    Target("jax", "XLA", SIZES[-1:], 1.25, best_exp=True),
    Target("torch", "eager", SIZES[-1:], 3.0, best_exp=True),
    Target("torch", "compiled", SIZES[-1:], 1.5, best_exp=True),
)


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


def double_where(where: Callable, exp: Callable, x: object, sigma: object) -> object:
    """The answer's double ``where``, written with one framework's ``where`` and ``exp``.

    The safe input (0 outside the support), then the formula, then 0 outside:
    what a user would write instead of the layer.
    """
    inside = (x < sigma) & (x > -sigma)
    safe_x = where(inside, x, 0.0)
    return where(inside, exp(-sigma / (sigma - safe_x * safe_x)), 0.0)


def tensorflow_steps(size: int) -> dict[str, Callable[[], object]]:
    """TensorFlow: layers, double ``where`` and baseline, as graphs with and without XLA."""
    import tensorflow as tf

    x = tf.random.stateless_uniform((size, 1), seed=(0, 0), minval=-1.0, maxval=1.0)
    sigma = tf.Variable(0.5)
    steps = {}
    for mode, jit in (("graph", False), ("XLA", True)):
        for name in ("exp", DOUBLE_WHERE, *LAYERS):
            layer = None
            if name == "exp":
                function, sources = tf.exp, []
            elif name == DOUBLE_WHERE:
                function = functools.partial(double_where, tf.where, tf.exp, sigma=sigma)
                sources = [sigma]
            else:
                layer = layer_class(name)(initial_sigma=0.5)
                layer.build(x.shape)
                function, sources = layer, layer.trainable_variables

            step = tf.function(gradient_tape_step(function, sources), jit_compile=jit)
            steps[f"{mode}|{name}"] = lambda step=step: [g.numpy() for g in step(x)]
    return steps


def gradient_tape_step(function: Callable, sources: list) -> Callable:
    """``step(x)``: the gradient of ``sum(function(x))`` with respect to ``x`` and ``sources``."""
    import tensorflow as tf

    def step(x: tf.Tensor) -> list:
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(function(x))
        return tape.gradient(total, [x, *sources])

    return step


def jax_steps(size: int) -> dict[str, Callable[[], object]]:
    """JAX: every keras.ops layer, the double ``where`` and the baseline under ``jax.jit``."""
    import jax
    import jax.numpy as jnp

    x = jax.random.uniform(jax.random.PRNGKey(0), (size, 1), minval=-1.0, maxval=1.0)
    steps = {}
    grad_exp = jax.jit(jax.grad(lambda x: jnp.sum(jnp.exp(x))))
    steps["XLA|exp"] = lambda: grad_exp(x).block_until_ready()

    def where_total(x: jax.Array, sigma: jax.Array) -> jax.Array:
        return jnp.sum(double_where(jnp.where, jnp.exp, x, sigma))

    grad_where = jax.jit(jax.grad(where_total, argnums=(0, 1)))
    sigma = jnp.float32(0.5)
    steps[f"XLA|{DOUBLE_WHERE}"] = lambda: jax.block_until_ready(grad_where(x, sigma))
    for name in LAYERS[1:]:
        layer = layer_class(name)(initial_sigma=0.5)
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
    """PyTorch: keras.ops layers, double ``where`` and baseline, eager and ``torch.compile``.

    Eager autograd is what Keras' torch backend runs; "compiled" puts the
    forward pass under ``torch.compile`` (TorchInductor), which compiles the
    backward pass along with it, as a user who compiles the model gets.
    """
    import torch

    generator = torch.Generator().manual_seed(0)
    x = (torch.rand((size, 1), generator=generator) * 2 - 1).requires_grad_()
    sigma = torch.tensor(0.5, requires_grad=True)
    totals = {
        "exp": (lambda x: torch.exp(x).sum(), [x]),
        DOUBLE_WHERE: (
            lambda x: double_where(torch.where, torch.exp, x, sigma).sum(),
            [x, sigma],
        ),
    }
    for name in LAYERS[1:]:
        layer = layer_class(name)(initial_sigma=0.5)
        layer.build(tuple(x.shape))
        totals[name] = (
            lambda x, layer=layer: layer(x).sum(),
            [x, *(v.value for v in layer.trainable_variables)],
        )
    steps = {}
    for mode in ("eager", "compiled"):
        for name, (total, sources) in totals.items():
            if mode == "compiled":
                total = torch.compile(total, dynamic=False)

            def step(total: Callable = total, sources: list = sources) -> object:
                return torch.autograd.grad(total(x), sources)

            steps[f"{mode}|{name}"] = step
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
    """Print the throughput table of every backend, then one line per target (:func:`verdicts`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument(
        "--tf-allocators",
        default="default,bfc",
        help="TensorFlow's CPU allocators to run with: default, bfc or both (default: both)",
    )
    parser.add_argument(
        "--json",
        metavar="PATH",
        help="also write every timing, the machine and the verdicts to PATH (JSON)",
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
        f"{'':>14} {'':>8} {'':>8} {'':>18} {'ms per call':>20} {'vs exp':>13} {'vs best exp':>11}"
    )
    print(
        f"{'backend':>14} {'mode':>8} {'elements':>8} {'op':>18} "
        f"{'fastest':>10} {'median':>9} {'fast':>6} {'median':>6} {'fastest':>11}"
    )
    runs = [
        (backend, allocator)
        for backend in backends
        for allocator in (allocators if backend == "tensorflow" else ["default"])
    ]
    results_by_run = {}
    for backend, allocator in runs:
        label = f"{backend} (BFC)" if allocator == "bfc" else backend
        results = results_by_run[backend, allocator] = run_backend(backend, args.repeats, allocator)
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
            print(
                f"{label:>14} {r['mode']:>8} {r['size']:>8.0e} {r['op']:>18} "
                f"{r['fastest'] * 1e3:>10.2f} {r['median'] * 1e3:>9.2f} "
                f"{fast:>5.2f}x {median:>5.2f}x {r['fastest'] / best[r['size']]:>10.2f}x"
            )
    print()
    lines = verdicts(results_by_run)
    for line in lines:
        print(line)
    if args.json:
        record = {
            "machine": {
                "processor": platform.processor() or platform.machine(),
                "cpus": os.cpu_count(),
            },
            "python": platform.python_version(),
            "versions": {
                name: importlib.metadata.version(name)
                for name in ("keras", "tensorflow-cpu", "jax", "torch")
            },
            "repeats": args.repeats,
            "runs": [
                {"backend": backend, "allocator": allocator, "results": results}
                for (backend, allocator), results in results_by_run.items()
            ],
            "verdicts": lines,
        }
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(record, file, indent=1)
            file.write("\n")


def verdicts(results_by_run: dict[tuple[str, str], list[dict]]) -> list[str]:
    """Say "met" or "NOT met" for each target and each "no slower than the double ``where``".

    One line per target of :data:`TARGETS` and per mode and size, for the runs
    in ``results_by_run``.

    ``results_by_run`` maps ``(backend, allocator)`` to that run's results, each with
    its ``size``, ``mode``, ``op`` and ``fastest`` time.
    """
    lines = []
    for (backend, allocator), results in results_by_run.items():
        label = f"{backend}, {allocator} allocator" if backend == "tensorflow" else backend
        fastest = {(r["mode"], r["size"], r["op"]): r["fastest"] for r in results}
        for target in (t for t in TARGETS if t.backend == backend):
            for size in target.sizes:
                layer = fastest.get((target.mode, size, "StableBumpLayer"))
                if layer is None:
                    continue
                exps = [r["fastest"] for r in results if r["op"] == "exp" and r["size"] == size]
                exp = min(exps) if target.best_exp else fastest[target.mode, size, "exp"]
                which = "the fastest exp of any mode" if target.best_exp else "exp"
                ratio = layer / exp
                lines.append(
                    f"target: StableBumpLayer on {label} ({target.mode}), {size:.0e} elements, "
                    f"<= {target.limit}x {which}: {ratio:.2f}x "
                    f"{'met' if ratio <= target.limit else 'NOT met'}"
                )
        for mode, size, op in sorted(fastest):
            if op != "StableBumpLayer" or (mode, size, DOUBLE_WHERE) not in fastest:
                continue
            ratio = fastest[mode, size, op] / fastest[mode, size, DOUBLE_WHERE]
            lines.append(
                f"target: StableBumpLayer on {label} ({mode}), {size:.0e} elements, no slower "
                f"than the {DOUBLE_WHERE}: {ratio:.2f}x it {'met' if ratio <= 1 else 'NOT met'}"
            )
    return lines


if __name__ == "__main__":
    main()
