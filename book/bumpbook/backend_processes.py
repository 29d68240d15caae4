"""Run one script in a fresh Python per Keras backend and read back the JSON it prints.

Keras fixes its backend when it is first imported (``KERAS_BACKEND``), so one
process cannot run the same layer on TensorFlow, JAX and PyTorch. Chapter 7
writes a script (its code is on the page) and :func:`start_on_backends` starts
it once per backend, all children at once: each child gets ``KERAS_BACKEND``
and :data:`~bumplib.gradient_traps.command.CHILD_ENV`, and its last line of
standard output must be one JSON value, its report.
:meth:`BackendRuns.results` waits for the children; a child that fails raises
:class:`BackendRunError` with its exit status and the end of its standard error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bumplib.gradient_traps.command import CHILD_ENV

__all__ = ["BACKENDS", "BackendRunError", "BackendRuns", "start_on_backends"]

#: The Keras backends, in the order the book shows them.
BACKENDS: tuple[str, ...] = ("tensorflow", "jax", "torch")


#: How many characters of a failed child's standard error the error shows.
STDERR_TAIL = 4000


class BackendRunError(RuntimeError):
    """A backend's child process failed; the message holds its exit status and stderr."""


class BackendRuns:
    """Child processes started by :func:`start_on_backends`; :meth:`results` waits for them.

    Args:
        script: Path of the Python script each child runs.
        args: Command-line arguments of the script (strings).
        backends: Distinct names from :data:`BACKENDS`.
        timeout: Seconds to wait for each child.

    Raises:
        ValueError: if the script does not exist, an argument is not a string, a
            backend is unknown or listed twice, or ``timeout`` is not > 0.
    """

    def __init__(
        self, script: str, args: Sequence[str], backends: Sequence[str], timeout: float
    ) -> None:
        path = Path(script).resolve()
        if not path.is_file():
            raise ValueError(f"script {str(path)!r} does not exist; write it first.")
        if not all(isinstance(arg, str) for arg in args):
            raise ValueError(f"the script's arguments must be strings, got {list(args)!r}.")
        unknown = [b for b in backends if b not in BACKENDS]
        if unknown or not backends or len(set(backends)) != len(backends):
            raise ValueError(
                f"backends must be distinct names from {list(BACKENDS)}, got {list(backends)}."
            )
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}.")
        self.timeout = float(timeout)
        self.children = {
            backend: subprocess.Popen(
                [sys.executable, str(path), *args],
                env={**os.environ, **CHILD_ENV, "KERAS_BACKEND": backend},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for backend in backends
        }
        self.reports: dict[str, Any] | None = None

    def results(self) -> dict[str, Any]:
        """Wait for every child and return backend name -> its report (the same on every call).

        Raises:
            BackendRunError: if a child exits with an error, prints no JSON on its
                last line or runs longer than the timeout; the message names each
                failed backend and shows the end of its stderr.
        """
        if self.reports is not None:
            return self.reports
        reports, failures = {}, []
        for backend, child in self.children.items():
            try:
                stdout, stderr = child.communicate(timeout=self.timeout)
                problem = (
                    None if child.returncode == 0 else f"exited with status {child.returncode}"
                )
            except subprocess.TimeoutExpired:
                child.kill()
                stdout, stderr = child.communicate()
                problem = f"gave no result after {self.timeout:g} s"
            if problem is None:
                try:
                    reports[backend] = json.loads(stdout.strip().splitlines()[-1])
                    continue
                except (IndexError, ValueError):
                    problem = "printed no JSON on its last line of output"
            failures.append(
                f"{backend}: the child {problem}; its stderr ends with:\n{stderr[-STDERR_TAIL:]}"
            )
        if failures:
            raise BackendRunError(
                f"{len(failures)} of {len(self.children)} backend run(s) failed.\n\n"
                + "\n\n".join(failures)
            )
        self.reports = reports
        return reports


def start_on_backends(
    script: str,
    *args: str,
    backends: Sequence[str] = BACKENDS,
    timeout: float = 600.0,
) -> BackendRuns:
    """Start ``python script *args`` in one fresh Python per backend, all at once.

    Each child gets ``KERAS_BACKEND`` and
    :data:`~bumplib.gradient_traps.command.CHILD_ENV` on top of this process's
    environment (so ``BUMPLIB_PERTURB_ROUNDING`` reaches it). Call
    :meth:`BackendRuns.results` for the reports.

    Raises:
        ValueError: as :class:`BackendRuns`.
    """
    return BackendRuns(script, args, backends, timeout)
