"""A catalogue of ``keras.ops`` gradients at their singular points, on every Keras backend.

Each :class:`Entry` is one ``keras.ops`` function or masked idiom, reduced to a
function of one number, with its singular point and the mathematically
expected derivative there (one number, or the interval of subgradients at a
kink). :func:`evaluate_here` evaluates every entry at its point in one
batched call per mode with :mod:`bumplib.gradient_traps.evaluate` (eagerly
and compiled, float32, the running backend's own autodiff), so that each
backend compiles once. :func:`run_catalogue` does that on every backend, in
this process for the backend Keras runs on and in one fresh Python for each
other one (the backend is fixed when Keras is imported), and
:func:`catalogue_rows` puts the results side by side, with a verdict per row.

Regenerate the table with ``TF_ENABLE_ONEDNN_OPTS=0 python -m bumpbook.ops_catalogue``: the
backend Keras runs on is evaluated in that process, with its environment (the children get
:data:`~bumplib.gradient_traps.command.CHILD_ENV`, which turns oneDNN off too).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from bumplib.gradient_traps.command import CHILD_ENV, installed
from bumplib.gradient_traps.spec import BACKENDS

__all__ = [
    "ENTRIES",
    "Entry",
    "catalogue_rows",
    "evaluate_here",
    "reproduction",
    "run_catalogue",
    "verdict",
]

INF = math.inf


@dataclass(frozen=True)
class Entry:
    """One function at one singular point.

    Attributes:
        name: Short name for the table.
        code: The expression of ``x`` (``keras.ops`` as ``ops``), as it is evaluated.
        x: The singular point.
        expected: The derivative a user needs there: ``(low, high)``, one number
            twice, or the interval of subgradients at a kink.
        note: Why the point is singular.
    """

    name: str
    code: str
    x: float
    expected: tuple[float, float]
    note: str

    def function(self) -> Callable[[Any], Any]:
        """The expression as a function of ``x`` (``ops`` and ``INF`` in scope)."""
        return eval(f"lambda x: {self.code}", {"ops": ops, "INF": INF})


def _e(name: str, code: str, x: float, expected: float | tuple[float, float], note: str) -> Entry:
    low_high = expected if isinstance(expected, tuple) else (expected, expected)
    return Entry(name, code, x, low_high, note)


def _pair(first: str, second: str) -> str:
    return f"ops.stack([{first}, {second}], axis=-1)"


#: The rows of the catalogue, keras.ops functions and masked idioms at their singular points.
ENTRIES: tuple[Entry, ...] = (
    _e("sqrt", "ops.sqrt(x)", 0.0, INF, "derivative +inf at 0"),
    _e("sqrt(relu)", "ops.sqrt(ops.relu(x))", 0.0, (0.0, INF), "kink of relu under sqrt"),
    _e("where(x > 0, sqrt, 0)", "ops.where(x > 0, ops.sqrt(x), 0.0)", 0.0, 0.0, "masked sqrt"),
    _e("where(x > 0, log, 0)", "ops.where(x > 0, ops.log(x), 0.0)", 0.0, 0.0, "masked log(0)"),
    _e("where(x != 0, 1/x, 0)", "ops.where(x != 0, 1 / x, 0.0)", 0.0, 0.0, "masked division"),
    _e(
        "where(x > 0, x log x, 0)",
        "ops.where(x > 0, x * ops.log(x), 0.0)",
        0.0,
        0.0,
        "entropy term at 0",
    ),
    _e(
        "where(x != 0, exp(-1/x**2), 0)",
        "ops.where(x != 0, ops.exp(-1 / ops.square(x)), 0.0)",
        0.0,
        0.0,
        "the smooth bump's own pole",
    ),
    _e(
        "where(x != 0, sin(x)/x, 1)",
        "ops.where(x != 0, ops.sin(x) / x, 1.0)",
        0.0,
        0.0,
        "sinc by hand",
    ),
    _e("sinc", "ops.sinc(x)", 0.0, 0.0, "0/0 removed"),
    _e("divide_no_nan(1, x)", "ops.divide_no_nan(1.0, x)", 0.0, 0.0, "keras #23063, PR #20110"),
    _e("divide_no_nan(x, x)", "ops.divide_no_nan(x, x)", 0.0, 0.0, "0/0 guarded"),
    _e("power(x, 0)", "ops.power(x, 0.0)", 0.0, 0.0, "0 * x**-1 in the derivative"),
    _e("power(x, 2)", "ops.power(x, 2.0)", 0.0, 0.0, "control"),
    _e("power(x, 1.5)", "ops.power(x, 1.5)", 0.0, 0.0, "x**0.5 in the derivative"),
    _e("cbrt", "ops.cbrt(x)", 0.0, INF, "derivative +inf at 0"),
    _e(
        "norm([x, x])",
        f"ops.norm({_pair('x', 'x')}, axis=-1)",
        0.0,
        (-1.4142135, 1.4142135),
        "zero vector: any subgradient of norm 2 or less",
    ),
    _e(
        "normalize([x, x])[0]",
        f"ops.normalize({_pair('x', 'x')}, axis=-1)[..., 0]",
        0.0,
        0.0,
        "keras #23075: zero vector",
    ),
    _e("hypot(x, x)", "ops.hypot(x, x)", 0.0, (-1.4142135, 1.4142135), "zero vector"),
    _e(
        "std([x, x])",
        f"ops.std({_pair('x', 'x')}, axis=-1)",
        0.0,
        0.0,
        "sqrt of a zero variance (layer norm without epsilon)",
    ),
    _e("arctan2(x, x)", "ops.arctan2(x, x)", 0.0, 0.0, "atan2(0, 0)"),
    _e("arctan2(x, 1)", "ops.arctan2(x, 1.0)", 0.0, 1.0, "control"),
    _e("arcsin at 1", "ops.arcsin(x)", 1.0, INF, "edge of the domain"),
    _e("arccos at 1", "ops.arccos(x)", 1.0, -INF, "edge of the domain"),
    _e("arccosh at 1", "ops.arccosh(x)", 1.0, INF, "edge of the domain"),
    _e(
        "arcsin(clip(x, -1, 1)) at 2",
        "ops.arcsin(ops.clip(x, -1.0, 1.0))",
        2.0,
        0.0,
        "clipped into the edge",
    ),
    _e(
        "logsumexp([x, -inf])",
        f"ops.logsumexp({_pair('x', '-INF + 0 * x')}, axis=-1)",
        0.0,
        1.0,
        "a masked entry",
    ),
    _e(
        "softmax([x, -inf])[0]",
        f"ops.softmax({_pair('x', '-INF + 0 * x')}, axis=-1)[..., 0]",
        0.0,
        0.0,
        "a masked entry",
    ),
    _e(
        "log_softmax([x, -inf])[0]",
        f"ops.log_softmax({_pair('x', '-INF + 0 * x')}, axis=-1)[..., 0]",
        0.0,
        0.0,
        "a masked entry",
    ),
    _e("log_sigmoid at -100", "ops.log_sigmoid(x)", -100.0, 1.0, "sigmoid underflows"),
    _e("log(sigmoid) at -100", "ops.log(ops.sigmoid(x))", -100.0, 1.0, "sigmoid underflows"),
    _e("abs", "ops.abs(x)", 0.0, (-1.0, 1.0), "kink"),
    _e("relu", "ops.relu(x)", 0.0, (0.0, 1.0), "kink"),
    _e("maximum(x, 0)", "ops.maximum(x, 0.0)", 0.0, (0.0, 1.0), "tie"),
    _e("minimum(x, 0)", "ops.minimum(x, 0.0)", 0.0, (0.0, 1.0), "tie"),
    _e("clip(x, 0, 1) at 0", "ops.clip(x, 0.0, 1.0)", 0.0, (0.0, 1.0), "edge of the clip"),
    _e("leaky_relu", "ops.leaky_relu(x)", 0.0, (0.2, 1.0), "kink"),
)


def _combined(entries: Sequence[Entry]) -> Callable[[Any], Any]:
    """One function of a vector: entry ``i`` on element ``i``, so one call evaluates all."""
    functions = [entry.function() for entry in entries]

    def combined(x: Any) -> Any:
        return ops.concatenate(
            [ops.reshape(f(x[i : i + 1]), (1,)) for i, f in enumerate(functions)], axis=0
        )

    return combined


def evaluate_here(entries: Sequence[Entry] = ENTRIES) -> dict[str, Any]:
    """Evaluate every entry at its point, float32, eagerly and compiled, on the running backend.

    Returns ``{"backend", "versions", "modes": {mode: status}, "value": {mode: [...]},
    "gradient": {mode: [...]}}``; a mode that cannot run here has its reason as status.
    """
    from bumplib.gradient_traps import versions
    from bumplib.gradient_traps.evaluate import make_runner, mode_support

    backend = keras.backend.backend()
    points = {"x": np.array([entry.x for entry in entries], dtype=np.float64)}
    call = _combined(entries)
    out: dict[str, Any] = {"backend": backend, "versions": versions(backend), "modes": {}}
    out["value"], out["gradient"] = {}, {}
    for mode in ("eager", "compiled"):
        status = mode_support(backend, mode)
        out["modes"][mode] = status
        if status != "ok":
            continue
        evaluation = make_runner(call, ["x"], "float32", mode)(points)
        out["value"][mode] = evaluation.value.tolist()
        out["gradient"][mode] = evaluation.gradients["x"].tolist()
    return out


def run_catalogue(backends: Sequence[str] = BACKENDS, timeout: float = 600.0) -> dict[str, Any]:
    """Run :func:`evaluate_here` on each backend, all at once.

    The backend Keras runs on here is evaluated in this process, which has
    imported its framework already; each other one in a fresh Python, started
    first, so that the children run meanwhile.

    Returns backend -> its result (as the JSON a child writes), or a status
    string (``"not installed"``, ``"failed: ..."``).
    """
    here = keras.backend.backend()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bumplib-catalogue-") as folder:
        children = {}
        for backend in backends:
            if not installed(backend):
                results[backend] = "not installed"
                continue
            if backend == here:
                continue
            env = {**os.environ, **CHILD_ENV, "KERAS_BACKEND": backend}
            path = Path(folder) / f"{backend}.json"
            children[backend] = (
                subprocess.Popen(
                    [sys.executable, "-m", "bumpbook.ops_catalogue", "--child", str(path)],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
                path,
            )
        if here in backends:
            try:
                results[here] = json.loads(json.dumps(evaluate_here()))  # as a child's file
            except Exception as error:  # reported in the table, as a child's failure is
                results[here] = f"failed: {type(error).__name__}: {error}"
        for backend, (child, path) in children.items():
            try:
                _, stderr = child.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
                results[backend] = f"failed: no result after {timeout:g} s"
                continue
            if child.returncode != 0:
                results[backend] = f"failed: {stderr.strip()[-1000:]}"
                continue
            results[backend] = json.loads(path.read_text(encoding="utf-8"))
    return {b: results[b] for b in backends}


def verdict(value: float, gradient: float, expected: tuple[float, float]) -> str:
    """Return ``"ok"``, ``"trap"`` or ``"differs"`` for a gradient at an entry's point.

    ``"ok"``: the expected derivative (in the interval, an infinity included);
    ``"trap"``: a finite value with a ``nan`` gradient, or an infinite one where
    a finite one is expected; ``"differs"``: anything else.
    """
    low, high = expected
    if gradient in (low, high):
        return "ok"
    if math.isnan(gradient) or (math.isinf(gradient) and math.isfinite(low + high)):
        return "trap" if math.isfinite(value) else "differs"
    if low - 1e-6 * abs(low) <= gradient <= high + 1e-6 * abs(high):
        return "ok"
    return "differs"


def catalogue_rows(results: Mapping[str, Any], entries: Sequence[Entry] = ENTRIES) -> list[dict]:
    """One row per entry: each backend's gradient (eager; compiled where it differs) and verdict."""
    rows = []
    for i, entry in enumerate(entries):
        row: dict[str, Any] = {"function": entry.name, "x": entry.x, "expected": entry.expected}
        for backend, result in results.items():
            if isinstance(result, str):
                row[backend] = result
                continue
            cells = []
            for mode in ("eager", "compiled"):
                if mode not in result["gradient"]:
                    continue
                value, gradient = result["value"][mode][i], result["gradient"][mode][i]
                cells.append((mode, value, gradient, verdict(value, gradient, entry.expected)))
            row[backend] = cells
        rows.append(row)
    return rows


def _number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}"


def markdown_table(rows: Sequence[dict], backends: Sequence[str]) -> str:
    """The rows as a Markdown table: gradient and verdict per backend (compiled if different)."""
    header = "| function | x | expected d/dx | " + " | ".join(backends) + " |"
    lines = [header, "|" + "---|" * (3 + len(backends))]
    for row in rows:
        low, high = row["expected"]
        expected = _number(low) if low == high else f"[{_number(low)}, {_number(high)}]"
        cells = []
        for backend in backends:
            found = row[backend]
            if isinstance(found, str):
                cells.append(found)
                continue
            (_, _, g_eager, v_eager), *compiled = found
            text = f"{_number(g_eager)} {v_eager}"
            for _, _, g, v in compiled:
                if _number(g) != _number(g_eager):
                    text += f"; compiled {_number(g)} {v}"
            cells.append(text)
        lines.append(
            f"| `{row['function']}` | {_number(row['x'])} | {expected} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def reproduction(entry: Entry, backend: str) -> str:
    """A few lines that show the entry's gradient on ``backend`` with the finder."""
    return (
        f"# KERAS_BACKEND={backend} python\n"
        "from keras import ops\n"
        "from bumplib.gradient_traps import find_gradient_traps\n\n"
        f"def f(x):\n    return {entry.code}\n\n"
        f"print(find_gradient_traps(f, inputs={{'x': ({entry.x - 1:g}, {entry.x + 1:g})}}, "
        "dtypes=['float32'], modes=['eager', 'compiled']))"
    )


def _main(argv: Sequence[str]) -> int:
    if argv[:1] == ["--child"] and len(argv) == 2:
        Path(argv[1]).write_text(json.dumps(evaluate_here()), encoding="utf-8")
        return 0
    if argv:
        print("usage: python -m bumpbook.ops_catalogue", file=sys.stderr)
        return 2
    results = run_catalogue()
    versions = {
        k: v for r in results.values() if isinstance(r, dict) for k, v in r["versions"].items()
    }
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(markdown_table(catalogue_rows(results), list(results)))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
