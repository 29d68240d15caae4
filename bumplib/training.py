"""Recovering sigma from data: ``fit_sigma``, by least squares or by Adam, on every backend.

``fit_sigma`` is the recommended way to recover sigma from samples of a bump.
Its default, ``method="lm"``, is a least-squares fit (:mod:`bumplib.least_squares`).
Its ``method="adam"`` trains a bump layer with ``model.fit``, as sigma is
trained inside a network, with three changes from the 2020 answer's recipe
that make it fast and reliable for widths from 0.05 to 50:

1. a :class:`~bumplib.StableBumpLayer` with ``parametrization="log"``, so a
   step of the optimizer changes sigma by a *relative* amount;
2. full-batch gradients (the data are exact, so mini-batch noise buys
   nothing), a block of steps per call into the compiled training step
   (``steps_per_execution``) where the backend allows it;
3. Adam with short memories (``beta_1 = beta_2 = 0.5``) and a cosine-decayed
   learning rate from 0.1: the gradient's size changes by orders of magnitude
   along the way to a large or small sigma, and Adam's default
   ``beta_2 = 0.999`` remembers the early, large gradients and shrinks the
   later steps.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Iterator

import keras
import numpy as np
from numpy.typing import ArrayLike

from bumplib.backend import backend_name, tf
from bumplib.callbacks import SigmaHistory
from bumplib.least_squares import FitResult, check_recovery_data, least_squares_sigma
from bumplib.stable_layer import StableBumpLayer
from bumplib.validation import check_count, check_sigma

__all__ = ["fit_sigma", "make_recovery_optimizer"]


def make_recovery_optimizer(
    learning_rate: float, steps: int, beta_1: float = 0.5, beta_2: float = 0.5
) -> keras.optimizers.Adam:
    """Return :func:`~bumplib.fit_sigma`'s optimizer: Adam with short memories and a cosine decay.

    ``beta_1 = beta_2 = 0.5`` by default; the learning rate falls from
    ``learning_rate`` to ``1e-4`` of it along a cosine over ``steps`` steps.

    Raises:
        ValueError: for a learning rate that is not a positive number, ``steps``
            that is not an integer ``>= 1``, or a ``beta`` outside ``[0, 1)``.
    """
    if not (isinstance(learning_rate, numbers.Real) and 0 < learning_rate < math.inf):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}.")
    for name, value in (("beta_1", beta_1), ("beta_2", beta_2)):
        if not (isinstance(value, numbers.Real) and 0 <= value < 1):
            raise ValueError(f"{name} must be in [0, 1), got {value!r}.")
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate, check_count(steps, "steps"), alpha=1e-4
    )
    return keras.optimizers.Adam(schedule, beta_1=beta_1, beta_2=beta_2)


def fit_sigma(
    x: ArrayLike,
    y: ArrayLike,
    *,
    method: str = "lm",
    initial_sigma: float = 1.0,
    steps: int | None = None,
    seed: int = 0,
    learning_rate: float | None = None,
    batch_size: int | None = None,
    block: int | None = None,
) -> FitResult:
    """Recover sigma from samples ``y = phi_sigma(x)``.

    ``method="lm"`` (the default), the tool for sigma alone, is
    :func:`~bumplib.least_squares_sigma`: on 100k float32 samples, x in (-1, 1), it
    recovers every sigma in [0.03, 50] to a relative error below 1e-6 from a start of
    1, at least as fast as ``scipy.optimize.curve_fit`` (``benchmarks/bench_recovery.py``).
    ``method="adam"`` trains a layer with ``model.fit`` (the module's recipe, on the mean
    squared error), as sigma is trained inside a network: to about 1e-5 or better for
    sigma from 0.05 to 50 on such data, on every backend.

    Args:
        x: Inputs, shape ``(n,)`` or ``(n, 1)``, finite.
        y: Targets of the same shape, finite.
        method: ``"lm"`` or ``"adam"``.
        initial_sigma: Starting width, ``> 0``.
        steps: ``"lm"``: the most iterations (default 100; each evaluates the
            model once). ``"adam"``: optimizer steps, a multiple of ``block``
            (default 500).
        seed: ``"adam"``: seeds Keras and the mini-batch draws (``"lm"`` is
            deterministic and draws nothing).
        learning_rate: ``"adam"`` only: starting learning rate, applied to
            ``log(sigma)`` (default 0.1).
        batch_size: ``"adam"`` only: ``None`` for full-batch steps (the
            default), or the size of the mini-batch drawn (with replacement)
            for each step.
        block: ``"adam"`` only: steps between two records of ``history``
            (one epoch of ``model.fit``, and one call into its compiled step
            on TensorFlow and JAX; PyTorch's trainer takes one step per call);
            default 25.

    Returns:
        A :class:`FitResult` whose ``sigma`` is finite and ``> 0``. For
        ``"lm"``, ``history`` and ``losses`` hold sigma and the mean squared
        error at each model evaluation; for ``"adam"``, every ``block`` steps.

    Raises:
        ValueError: on bad data (shapes, nan or inf, targets no bump can fit)
            or settings (an unknown method, ``initial_sigma <= 0``, an
            Adam-only setting with ``"lm"``).
        RuntimeError: if the fit did not converge (``"lm"``) or left sigma
            non-finite (``"adam"``, never seen); the message says what to try.
    """
    if method not in ("lm", "adam"):
        raise ValueError(
            f"method must be 'lm' (least squares, for sigma alone) or 'adam' (gradient "
            f"training, as inside a network), got {method!r}."
        )
    initial_sigma = check_sigma(initial_sigma, "initial_sigma", positive=True)
    if method == "lm":
        adam_only = {"learning_rate": learning_rate, "batch_size": batch_size, "block": block}
        given = [name for name, value in adam_only.items() if value is not None]
        if given:
            raise ValueError(
                f"{', '.join(given)}: for method='adam' only; method='lm' takes x, y, "
                "initial_sigma and steps (its most iterations)."
            )
        return least_squares_sigma(
            x, y, initial_sigma=initial_sigma, max_iterations=100 if steps is None else steps
        )
    x, y = check_recovery_data(x, y)
    steps = check_count(500 if steps is None else steps, "steps")
    block = check_count(25 if block is None else block, "block")
    if steps % block:
        raise ValueError(f"steps ({steps}) must be a multiple of block ({block}).")
    if batch_size is not None:
        batch_size = check_count(batch_size, "batch_size (None for full batches)")
    optimizer = make_recovery_optimizer(0.1 if learning_rate is None else learning_rate, steps)

    keras.utils.set_random_seed(seed)
    layer = StableBumpLayer(initial_sigma=initial_sigma, parametrization="log")
    model = keras.Sequential([keras.Input((1,)), layer])
    per_call = 1 if backend_name() == "torch" else block  # PyTorch's trainer: one step a call
    model.compile(optimizer=optimizer, loss="mse", steps_per_execution=per_call)
    if batch_size is None and backend_name() == "tensorflow":
        batches = tf.data.Dataset.from_tensors((x, y)).repeat()  # no Python between steps
    else:
        draws = np.random.default_rng(seed)

        def batches_for_ever() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            while True:
                pick = (
                    slice(None) if batch_size is None else draws.integers(len(x), size=batch_size)
                )
                yield x[pick], y[pick]

        batches = batches_for_ever()
    record = SigmaHistory(layer)
    start = time.perf_counter()
    epochs = steps // block
    model.fit(
        batches, steps_per_epoch=block, epochs=epochs, shuffle=False, verbose=0, callbacks=[record]
    )
    seconds = time.perf_counter() - start
    history = record.sigmas[:, 0].astype(np.float64)
    if not (math.isfinite(history[-1]) and math.isfinite(record.losses[-1])):
        raise RuntimeError(
            f"Adam training left sigma = {history[-1]} (loss {record.losses[-1]}); try a smaller "
            "learning_rate or method='lm', and please report this with the data."
        )
    return FitResult(
        sigma=float(history[-1]),
        history=history,
        losses=record.losses,
        steps=record.steps,
        epochs=steps * (len(x) if batch_size is None else batch_size) / len(x),
        seconds=seconds,
        method="adam",
    )
