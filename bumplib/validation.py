"""Argument checks shared by the layers, the data generator and the fitting helpers.

Each check raises a ``ValueError`` (or ``TypeError``) whose message says what
was wrong and what to pass instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "check_count",
    "check_finite_values",
    "check_range",
    "check_sigma",
    "check_sigma_values",
]


def check_sigma(value: float, name: str = "sigma", *, positive: bool = False) -> float:
    """Return ``value`` as a float after checking it is a finite number ``>= 0``.

    Args:
        value: The candidate width.
        name: The argument's name, used in the error message.
        positive: Require ``value > 0`` (for a log parametrization or a
            Gaussian width, where 0 has no finite representation).

    Raises:
        TypeError: if ``value`` is not a real number.
        ValueError: if ``value`` is nan, infinite, negative (or 0 when
            ``positive``).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}. Pass a finite number such as 0.1.")
    if positive and value <= 0.0:
        raise ValueError(
            f"{name} must be > 0 here, got {value}. Pass a small positive width such as 0.1."
        )
    if value < 0.0:
        raise ValueError(
            f"{name} must be >= 0, got {value}: the support (-{name}, {name}) is empty "
            "for a negative width. Pass a small non-negative value such as 0.1."
        )
    return value


def check_sigma_values(
    value: float | Sequence[float], name: str = "initial_sigma", *, positive: bool = False
) -> float | list[float]:
    """Check a width given as one number or as one number per feature.

    Returns a float, or a list of floats for a sequence; raises as
    :func:`check_sigma` does for each element, and ``ValueError`` for an empty
    or nested sequence.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {value!r}.")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()  # a 0-d array is one number, not a sequence
    if isinstance(value, (Sequence, np.ndarray)):
        values = list(np.asarray(value, dtype=object).ravel()) if np.ndim(value) == 1 else None
        if not values:
            raise ValueError(
                f"{name} must be a number or a flat, non-empty sequence with one width per "
                f"feature, got {value!r}."
            )
        return [check_sigma(v, f"{name}[{i}]", positive=positive) for i, v in enumerate(values)]
    return check_sigma(value, name, positive=positive)


def check_range(value: Sequence[float], name: str) -> tuple[float, float]:
    """Return ``value`` as two finite floats ``(low, high)`` with ``low < high``.

    Raises:
        ValueError: if ``value`` is not two numbers, or they are not finite
            with ``min < max``.
    """
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be two numbers (min, max), got {value!r}.") from None
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise ValueError(
            f"{name} must be two finite numbers with min < max, got {value!r}. "
            "Pass for example (-1.0, 1.0)."
        )
    return low, high


def check_finite_values(value: Any, name: str) -> float | list[float]:
    """Return a finite real number, or a flat sequence of them as a list of floats.

    Raises:
        ValueError: if ``value`` is not a finite number or a non-empty flat sequence of them.
    """
    values = np.asarray(value, dtype=float) if not isinstance(value, (str, bytes)) else None
    if values is None or values.ndim > 1 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(
            f"{name} must be a finite number or a flat sequence of finite numbers, got {value!r}."
        )
    return values.tolist()


def check_count(value: int, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int after checking it is an integer ``>= minimum``.

    Raises:
        ValueError: if ``value`` is not an integer (``bool`` excluded) or is
            below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)
