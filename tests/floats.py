"""Float helpers shared by the tests: move a number by whole ulps, count float32 steps."""

from __future__ import annotations

import ml_dtypes
import numpy as np


def step_ulps(value: float, steps: int, dtype: str = "float64") -> float:
    """Return ``value`` moved by ``steps`` ulps of ``dtype``, clipped to its finite range.

    Positive ``steps`` move towards ``+inf``, negative ones towards ``-inf``; the
    step from ``0.0`` (or ``-0.0``) is the smallest subnormal number. ``value`` must
    be finite and exactly representable in ``dtype`` (``"float64"``, ``"float32"``,
    ``"float16"`` or ``"bfloat16"``).
    """
    np_dtype = np.dtype(getattr(ml_dtypes, dtype, None) or dtype)
    unsigned = np.dtype(f"uint{8 * np_dtype.itemsize}")
    sign_bit = 1 << (8 * np_dtype.itemsize - 1)

    def ordered(number: float) -> int:  # floats in order as integers, -0.0 and 0.0 both 0
        bits = int(np.array(number, dtype=np_dtype).view(unsigned))
        return -(bits & (sign_bit - 1)) if bits & sign_bit else bits

    top = ordered(float(ml_dtypes.finfo(dtype).max))
    moved = min(max(ordered(value) + steps, -top), top)
    bits = sign_bit | -moved if moved < 0 else moved
    return float(np.array(bits, dtype=unsigned).view(np_dtype).astype(np.float64))


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
