"""Least-squares recovery of sigma: Levenberg-Marquardt on ``log(sigma)``, in ``keras.ops``.

When all one wants is the width sigma of samples ``y ~ phi_sigma(x)``, the
problem is a one-parameter nonlinear least-squares fit, and the tool for that
is Levenberg-Marquardt (what ``scipy.optimize.curve_fit`` runs), not Adam.
:func:`~bumplib.least_squares_sigma` is that fit, written with ``keras.ops`` so it runs
on any Keras backend:

* The model is the stable bump (:func:`bumplib.stable_bump`): ``phi =
  exp(-t)`` with ``t = sigma / (sigma - x**2)`` where ``|x| < min(sigma,
  sqrt(sigma))`` and ``exp(-t)`` does not underflow, 0 elsewhere
  (``bump_and_log_sigma_jacobian`` below).
* The unknown is ``u = log(sigma)``, so a step changes sigma by a *relative*
  amount, and sigma stays positive. The Jacobian is the closed form
  ``d(phi)/du = sigma * d(phi)/d(sigma) = phi * t**2 * x**2 / sigma``
  (:func:`bumplib.bump_grad_sigma` times sigma), computed in the same pass as
  ``phi``: one evaluation per iteration gives the cost, the gradient and the
  Gauss-Newton curvature, in one compiled graph where the backend has one
  (:func:`bumplib.backend.compile_on_tensorflow`).
* Each step is the Gauss-Newton step damped by Marquardt's factor
  ``1 + lambda`` and capped at ``MAX_LOG_STEP`` in ``log(sigma)``; it is
  accepted only if the *real* sum of squares falls. This matters because for
  ``sigma < 1`` the bump jumps at ``|x| = sigma`` (from ``exp(-1/(1 -
  sigma))`` to 0), so the cost is discontinuous in sigma wherever sigma
  crosses a sample's ``|x|``. The linearization does not see those jumps; the
  accept/reject test does, and after a rejected step down a model that knows
  where each sample leaves the support proposes the next step
  (``LeastSquaresProblem.jump_aware_step`` below).
* When no sample lies inside the bump's support, the cost is flat in sigma
  (every gradient is 0): sigma then grows by a factor ``e`` per iteration until
  the bump meets the data.

Precision: the samples are float32 and are taken as exact; the arithmetic is
float64 by default, where the backend computes in it (TensorFlow, PyTorch,
NumPy; JAX only with ``jax_enable_x64``, float32 otherwise).
``dtype="float32"`` does everything in float32 (about twice as fast): the
stable bump's values, computed as ``exp(-1/w)`` with ``w = 1 - (x /
sqrt(sigma))**2``, are accurate to an ulp or two, and the fit lands within a
few float32 steps of the float64 one (for sigma = 20 to 100 on 100,000
samples, a relative difference below 3e-7).
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

from bumplib.backend import compile_on_tensorflow
from bumplib.stable_layer import guarded_forward, underflow_cutoff
from bumplib.validation import check_count, check_sigma

__all__ = [
    "COARSE",
    "COARSE_MIN",
    "COARSE_XTOL",
    "MAX_LOG_STEP",
    "XTOL",
    "FitResult",
    "LeastSquaresProblem",
    "LeastSquaresTerms",
    "bump_and_log_sigma_jacobian",
    "check_recovery_data",
    "least_squares_sigma",
    "working_dtype",
]

#: Largest change of ``log(sigma)`` in one step: a factor ``e**2`` (about 7.4) in sigma.
MAX_LOG_STEP = 2.0
#: Default convergence threshold on a step in ``log(sigma)``.
XTOL = 1e-9
#: The two-stage fit: stride of the first stage, its least number of samples, its tolerance.
COARSE, COARSE_MIN, COARSE_XTOL = 16, 2000, 1e-4
#: Marquardt's damping at the start, its bounds, and its least value after a rejected step.
_LAMBDA_START, _LAMBDA_MIN, _LAMBDA_MAX, _LAMBDA_REJECTED = 1e-3, 1e-6, 1e16, 1.0
#: The stable bump's range: ``0 <= phi <= exp(-1)``.
BUMP_MAX = math.exp(-1.0)


def working_dtype(dtype: str) -> str:
    """Return ``dtype``, or float32 if it is float64 and the backend has no float64 (JAX's default).

    Raises:
        ValueError: unless ``dtype`` is ``"float32"`` or ``"float64"``.
    """
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}.")
    probe = ops.convert_to_tensor(np.zeros(1, dtype=dtype))
    return keras.backend.standardize_dtype(probe.dtype)


def bump_and_log_sigma_jacobian(x: Any, sigma: Any) -> tuple[Any, Any, Any]:
    """Return the stable bump, ``d(phi)/d(log sigma)`` and the support, as ``keras.ops`` tensors.

    The bump is :func:`bumplib.stable_layer.guarded_forward`'s, the one the
    layers compute: ``phi = exp(-t)`` with ``t = sigma / (sigma - x**2)`` where
    ``|x| < sigma`` and ``x**2 < sigma * (1 - 1/T)`` (``T``:
    :func:`bumplib.underflow_cutoff`, beyond which ``exp(-t)`` is 0 on this
    backend; for ``sigma > 1`` this also leaves out the band where the formula
    explodes), and 0 elsewhere, with a safe input outside that support. The
    derivative is the closed form ``sigma * d(phi)/d(sigma) = phi * t**2 * x**2
    / sigma = phi * (q / w)**2`` with ``q = x / sqrt(sigma)`` and ``w = 1 - q**2 =
    1 / t`` (:func:`bumplib.bump_grad_sigma` times sigma). Both are finite for
    every finite ``x`` and ``sigma > 0``.

    Args:
        x: Inputs, a float tensor or array of any shape.
        sigma: The width, ``> 0``: a scalar of ``x``'s dtype (a Python float
            or a 0-d tensor).

    Returns:
        ``(phi, jacobian, inside)``: two tensors of ``x``'s shape and dtype
        and a boolean tensor, true where ``phi`` is given by the formula.
    """
    x = ops.convert_to_tensor(x)
    phi, q, w, _ = guarded_forward(x, ops.convert_to_tensor(sigma, dtype=x.dtype))
    # A kept point has w > 1/T; every other point gets the safe w = 1/(2T) (rounded).
    inside = w > 0.75 / underflow_cutoff(x.dtype)
    return phi, phi * ops.square(q / w), inside


def _sums(x: Any, y: Any, sigma: Any) -> Any:
    """Return ``[cost, gradient, curvature, inside]`` of the fit at ``sigma``, one tensor."""
    phi, jac, inside = bump_and_log_sigma_jacobian(x, sigma)
    residual = phi - y
    return ops.stack(
        [
            ops.sum(ops.square(residual)),
            ops.sum(jac * residual),
            ops.sum(ops.square(jac)),
            ops.sum(ops.cast(inside, residual.dtype)),
        ]
    )


#: :func:`_sums` as one TensorFlow graph on that backend (traced once per shape and dtype).
_compiled_sums = compile_on_tensorflow(_sums, xla=False)


@dataclass(frozen=True)
class LeastSquaresTerms:
    """One evaluation of the fit at a given sigma.

    Attributes:
        sigma: The width evaluated (rounded to the working dtype).
        cost: ``sum((phi - y)**2)``.
        gradient: ``sum(J * (phi - y))`` with ``J = d(phi)/d(log sigma)``: half
            the cost's derivative in ``log(sigma)``.
        curvature: ``sum(J**2)``, the Gauss-Newton curvature.
        inside: How many samples lie inside the bump's support.
    """

    sigma: float
    cost: float
    gradient: float
    curvature: float
    inside: int


class LeastSquaresProblem:
    """The sum of squares ``sum((phi_sigma(x) - y)**2)`` of samples, and its steps.

    :meth:`terms` evaluates the cost, gradient and curvature in one compiled
    pass over all samples (``keras.ops``; see :func:`~bumplib.backend.compile_on_tensorflow`).
    :meth:`jump_aware_step` proposes a step for the cost's jumps at ``|x| =
    sigma``.

    Args:
        x: Inputs, an array of shape ``(n, 1)``.
        y: Targets, an array of shape ``(n, 1)``.
        dtype: The arithmetic, ``"float64"`` or ``"float32"`` (see
            :func:`working_dtype`).
        fraction: The share of the data these samples are (for counting
            passes over the data).
    """

    def __init__(
        self, x: np.ndarray, y: np.ndarray, dtype: str = "float64", fraction: float = 1.0
    ) -> None:
        self.fraction = fraction
        self.dtype = working_dtype(dtype)
        self.x = np.asarray(x[:, 0], dtype=self.dtype)
        self.y = np.asarray(y[:, 0], dtype=self.dtype)
        self.cutoff = underflow_cutoff(self.dtype)
        self.x_tensor = ops.convert_to_tensor(self.x)
        self.y_tensor = ops.convert_to_tensor(self.y)

    def round(self, sigma: float) -> float:
        """Return ``sigma`` rounded to the working dtype."""
        return float(np.asarray(sigma, dtype=self.dtype))

    def terms(self, sigma: float) -> LeastSquaresTerms:
        """Evaluate the cost, gradient and curvature at ``sigma`` (rounded to the working dtype)."""
        rounded = np.asarray(sigma, dtype=self.dtype)
        sums = _compiled_sums(self.x_tensor, self.y_tensor, ops.convert_to_tensor(rounded))
        cost, gradient, curvature, inside = (float(v) for v in ops.convert_to_numpy(sums))
        return LeastSquaresTerms(float(rounded), cost, gradient, curvature, round(inside))

    def jump_aware_step(self, terms: LeastSquaresTerms) -> float | None:
        """Return the best step down in ``log(sigma)`` of a model that sees the support's edge.

        For ``sigma < 1`` the bump jumps at ``|x| = sigma``: lowering sigma
        past a sample's ``|x|`` changes the cost at once, by ``y**2 - (phi -
        y)**2``, which a Gauss-Newton step (a linearization) cannot see.
        Sorted by ``|x|``, keeping the first ``m`` of the ``k`` samples inside
        means ``log(sigma)`` in an interval known exactly; on it the cost is the
        Gauss-Newton quadratic of those ``m`` samples plus the ``y**2`` of the
        others. This returns the step that minimizes that piecewise model over
        every ``m``, or None when it does not apply (``sigma >= 1 - 1/T``,
        where the support ends where ``phi`` is already 0 and nothing jumps;
        no sample inside; or no step down helps).
        """
        if terms.inside == 0 or terms.sigma >= 1.0 - 1.0 / self.cutoff:
            return None
        sigma = np.asarray(terms.sigma, dtype=self.dtype)
        inside = np.abs(self.x) < sigma
        order = np.argsort(np.abs(self.x[inside]))
        x, y = self.x[inside][order], self.y[inside][order].astype(np.float64)
        phi, jac, _ = bump_and_log_sigma_jacobian(x, sigma)
        r = ops.convert_to_numpy(phi).astype(np.float64) - y
        j = ops.convert_to_numpy(jac).astype(np.float64)
        a, b, c = (np.concatenate([[0.0], np.cumsum(v)]) for v in (r * r, j * r, j * j))
        dropped = np.concatenate([np.cumsum((y * y)[::-1])[::-1], [0.0]])  # y**2 of m..k-1
        outside = terms.cost - a[-1]  # the samples outside the support already
        edges = np.abs(x).astype(np.float64) / terms.sigma
        with np.errstate(divide="ignore"):
            upper = np.log(np.append(edges, 1.0))  # keeping m samples: sigma' <= |x|[m]
            lower = np.log(np.concatenate([[0.0], edges]))  # ... and sigma' > |x|[m - 1]
        lower = np.where(np.isfinite(lower), lower + np.minimum(1e-6, (upper - lower) / 2), lower)
        curved = c > 0
        du = np.clip(np.where(curved, -b / np.where(curved, c, 1.0), upper), lower, upper)
        model = a + 2.0 * du * b + du * du * c + dropped + outside
        best = int(np.argmin(model))
        step = float(du[best])
        return step if step < 0.0 and model[best] < terms.cost else None


@dataclass(frozen=True)
class FitResult:
    """What :func:`~bumplib.fit_sigma` and :func:`~bumplib.least_squares_sigma` return.

    Attributes:
        sigma: The fitted width (finite, ``> 0``).
        history: Sigma at each record: for ``method="lm"``, at each model
            evaluation (each stage's start, then after each iteration, the same
            sigma again after a rejected step); for ``"adam"``, at the start and
            after each block of optimizer steps.
        losses: Mean squared error at the same points: ``"lm"``, over the
            stage's samples (every ``coarse``-th in the first of two stages);
            ``"adam"``, the mean of the block's training losses (``nan`` at the
            start, before any step), as ``model.fit`` reports it.
        steps: Iterations (``"lm"``) or optimizer steps (``"adam"``) taken at
            each record.
        epochs: The work, in passes over all the data: ``"lm"``, the model
            evaluations weighted by the share of the samples each used;
            ``"adam"``, the samples of all steps over ``n``.
        seconds: Wall-clock time of the fit.
        method: ``"lm"`` (Levenberg-Marquardt) or ``"adam"`` (gradient
            training; also the answer's recipe in the book).
        message: Why the fit stopped (``"lm"``), or ``""``.
    """

    sigma: float
    history: np.ndarray
    losses: np.ndarray
    steps: np.ndarray = field(repr=False)
    epochs: float
    seconds: float
    method: str = "lm"
    message: str = ""


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


@dataclass
class _Run:
    """The state of :func:`_levenberg_marquardt` as it goes."""

    history: list[float]
    losses: list[float]
    steps: list[int]
    iterations: int = 0
    passes: float = 0.0
    message: str = ""


def _levenberg_marquardt(
    problem: LeastSquaresProblem,
    initial_sigma: float,
    *,
    max_iterations: int,
    xtol: float,
    run: _Run | None = None,
) -> tuple[LeastSquaresTerms, _Run]:
    """Run one stage of :func:`~bumplib.least_squares_sigma` on ``problem`` from ``initial_sigma``.

    Args:
        problem: The samples.
        initial_sigma: Starting width, ``> 0``.
        max_iterations: Iterations allowed in total (with those of ``run``).
        xtol: Convergence threshold on a step in ``log(sigma)``.
        run: A run to continue (its records are extended), or None.

    Returns:
        The terms at the last sigma kept, and the run: records of sigma and
        of the mean squared error at each evaluation (the start, then after
        each iteration) with the iterations taken so far, and the passes
        over all the samples (a stage on a subsample counts a fraction).

    Raises:
        RuntimeError: if it has not converged after ``max_iterations``.
    """
    n = problem.x.shape[0]
    current = problem.terms(initial_sigma)
    u = math.log(current.sigma)
    run = _Run(history=[], losses=[], steps=[]) if run is None else run
    run.history.append(current.sigma)
    run.losses.append(current.cost / n)
    run.steps.append(run.iterations)
    run.passes += problem.fraction
    damping = _LAMBDA_START
    jump_next = False  # after a rejected step down: try the jump-aware model once
    while True:
        if current.cost == 0.0:  # e.g. all y == 0 and sigma below every |x|
            run.message = "exact fit: the cost is 0"
            break
        if current.curvature == 0.0:
            # No sample inside the support: the cost is flat in sigma. Widen the bump.
            step, jump = 1.0, None
        else:
            jump = problem.jump_aware_step(current) if jump_next else None
            if jump is None:
                step = -current.gradient / (current.curvature * (1.0 + damping))
            else:
                step = jump
            step = max(-MAX_LOG_STEP, min(MAX_LOG_STEP, step))
        jump_next = False
        if abs(step) <= xtol or problem.round(math.exp(u + step)) == current.sigma:
            run.message = (
                f"converged: the next step, {abs(step):.1e} in log(sigma), is below xtol "
                "or does not change sigma"
            )
            break
        if run.iterations == max_iterations:
            raise RuntimeError(
                f"least_squares_sigma did not converge in {max_iterations} iterations: sigma = "
                f"{current.sigma:.9g}, mean squared error {current.cost / n:.3g}, damping "
                f"{damping:.1g}. Pass a larger max_iterations (steps= in fit_sigma), or an "
                "initial_sigma closer to the data's width."
            )
        run.iterations += 1
        run.passes += problem.fraction
        trial = problem.terms(math.exp(u + step))
        if current.curvature == 0.0 or trial.cost < current.cost:
            u, current = math.log(trial.sigma), trial
            damping = max(_LAMBDA_MIN, damping / 10.0)
            if current.curvature > 0.0 and abs(step) <= xtol:
                run.message = f"converged: the last step changed log(sigma) by {abs(step):.1e}"
        else:
            damping = max(_LAMBDA_REJECTED, damping * 10.0)
            jump_next = step < 0.0 and jump is None
            if abs(step) <= xtol or damping > _LAMBDA_MAX:
                run.message = (
                    f"converged: no step down to {abs(step):.1e} in log(sigma) lowers the cost"
                )
        run.history.append(current.sigma)
        run.losses.append(current.cost / n)
        run.steps.append(run.iterations)
        if run.message:
            break
    return current, run


def least_squares_sigma(
    x: ArrayLike,
    y: ArrayLike,
    *,
    initial_sigma: float = 1.0,
    max_iterations: int = 100,
    xtol: float = XTOL,
    max_unexplained: float = 0.5,
    dtype: str = "float64",
    coarse: int = COARSE,
) -> FitResult:
    """Fit sigma to samples ``y ~ phi_sigma(x)`` by Levenberg-Marquardt on ``log(sigma)``.

    See the module docstring for the method. Each iteration evaluates the
    model once (values and closed-form Jacobian together) and takes the
    damped Gauss-Newton step (or, after a rejected step down, the jump-aware
    one) if it lowers the sum of squares; otherwise it raises the damping and
    tries a shorter step. A stage stops when an accepted step changes
    ``log(sigma)`` by at most ``xtol``, when the next step would be below
    ``xtol`` or not change sigma in the working dtype, when no step down to
    ``xtol`` lowers the cost (no neighbouring sigma fits better), or when the
    cost is 0. With many samples (at least ``coarse`` times
    ``COARSE_MIN``) the fit runs in two stages: first on every ``coarse``-th
    sample, to a relative step of ``COARSE_XTOL``, then on all samples from
    there. The far-away iterations then cost a ``coarse``-th each, and the
    result is the least-squares fit of all the data all the same (the last
    stage converges to it, from close by, in two or three iterations).

    Args:
        x: Inputs, shape ``(n,)`` or ``(n, 1)``, finite (taken as float32).
        y: Targets of the same shape, finite.
        initial_sigma: Starting width, ``> 0``.
        max_iterations: Iterations allowed, both stages together (each one
            model evaluation).
        xtol: Convergence threshold on a step in ``log(sigma)``.
        max_unexplained: Largest fraction of ``sum(y**2)`` the fitted bump may
            leave unexplained; beyond it the data do not look like a bump and
            a ``ValueError`` says so.
        dtype: The arithmetic: ``"float64"`` (where the backend has it) or
            ``"float32"``; see the module docstring.
        coarse: The first stage's stride; 1 for a single stage on all samples.

    Returns:
        A :class:`~bumplib.FitResult` (``method="lm"``); its ``sigma`` is
        finite and ``> 0``.

    Raises:
        ValueError: for bad data or settings (see ``bumplib.least_squares.check_recovery_data``),
            or if the best bump leaves more than ``max_unexplained`` of
            ``sum(y**2)`` unexplained.
        RuntimeError: if the fit has not converged after ``max_iterations``.
    """
    x, y = check_recovery_data(x, y)
    initial_sigma = check_sigma(initial_sigma, "initial_sigma", positive=True)
    max_iterations, coarse = (
        check_count(max_iterations, "max_iterations"),
        check_count(coarse, "coarse"),
    )
    if not (isinstance(xtol, (int, float)) and 0 < xtol < 1):
        raise ValueError(f"xtol must be a number in (0, 1), got {xtol!r}.")
    if not (isinstance(max_unexplained, (int, float)) and 0 < max_unexplained <= 1):
        raise ValueError(f"max_unexplained must be in (0, 1], got {max_unexplained!r}.")

    start = time.perf_counter()
    n = x.shape[0]
    sigma, run = initial_sigma, None
    if coarse > 1 and n >= coarse * COARSE_MIN:
        first = LeastSquaresProblem(x[::coarse], y[::coarse], dtype, fraction=1.0 / coarse)
        terms, run = _levenberg_marquardt(
            first, sigma, max_iterations=max_iterations, xtol=max(xtol, COARSE_XTOL)
        )
        sigma = terms.sigma
    current, run = _levenberg_marquardt(
        LeastSquaresProblem(x, y, dtype),
        sigma,
        max_iterations=max_iterations,
        xtol=xtol,
        run=run,
    )

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
    return FitResult(
        sigma=current.sigma,
        history=np.array(run.history, dtype=np.float64),
        losses=np.array(run.losses, dtype=np.float64),
        steps=np.array(run.steps),
        epochs=run.passes,
        seconds=time.perf_counter() - start,
        message=run.message,
    )
