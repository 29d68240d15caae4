"""Reference maths of the generalized bump function, in NumPy float64.

The generalized bump function with width ``sigma >= 0`` is::

    phi_sigma(x) = exp(-sigma / (sigma - x**2))   if |x| < sigma
                 = 0                              otherwise.

Every layer in :mod:`bumplib` is tested against the functions of this module.
They are written in the variables::

    r = x / sigma,   w = 1 - x * r = (sigma - x**2) / sigma,   t = 1 / w,

so that ``phi = exp(-t)`` and both derivatives are products of bounded
factors wherever the formula itself is bounded::

    d(phi)/d(sigma) = phi * x**2 / (sigma - x**2)**2     = phi * t**2 * r**2
    d(phi)/d(x)     = -2 * x * sigma * phi / (sigma - x**2)**2 = -2 * phi * t**2 * r

(derivation: ``-sigma / (sigma - x**2) = -t``; ``dw/d(sigma) = x**2/sigma**2 =
r**2``, ``dw/dx = -2 * x / sigma = -2 r`` and ``dt/dw = -t**2``).

Properties the functions guarantee:

* They are exactly 0 outside the support ``|x| < sigma``, and so everywhere
  when ``sigma == 0``.
* For ``sigma <= 1`` they are finite and ``0 <= phi <= exp(-1)`` for every
  finite ``x``. For ``sigma < 1`` the function jumps at ``|x| = sigma`` from
  ``exp(-1 / (1 - sigma))`` to 0; the derivatives there are those of the
  pieces on either side.
* For ``sigma > 1`` the formula has singularities at ``x = +-sqrt(sigma)``.
  Inside (``|x| < sqrt(sigma)``) the function falls smoothly to 0. Between
  ``sqrt(sigma)`` and ``sigma`` the exponent is positive: the values are
  larger than 1, grow without bound, and are ``inf`` where ``exp`` overflows
  float64. That is what the formula says, and these reference functions
  return it (``inf``, never ``nan``). At exactly ``x**2 == sigma`` they
  return 0, the limit from inside.
* They never emit a NumPy floating-point warning and never return ``nan``
  for finite ``x`` and ``sigma >= 0``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["bump", "bump_grad_sigma", "bump_grad_x", "unstable_mask"]


class _Parts(NamedTuple):
    """Bounded intermediate quantities shared by the reference functions."""

    phi: NDArray[np.float64]
    t: NDArray[np.float64]
    r: NDArray[np.float64]
    unstable: NDArray[np.bool_]


def _as_arrays(x: ArrayLike, sigma: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate and broadcast ``x`` and ``sigma`` to float64 arrays."""
    x_arr = np.asarray(x, dtype=np.float64)
    sigma_arr = np.asarray(sigma, dtype=np.float64)
    if np.isnan(x_arr).any():
        raise ValueError("x contains nan; the bump function is defined for real x only.")
    if np.isnan(sigma_arr).any() or (sigma_arr < 0).any():
        raise ValueError(
            f"sigma must be >= 0 (got {sigma_arr.ravel()[:5]}...): the support "
            "(-sigma, sigma) is empty or meaningless for a negative or nan sigma."
        )
    return np.broadcast_arrays(x_arr, sigma_arr)


def _parts(x: ArrayLike, sigma: ArrayLike) -> _Parts:
    """Compute ``phi``, ``t`` and ``r`` (0 where they do not apply)."""
    x_arr, sigma_arr = _as_arrays(x, sigma)
    inside = np.abs(x_arr) < sigma_arr
    # Safe input and safe denominator: outside the support we divide 0 by 1.
    x_safe = np.where(inside, x_arr, 0.0)
    r = x_safe / np.where(inside, sigma_arr, 1.0)
    w = 1.0 - r * x_safe
    regular = inside & (w != 0.0)
    t = np.where(regular, 1.0 / np.where(regular, w, 1.0), 0.0)
    with np.errstate(over="ignore"):
        phi = np.where(regular, np.exp(-t), 0.0)
    return _Parts(phi=phi, t=t, r=np.where(regular, r, 0.0), unstable=inside & (w < 0.0))


def bump(x: ArrayLike, sigma: ArrayLike) -> NDArray[np.float64]:
    """Return the generalized bump ``phi_sigma(x)`` in float64.

    Args:
        x: Points, any shape; must not contain nan.
        sigma: Width(s) ``>= 0``, broadcastable against ``x``.

    Returns:
        ``exp(-sigma / (sigma - x**2))`` where ``|x| < sigma`` and 0 elsewhere
        (0 also at ``x**2 == sigma``). Where ``sigma > 1`` and
        ``sqrt(sigma) < |x| < sigma`` the formula exceeds 1 and may be ``inf``.

    Raises:
        ValueError: if ``x`` has nan, or ``sigma`` is negative or nan.
    """
    return _parts(x, sigma).phi


def bump_grad_sigma(x: ArrayLike, sigma: ArrayLike) -> NDArray[np.float64]:
    """Return ``d(phi)/d(sigma) = phi * x**2 / (sigma - x**2)**2`` in float64.

    Computed as ``phi * t**2 * r**2`` (see the module docstring), which is
    bounded by ``4 * exp(-2)`` wherever ``phi <= 1``. Same arguments, same
    support, same errors as :func:`bump`.
    """
    p = _parts(x, sigma)
    with np.errstate(over="ignore"):
        return p.phi * p.t**2 * p.r**2


def bump_grad_x(x: ArrayLike, sigma: ArrayLike) -> NDArray[np.float64]:
    """Return ``d(phi)/dx = -2 * x * sigma * phi / (sigma - x**2)**2`` in float64.

    Computed as ``-2 * phi * t**2 * r``. Same arguments, same support, same
    errors as :func:`bump`.
    """
    p = _parts(x, sigma)
    with np.errstate(over="ignore"):
        return -2.0 * p.phi * p.t**2 * p.r


def unstable_mask(x: ArrayLike, sigma: ArrayLike) -> NDArray[np.bool_]:
    """Return where the formula explodes: ``sigma > 1`` and ``sqrt(sigma) < |x| < sigma``.

    There ``sigma - x**2 < 0``, the exponent is positive and ``phi > 1``.
    Same arguments and errors as :func:`bump`.
    """
    return _parts(x, sigma).unstable
