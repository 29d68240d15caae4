"""``scipy.optimize.curve_fit`` on ``log(sigma)``: the practitioner's baseline for recovering sigma.

Chapter 5 and ``benchmarks/bench_recovery.py`` compare :func:`bumplib.fit_sigma`
with :func:`curve_fit_sigma`, Levenberg-Marquardt as SciPy runs it, at its
best settings. Its model is the bump in float64 NumPy, written here on its
own: an independent reference for the comparison, not the layer's guarded
bump.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.optimize
from numpy.typing import ArrayLike

from bumplib.validation import check_sigma_values

__all__ = ["curve_fit_sigma"]


def curve_fit_sigma(
    x: ArrayLike, y: ArrayLike, *, initial_sigma: float = 1.0
) -> tuple[float, int, float]:
    """Fit sigma with ``scipy.optimize.curve_fit`` on ``log(sigma)``, at its best settings.

    Levenberg-Marquardt (``method="lm"``, MINPACK's ``lmder``) with the
    analytic Jacobian ``d(phi)/d(log sigma) = phi * t**2 * x**2 / sigma``,
    the model being the stable bump in float64 NumPy: ``exp(-t)`` with ``t =
    sigma / (sigma - x**2)`` where ``x**2 < min(sigma**2, sigma)`` and 0
    elsewhere, evaluated only where it is non-zero, with ``check_finite``
    off. This is what a practitioner who only wants sigma would write.

    Returns:
        ``(sigma, evaluations, seconds)``: the fitted width, the number of
        model evaluations, and the wall-clock time.
    """
    x2 = np.square(np.asarray(x, dtype=np.float64).reshape(-1))
    target = np.asarray(y, dtype=np.float64).reshape(-1)
    (u0,) = np.log(check_sigma_values([initial_sigma], "initial_sigma", positive=True))

    def parts(log_sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sigma = math.exp(log_sigma)
        inside = x2 < min(sigma * sigma, sigma)
        a = x2[inside] / sigma
        t = 1.0 / (1.0 - a)
        with np.errstate(under="ignore"):
            return inside, np.exp(-t), t * t * a

    def model(_: np.ndarray, log_sigma: float) -> np.ndarray:
        inside, phi, _ = parts(log_sigma)
        out = np.zeros_like(x2)
        out[inside] = phi
        return out

    def jacobian(_: np.ndarray, log_sigma: float) -> np.ndarray:
        inside, phi, factor = parts(log_sigma)
        out = np.zeros((x2.size, 1))
        out[inside, 0] = phi * factor
        return out

    start = time.perf_counter()
    (log_sigma,), _, info, _, _ = scipy.optimize.curve_fit(
        model,
        x2,
        target,
        p0=[u0],
        jac=jacobian,
        method="lm",
        check_finite=False,
        full_output=True,
    )
    seconds = time.perf_counter() - start
    return math.exp(log_sigma), int(info["nfev"]), seconds
