"""What a gradient-trap search found: the traps, a readable table, and the merge across backends.

A :class:`Trap` is one finding at one point; a :class:`TrapReport` holds the
traps of one backend (or, after :func:`merge_reports`, of several), what each
mode did, the tolerances used, and the evaluations themselves, so that reports
from different processes can be compared point by point.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np

from bumplib.gradient_traps.evaluate import Evaluation

__all__ = [
    "KINDS",
    "Trap",
    "TrapReport",
    "compare",
    "merge_reports",
    "point_of",
    "tolerance_of",
]

#: The kinds of finding, and what each means.
KINDS: dict[str, str] = {
    "nonfinite-gradient": "finite value, non-finite gradient",
    "reference-mismatch": "gradient differs from the float64 gradient at the same point",
    "difference-mismatch": "float64 gradient differs from a central difference where smooth",
    "mode-mismatch": "value or gradient differs between eager and this mode",
    "backend-mismatch": "value or gradient differs between backends",
    "mode-error": "the mode raised an error on this target",
}


def tolerance_of(dtype: str, factor: float = 1.0) -> float:
    """Return the tolerance of comparisons in ``dtype``: ``factor * sqrt(eps)``.

    A result is said to agree with another when ``|a - b| <= tol * |b| + tol``:
    half the dtype's digits. float32: 3.5e-4, float16: 0.031, bfloat16:
    0.088, float64: 1.5e-8.
    """
    return factor * math.sqrt(float(ml_dtypes.finfo(dtype).eps))


#: Tolerance of the central-difference check of float64 gradients (relative and absolute).
DIFFERENCE_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Trap:
    """One finding.

    Attributes:
        kind: One of :data:`KINDS`.
        backend: The backend (for ``backend-mismatch``, the backends compared).
        dtype: The dtype the point was evaluated in.
        mode: ``"eager"``, ``"graph"`` or ``"compiled"``.
        point: Variable name -> value.
        where: What the point's inputs are (``"x=edge sigma+1ulp"``).
        quantity: ``"value"`` or ``"d/d<variable>"``.
        values: What was found: ``{"got": ..., "expected": ...}`` or backend -> value.
    """

    kind: str
    backend: str
    dtype: str
    mode: str
    point: dict[str, float]
    where: str
    quantity: str
    values: dict[str, float]


def _agree(a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray:
    """Element-wise: both non-finite the same way, or within ``tol * |b| + tol``."""
    with np.errstate(invalid="ignore"):
        same_special = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & (a == b))
        close = np.abs(a - b) <= tol * np.abs(b) + tol
    return same_special | (np.isfinite(a) & np.isfinite(b) & close)


def compare(
    first: Evaluation, second: Evaluation, tol: float
) -> list[tuple[int, str, float, float]]:
    """Return ``(point, quantity, first, second)`` wherever two evaluations disagree.

    Compared: the value, and each gradient where both values are finite.
    """
    out = []
    finite = np.isfinite(first.value) & np.isfinite(second.value)
    quantities = [("value", first.value, second.value, np.ones_like(finite))]
    quantities += [(f"d/d{n}", g, second.gradients[n], finite) for n, g in first.gradients.items()]
    for quantity, a, b, where in quantities:
        for i in np.flatnonzero(where & ~_agree(a, b, tol)):
            out.append((int(i), quantity, float(a[i]), float(b[i])))
    return out


@dataclass
class TrapReport:
    """The findings of a search, with everything needed to read, save and merge them.

    Attributes:
        target: What was searched (a name).
        backends: Backend -> ``"ran"``, ``"not installed"`` or ``"failed: ..."``.
        versions: Package -> version (Keras and the backends that ran).
        dtypes: The dtypes searched.
        modes: Mode status: ``"backend/dtype/mode"`` -> ``"ok"`` or why it did not run.
        points: Dtype -> number of points.
        tolerances: Dtype -> tolerance of :func:`tolerance_of`.
        traps: The findings.
        evaluations: ``(backend, dtype, mode)`` -> evaluation, for merging.
        points_of: Dtype -> variable -> float64 values (the points).
        labels_of: Dtype -> what each point's inputs are.
    """

    target: str
    backends: dict[str, str]
    versions: dict[str, str]
    dtypes: tuple[str, ...]
    modes: dict[str, str]
    points: dict[str, int]
    tolerances: dict[str, float]
    traps: list[Trap] = field(default_factory=list)
    evaluations: dict[tuple[str, str, str], Evaluation] = field(default_factory=dict, repr=False)
    points_of: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)
    labels_of: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def __bool__(self) -> bool:
        """A report is true when it found nothing and every requested mode ran."""
        return not self.traps and not self.problems()

    def problems(self) -> list[str]:
        """Return the modes that did not run (unavailable or failed) and the failed backends."""
        out = [f"{k}: {v}" for k, v in self.modes.items() if v.startswith("unavailable")]
        out += [f"{b}: {s}" for b, s in self.backends.items() if s.startswith("failed")]
        return out

    def of_kind(self, kind: str) -> list[Trap]:
        """Return the traps of one kind (see :data:`KINDS`)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}.")
        return [t for t in self.traps if t.kind == kind]

    def summary(self) -> list[dict[str, Any]]:
        """Group the traps by kind, backend, dtype, mode and quantity: one row each, with counts.

        Each row holds the first trap of its group as an example.
        """
        groups: dict[tuple[str, ...], dict[str, Any]] = {}
        for trap in self.traps:
            key = (trap.kind, trap.backend, trap.dtype, trap.mode, trap.quantity)
            if key not in groups:
                groups[key] = {"count": 0, "example": trap}
            groups[key]["count"] += 1
        return [
            dict(zip(("kind", "backend", "dtype", "mode", "quantity"), key, strict=True)) | row
            for key, row in groups.items()
        ]

    def __str__(self) -> str:
        """The report as a readable table: status, tolerances, then one row per group of traps."""
        lines = [f"Gradient-trap search of {self.target}"]
        lines.append("backends: " + ", ".join(f"{b} ({s})" for b, s in self.backends.items()))
        if self.versions:
            lines.append("versions: " + ", ".join(f"{k} {v}" for k, v in self.versions.items()))
        lines.append(
            "points: "
            + ", ".join(f"{d} {self.points.get(d, 0)}" for d in self.dtypes)
            + "; tolerance |a - b| <= tol |b| + tol with tol: "
            + ", ".join(f"{d} {self.tolerances[d]:.2g}" for d in self.dtypes)
            + f"; central difference {DIFFERENCE_TOLERANCE:g}"
        )
        skipped = {k: v for k, v in self.modes.items() if v != "ok"}
        if skipped:
            lines.append("modes not run: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
        if not self.traps:
            lines.append("no traps found.")
            return "\n".join(lines)
        header = ("kind", "backend", "dtype", "mode", "quantity", "count", "example point", "found")
        rows = [header]
        for row in self.summary():
            trap = row["example"]
            point = ", ".join(f"{k}={v:.9g}" for k, v in trap.point.items())
            found = ", ".join(f"{k} {v:.6g}" for k, v in trap.values.items())
            rows.append(
                (
                    row["kind"],
                    row["backend"],
                    row["dtype"],
                    row["mode"],
                    row["quantity"],
                    str(row["count"]),
                    f"{point} ({trap.where})",
                    found,
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 2)]
        for r in rows:
            cells = [c.ljust(w) for c, w in zip(r, widths, strict=False)]
            lines.append("  ".join([*cells, r[-2], "|", r[-1]]))
        lines.append(f"{len(self.traps)} trap(s) in {len(rows) - 1} group(s).")
        return "\n".join(lines)

    def save(self, folder: str | Path) -> None:
        """Write the report to ``folder``: ``report.json`` and ``evaluations.npz``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "target": self.target,
            "backends": self.backends,
            "versions": self.versions,
            "dtypes": list(self.dtypes),
            "modes": self.modes,
            "points": self.points,
            "tolerances": self.tolerances,
            "traps": [asdict(t) for t in self.traps],
            "labels_of": {d: list(v) for d, v in self.labels_of.items()},
        }
        (folder / "report.json").write_text(json.dumps(meta), encoding="utf-8")
        arrays = {}
        for (backend, dtype, mode), evaluation in self.evaluations.items():
            arrays[f"{backend}/{dtype}/{mode}/value"] = evaluation.value
            for name, gradient in evaluation.gradients.items():
                arrays[f"{backend}/{dtype}/{mode}/d/{name}"] = gradient
        for dtype, columns in self.points_of.items():
            for name, values in columns.items():
                arrays[f"points/{dtype}/{name}"] = values
        np.savez(folder / "evaluations.npz", **arrays)

    @classmethod
    def load(cls, folder: str | Path) -> TrapReport:
        """Read a report written by :meth:`save`."""
        folder = Path(folder)
        meta = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        report = cls(
            target=meta["target"],
            backends=meta["backends"],
            versions=meta["versions"],
            dtypes=tuple(meta["dtypes"]),
            modes=meta["modes"],
            points=meta["points"],
            tolerances=meta["tolerances"],
            traps=[Trap(**t) for t in meta["traps"]],
            labels_of={d: tuple(v) for d, v in meta["labels_of"].items()},
        )
        with np.load(folder / "evaluations.npz") as arrays:
            values: dict[tuple[str, str, str], dict[str, np.ndarray]] = {}
            for key in arrays.files:
                parts = key.split("/")
                if parts[0] == "points":
                    report.points_of.setdefault(parts[1], {})[parts[2]] = arrays[key]
                    continue
                values.setdefault(tuple(parts[:3]), {})["/".join(parts[3:])] = arrays[key]
        for key, items in values.items():
            report.evaluations[key] = Evaluation(
                value=items.pop("value"),
                gradients={name[2:]: g for name, g in items.items()},
            )
        return report


def merge_reports(reports: Mapping[str, TrapReport | str], target: str) -> TrapReport:
    """Merge one report per backend into one, adding ``backend-mismatch`` traps.

    Args:
        reports: Backend -> its report, or a status string for a backend that did
            not run (``"not installed"``, ``"failed: ..."``).
        target: What was searched, for the title.

    Every backend's traps are kept. Where two backends evaluated the same points
    in the same dtype and mode, each value and gradient is compared with the
    first backend's (in the order given): a point where they disagree beyond
    the dtype's tolerance, or where one is finite and the other is not, is a
    ``backend-mismatch``.
    """
    ran = {b: r for b, r in reports.items() if isinstance(r, TrapReport)}
    statuses = {b: (r if isinstance(r, str) else "ran") for b, r in reports.items()}
    first = next(iter(ran.values()), None)
    merged = TrapReport(
        target=target,
        backends=statuses,
        versions={k: v for r in ran.values() for k, v in r.versions.items()},
        dtypes=first.dtypes if first is not None else (),
        modes={k: v for r in ran.values() for k, v in r.modes.items()},
        points=first.points if first is not None else {},
        tolerances=first.tolerances if first is not None else {},
        traps=[t for r in ran.values() for t in r.traps],
        points_of=first.points_of if first is not None else {},
        labels_of=first.labels_of if first is not None else {},
    )
    for report in ran.values():
        merged.evaluations.update(report.evaluations)
        for dtype, columns in report.points_of.items():
            for name, values in columns.items():
                if not np.array_equal(values, merged.points_of[dtype][name], equal_nan=True):
                    raise ValueError(
                        f"the backends searched different points ({dtype}, {name}): "
                        "merge reports of the same search only."
                    )
    names = list(ran)
    for (backend, dtype, mode), evaluation in merged.evaluations.items():
        if backend == names[0]:
            continue
        base = merged.evaluations.get((names[0], dtype, mode))
        if base is None:
            continue
        for i, quantity, here, there in compare(evaluation, base, merged.tolerances[dtype]):
            merged.traps.append(
                Trap(
                    kind="backend-mismatch",
                    backend=f"{backend} vs {names[0]}",
                    dtype=dtype,
                    mode=mode,
                    point=point_of(merged.points_of[dtype], i),
                    where=merged.labels_of[dtype][i],
                    quantity=quantity,
                    values={backend: here, names[0]: there},
                )
            )
    return merged


def point_of(columns: Mapping[str, np.ndarray], index: int) -> dict[str, float]:
    """Return point ``index`` of per-variable columns as name -> value."""
    return {name: float(values[index]) for name, values in columns.items()}
