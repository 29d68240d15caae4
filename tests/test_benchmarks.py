"""The benchmark scripts refuse bad arguments with a message that says what to pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from load_file import load_file

THROUGHPUT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_throughput.py"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--repeats", "2"], "--repeats must be at least 3 for a median, got 2."),
        (["--backends", "jax,mxnet"], "--backends takes tensorflow, jax and torch; got mxnet"),
        (["--tf-allocators", "jemalloc"], "--tf-allocators takes default and bfc; got jemalloc"),
    ],
)
def test_bench_throughput_rejects_bad_arguments(arguments: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, str(THROUGHPUT), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""  # refused before any timing starts


def test_bench_throughput_says_which_targets_are_met() -> None:
    bench = load_file("benchmarks/bench_throughput.py")

    def row(mode: str, op: str, milliseconds: float, size: int = 10_000_000) -> dict:
        return {"size": size, "mode": mode, "op": op, "fastest": milliseconds / 1e3}

    torch_run = [
        row("eager", "exp", 40.0),
        row("eager", bench.DOUBLE_WHERE, 300.0),
        row("eager", "StableBumpLayer", 100.0),  # 2.5x the fastest exp (40 ms): met
        row("compiled", "exp", 50.0),
        row("compiled", bench.DOUBLE_WHERE, 70.0),
        row("compiled", "StableBumpLayer", 80.0),  # 2.0x the fastest exp: not met, nor <= where
    ]
    lines = bench.verdicts({("torch", "default"): torch_run})
    assert lines == [
        "target: StableBumpLayer on torch (eager), 1e+07 elements, <= 3.0x the fastest exp of "
        "any mode: 2.50x met",
        "target: StableBumpLayer on torch (compiled), 1e+07 elements, <= 1.5x the fastest exp "
        "of any mode: 2.00x NOT met",
        "target: StableBumpLayer on torch (compiled), 1e+07 elements, no slower than the double "
        "where: 1.14x it NOT met",
        "target: StableBumpLayer on torch (eager), 1e+07 elements, no slower than the double "
        "where: 0.33x it met",
    ]
    # TensorFlow's graph target is against the graph's own exp, at both sizes, per allocator
    graph_run = [
        row("graph", "exp", 2.0, size=1_000_000),
        row("graph", "StableBumpLayer", 3.9, size=1_000_000),
        row("XLA", "exp", 1.0, size=1_000_000),
    ]
    (line,) = bench.verdicts({("tensorflow", "bfc"): graph_run})
    assert line == (
        "target: StableBumpLayer on tensorflow, bfc allocator (graph), 1e+06 elements, "
        "<= 2.0x exp: 1.95x met"
    )
