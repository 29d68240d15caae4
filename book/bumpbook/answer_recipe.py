"""The accepted answer's training recipe: its one-layer model, its epochs, and a timed fit.

``make_model`` and ``fit_answer_recipe`` reproduce what the 2020 thread's
accepted answer did to recover sigma; the book measures them against
:func:`bumplib.fit_sigma`, the recommended way.
"""

from __future__ import annotations

import math
import numbers
import time

import keras
import numpy as np
from numpy.typing import ArrayLike

from bumpbook.answer_layers import AnswerBumpLayer
from bumpbook.compiled_loop import fit_compiled
from bumplib import FitResult, SigmaHistory
from bumplib.validation import check_sigma

__all__ = ["answer_epochs", "answer_recipe_model", "fit_answer_recipe", "make_model"]


def make_model(
    layer: keras.layers.Layer,
    input_shape: tuple[int, ...] = (1,),
    optimizer: str | keras.optimizers.Optimizer = "adam",
    learning_rate: float | None = None,
    steps_per_execution: int = 1,
) -> keras.Sequential:
    """Return the thread's model: ``Input(input_shape) -> layer``, compiled with MSE.

    Args:
        layer: A (fresh) bump layer.
        input_shape: Shape of one sample, ``(1,)`` in the thread.
        optimizer: Optimizer name or instance (Adam with defaults in the thread).
        learning_rate: Overrides the optimizer's learning rate when given.
        steps_per_execution: Optimizer steps per call into the compiled
            training graph (Keras' ``compile`` argument): the same steps,
            less Python overhead per step.
    """
    if not isinstance(layer, keras.layers.Layer):
        raise TypeError(f"layer must be a Keras layer, got {type(layer).__name__}.")
    optimizer = keras.optimizers.get(optimizer)
    if learning_rate is not None:
        if not (isinstance(learning_rate, numbers.Real) and 0 < learning_rate < math.inf):
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}.")
        optimizer.learning_rate = learning_rate
    model = keras.Sequential([keras.Input(shape=input_shape), layer])
    model.compile(optimizer=optimizer, loss="mse", steps_per_execution=steps_per_execution)
    return model


def answer_epochs(sigma: float) -> int:
    """The answer's rule: ``3 if sigma < 1 else (5 if sigma < 5 else 10)`` epochs."""
    return 3 if sigma < 1 else (5 if sigma < 5 else 10)


def _check_xy(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return ``x`` and ``y`` as finite float32 arrays of shape ``(n, 1)``."""
    arrays = []
    for name, a in (("x", x), ("y", y)):
        a = np.asarray(a, dtype=np.float32)
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[1] != 1 or a.shape[0] < 1:
            raise ValueError(
                f"{name} must hold n >= 1 scalar samples, shape (n,) or (n, 1); got {a.shape}."
            )
        if not np.isfinite(a).all():
            raise ValueError(
                f"{name} has {int((~np.isfinite(a)).sum())} nan or inf values; filter them "
                "out first (generate_data never returns any)."
            )
        arrays.append(a)
    if arrays[0].shape[0] != arrays[1].shape[0]:
        raise ValueError(f"x has {arrays[0].shape[0]} samples but y has {arrays[1].shape[0]}.")
    return arrays[0], arrays[1]


def answer_recipe_model(
    seed: int = 0, steps_per_execution: int = 1
) -> tuple[AnswerBumpLayer, keras.Sequential]:
    """Return the thread's starting point: a ``AnswerBumpLayer`` and its compiled model.

    The initial sigma is drawn uniformly from ``[0, 0.1]`` with ``seed``, and
    Keras is seeded with it too; the model is :func:`make_model`'s (Adam with
    default settings, MSE).
    """
    keras.utils.set_random_seed(seed)
    layer = AnswerBumpLayer(initial_sigma=float(np.random.default_rng(seed).uniform(0.0, 0.1)))
    return layer, make_model(layer, steps_per_execution=steps_per_execution)


def fit_answer_recipe(
    x: ArrayLike,
    y: ArrayLike,
    true_sigma: float,
    *,
    seed: int = 0,
    verbose: int = 0,
    steps_per_execution: int = 1,
    compiled: bool = False,
) -> FitResult:
    """Train sigma the way the accepted answer did, and time it.

    ``AnswerBumpLayer`` with an initial sigma drawn uniformly from ``[0, 0.1]``,
    Adam with default settings, batch size 32, ``answer_epochs(true_sigma)``
    epochs. ``history`` holds sigma after each epoch. ``steps_per_execution``
    (see :func:`make_model`) runs the same optimizer steps with less Python
    overhead; the default, 1, is what the thread did. ``compiled=True`` runs
    as many steps (same model, optimizer, batch size and epochs) in one XLA
    loop per epoch with :func:`~bumpbook.fit_compiled`. That loop shuffles the
    samples with its own generator, so its steps, and sigma between epochs,
    differ from ``model.fit``'s; whether it saves time depends on the length
    of the run, since XLA compiles first (``benchmarks/bench_recovery.py``
    prints both).
    """
    x, y = _check_xy(x, y)
    if not isinstance(compiled, bool):
        raise TypeError(f"compiled must be True or False, got {compiled!r}.")
    layer, model = answer_recipe_model(seed, steps_per_execution)
    epochs = answer_epochs(check_sigma(true_sigma, "true_sigma"))
    start = time.perf_counter()
    if compiled:
        record = fit_compiled(model, x, y, batch_size=32, epochs=epochs, seed=seed, layer=layer)
    else:
        record = SigmaHistory(layer)
        model.fit(x, y, batch_size=32, epochs=epochs, verbose=verbose, callbacks=[record])
    seconds = time.perf_counter() - start
    return FitResult(
        sigma=float(layer.get_sigma()[0]),
        history=record.sigmas[:, 0],
        losses=record.losses,
        steps=np.arange(epochs + 1) * math.ceil(x.shape[0] / 32),
        epochs=float(epochs),
        seconds=seconds,
        method="adam",
    )
