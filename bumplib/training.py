"""Recovering sigma from data: ``fit_sigma`` and the full-batch loop it trains with.

``fit_sigma`` is the recommended way to recover sigma from samples of a bump.
Its default, ``method="lm"``, is a least-squares fit (:mod:`bumplib.least_squares`)
that runs on every backend. Its ``method="adam"`` is gradient training of a bump
layer (TensorFlow only), with three changes from the 2020 answer's recipe that
make it fast and reliable for widths from 0.05 to 50:

1. a :class:`~bumplib.StableBumpLayer` with ``parametrization="log"``, so a
   step of the optimizer changes sigma by a *relative* amount;
2. full-batch gradients (the data are exact, so mini-batch noise buys
   nothing), in a compiled ``tf.function`` loop;
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
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from bumplib.backend import require_tensorflow, tf
from bumplib.callbacks import find_bump_layer
from bumplib.stable_layer import StableBumpLayer
from bumplib.validation import check_count, check_sigma

__all__ = ["FitResult", "LayerFit", "fit_full_batch", "fit_sigma", "make_recovery_optimizer"]


@dataclass(frozen=True)
class FitResult:
    """What a fit of sigma returns.

    Attributes:
        sigma: The learned width.
        history: Sigma at the start and after each epoch or block of steps.
        losses: Mean squared error at the same points (``nan`` at the start
            where the training loop does not measure it: the thread's recipe).
        steps: Optimizer steps taken at each point of ``history``.
        epochs: Passes over the data (fractional for ``fit_sigma`` with
            mini-batches; for ``method="lm"``, the model evaluations weighted
            by the share of the samples each used).
        seconds: Wall-clock time of the training loop or the fit.
        method: How sigma was fitted: ``"adam"`` (gradient training, also the
            thread's recipe) or ``"lm"`` (Levenberg-Marquardt,
            :func:`~bumplib.least_squares_sigma`).
        message: Why the fit stopped (``method="lm"``), or ``""``.
    """

    sigma: float
    history: np.ndarray
    losses: np.ndarray
    steps: np.ndarray = field(repr=False)
    epochs: float
    seconds: float
    method: str = "adam"
    message: str = ""


def make_recovery_optimizer(
    learning_rate: float, steps: int, beta_1: float = 0.5, beta_2: float = 0.5
) -> keras.optimizers.Adam:
    """Return :func:`~bumplib.fit_sigma`'s optimizer: Adam with short memories and a cosine decay.

    ``beta_1 = beta_2 = 0.5`` by default; the learning rate falls from
    ``learning_rate`` to ``1e-4`` of it along a cosine over ``steps`` steps.
    """
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=1e-4)
    return keras.optimizers.Adam(schedule, beta_1=beta_1, beta_2=beta_2)


@dataclass(frozen=True)
class LayerFit:
    """What :func:`fit_full_batch` returns.

    Attributes:
        layer: The trained layer or model (trained in place).
        losses: Mean squared error on all the data at the start and after
            each block of steps (``len(steps)`` values).
        steps: Optimizer steps taken at each record.
        sigmas: Widths of the (first) bump layer at each record, shape
            ``(records, n_sigma)``; ``(records, 0)`` when there is none.
    """

    layer: keras.layers.Layer = field(repr=False)
    losses: np.ndarray
    steps: np.ndarray = field(repr=False)
    sigmas: np.ndarray = field(repr=False)

    @property
    def loss(self) -> float:
        """The final mean squared error."""
        return float(self.losses[-1])


def _bump_layer_of(layer: keras.layers.Layer) -> keras.layers.Layer | None:
    """Return ``layer`` if it is a bump layer, else the model's first bump layer, or None."""
    try:
        return find_bump_layer(layer)
    except ValueError:
        return None


def fit_full_batch(
    layer: keras.layers.Layer,
    x: ArrayLike,
    y: ArrayLike,
    *,
    steps: int = 500,
    learning_rate: float = 0.1,
    beta_1: float = 0.5,
    beta_2: float = 0.5,
    block: int = 25,
    batch_size: int | None = None,
    seed: int = 0,
    jit_compile: bool = False,
) -> LayerFit:
    """Train any layer or model on ``(x, y)`` with Adam and the mean squared error.

    This is the training loop of :func:`fit_sigma`, for any Keras layer or
    model: every step uses all the data (or, with ``batch_size``, a
    mini-batch drawn with replacement), the optimizer is
    :func:`make_recovery_optimizer` with the given ``beta_1`` and ``beta_2``,
    and the loop runs as one ``tf.function`` per ``block`` of steps, far
    faster than ``model.fit`` with one batch per epoch.

    Args:
        layer: A layer or model; trained in place.
        x: Inputs, a finite float array whose first axis counts samples.
        y: Targets, finite, with the shape of ``layer(x)``.
        steps: Optimizer steps; a multiple of ``block``.
        learning_rate: Starting learning rate.
        beta_1: Adam's first-moment decay, in ``[0, 1)``.
        beta_2: Adam's second-moment decay, in ``[0, 1)``.
        block: Steps between two records (and two returns to Python).
        batch_size: ``None`` for full-batch steps, or the mini-batch size.
        seed: Seeds Keras, TensorFlow and the mini-batch draws.
        jit_compile: Compile the loop with XLA.

    Returns:
        A :class:`LayerFit`.

    Raises:
        ValueError: on non-finite data, mismatched shapes or bad settings.
        RuntimeError: on a Keras backend other than TensorFlow (the loop is a
            ``tf.function``); use ``model.fit`` with ``batch_size=len(x)`` there.
    """
    require_tensorflow(
        "fit_full_batch (a tf.function training loop)",
        "model.fit(x, y, batch_size=len(x)) with make_recovery_optimizer(...)",
    )
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0] or x.shape[0] < 1:
        raise ValueError(
            f"x and y must have the same number (>= 1) of samples on their first axis, "
            f"got shapes {x.shape} and {y.shape}."
        )
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite; filter out nan and inf first.")
    steps, block = check_count(steps, "steps"), check_count(block, "block")
    if steps % block:
        raise ValueError(f"steps ({steps}) must be a multiple of block ({block}).")
    if batch_size is not None:
        batch_size = check_count(batch_size, "batch_size (None for full batches)")
    if not (isinstance(learning_rate, numbers.Real) and 0 < learning_rate < math.inf):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}.")
    for name, value in (("beta_1", beta_1), ("beta_2", beta_2)):
        if not (isinstance(value, numbers.Real) and 0 <= value < 1):
            raise ValueError(f"{name} must be in [0, 1), got {value!r}.")

    keras.utils.set_random_seed(seed)
    x_all, y_all = tf.constant(x), tf.constant(y)
    output_shape = tuple(layer(x_all[:1]).shape[1:])  # builds the layer too
    if output_shape != y.shape[1:]:
        raise ValueError(
            f"the layer maps x of shape {x.shape} to samples of shape {output_shape}, "
            f"but y has samples of shape {y.shape[1:]}."
        )
    variables = layer.trainable_variables
    optimizer = make_recovery_optimizer(learning_rate, steps, beta_1, beta_2)
    optimizer.build(variables)
    watched = _bump_layer_of(layer)
    draws = tf.random.Generator.from_seed(seed)

    def mse(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        return tf.reduce_mean(tf.square(tf.cast(layer(xb), tf.float32) - yb))

    def batch() -> tuple[tf.Tensor, tf.Tensor]:
        if batch_size is None:
            return x_all, y_all
        index = draws.uniform([batch_size], 0, x.shape[0], dtype=tf.int64)
        return tf.gather(x_all, index), tf.gather(y_all, index)

    @tf.function(jit_compile=jit_compile)
    def train_block() -> None:
        for _ in tf.range(block):
            with tf.GradientTape() as tape:
                loss = mse(*batch())
            optimizer.apply(tape.gradient(loss, variables), variables)

    full_loss = tf.function(lambda: mse(x_all, y_all))
    losses: list[float] = []
    sigmas: list[Any] = []

    def record() -> None:
        losses.append(float(full_loss()))
        sigmas.append(watched.get_sigma().astype(np.float64) if watched is not None else [])

    record()
    for _ in range(steps // block):
        train_block()
        record()
    return LayerFit(
        layer=layer,
        losses=np.array(losses),
        steps=np.arange(0, steps + 1, block),
        sigmas=np.array(sigmas, dtype=np.float64).reshape(len(losses), -1),
    )


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
    jit_compile: bool | None = None,
) -> FitResult:
    """Recover sigma from samples ``y = phi_sigma(x)``.

    ``method="lm"`` (the default) is the tool for sigma alone: a
    Levenberg-Marquardt least-squares fit of ``log(sigma)`` with the
    closed-form ``d(phi)/d(sigma)`` of the stable bump, in ``keras.ops``
    (:func:`~bumplib.least_squares_sigma`). On 100k float32 samples with x in
    (-1, 1) it recovers every sigma in [0.03, 50] to a relative error below
    1e-6 from a start of 1, at least as fast as ``scipy.optimize.curve_fit``
    (``benchmarks/bench_recovery.py``).

    ``method="adam"`` trains a :class:`~bumplib.StableBumpLayer` (log
    parametrization) with Adam (``beta_1 = beta_2 = 0.5``) on the mean
    squared error, full batch, the learning rate decaying from
    ``learning_rate`` to ``1e-4`` of it along a cosine over ``steps`` steps:
    the way sigma is trained inside a network. With the defaults it recovers
    sigma from 0.05 to 50 to a relative error of about 1e-5 or better on such
    data.

    Args:
        x: Inputs, shape ``(n,)`` or ``(n, 1)``, finite.
        y: Targets of the same shape, finite.
        method: ``"lm"`` or ``"adam"``.
        initial_sigma: Starting width, ``> 0``.
        steps: ``"lm"``: the most iterations (default 100; each evaluates the
            model once). ``"adam"``: optimizer steps, a multiple of ``block``
            (default 500).
        seed: ``"adam"``: seeds Keras, TensorFlow and the mini-batch draws
            (``"lm"`` is deterministic and draws nothing).
        learning_rate: ``"adam"`` only: starting learning rate, applied to
            ``log(sigma)`` (default 0.1).
        batch_size: ``"adam"`` only: ``None`` for full-batch steps (the
            default), or the size of the mini-batch drawn (with replacement)
            for each step.
        block: ``"adam"`` only: steps between two records of ``history``
            (and between two returns to Python); default 25.
        jit_compile: ``"adam"`` only: compile the training loop with XLA
            (default False).

    Returns:
        A :class:`FitResult` whose ``sigma`` is finite and ``> 0``. For
        ``"lm"``, ``history`` and ``losses`` hold sigma and the mean squared
        error at each model evaluation (see
        :class:`~bumplib.LeastSquaresFit`) and ``steps`` counts them; for
        ``"adam"``, every ``block`` steps.

    Raises:
        ValueError: on bad data (shapes, nan or inf, targets no bump can fit)
            or settings (an unknown method, ``initial_sigma <= 0``, an
            Adam-only setting with ``"lm"``).
        RuntimeError: if the fit did not converge (``"lm"``) or left sigma
            non-finite (``"adam"``, never seen); the message says what to try.
    """
    from bumplib.least_squares import check_recovery_data, least_squares_sigma

    if method not in ("lm", "adam"):
        raise ValueError(
            f"method must be 'lm' (least squares, for sigma alone) or 'adam' (gradient "
            f"training, as inside a network), got {method!r}."
        )
    initial_sigma = check_sigma(initial_sigma, "initial_sigma", positive=True)
    if method == "lm":
        adam_only = {
            "learning_rate": learning_rate,
            "batch_size": batch_size,
            "block": block,
            "jit_compile": jit_compile,
        }
        given = [name for name, value in adam_only.items() if value is not None]
        if given:
            raise ValueError(
                f"{', '.join(given)}: for method='adam' only; method='lm' takes x, y, "
                "initial_sigma and steps (its most iterations)."
            )
        fit = least_squares_sigma(
            x, y, initial_sigma=initial_sigma, max_iterations=100 if steps is None else steps
        )
        return FitResult(
            sigma=fit.sigma,
            history=fit.history,
            losses=fit.costs,
            steps=np.arange(fit.evaluations),
            epochs=fit.passes,
            seconds=fit.seconds,
            method="lm",
            message=fit.message,
        )
    x, y = check_recovery_data(x, y)
    steps = 500 if steps is None else steps
    block = 25 if block is None else block
    layer = StableBumpLayer(initial_sigma=initial_sigma, parametrization="log")
    start = time.perf_counter()
    fit = fit_full_batch(
        layer,
        x,
        y,
        steps=steps,
        learning_rate=0.1 if learning_rate is None else learning_rate,
        block=block,
        batch_size=batch_size,
        seed=seed,
        jit_compile=bool(jit_compile),
    )
    seconds = time.perf_counter() - start
    history = fit.sigmas[:, 0]
    if not (math.isfinite(history[-1]) and math.isfinite(fit.losses[-1])):
        raise RuntimeError(
            f"Adam training left sigma = {history[-1]} (loss {fit.losses[-1]}); try a smaller "
            "learning_rate or method='lm', and please report this with the data."
        )
    n = x.shape[0]
    return FitResult(
        sigma=float(history[-1]),
        history=history,
        losses=fit.losses,
        steps=fit.steps,
        epochs=steps * (n if batch_size is None else batch_size) / n,
        seconds=seconds,
        method="adam",
    )
