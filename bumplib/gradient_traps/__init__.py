"""Find gradient traps: finite values with non-finite or wrong gradients, on every Keras backend.

A *gradient trap* is the subject of this book: a function whose value is
finite while its gradient is ``nan``, ``inf`` or wrong, because a branch that
is never selected still takes part in the backward pass, or because a guard
protects the value and not its derivative. It hides at a few points: zero,
the edges between branches, tiny and huge numbers. This package builds those
points itself, evaluates the value and every gradient there with the running
backend's own autodiff, eagerly and compiled, in float32, float16, bfloat16
and float64, and reports each trap.

* :func:`find_gradient_traps` searches a function written with ``keras.ops``
  or a Keras layer on the running backend and returns a :class:`TrapReport`
  (``str(report)`` is a table, ``report.traps`` the findings);
* :func:`assert_no_gradient_traps` is the same as one line of a test;
* ``python -m bumplib.gradient_traps module:target ...`` (or ``bumplib-traps``)
  runs the search under each Keras backend in its own process and merges the
  reports, with differences between backends as findings of their own.
"""

from __future__ import annotations

from bumplib.gradient_traps.report import KINDS, Trap, TrapReport, merge_reports, tolerance_of
from bumplib.gradient_traps.search import (
    assert_no_gradient_traps,
    find_gradient_traps,
    versions,
)
from bumplib.gradient_traps.spec import BACKENDS, DTYPES, MODES

__all__ = [
    "BACKENDS",
    "DTYPES",
    "KINDS",
    "MODES",
    "Trap",
    "TrapReport",
    "assert_no_gradient_traps",
    "find_gradient_traps",
    "merge_reports",
    "tolerance_of",
    "versions",
]
