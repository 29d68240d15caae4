"""A float helper shared by the tests: move a number by whole ulps in any float dtype.

It is the gradient-trap finder's own (:func:`bumplib.gradient_traps.points.step_ulps`).
"""

from __future__ import annotations

from bumplib.gradient_traps.points import step_ulps

__all__ = ["step_ulps"]
