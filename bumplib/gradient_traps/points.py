"""The hard points of a gradient-trap search: where piecewise and singular code breaks.

For every float dtype the search builds, from the caller's ranges and named
edges, the points at which a finite value most often hides a non-finite or
wrong gradient: zero of both signs, the smallest subnormal and normal numbers,
``1``, ``1e30`` and the dtype's largest number (each with both signs), every
edge of the parameters and a few ulps either side of it, and each parameter at
0, tiny, 1 and huge. Every value is clipped to its range and rounded to the
dtype, so the same point is evaluated in that dtype and in the float64
reference.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import ml_dtypes
import numpy as np

__all__ = ["PointSet", "hard_points", "numpy_dtype", "special_values", "step_ulps"]


def numpy_dtype(dtype: str) -> np.dtype:
    """Return the NumPy dtype called ``dtype`` (``bfloat16`` from ``ml_dtypes``)."""
    return np.dtype(getattr(ml_dtypes, dtype, None) or dtype)


def step_ulps(value: float, steps: int, dtype: str) -> float:
    """Return ``value`` (finite, representable in ``dtype``) moved by ``steps`` ulps of ``dtype``.

    Positive steps move towards ``+inf``; the result is clipped to the dtype's
    finite range. The step from ``0.0`` or ``-0.0`` is the smallest subnormal.
    """
    np_dtype = numpy_dtype(dtype)
    unsigned = np.dtype(f"uint{8 * np_dtype.itemsize}")
    sign_bit = 1 << (8 * np_dtype.itemsize - 1)

    def ordered(number: float) -> int:
        bits = int(np.array(number, dtype=np_dtype).view(unsigned))
        return -(bits & (sign_bit - 1)) if bits & sign_bit else bits

    top = ordered(float(ml_dtypes.finfo(dtype).max))
    moved = min(max(ordered(value) + steps, -top), top)
    bits = sign_bit | -moved if moved < 0 else moved
    return float(np.array(bits, dtype=unsigned).view(np_dtype).astype(np.float64))


def special_values(dtype: str) -> dict[str, float]:
    """Return the dtype's telling numbers by label: 0, -0, subnormal, tiny, 1, 1e30, max."""
    info = ml_dtypes.finfo(dtype)
    positive = {
        "subnormal": float(info.smallest_subnormal),
        "tiny": float(info.tiny),
        "1": 1.0,
        "1e30": min(1e30, float(info.max)),
        "max": float(info.max),
    }
    values = {"0": 0.0, "-0": -0.0}
    for label, value in positive.items():
        values[label] = value
        values[f"-{label}"] = -value
    return values


@dataclass(frozen=True)
class PointSet:
    """The points of one dtype: one float64 array per variable, and what each point is.

    Attributes:
        dtype: The dtype every value is representable in.
        values: Variable name -> float64 array, one entry per point (inputs first).
        labels: For each point, where its input values come from (``"x=edge sigma+1ulp"``).
    """

    dtype: str
    values: dict[str, np.ndarray]
    labels: tuple[str, ...]

    def __len__(self) -> int:
        """Return the number of points."""
        return len(self.labels)

    def point(self, index: int) -> dict[str, float]:
        """Return point ``index`` as variable name -> value."""
        return {name: float(array[index]) for name, array in self.values.items()}


def _round(value: float, low: float, high: float, dtype: str) -> float:
    """Clip ``value`` to ``[low, high]`` and round it to ``dtype`` (keeping the sign of 0)."""
    clipped = value if low <= value <= high else min(max(value, low), high)
    top = float(ml_dtypes.finfo(dtype).max)
    clipped = min(max(clipped, -top), top)
    return float(np.array(clipped, dtype=numpy_dtype(dtype)).astype(np.float64))


def _key(value: float) -> tuple[float, bool]:
    """A dictionary key that tells 0.0 from -0.0."""
    return (value, math.copysign(1.0, value) < 0)


def _parameter_candidates(low: float, high: float, dtype: str) -> list[float]:
    """Each parameter at 0, tiny, 1 and huge (both signs where the range allows), and its ends."""
    values = [*special_values(dtype).values(), low, high]
    out: dict[tuple[float, bool], float] = {}
    for value in values:
        if low <= value <= high or value in (low, high):
            rounded = _round(value, low, high, dtype)
            out.setdefault(_key(rounded), rounded)
    return list(out.values())


def hard_points(
    inputs: Mapping[str, tuple[float, float]],
    parameters: Mapping[str, tuple[float, float]],
    edges: Mapping[str, Callable[..., float]],
    edge_arguments: Mapping[str, tuple[str, ...]],
    dtype: str,
    ulps: int = 2,
) -> PointSet:
    """Build the hard points of ``dtype``.

    Every combination of the parameters' candidates (0, subnormal, tiny, 1,
    1e30, max, both signs, and the range's ends, each kept only inside its
    range) is paired with every combination of the inputs' candidates: the
    special values of :func:`special_values`, the range's ends, and for each
    edge ``e`` (evaluated at that combination of parameters) ``+e`` and ``-e``
    and ``ulps`` ulps either side. Values are clipped to their range and
    rounded to ``dtype``; duplicate points are dropped.

    Args:
        inputs: Input name -> ``(low, high)``.
        parameters: Parameter name -> ``(low, high)``.
        edges: Edge label -> function of parameters returning an input value.
        edge_arguments: Edge label -> the names of the parameters it takes.
        dtype: ``"float32"``, ``"float16"``, ``"bfloat16"`` or ``"float64"``.
        ulps: How many ulps either side of each edge.
    """
    specials = special_values(dtype)
    parameter_names = list(parameters)
    parameter_lists = [_parameter_candidates(*parameters[n], dtype) for n in parameter_names]
    columns: dict[str, list[float]] = {name: [] for name in [*inputs, *parameter_names]}
    labels: list[str] = []
    seen: set[tuple[tuple[float, bool], ...]] = set()
    for combination in itertools.product(*parameter_lists):
        chosen = dict(zip(parameter_names, combination, strict=True))
        per_input: list[list[tuple[float, str]]] = []
        for name, (low, high) in inputs.items():
            candidates = [(value, label) for label, value in specials.items()]
            candidates += [(low, "low end"), (high, "high end")]
            for label, edge in edges.items():
                with np.errstate(all="ignore"):
                    try:
                        at = float(edge(**{a: chosen[a] for a in edge_arguments[label]}))
                    except (OverflowError, ZeroDivisionError, ValueError):
                        continue
                if not math.isfinite(at):
                    continue
                for sign, prefix in ((1.0, ""), (-1.0, "-")):
                    centre = _round(sign * at, low, high, dtype)
                    for k in range(-ulps, ulps + 1):
                        step = f"{k:+d}ulp" if k else ""
                        candidates.append(
                            (step_ulps(centre, k, dtype), f"{prefix}edge {label}{step}")
                        )
            rounded: dict[tuple[float, bool], tuple[float, str]] = {}
            for value, label in candidates:
                value = _round(value, low, high, dtype)
                rounded.setdefault(_key(value), (value, f"{name}={label}"))
            per_input.append(list(rounded.values()))
        for input_values in itertools.product(*per_input):
            values = [v for v, _ in input_values] + list(combination)
            key = tuple(_key(v) for v in values)
            if key in seen:
                continue
            seen.add(key)
            for name, value in zip(columns, values, strict=True):
                columns[name].append(value)
            labels.append(", ".join(label for _, label in input_values))
    arrays = {name: np.array(column, dtype=np.float64) for name, column in columns.items()}
    return PointSet(dtype=dtype, values=arrays, labels=tuple(labels))
