"""The command: one gradient-trap search under every Keras backend, merged into one table.

Keras fixes its backend when it is first imported, so the command starts one
fresh Python per backend (all at once), each running
:func:`~bumplib.gradient_traps.find_gradient_traps` on the same request and
saving its report; the parent merges them, with disagreements between
backends as findings of their own (:func:`~bumplib.gradient_traps.merge_reports`).
A backend that is not installed, or whose process fails, is shown as such.

Usage::

    python -m bumplib.gradient_traps bumplib:StableBumpLayer --kwargs '{"initial_sigma": 0.5}'
        --input x=-3,3 --parameter sigma=0,10 --edge sigma --edge "sqrt(sigma)"

(one line; ``bumplib-traps`` is the same command).

The exit status is 0 when nothing was found and every backend and mode ran,
1 otherwise, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bumplib.gradient_traps.report import TrapReport, merge_reports
from bumplib.gradient_traps.spec import BACKENDS, DTYPES, MODES, check_backends

__all__ = ["CHILD_ENV", "installed", "load_target", "main", "run_on_backends", "run_request"]

#: Environment of each backend's process besides ``KERAS_BACKEND``: quiet, CPU only,
#: repeatable, and Inductor compiling in the process itself (its worker pool costs more
#: than it saves on a small machine).
CHILD_ENV: dict[str, str] = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "TF_DETERMINISTIC_OPS": "1",
    "PYTHONHASHSEED": "0",
    "JAX_PLATFORMS": "cpu",
    "CUDA_VISIBLE_DEVICES": "",
    "TORCHINDUCTOR_COMPILE_THREADS": "1",
}

#: How many characters of a failed child's stderr the table shows.
STDERR_TAIL = 2000


def installed(backend: str) -> bool:
    """Return whether the package of ``backend`` can be imported here."""
    return importlib.util.find_spec(backend) is not None


def load_target(name: str, kwargs: Mapping[str, Any] | None = None) -> Any:
    """Return the function, or an instance of the layer class, called ``module:attribute``.

    Raises:
        ValueError: if ``name`` is not ``module:attribute``, or cannot be imported.
    """
    import keras

    module_name, _, attribute = name.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"target must be 'module:function' or 'module:LayerClass', got {name!r}.")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot load target {name!r}: {error}.") from None
    if isinstance(target, type) and issubclass(target, keras.layers.Layer):
        return target(**(kwargs or {}))
    if kwargs:
        raise ValueError(f"--kwargs is for a layer class; {name!r} is not one.")
    return target


def run_request(request: Mapping[str, Any]) -> TrapReport:
    """Run the search a request describes, on the running backend (what each child does)."""
    from bumplib.gradient_traps.search import find_gradient_traps
    from bumplib.gradient_traps.spec import edge_from_expression

    parameters = {k: tuple(v) for k, v in request["parameters"].items()}
    return find_gradient_traps(
        load_target(request["target"], request.get("kwargs")),
        inputs={k: tuple(v) for k, v in request["inputs"].items()},
        parameters=parameters,
        edges={e: edge_from_expression(e, parameters) for e in request["edges"]},
        dtypes=request["dtypes"],
        modes=request["modes"],
        ulps=request["ulps"],
        tolerance=request["tolerance"],
        name=request["target"],
    )


def run_on_backends(
    request: Mapping[str, Any], backends: Sequence[str] = BACKENDS, timeout: float = 900.0
) -> TrapReport:
    """Run ``request`` in one process per backend, all at once, and merge the reports.

    A backend that is not installed, fails or times out appears in the merged
    report's ``backends`` with that status (which makes the report false).
    """
    backends = check_backends(backends)
    reports: dict[str, TrapReport | str] = {}
    with tempfile.TemporaryDirectory(prefix="bumplib-traps-") as folder:
        request_path = Path(folder) / "request.json"
        request_path.write_text(json.dumps(dict(request)), encoding="utf-8")
        children = {}
        for backend in backends:
            if not installed(backend):
                reports[backend] = "not installed"
                continue
            env = {**os.environ, **CHILD_ENV, "KERAS_BACKEND": backend}
            command = [sys.executable, "-m", "bumplib.gradient_traps", "--child"]
            command += [str(request_path), str(Path(folder) / backend)]
            children[backend] = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        for backend, child in children.items():
            try:
                _, stderr = child.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                _, stderr = child.communicate()
                reports[backend] = f"failed: no result after {timeout:g} s"
                continue
            if child.returncode != 0:
                tail = stderr.strip()[-STDERR_TAIL:]
                reports[backend] = f"failed (exit status {child.returncode}): {tail}"
                continue
            reports[backend] = TrapReport.load(Path(folder) / backend)
    ordered = {b: reports[b] for b in backends}
    return merge_reports(ordered, target=str(request["target"]))


def _range(text: str) -> tuple[str, list[float]]:
    """Parse ``name=low,high``."""
    name, _, bounds = text.partition("=")
    try:
        low, high = (float(v) for v in bounds.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected NAME=LOW,HIGH such as x=-3,3, got {text!r}"
        ) from None
    return name.strip(), [low, high]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bumplib.gradient_traps",
        description="Search a keras.ops function or Keras layer for gradient traps on every "
        "Keras backend and print one merged table.",
    )
    parser.add_argument("target", help="module:function or module:LayerClass")
    parser.add_argument("--kwargs", default="{}", help="JSON keyword arguments of the layer")
    parser.add_argument("--input", action="append", type=_range, default=[], metavar="NAME=LO,HI")
    parser.add_argument(
        "--parameter", action="append", type=_range, default=[], metavar="NAME=LO,HI"
    )
    parser.add_argument(
        "--edge", action="append", default=[], metavar="EXPR", help="e.g. sigma or 'sqrt(sigma)'"
    )
    parser.add_argument("--dtypes", nargs="+", default=list(DTYPES), choices=DTYPES)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--ulps", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=900.0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit status (0 clean, 1 traps or problems, 2 usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        if len(argv) != 3:
            print("usage: python -m bumplib.gradient_traps --child REQUEST.json FOLDER")
            return 2
        request = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        run_request(request).save(argv[2])
        return 0
    arguments = _parser().parse_args(argv)
    try:
        kwargs = json.loads(arguments.kwargs)
    except json.JSONDecodeError as error:
        print(f"error: --kwargs is not JSON: {error}", file=sys.stderr)
        return 2
    if not arguments.input:
        print("error: give at least one --input NAME=LO,HI", file=sys.stderr)
        return 2
    request = {
        "target": arguments.target,
        "kwargs": kwargs,
        "inputs": dict(arguments.input),
        "parameters": dict(arguments.parameter),
        "edges": arguments.edge,
        "dtypes": arguments.dtypes,
        "modes": arguments.modes,
        "ulps": arguments.ulps,
        "tolerance": arguments.tolerance,
    }
    report = run_on_backends(request, arguments.backends, arguments.timeout)
    print(report)
    return 0 if report else 1
