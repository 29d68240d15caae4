"""Numbers as the book prints them: only the digits that every CPU computes alike.

float32 results differ in their last bits from one processor to another, so
a stored notebook output that prints ``5.7e-07`` fails on a machine that
computes ``6.7e-07``. The chapters print every float32 result through these
helpers, which state a result at a resolution it really has:

* :func:`error_text` prints a relative (or absolute) error below a bound as
  that bound (``"< 1e-06"``) and a larger one to one significant digit;
* :func:`value_text` prints a value with the significant digits that a given
  relative resolution determines.

Which bound fits which cell is checked, not guessed: ``scripts/test.sh
--portability`` re-executes the notebooks with the data re-rounded
(:mod:`bumpbook.portability`) and compares with the stored outputs.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["FLOAT32_EPS", "error_text", "value_text"]

#: The spacing of float32 values at 1, 2**-23 (about 1.2e-7), float32's machine epsilon.
FLOAT32_EPS = float(np.finfo(np.float32).eps)


def _check_real(value: float, name: str) -> float:
    """Return ``value`` as a float, or raise for a non-number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}.")
    return float(value)


def error_text(error: float, bound: float = 1e-6) -> str:
    """Return ``error`` as printed in the book: ``"< bound"`` below ``bound``, else 1 digit.

    An error below ``bound`` is at the resolution of the computation, and its
    digits differ between CPUs: it is shown as the bound (``"< 1e-06"``). A
    larger error is shown with one significant digit (``"3e-05"``), ``nan``
    and ``inf`` as themselves.

    Raises:
        TypeError: if ``error`` or ``bound`` is not a number.
        ValueError: if ``bound`` is not finite and > 0, or ``error`` is negative.
    """
    error, bound = _check_real(error, "error"), _check_real(bound, "bound")
    if not (math.isfinite(bound) and bound > 0):
        raise ValueError(f"bound must be a finite number > 0, got {bound!r}.")
    if math.isnan(error) or math.isinf(error):
        return str(error)
    if error < 0:
        raise ValueError(f"an error is >= 0, got {error!r}; pass its absolute value.")
    if error < bound:
        return f"< {bound:.0e}"
    return f"{error:.0e}"


def value_text(value: float, resolution: float) -> str:
    """Return ``value`` with the significant digits that relative ``resolution`` determines.

    A value known to a relative resolution of ``1e-6`` is printed with 6
    significant digits, one of ``1e-3`` with 3, and so on (at least 1):
    ``value_text(0.0099999, 1e-4)`` is ``"0.01000"``, since 0.0099999 and
    0.01 agree to that resolution. Trailing zeros are kept, because they are
    digits that the resolution determines; ``nan`` and ``inf`` are shown as
    themselves.

    Raises:
        TypeError: if ``value`` or ``resolution`` is not a number.
        ValueError: if ``resolution`` is not in ``(0, 1)``.
    """
    value, resolution = _check_real(value, "value"), _check_real(resolution, "resolution")
    if not (0 < resolution < 1):
        raise ValueError(f"resolution must be in (0, 1), got {resolution!r}.")
    if not math.isfinite(value):
        return str(value)
    digits = max(1, math.floor(-math.log10(resolution)))
    return f"{abs(value) if value == 0 else value:#.{digits}g}".rstrip(".")
