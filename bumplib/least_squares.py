"""Least-squares recovery of sigma: Levenberg-Marquardt on ``log(sigma)``, in ``keras.ops``.

When all one wants is the width sigma of samples ``y ~ phi_sigma(x)``, the
problem is a one-parameter nonlinear least-squares fit, and the tool for that
is Levenberg-Marquardt (what ``scipy.optimize.curve_fit`` runs), not Adam.
:func:`least_squares_sigma` is that fit, written with ``keras.ops`` so it runs
on any Keras backend:

* The model is the stable bump (:func:`bumplib.stable_bump`): ``phi =
  exp(-t)`` with ``t = sigma / (sigma - x**2)`` where ``|x| < min(sigma,
  sqrt(sigma))`` and ``exp(-t)`` does not underflow, 0 elsewhere.
* The unknown is ``u = log(sigma)``, so a step changes sigma by a *relative*
  amount, and sigma stays positive. The Jacobian is the closed form
  ``d(phi)/du = sigma * d(phi)/d(sigma) = phi * t**2 * x**2 / sigma``
  (:func:`bumplib.bump_grad_sigma` times sigma), computed in the same pass as
  ``phi``: one evaluation per iteration gives the residuals, the cost, the
  gradient and the Gauss-Newton curvature.
* Each step is the Gauss-Newton step damped by Marquardt's factor
  ``1 + lambda`` and capped at ``MAX_LOG_STEP`` in ``log(sigma)``; it is
  accepted only if the *real* sum of squares falls. This matters because for
  ``sigma < 1`` the bump jumps at ``|x| = sigma`` (from ``exp(-1/(1 -
  sigma))`` to 0), so the cost is discontinuous in sigma wherever sigma
  crosses a sample's ``|x|``; the linearization does not see those jumps, the
  accept/reject test does, and a rejected step is retried shorter.
* When no sample lies inside the bump's support, the cost is flat in sigma
  (every gradient is 0): sigma then grows by a factor ``e`` per iteration until
  the bump meets the data.

Precision: the samples are float32, and so are the element-wise values and,
by default, the three sums (cost, gradient, curvature). That is enough: the
sums need only decide the sign of a cost difference and the size of a step,
and from 100k samples the fit lands within a float32 rounding of sigma (a
relative error below 1e-7) for every sigma in [0.03, 50]. ``accumulate=
"float64"`` sums in float64 instead where the backend computes in it (JAX
only with ``jax_enable_x64``); it lands on the same sigma, a little slower.
Sigma is rounded to float32 before each evaluation, so the sigma returned is
exactly one whose cost was measured.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
from keras import ops
from numpy.typing import ArrayLike

from bumplib.validation import check_sigma

__all__ = [
    "MAX_LOG_STEP",
    "XTOL",
    "LeastSquaresFit",
    "LeastSquaresTerms",
    "SortedSamples",
    "check_recovery_data",
    "least_squares_sigma",
]

#: Largest change of ``log(sigma)`` in one step: a factor ``e**2`` (about 7.4) in sigma.
MAX_LOG_STEP = 2.0
#: Default convergence threshold on a step in ``log(sigma)``: float32's resolution.
XTOL = float(np.finfo(np.float32).eps)
#: Marquardt's damping at the start, and its bounds.
_LAMBDA_START, _LAMBDA_MIN, _LAMBDA_MAX = 1e-3, 1e-12, 1e16
#: The stable bump's range: ``0 <= phi <= exp(-1)``.
BUMP_MAX = math.exp(-1.0)


def _underflow_cutoff(dtype: str) -> float:
    """Return ``T`` such that ``exp(-t)`` rounds to 0 in ``dtype`` for every ``t > T``."""
    tiny = np.finfo(np.dtype(dtype)).smallest_subnormal
    return 1.0 - math.log(float(tiny))


def _accumulation_dtype(dtype: str) -> str:
    """Return float64 if the backend computes in it (JAX without x64 does not), else ``dtype``."""
    probe = ops.cast(ops.convert_to_tensor(np.zeros(1, dtype=dtype)), "float64")
    return "float64" if keras.backend.standardize_dtype(probe.dtype) == "float64" else dtype


@dataclass(frozen=True)
class LeastSquaresTerms:
    """One evaluation of the fit at a given sigma.

    Attributes:
        sigma: The width evaluated (rounded to float32).
        cost: ``sum((phi - y)**2)``.
        gradient: ``sum(J * (phi - y))`` with ``J = d(phi)/d(log sigma)``: half
            the cost's derivative in ``log(sigma)``.
        curvature: ``sum(J**2)``, the Gauss-Newton curvature.
        inside: How many samples lie inside the bump's support (``phi > 0``).
        residual: ``phi - y`` on the samples inside (a tensor), or None.
        jacobian: ``d(phi)/d(log sigma)`` on the same samples, or None.
    """

    sigma: float
    cost: float
    gradient: float
    curvature: float
    inside: int
    residual: Any = field(default=None, repr=False)
    jacobian: Any = field(default=None, repr=False)


class SortedSamples:
    """Samples sorted by ``|x|``, so that the bump's support is a prefix of them.

    The stable bump (:func:`bumplib.stable_bump`) is ``exp(-t)``, ``t = sigma
    / (sigma - x**2)``, where ``|x| < sigma`` and ``x**2 < sigma * (1 - 1/T)``
    (``T``: beyond it ``exp(-t)`` underflows to 0; for ``sigma > 1`` this also
    leaves out the band where the formula explodes), and 0 elsewhere. Both
    conditions are on ``|x|``: sorted by ``|x|``, the samples inside are the
    first ``k``, found by a binary search, and only those are evaluated. The
    others contribute ``y**2`` to the cost (summed once, in float64) and
    nothing to the gradient. Element-wise values are float32 ``keras.ops``
    tensors; the sums are accumulated in float64 where the backend allows.

    Args:
        x: Inputs, a float32 array of shape ``(n, 1)``.
        y: Targets, a float32 array of shape ``(n, 1)``.
        accumulate: The dtype of the sums, ``"float32"`` or ``"float64"``
            (float32 where the backend has no float64).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, accumulate: str = "float32") -> None:
        order = np.argsort(np.abs(x[:, 0]), kind="stable")
        self.abs_x = np.abs(x[order, 0])
        self.x2 = np.square(self.abs_x)
        self.n = int(x.shape[0])
        self.cutoff = _underflow_cutoff("float32")
        self.accumulate = _accumulation_dtype(accumulate)
        y_sorted = y[order, 0]
        # tail[k] = sum(y[k:]**2): the cost of the samples outside a support of k samples.
        squares = np.square(y_sorted, dtype=np.float64)
        self.tail = np.concatenate([np.cumsum(squares[::-1])[::-1], [0.0]])
        self.x2_tensor = ops.convert_to_tensor(self.x2)
        self.y_tensor = ops.convert_to_tensor(y_sorted)

    def inside(self, sigma: float) -> int:
        """Return how many samples lie inside the support of the bump of width ``sigma``."""
        by_support = np.searchsorted(self.abs_x, np.float32(sigma), side="left")
        by_underflow = np.searchsorted(
            self.x2, np.float32(sigma * (1.0 - 1.0 / self.cutoff)), side="left"
        )
        return int(min(by_support, by_underflow))

    def terms(self, sigma: float) -> LeastSquaresTerms:
        """Evaluate the cost, gradient and curvature at ``sigma`` (rounded to float32)."""
        sigma = float(np.float32(sigma))
        k = self.inside(sigma)
        if k == 0:
            return LeastSquaresTerms(sigma, float(self.tail[0]), 0.0, 0.0, 0)
        a = self.x2_tensor[:k] * (1.0 / sigma)  # x**2 / sigma, in [0, 1 - 1/T)
        t = 1.0 / (1.0 - a)  # sigma / (sigma - x**2), in [1, T)
        phi = ops.exp(-t)
        residual = phi - self.y_tensor[:k]
        jac = phi * ops.square(t) * a  # sigma * d(phi)/d(sigma) = phi * t**2 * x**2 / sigma
        cost, gradient, curvature = (
            float(ops.convert_to_numpy(ops.sum(ops.cast(v, self.accumulate))))
            for v in (ops.square(residual), jac * residual, ops.square(jac))
        )
        return LeastSquaresTerms(
            sigma, cost + float(self.tail[k]), gradient, curvature, k, residual, jac
        )

    def jump_aware_step(self, terms: LeastSquaresTerms) -> float | None:
        """Return the best step down in ``log(sigma)`` of a model that sees the support's edge.

        For ``sigma < 1`` the bump jumps at ``|x| = sigma``: lowering sigma
        past a sample's ``|x|`` changes the cost at once, by ``y**2 - (phi -
        y)**2``, which a Gauss-Newton step (a linearization) cannot see. The
        samples are sorted by ``|x|``, so keeping the first ``m`` of the ``k``
        inside means ``log(sigma)`` in an interval known exactly; on it the
        cost is the Gauss-Newton quadratic of those ``m`` samples plus the
        ``y**2`` of the others. This returns the step that minimizes that
        piecewise model over every ``m``, or None when it does not apply
        (``sigma >= 1 - 1/T``, where the support ends where ``phi`` is 0 and
        there is no jump; no sample inside; or no step down helps).
        """
        k = terms.inside
        if terms.residual is None or k == 0 or terms.sigma >= 1.0 - 1.0 / self.cutoff:
            return None
        r = np.asarray(ops.convert_to_numpy(terms.residual), dtype=np.float64)
        j = np.asarray(ops.convert_to_numpy(terms.jacobian), dtype=np.float64)
        prefix = [np.concatenate([[0.0], np.cumsum(v)]) for v in (r * r, j * r, j * j)]
        a, b, c = prefix  # over the first m samples, m = 0..k
        edges = self.abs_x[:k].astype(np.float64) / terms.sigma
        with np.errstate(divide="ignore"):
            upper = np.log(np.append(edges, 1.0))  # keeping m samples: sigma' <= |x|[m]
            lower = np.log(np.concatenate([[0.0], edges]))  # ... and sigma' > |x|[m - 1]
        lower = np.where(np.isfinite(lower), lower + np.minimum(1e-6, (upper - lower) / 2), lower)
        curved = c > 0
        du = np.where(curved, -b / np.where(curved, c, 1.0), upper)
        du = np.clip(du, lower, upper)
        model = a + 2.0 * du * b + du * du * c + self.tail[: k + 1]
        best = int(np.argmin(model))
        step = float(du[best])
        return step if step < 0.0 and model[best] < terms.cost else None


@dataclass(frozen=True)
class LeastSquaresFit:
    """What :func:`least_squares_sigma` returns.

    Attributes:
        sigma: The fitted width (finite, ``> 0``).
        history: Sigma at the start and after each iteration (accepted or not).
        costs: ``mean((phi - y)**2)`` at the same points (that of the sigma kept).
        iterations: Iterations taken (one model evaluation each, after the first).
        evaluations: Model evaluations, the first one included.
        seconds: Wall-clock time of the fit.
        message: Why the fit stopped.
    """

    sigma: float
    history: np.ndarray
    costs: np.ndarray
    iterations: int
    evaluations: int
    seconds: float
    message: str = field(default="")


def check_recovery_data(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return ``x`` and ``y`` as finite float32 arrays of shape ``(n, 1)``, or raise.

    Accepts shapes ``(n,)`` or ``(n, 1)`` for each, with the same ``n >= 1``.

    Raises:
        ValueError: for other shapes, a different number of samples, nan or
            inf values, or targets that no bump can fit (every ``y`` outside
            the bump's range ``[0, exp(-1)]``).
    """
    arrays = []
    for name, a in (("x", x), ("y", y)):
        try:
            a = np.asarray(a, dtype=np.float32)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name} must be an array of numbers: {error}") from None
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[1] != 1 or a.shape[0] < 1:
            raise ValueError(
                f"{name} must hold n >= 1 scalar samples, shape (n,) or (n, 1); got {a.shape}."
            )
        bad = int((~np.isfinite(a)).sum())
        if bad:
            raise ValueError(
                f"{name} has {bad} nan or inf values; filter them out first "
                "(generate_data never returns any)."
            )
        arrays.append(a)
    x, y = arrays
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} samples but y has {y.shape[0]}.")
    if not ((y >= 0) & (y <= BUMP_MAX * (1 + 1e-6))).any():
        raise ValueError(
            f"no bump can fit these targets: every y lies outside [0, exp(-1) = {BUMP_MAX:.4f}], "
            f"the range of phi_sigma (y from {y.min():.4g} to {y.max():.4g}). Fit y = "
            "phi_sigma(x) itself, not a scaled or shifted copy."
        )
    return x, y


def least_squares_sigma(
    x: ArrayLike,
    y: ArrayLike,
    *,
    initial_sigma: float = 1.0,
    max_iterations: int = 100,
    xtol: float = XTOL,
    max_unexplained: float = 0.5,
    accumulate: str = "float32",
) -> LeastSquaresFit:
    """Fit sigma to samples ``y ~ phi_sigma(x)`` by Levenberg-Marquardt on ``log(sigma)``.

    See the module docstring for the method. Each iteration evaluates the
    model once (values and closed-form Jacobian together) and takes the
    damped Gauss-Newton step if it lowers the sum of squares; otherwise it
    raises the damping and tries a shorter step. The fit has converged when
    an accepted step changes ``log(sigma)`` by at most ``xtol``, when the
    gradient is 0, or when no shorter step can lower the cost (the step has
    fallen below ``xtol``): then no neighbouring sigma fits better.

    Args:
        x: Inputs, shape ``(n,)`` or ``(n, 1)``, finite; computed in float32.
        y: Targets of the same shape, finite.
        initial_sigma: Starting width, ``> 0``.
        max_iterations: Iterations allowed (each one model evaluation).
        xtol: Convergence threshold on a step in ``log(sigma)``; the default,
            float32's machine epsilon, is the resolution of float32 sigma.
        max_unexplained: Largest fraction of ``sum(y**2)`` the fitted bump may
            leave unexplained; beyond it the data do not look like a bump and
            a ``ValueError`` says so.
        accumulate: The dtype of the sums, ``"float32"`` (enough, see the
            module docstring) or ``"float64"``.

    Returns:
        A :class:`LeastSquaresFit`; its ``sigma`` is finite and ``> 0``.

    Raises:
        ValueError: for bad data or settings (see :func:`check_recovery_data`),
            or if the best bump leaves more than ``max_unexplained`` of
            ``sum(y**2)`` unexplained.
        RuntimeError: if the fit has not converged after ``max_iterations``.
    """
    x, y = check_recovery_data(x, y)
    initial_sigma = check_sigma(initial_sigma, "initial_sigma", positive=True)
    if (
        isinstance(max_iterations, bool)
        or not isinstance(max_iterations, int)
        or max_iterations < 1
    ):
        raise ValueError(f"max_iterations must be a positive integer, got {max_iterations!r}.")
    if not (isinstance(xtol, (int, float)) and 0 < xtol < 1):
        raise ValueError(f"xtol must be a number in (0, 1), got {xtol!r}.")
    if not (isinstance(max_unexplained, (int, float)) and 0 < max_unexplained <= 1):
        raise ValueError(f"max_unexplained must be in (0, 1], got {max_unexplained!r}.")

    start = time.perf_counter()
    n = x.shape[0]
    if accumulate not in ("float32", "float64"):
        raise ValueError(f"accumulate must be 'float32' or 'float64', got {accumulate!r}.")
    samples = SortedSamples(x, y, accumulate)

    def evaluate(log_sigma: float) -> LeastSquaresTerms:
        return samples.terms(math.exp(log_sigma))

    u = math.log(initial_sigma)
    current = evaluate(u)
    u = math.log(current.sigma)
    history, costs = [current.sigma], [current.cost / n]
    damping = _LAMBDA_START
    message = ""
    iterations = 0
    jump_next = False  # after a rejected step down: try the jump-aware model once
    while not message:
        if iterations == max_iterations:
            raise RuntimeError(
                f"least_squares_sigma did not converge in {max_iterations} iterations: sigma = "
                f"{current.sigma:.9g}, mean squared error {current.cost / n:.3g}, damping "
                f"{damping:.1g}. Pass a larger max_iterations (steps= in fit_sigma), or an "
                "initial_sigma closer to the data's width."
            )
        iterations += 1
        if current.curvature == 0.0:
            if current.cost == 0.0:  # e.g. all y == 0 and sigma below every |x|
                message = "exact fit: the cost is 0"
                break
            # No sample inside the support: the cost is flat in sigma. Widen the bump.
            trial = evaluate(u + 1.0)
            u, current = math.log(trial.sigma), trial
        else:
            jump = samples.jump_aware_step(current) if jump_next else None
            if jump is None:
                step = -current.gradient / (current.curvature * (1.0 + damping))
            else:
                step = jump
            step = max(-MAX_LOG_STEP, min(MAX_LOG_STEP, step))
            jump_next = False
            trial = evaluate(u + step)
            if trial.cost < current.cost:
                u, current = math.log(trial.sigma), trial
                damping = max(_LAMBDA_MIN, damping / 10.0)
                if current.cost == 0.0:
                    message = "exact fit: the cost is 0"
                elif abs(step) <= xtol:
                    message = f"converged: the last step changed log(sigma) by {abs(step):.1e}"
                elif current.gradient == 0.0:
                    message = "converged: the gradient is 0"
            else:
                damping *= 10.0
                jump_next = step < 0.0 and jump is None
                if abs(step) <= xtol or damping > _LAMBDA_MAX:
                    message = (
                        f"converged: no step down to {abs(step):.1e} in log(sigma) lowers the cost"
                    )
        history.append(current.sigma)
        costs.append(current.cost / n)

    total = float(np.sum(np.square(y, dtype=np.float64)))
    if current.cost > max_unexplained * total:
        raise ValueError(
            f"no bump fits these data: the best fit, sigma = {current.sigma:.6g}, leaves "
            f"{current.cost / total:.0%} of sum(y**2) unexplained (limit {max_unexplained:.0%}). "
            "Check that y = phi_sigma(x) (not scaled, shifted or noisy beyond recognition), "
            "or raise max_unexplained."
        )
    if not (math.isfinite(current.sigma) and current.sigma > 0):  # pragma: no cover - defensive
        raise RuntimeError(f"least_squares_sigma ended at sigma = {current.sigma}; please report.")
    return LeastSquaresFit(
        sigma=current.sigma,
        history=np.array(history, dtype=np.float64),
        costs=np.array(costs, dtype=np.float64),
        iterations=iterations,
        evaluations=iterations + 1,
        seconds=time.perf_counter() - start,
        message=message,
    )
