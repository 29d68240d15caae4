"""Benchmark: the gradient-trap finder on one layer, three backends, four dtypes, every mode.

Runs ``python -m bumplib.gradient_traps`` (through
:func:`bumplib.gradient_traps.command.run_on_backends`: one process per backend,
all at once) on :class:`bumplib.StableBumpLayer` with ``x`` in ``(-3, 3)``,
``sigma`` in ``(0, 10)`` and the edges ``sigma`` and ``sqrt(sigma)``, in
float32, float16, bfloat16 and float64, eagerly, as a TensorFlow graph and
compiled (XLA, ``jax.jit``, ``torch.compile``). It prints the wall time of the
whole command, the CPU time of the three processes (on a busy machine the wall
time says more about the other load than about the finder) and each
backend's own search time (Keras and backend imports not included), first
with an empty ``torch.compile`` cache (Inductor compiles C++ with the
system's compiler) and then with the cache the first run left.

The target: the whole command within 60 s on a 2-core machine.

Run: ``python benchmarks/bench_gradient_traps.py`` (two runs of about a minute each);
``--warm-only`` runs once, with the default cache as earlier runs left it.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

from bumplib.gradient_traps import BACKENDS, DTYPES, MODES
from bumplib.gradient_traps.command import run_on_backends

TARGET_SECONDS = 60.0
REQUEST = {
    "target": "bumplib:StableBumpLayer",
    "kwargs": {"initial_sigma": 0.5},
    "inputs": {"x": [-3.0, 3.0]},
    "parameters": {"sigma": [0.0, 10.0]},
    "edges": ["sigma", "sqrt(sigma)"],
    "dtypes": list(DTYPES),
    "modes": list(MODES),
    "ulps": 2,
    "tolerance": 1.0,
}


def run_once(label: str) -> float:
    """Run the command once; print its times; return the wall time."""
    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = run_on_backends(REQUEST, BACKENDS)
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    modes = sum(status == "ok" for status in report.modes.values())
    print(f"{label}: {wall:.1f} s wall for the whole command ({modes} backend/dtype/mode runs)")
    load = os.getloadavg()[0]
    print(f"    CPU time of the three processes: {cpu:.1f} s (load average {load:.1f})")
    for backend, seconds in report.seconds.items():
        print(f"    {backend:<10} search {seconds:6.1f} s (after its imports)")
    print(f"    points per dtype: {report.points}; traps found: {len(report.traps)}")
    if report.problems():
        print("    problems: " + "; ".join(report.problems()))
    return wall


def main() -> int:
    """Run the benchmark; exit status 0 when the warm run meets the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-only", action="store_true", help="one run, default cache")
    arguments = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPU cores")
    walls = []
    if arguments.warm_only:  # the default cache, as earlier runs left it
        walls.append(run_once("default torch.compile cache"))
    else:
        with tempfile.TemporaryDirectory(prefix="bumplib-inductor-") as cache:
            os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache  # the children inherit it
            walls.append(run_once("cold torch.compile cache"))
            walls.append(run_once("warm torch.compile cache"))
    met = walls[-1] <= TARGET_SECONDS
    print(f"target: the command within {TARGET_SECONDS:.0f} s: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
