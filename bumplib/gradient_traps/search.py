"""The search itself: every dtype and mode of one backend, checked against float64 and each other.

:func:`find_gradient_traps` runs in the current process, on the Keras backend
it was started with; :mod:`bumplib.gradient_traps.command` runs it under every
backend and merges the reports.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Callable, Mapping
from typing import Any

import keras
import ml_dtypes
import numpy as np

from bumplib.gradient_traps.evaluate import (
    Evaluation,
    batched_target,
    float64_enabled,
    make_runner,
    mode_support,
)
from bumplib.gradient_traps.points import PointSet, hard_points
from bumplib.gradient_traps.report import (
    DIFFERENCE_TOLERANCE,
    Trap,
    TrapReport,
    compare,
    point_of,
    tolerance_of,
)
from bumplib.gradient_traps.spec import DTYPES, SearchSpec, make_spec
from bumplib.stable_layer import flushes_subnormals

__all__ = ["assert_no_gradient_traps", "find_gradient_traps", "versions"]

#: The distribution that holds each backend, for the versions a report states.
BACKEND_DISTRIBUTIONS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def versions(backend: str | None = None) -> dict[str, str]:
    """Return Keras's version and the backend's (default: the running one)."""
    backend = backend or keras.backend.backend()
    out = {"keras": keras.__version__}
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        out[backend] = importlib.metadata.version(BACKEND_DISTRIBUTIONS[backend])
    if backend == "tensorflow" and backend not in out:  # the CPU build's distribution
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[backend] = importlib.metadata.version("tensorflow-cpu")
    return out


def _name_of(target: Any) -> str:
    """A readable name of a function or layer."""
    if isinstance(target, keras.layers.Layer):
        return f"{type(target).__name__}({target.name})"
    return getattr(target, "__qualname__", None) or repr(target)


def find_gradient_traps(
    target: Callable[..., Any] | keras.layers.Layer,
    *,
    inputs: Mapping[str, tuple[float, float]] | tuple[float, float],
    parameters: Mapping[str, tuple[float, float]] | None = None,
    edges: Mapping[str, Callable[..., float]] | None = None,
    dtypes: Any = DTYPES,
    modes: Any = ("eager", "graph", "compiled"),
    ulps: int = 2,
    tolerance: float = 1.0,
    name: str | None = None,
) -> TrapReport:
    """Search ``target`` for gradient traps at its hard points, on the running Keras backend.

    Args:
        target: A function of tensors written with ``keras.ops``, called with
            every input and parameter by keyword and acting element-wise (one
            value per point; reduce a vector operation to one number inside
            it), or a Keras layer whose trainable weights (each one number) are
            the parameters. A layer is re-created from its config in each dtype.
        inputs: Input name -> ``(low, high)``; for a layer, one range.
        parameters: Parameter name -> ``(low, high)``; for a layer, one range
            per trainable weight, by the weight's name (``"sigma"``).
        edges: Label -> function of some parameters (by name) giving an input
            value where the target changes branch, such as
            ``{"|x| = sigma": lambda sigma: sigma}``. Points are placed at
            ``+edge`` and ``-edge`` and ``ulps`` ulps either side.
        dtypes: Any of ``"float32"``, ``"float16"``, ``"bfloat16"``, ``"float64"``.
        modes: Any of ``"eager"``, ``"graph"`` (TensorFlow without XLA) and
            ``"compiled"`` (XLA, ``jax.jit``, ``torch.compile``). A mode the
            backend has not (``"graph"`` off TensorFlow) is recorded as not
            applicable; one that cannot run here (``torch.compile`` without a
            compiler) as unavailable, which makes the report false.
        ulps: Ulps either side of each edge (0 to 64).
        tolerance: Factor on the tolerances of :func:`tolerance_of`.
        name: The target's name in the report.

    Returns:
        A :class:`TrapReport`: its ``traps``, and ``str(report)`` as a table.

    Raises:
        TypeError, ValueError: for any argument that is not usable, with what to pass.
    """
    spec = make_spec(
        target,
        inputs=inputs,
        parameters=parameters,
        edges=edges,
        dtypes=dtypes,
        modes=modes,
        ulps=ulps,
        tolerance=tolerance,
    )
    backend = keras.backend.backend()
    point_sets = {
        d: hard_points(spec.inputs, spec.parameters, spec.edges, spec.edge_arguments, d, spec.ulps)
        for d in spec.dtypes
    }
    report = TrapReport(
        target=name or _name_of(target),
        backends={backend: "ran"},
        versions=versions(backend),
        dtypes=spec.dtypes,
        modes={},
        points={d: len(p) for d, p in point_sets.items()},
        tolerances={d: tolerance_of(d, spec.tolerance) for d in spec.dtypes},
        points_of={d: p.values for d, p in point_sets.items()},
        labels_of={d: p.labels for d, p in point_sets.items()},
    )
    reference, differences = _reference(spec, point_sets)
    for dtype, points in point_sets.items():
        context = float64_enabled() if dtype == "float64" else contextlib.nullcontext()
        with context:
            call = batched_target(spec, dtype)
            for mode in spec.modes:
                key = f"{backend}/{dtype}/{mode}"
                status = mode_support(backend, mode)
                report.modes[key] = status
                if status != "ok":
                    continue
                if dtype == "float64" and mode == "eager":
                    evaluation = reference[dtype]
                else:
                    try:
                        evaluation = make_runner(call, spec.variables, dtype, mode)(points.values)
                    except Exception as error:
                        if mode == "eager":
                            raise
                        report.modes[key] = f"failed: {type(error).__name__}: {error}"[:300]
                        report.traps.append(_mode_error(backend, dtype, mode, error))
                        continue
                report.evaluations[(backend, dtype, mode)] = evaluation
        report.traps += _check(spec, backend, dtype, points, report, reference[dtype])
        if dtype == "float64" and "eager" in spec.modes:
            report.traps += _check_differences(backend, points, reference[dtype], differences)
    return report


def _mode_error(backend: str, dtype: str, mode: str, error: Exception) -> Trap:
    """A ``mode-error`` finding: the mode raised on this target."""
    return Trap(
        kind="mode-error",
        backend=backend,
        dtype=dtype,
        mode=mode,
        point={},
        where=f"{type(error).__name__}: {str(error).strip()[:200]}",
        quantity="-",
        values={},
    )


def _steps(values: np.ndarray) -> np.ndarray:
    """Central-difference steps: ``eps**(1/3)`` relative, at least ``eps**(1/3)``."""
    return np.cbrt(np.finfo(np.float64).eps) * np.maximum(np.abs(values), 1.0)


def _reference(
    spec: SearchSpec, point_sets: Mapping[str, PointSet]
) -> tuple[dict[str, Evaluation], dict[str, np.ndarray]]:
    """Float64 values and gradients, eagerly, at every dtype's points, in one call.

    Also returns, for the float64 points, each variable's central and one-sided
    differences: ``{name: array of (forward, backward) differences}``.
    """
    names = spec.variables
    backend = keras.backend.backend()
    blocks = [_as_seen(p, backend) for p in point_sets.values()]
    perturbed = []
    if "float64" in point_sets:
        base = point_sets["float64"].values
        for name in names:
            h = _steps(base[name])
            for sign in (1.0, -1.0):
                shifted = dict(base)
                with np.errstate(over="ignore"):
                    shifted[name] = base[name] + sign * h
                perturbed.append(shifted)
    columns = {n: np.concatenate([b[n] for b in [*blocks, *perturbed]]) for n in names}
    with float64_enabled():
        call = batched_target(spec, "float64")
        everything = make_runner(call, names, "float64", "eager")(columns)
    out, start = {}, 0
    for dtype, points in point_sets.items():
        stop = start + len(points)
        out[dtype] = Evaluation(
            value=everything.value[start:stop],
            gradients={n: g[start:stop] for n, g in everything.gradients.items()},
        )
        start = stop
    differences = {}
    if "float64" in point_sets:
        size = len(point_sets["float64"])
        centre = out["float64"].value
        base = point_sets["float64"].values
        for name in names:
            h = _steps(base[name])
            plus = everything.value[start : start + size]
            minus = everything.value[start + size : start + 2 * size]
            start += 2 * size
            with np.errstate(all="ignore"):
                differences[name] = np.stack([(plus - centre) / h, (centre - minus) / h])
    return out, differences


def _as_seen(points: PointSet, backend: str) -> dict[str, np.ndarray]:
    """The points as ``backend`` computes with them in their dtype.

    TensorFlow and XLA (JAX) run the CPU with subnormal numbers treated as 0 in
    float32, bfloat16 and float64 (:func:`bumplib.stable_layer.flushes_subnormals`):
    a float32 input of 1e-39 is 0 to every operation. The float64 reference is
    evaluated at those flushed points, so that a dtype is compared with what it
    can compute, not with a point it cannot see.
    """
    if not flushes_subnormals(points.dtype, backend):
        return points.values
    tiny = float(ml_dtypes.finfo(points.dtype).tiny)
    return {
        name: np.where(np.abs(values) < tiny, np.copysign(0.0, values), values)
        for name, values in points.values.items()
    }


def _representable(values: np.ndarray, dtype: str) -> np.ndarray:
    """Where float64 ``values`` are finite and within ``dtype``'s range."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (np.abs(values) <= float(ml_dtypes.finfo(dtype).max))


def _check(
    spec: SearchSpec,
    backend: str,
    dtype: str,
    points: PointSet,
    report: TrapReport,
    reference: Evaluation,
) -> list[Trap]:
    """Non-finite gradients, disagreement with float64, and with eager, in ``dtype``."""
    traps = []
    tol = report.tolerances[dtype]

    def trap(kind: str, mode: str, i: int, quantity: str, values: dict[str, float]) -> None:
        traps.append(
            Trap(
                kind=kind,
                backend=backend,
                dtype=dtype,
                mode=mode,
                point=point_of(points.values, i),
                where=points.labels[i],
                quantity=quantity,
                values=values,
            )
        )

    eager = report.evaluations.get((backend, dtype, "eager"))
    for mode in spec.modes:
        evaluation = report.evaluations.get((backend, dtype, mode))
        if evaluation is None:
            continue
        finite = np.isfinite(evaluation.value)
        for name, gradient in evaluation.gradients.items():
            for i in np.flatnonzero(finite & ~np.isfinite(gradient)):
                trap(
                    "nonfinite-gradient",
                    mode,
                    i,
                    f"d/d{name}",
                    {"value": float(evaluation.value[i]), "got": float(gradient[i])},
                )
            if dtype == "float64":
                continue
            expected = reference.gradients[name]
            usable = (
                finite
                & np.isfinite(gradient)
                & _representable(reference.value, dtype)
                & _representable(expected, dtype)
            )
            with np.errstate(invalid="ignore"):
                wrong = usable & (np.abs(gradient - expected) > tol * np.abs(expected) + tol)
            for i in np.flatnonzero(wrong):
                trap(
                    "reference-mismatch",
                    mode,
                    i,
                    f"d/d{name}",
                    {"got": float(gradient[i]), "expected": float(expected[i])},
                )
        if mode != "eager" and eager is not None:
            for i, quantity, here, there in compare(evaluation, eager, tol):
                trap("mode-mismatch", mode, i, quantity, {"got": here, "eager": there})
    return traps


def _check_differences(
    backend: str, points: PointSet, reference: Evaluation, differences: Mapping[str, np.ndarray]
) -> list[Trap]:
    """Float64 gradients against central differences, where the target is smooth.

    A point is smooth in a variable when the forward and backward differences
    agree within 1 % (a kink or a jump makes them differ), and all three values
    are finite.
    """
    traps = []
    finite = np.isfinite(reference.value)
    for name, (forward, backward) in differences.items():
        gradient = reference.gradients[name]
        central = (forward + backward) / 2
        with np.errstate(invalid="ignore"):
            smooth = (
                finite
                & np.isfinite(forward)
                & np.isfinite(backward)
                & np.isfinite(gradient)
                & (
                    np.abs(forward - backward)
                    <= 0.01 * np.maximum(np.abs(forward), np.abs(backward)) + DIFFERENCE_TOLERANCE
                )
            )
            wrong = smooth & (
                np.abs(gradient - central) > DIFFERENCE_TOLERANCE * (np.abs(central) + 1)
            )
        for i in np.flatnonzero(wrong):
            traps.append(
                Trap(
                    kind="difference-mismatch",
                    backend=backend,
                    dtype="float64",
                    mode="eager",
                    point=point_of(points.values, i),
                    where=points.labels[i],
                    quantity=f"d/d{name}",
                    values={"got": float(gradient[i]), "central difference": float(central[i])},
                )
            )
    return traps


def assert_no_gradient_traps(
    target: Callable[..., Any] | keras.layers.Layer, **search: Any
) -> TrapReport:
    """Fail (``AssertionError`` with the report's table) if ``target`` has a gradient trap.

    The one line to add to a test suite::

        assert_no_gradient_traps(MyLayer(0.5), inputs=(-3, 3), parameters={"sigma": (0, 10)})

    Takes the arguments of :func:`find_gradient_traps`. It also fails when a
    requested mode could not run here (pass ``modes=("eager",)`` to leave the
    compiled modes out on purpose). Returns the report when there is nothing.
    """
    report = find_gradient_traps(target, **search)
    if not report:
        problems = report.problems()
        raise AssertionError(
            str(report) + ("\nmodes that did not run: " + "; ".join(problems) if problems else "")
        )
    return report
