"""Float helpers shared by the tests: move a number by whole ulps, count float32 steps.

``step_ulps`` is the gradient-trap finder's own
(:func:`bumplib.gradient_traps.points.step_ulps`).
"""

from __future__ import annotations

import numpy as np

from bumplib.gradient_traps.points import step_ulps

__all__ = ["float32_steps", "step_ulps"]


def float32_steps(value: float, reference: float) -> int:
    """Return how many float32 values lie between ``value`` and ``reference`` (0 if equal).

    Both are rounded to float32 first: the distance in units in the last place,
    exact and symmetric, and meaningful across zero and subnormals.

    Raises:
        ValueError: if either is nan or infinite after rounding to float32.
    """
    pair = []
    for name, v in (("value", value), ("reference", reference)):
        with np.errstate(over="ignore"):
            v32 = np.float32(v)
        if not np.isfinite(v32):
            raise ValueError(f"{name} must be finite in float32, got {v!r}.")
        bits = int(v32.view(np.int32))
        # Map the sign-magnitude bit pattern to a monotonic integer line.
        pair.append(bits if bits >= 0 else -(bits & 0x7FFFFFFF))
    return abs(pair[0] - pair[1])
