"""Recovering sigma alone: the ablation of ``fit_sigma``'s Adam choices, and fair baselines.

Chapter 5 asks what makes ``fit_sigma(..., method="adam")`` fast, and what
a practitioner who only wants sigma should use instead:

* :func:`adam_ablation` trains sigma with Adam as ``fit_sigma`` does (log
  parametrization, full batches, ``beta_1 = beta_2 = 0.5``, learning rate
  0.1 decaying along a cosine over 500 steps) and with each of those choices
  switched back, alone, to the thread's (:data:`ABLATION_VARIANTS`), on the
  same data, in one run.
* :func:`curve_fit_sigma` is ``scipy.optimize.curve_fit`` (Levenberg-Marquardt)
  on ``log(sigma)`` with the analytic Jacobian: the practitioner's tool.
* :func:`recovery_baselines` runs, on the same data and in one run, the
  thread's recipe as written, the same recipe with ``steps_per_execution``
  (the same optimizer steps, fewer returns to Python), ``curve_fit_sigma``,
  and ``fit_sigma`` with ``method="lm"`` and ``method="adam"``.

The exhaustive version (100k samples, every sigma) is
``benchmarks/bench_recovery.py``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
from numpy.typing import ArrayLike

import bumplib
from bumpbook.answer_recipe import fit_answer_recipe
from bumplib.stable_layer import StableBumpLayer
from bumplib.training import fit_full_batch, fit_sigma
from bumplib.validation import check_count, check_sigma_values

__all__ = [
    "ABLATION_VARIANTS",
    "Recovery",
    "adam_ablation",
    "curve_fit_sigma",
    "recovery_baselines",
]

#: ``fit_sigma``'s Adam settings (``"fit_sigma (adam)"``), and each one switched back alone.
ABLATION_VARIANTS: dict[str, dict[str, object]] = {
    "fit_sigma (adam)": {},
    "identity parametrization": {"parametrization": "identity"},
    "softplus parametrization": {"parametrization": "softplus"},
    "batches of 32": {"batch_size": 32},
    "Adam's default memories": {"beta_1": 0.9, "beta_2": 0.999},
    "learning rate 1e-3": {"learning_rate": 1e-3},
}


@dataclass(frozen=True)
class Recovery:
    """One recovery of sigma: who, on which sigma, what it found, and at what cost.

    Attributes:
        method: The name of the method or variant.
        true_sigma: The sigma the data were made with.
        sigma: The sigma found (may be 0 or far off for a failing variant).
        steps: Optimizer steps or iterations taken.
        seconds: Wall-clock time.
        history: Sigma at the start and at each record of the training.
        history_steps: The steps (or iterations) of those records.
    """

    method: str
    true_sigma: float
    sigma: float
    steps: int
    seconds: float
    history: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    history_steps: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    @property
    def relative_error(self) -> float:
        """``|sigma - true_sigma| / true_sigma``."""
        return abs(self.sigma - self.true_sigma) / self.true_sigma


def adam_ablation(
    sigmas: Sequence[float],
    *,
    n: int = 100_000,
    seed: int = 0,
    steps: int = 500,
    variants: Sequence[str] | None = None,
) -> list[Recovery]:
    """Recover each sigma with ``fit_sigma``'s Adam and with each of its choices switched back.

    For every sigma, the data are ``generate_data(sigma, n=n, seed=seed)``
    (x uniform in (-1, 1)); every variant starts from sigma = 1 and takes
    ``steps`` steps of :func:`~bumplib.fit_full_batch` on a
    :class:`~bumplib.StableBumpLayer`, with the settings of
    :data:`ABLATION_VARIANTS`: the identity parametrization keeps its
    ``"non_neg"`` constraint, ``batch_size=32`` draws a batch of 32 samples
    per step, the default memories are Keras' ``beta_1 = 0.9, beta_2 =
    0.999``, and every variant keeps the cosine decay.

    Args:
        sigmas: True widths, each ``> 0``.
        n: Samples per sigma.
        seed: Seed of the data and of the training.
        steps: Steps of every variant, a multiple of 25.
        variants: Names from :data:`ABLATION_VARIANTS` (default: all).

    Returns:
        One :class:`Recovery` per variant and sigma, variant by variant.

    Raises:
        ValueError: for an unknown variant, a sigma ``<= 0`` or a bad ``n``.
    """
    sigmas = [
        float(s) for s in np.atleast_1d(check_sigma_values(list(sigmas), "sigmas", positive=True))
    ]
    n = check_count(n, "n")
    names = list(ABLATION_VARIANTS) if variants is None else list(variants)
    unknown = [name for name in names if name not in ABLATION_VARIANTS]
    if unknown:
        raise ValueError(
            f"unknown variants {unknown}; choose from {', '.join(map(repr, ABLATION_VARIANTS))}."
        )
    data = {sigma: bumplib.generate_data(sigma, n=n, seed=seed)[:2] for sigma in sigmas}
    rows = []
    for name in names:
        settings = dict(ABLATION_VARIANTS[name])
        parametrization = settings.pop("parametrization", "log")
        for sigma in sigmas:
            x, y = data[sigma]
            layer = StableBumpLayer(initial_sigma=1.0, parametrization=parametrization)
            start = time.perf_counter()
            fit = fit_full_batch(layer, x, y, steps=steps, seed=seed, **settings)
            seconds = time.perf_counter() - start
            rows.append(
                Recovery(
                    name,
                    sigma,
                    float(fit.sigmas[-1, 0]),
                    steps,
                    seconds,
                    fit.sigmas[:, 0].copy(),
                    fit.steps.copy(),
                )
            )
    return rows


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


def recovery_baselines(
    sigma: float,
    *,
    n: int = 100_000,
    seed: int = 0,
) -> list[Recovery]:
    """Recover one sigma five ways on the same data, in one run, and time each.

    The thread's recipe as written (:func:`~bumpbook.fit_answer_recipe`:
    batches of 32, ``steps_per_execution=1``), the same recipe with
    ``steps_per_execution`` equal to the steps of one epoch (the same
    optimizer steps), :func:`curve_fit_sigma`, and :func:`~bumplib.fit_sigma`
    with ``method="lm"`` and ``method="adam"``. The two fast methods first run
    once, untimed, on other data of the same size (``seed + 1``): ``fit_sigma``
    traces its TensorFlow function once per data shape, and a practitioner's
    second call does not pay for that again. The Adam fits and the recipes
    build a fresh model each time, so their tracing is part of every call.
    """
    (sigma,) = check_sigma_values([sigma], "sigma", positive=True)
    x, y, _ = bumplib.generate_data(float(sigma), n=check_count(n, "n"), seed=seed)
    x_warm, y_warm, _ = bumplib.generate_data(float(sigma), n=x.shape[0], seed=seed + 1)
    curve_fit_sigma(x_warm, y_warm)
    fit_sigma(x_warm, y_warm, method="lm")
    epoch = math.ceil(x.shape[0] / 32)
    rows = []
    for name, spe in (("thread's recipe", 1), ("recipe, steps_per_execution", epoch)):
        fit = fit_answer_recipe(x, y, sigma, seed=seed, steps_per_execution=spe)
        rows.append(
            Recovery(
                name, sigma, fit.sigma, int(fit.steps[-1]), fit.seconds, fit.history, fit.steps
            )
        )
    found, evaluations, seconds = curve_fit_sigma(x, y)
    rows.append(Recovery("curve_fit (scipy)", sigma, found, evaluations, seconds))
    for method in ("lm", "adam"):
        fit = fit_sigma(x, y, method=method, seed=seed)
        rows.append(
            Recovery(
                f"fit_sigma ({method})",
                sigma,
                fit.sigma,
                int(fit.steps[-1]),
                fit.seconds,
                fit.history,
                fit.steps,
            )
        )
    return rows
