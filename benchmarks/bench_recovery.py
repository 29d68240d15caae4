"""Benchmark: recovering sigma, five ways, side by side from one run.

For each sigma in {0.05, 0.1, 0.5, 1, 2, 5, 10, 20, 50}, on the same 100k
samples (x uniform in (-1, 1), ``bumplib.generate_data(sigma, seed=0)``):

* ``recipe``: the thread's recipe as written (``bumpbook.fit_answer_recipe``:
  AnswerBumpLayer, Adam with defaults, batch 32, 3/5/10 epochs,
  ``steps_per_execution=1``);
* ``recipe spe``: the same recipe with ``steps_per_execution`` = one epoch of
  batches: exactly the same optimizer steps, fewer returns to Python (the
  script checks and prints that it lands on the same sigma);
* ``curve_fit``: ``scipy.optimize.curve_fit``, Levenberg-Marquardt
  (``method="lm"``), analytic Jacobian in log sigma, start sigma = 1, float64
  NumPy model of the stable bump: the practitioner's tool at its best;
* ``fit_sigma lm``: ``bumplib.fit_sigma(x, y)`` (Levenberg-Marquardt in keras.ops);
* ``fit_sigma adam``: ``bumplib.fit_sigma(x, y, method="adam")``.

It prints learned sigma, relative error, steps or iterations and wall time
(every call timed from outside, the same way), then totals and ratios; then
an accuracy sweep of ``fit_sigma`` (lm) and ``curve_fit`` over sigma in
[0.03, 50]; then one line per target, met or not met:

* fit_sigma (lm): relative error <= 1e-6 for every sigma of the sweep;
* fit_sigma (lm): at least as fast as curve_fit in total and for each sigma.

Fair timing: every method runs once on other data first (warm-up, not
counted); the fast methods (curve_fit, fit_sigma lm) are timed ``--repeats``
times, interleaved, and the median is reported; Adam and the recipes, which
take seconds, once each (``--adam-repeats`` for fit_sigma adam).

Run: ``python benchmarks/bench_recovery.py`` (a few minutes on 2 CPU cores,
nearly all in the recipe at ``steps_per_execution=1``); ``--quick`` skips that
one. Exit status 0 when every target is met.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import bumpbook
import bumplib
from bumpbook import recovery

SIGMAS = (0.05, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
SWEEP = (0.03, 0.05, 0.1, 0.5, 0.9, 0.99, 1.0, 1.01, 2.0, 5.0, 10.0, 20.0, 50.0)
ACCURACY_TARGET = 1e-6


@dataclass(frozen=True)
class Run:
    """One method on one data set: learned sigma, steps or iterations, median seconds."""

    sigma: float
    steps: int
    seconds: float


def curve_fit_sigma(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """``bumpbook.recovery.curve_fit_sigma``: ``(sigma, nfev)``."""
    sigma, evaluations, _ = recovery.curve_fit_sigma(x, y)
    return sigma, evaluations


def fit_sigma_lm(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """``bumplib.fit_sigma(x, y)``: ``(sigma, iterations)``."""
    result = bumplib.fit_sigma(x, y)
    return result.sigma, int(result.steps[-1])


def fit_sigma_adam(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """``bumplib.fit_sigma(x, y, method="adam")``: ``(sigma, optimizer steps)``."""
    result = bumplib.fit_sigma(x, y, method="adam")
    return result.sigma, int(result.steps[-1])


def recipe(
    steps_per_execution: int, compiled: bool = False
) -> Callable[[np.ndarray, np.ndarray, float], tuple]:
    """Return the thread's recipe at ``steps_per_execution`` (or compiled) as a method."""

    def run(x: np.ndarray, y: np.ndarray, true_sigma: float) -> tuple[float, int]:
        result = bumpbook.fit_answer_recipe(
            x, y, true_sigma, seed=0, steps_per_execution=steps_per_execution, compiled=compiled
        )
        return result.sigma, int(result.steps[-1])

    return run


def timed(call: Callable[[], tuple[float, int]]) -> tuple[float, int, float]:
    """Run ``call`` and return ``(sigma, steps, seconds)``."""
    start = time.perf_counter()
    sigma, steps = call()
    return sigma, steps, time.perf_counter() - start


def median_runs(calls: dict[str, Callable[[], tuple[float, int]]], repeats: int) -> dict[str, Run]:
    """Time each call ``repeats`` times, interleaved; return the median time of each."""
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    results: dict[str, tuple[float, int]] = {}
    for _ in range(repeats):
        for name, call in calls.items():
            sigma, steps, elapsed = timed(call)
            if name in results and results[name][0] != sigma:
                raise RuntimeError(f"{name} is not deterministic: {results[name][0]} != {sigma}")
            results[name] = (sigma, steps)
            seconds[name].append(elapsed)
    return {
        name: Run(results[name][0], results[name][1], statistics.median(seconds[name]))
        for name in calls
    }


def rel(learned: float, true: float) -> float:
    """Relative error of ``learned``."""
    return abs(learned - true) / true


def main() -> int:
    """Run the benchmark, print the tables, and return 0 when every target is met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="samples per sigma")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of the fast methods")
    parser.add_argument("--adam-repeats", type=int, default=1, help="timed runs of fit_sigma adam")
    parser.add_argument(
        "--quick", action="store_true", help="skip the recipe at steps_per_execution=1"
    )
    args = parser.parse_args()
    batches = math.ceil(args.n / 32)

    # Warm-up: every method once, on data the tables do not use.
    x, y, _ = bumplib.generate_data(3.0, n=args.n, seed=1)
    curve_fit_sigma(x, y)
    fit_sigma_lm(x, y)
    fit_sigma_adam(x, y)
    recipe(batches)(x[:3200], y[:3200], 0.5)
    recipe(1, compiled=True)(x[:3200], y[:3200], 0.5)
    if not args.quick:
        recipe(1)(x[:3200], y[:3200], 0.5)

    methods = [
        "recipe",
        "recipe spe",
        "recipe compiled",
        "curve_fit",
        "fit_sigma lm",
        "fit_sigma adam",
    ]
    if args.quick:
        methods.remove("recipe")
    print(
        f"Recovering sigma from {args.n} samples, x in (-1, 1), seed 0; start sigma = 1 "
        f"except the recipe (uniform in [0, 0.1]). recipe spe: steps_per_execution={batches}; "
        "recipe compiled: as many steps in one XLA loop per epoch (fit_compiled, its own shuffle). "
        f"Times: median of {args.repeats} (curve_fit, fit_sigma lm), "
        f"{args.adam_repeats} (fit_sigma adam), 1 (recipes)."
    )
    header = (
        f"{'sigma':>6} {'method':<15} {'learned sigma':>14} {'rel. error':>10} "
        f"{'steps/iter.':>11} {'seconds':>8}"
    )
    print(f"{header}\n{'-' * len(header)}")
    table: dict[float, dict[str, Run]] = {}
    same_steps: dict[float, float] = {}
    for sigma in SIGMAS:
        x, y, _ = bumplib.generate_data(sigma, n=args.n, seed=0)
        runs: dict[str, Run] = {}
        if not args.quick:
            s, steps, sec = timed(lambda x=x, y=y, sigma=sigma: recipe(1)(x, y, sigma))
            runs["recipe"] = Run(s, steps, sec)
        s, steps, sec = timed(lambda x=x, y=y, sigma=sigma: recipe(batches)(x, y, sigma))
        runs["recipe spe"] = Run(s, steps, sec)
        s, steps, sec = timed(lambda x=x, y=y, sigma=sigma: recipe(1, compiled=True)(x, y, sigma))
        runs["recipe compiled"] = Run(s, steps, sec)
        runs.update(
            median_runs(
                {
                    "curve_fit": lambda x=x, y=y: curve_fit_sigma(x, y),
                    "fit_sigma lm": lambda x=x, y=y: fit_sigma_lm(x, y),
                },
                args.repeats,
            )
        )
        runs.update(
            median_runs(
                {"fit_sigma adam": lambda x=x, y=y: fit_sigma_adam(x, y)}, args.adam_repeats
            )
        )
        table[sigma] = runs
        if "recipe" in runs:
            same_steps[sigma] = rel(runs["recipe spe"].sigma, runs["recipe"].sigma)
        for name in methods:
            run = runs[name]
            print(
                f"{sigma:>6g} {name:<15} {run.sigma:>14.9g} {rel(run.sigma, sigma):>10.1e} "
                f"{run.steps:>11d} {run.seconds:>8.3f}"
            )
        print()

    totals = {name: sum(table[s][name].seconds for s in SIGMAS) for name in methods}
    print(f"{'method':<15} {'total s':>9} {'worst rel. error':>17} {'time / fit_sigma lm':>20}")
    for name in methods:
        worst = max(rel(table[s][name].sigma, s) for s in SIGMAS)
        ratio = totals[name] / totals["fit_sigma lm"]
        print(f"{name:<15} {totals[name]:>9.3f} {worst:>17.1e} {ratio:>19.2f}x")
    print("\nratios of total time:")
    if "recipe" in totals:
        print(f"  recipe / recipe spe           {totals['recipe'] / totals['recipe spe']:6.2f}x")
        print(
            f"  recipe / fit_sigma adam       {totals['recipe'] / totals['fit_sigma adam']:6.2f}x"
        )
    print(
        f"  recipe spe / fit_sigma adam   {totals['recipe spe'] / totals['fit_sigma adam']:6.2f}x"
    )
    print(
        f"  recipe spe / recipe compiled  {totals['recipe spe'] / totals['recipe compiled']:6.2f}x"
    )
    print(
        f"  fit_sigma adam / fit_sigma lm {totals['fit_sigma adam'] / totals['fit_sigma lm']:6.2f}x"
    )
    print(f"  curve_fit / fit_sigma lm      {totals['curve_fit'] / totals['fit_sigma lm']:6.2f}x")
    per_sigma = {
        s: table[s]["curve_fit"].seconds / table[s]["fit_sigma lm"].seconds for s in SIGMAS
    }
    print(
        "  curve_fit / fit_sigma lm per sigma: "
        + ", ".join(f"{s:g}: {r:.2f}x" for s, r in per_sigma.items())
    )
    if same_steps:
        worst_same = max(same_steps.values())
        print(
            "  recipe spe vs recipe, same optimizer steps: largest relative difference of the "
            f"learned sigma {worst_same:.1e}"
        )

    print(f"\nAccuracy sweep over [0.03, 50] (median of {args.repeats} times)")
    header = (
        f"{'sigma':>6} | {'fit_sigma lm':>14} {'rel. error':>10} {'iter.':>5} {'seconds':>8} | "
        f"{'curve_fit':>14} {'rel. error':>10} {'nfev':>5} {'seconds':>8}"
    )
    print(f"{header}\n{'-' * len(header)}")
    sweep: dict[float, dict[str, Run]] = {}
    for sigma in SWEEP:
        x, y, _ = bumplib.generate_data(sigma, n=args.n, seed=0)
        runs = median_runs(
            {
                "fit_sigma lm": lambda x=x, y=y: fit_sigma_lm(x, y),
                "curve_fit": lambda x=x, y=y: curve_fit_sigma(x, y),
            },
            args.repeats,
        )
        sweep[sigma] = runs
        lm, cf = runs["fit_sigma lm"], runs["curve_fit"]
        print(
            f"{sigma:>6g} | {lm.sigma:>14.9g} {rel(lm.sigma, sigma):>10.1e} {lm.steps:>5d} "
            f"{lm.seconds:>8.3f} | {cf.sigma:>14.9g} {rel(cf.sigma, sigma):>10.1e} "
            f"{cf.steps:>5d} {cf.seconds:>8.3f}"
        )

    worst_lm = max(rel(r["fit_sigma lm"].sigma, s) for s, r in sweep.items())
    slower = [s for s, r in per_sigma.items() if r < 1.0]
    slower_sweep = [
        s for s, r in sweep.items() if r["fit_sigma lm"].seconds > r["curve_fit"].seconds
    ]
    targets = [
        (
            f"fit_sigma lm: relative error <= {ACCURACY_TARGET:g} for every sigma in [0.03, 50] "
            f"(worst {worst_lm:.1e})",
            worst_lm <= ACCURACY_TARGET,
        ),
        (
            f"fit_sigma lm: at least as fast as curve_fit in total ({totals['fit_sigma lm']:.3f} s "
            f"vs {totals['curve_fit']:.3f} s)",
            totals["fit_sigma lm"] <= totals["curve_fit"],
        ),
        (
            "fit_sigma lm: at least as fast as curve_fit for each sigma of the first table"
            + (f" (slower at {', '.join(f'{s:g}' for s in slower)})" if slower else ""),
            not slower,
        ),
        (
            "fit_sigma lm: at least as fast as curve_fit for each sigma of the sweep"
            + (f" (slower at {', '.join(f'{s:g}' for s in slower_sweep)})" if slower_sweep else ""),
            not slower_sweep,
        ),
    ]
    print()
    for text, met in targets:
        print(f"{'met    ' if met else 'NOT MET'}  {text}")
    return 0 if all(met for _, met in targets) else 1


if __name__ == "__main__":
    raise SystemExit(main())
