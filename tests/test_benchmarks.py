"""The benchmark scripts refuse bad arguments with a message that says what to pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
