"""Training loops compiled on TensorFlow: full-batch steps, and ``model.fit``'s epochs in XLA.

Keras's ``model.fit`` returns to its own bookkeeping between optimizer steps
(data iterator, metrics, callbacks), and under TensorFlow op determinism it
refuses ``jit_compile=True``. For the book's small models that bookkeeping
costs far more than the step itself. Both loops here train a compiled Keras
model (its optimizer, with its learning rate, step counter and the weights'
constraints; its loss averaged over the batch plus its regularization losses)
with the same step, many steps per ``tf.function`` call, and return a
:class:`~bumplib.SigmaHistory` filled as that callback fills it under
``model.fit``:

* :func:`~bumpbook.fit_full_batch`: every step on all the samples (or on a
  mini-batch drawn with replacement), ``block`` steps per call, with XLA if
  asked (``jit_compile``, which TensorFlow allows under op determinism);
  each record holds the loss on all the data.
* :func:`~bumpbook.fit_compiled`: the training of ``model.fit(x, y,
  batch_size=..., epochs=..., shuffle=True)``, one XLA while-loop per epoch: a
  fresh shuffle of the samples every epoch, batches of ``batch_size`` with a
  smaller last batch, and the epoch's loss as Keras reports it (the batch
  losses averaged with the batch sizes as weights). Only the order of the
  samples differs from ``model.fit`` (NumPy's generator shuffles here,
  TensorFlow's there), so a run follows a different but equally valid path.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from bumpbook.tensorflow_only import require_tensorflow
from bumplib.backend import tf
from bumplib.callbacks import SigmaHistory, find_bump_layer
from bumplib.validation import check_count

__all__ = ["fit_compiled", "fit_full_batch"]


def _prepared(model: keras.Model, x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Check the backend, the model and the samples; return ``x`` and ``y`` as float32 arrays.

    Also builds the optimizer's variables (as ``model.fit`` does before its first
    step): created outside the loop's ``tf.function``, they do not make it trace twice.
    """
    require_tensorflow("this training loop", "model.fit")
    if not isinstance(model, keras.Model) or not getattr(model, "compiled", False):
        raise ValueError("model must be a compiled Keras model: call model.compile(...) first.")
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)
    if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(
            f"x and y must hold the same number (>= 1) of samples along their first axis, "
            f"got shapes {x.shape} and {y.shape}."
        )
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    return x, y


def _gradient_step(model: keras.Model, xb: Any, yb: Any) -> Any:
    """Take one step of ``model``'s optimizer on a batch; return the batch's loss.

    The loss is the model's loss averaged over the batch, plus the model's
    regularization losses, as ``model.fit`` computes it. Call it inside a
    ``tf.function``.
    """
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        loss = keras.ops.mean(keras.losses.get(model.loss)(yb, model(xb, training=True)))
        if model.losses:
            loss = loss + keras.ops.sum(model.losses)
    model.optimizer.apply(tape.gradient(loss, variables), variables)
    return loss


def fit_full_batch(
    model: keras.Model,
    x: ArrayLike,
    y: ArrayLike,
    *,
    steps: int = 500,
    block: int = 25,
    batch_size: int | None = None,
    seed: int = 0,
    jit_compile: bool = False,
) -> SigmaHistory:
    """Train a compiled ``model`` for ``steps`` full-batch steps, ``block`` steps per call.

    Args:
        model: A compiled Keras model (``model.compile(optimizer, loss)``); trained in place.
        x: Inputs, first axis the samples.
        y: Targets, first axis the samples.
        steps: Optimizer steps; a multiple of ``block``.
        block: Steps per ``tf.function`` call, and between two records.
        batch_size: ``None`` for full-batch steps, or the size of a mini-batch
            drawn with replacement for each step.
        seed: Seeds Keras, TensorFlow and the mini-batch draws.
        jit_compile: Compile the loop with XLA.

    Returns:
        A :class:`~bumplib.SigmaHistory`: the widths of the model's first bump
        layer (none where it has none) and the loss on all the data, at the
        start and after each ``block`` of steps.

    Raises:
        RuntimeError: on a Keras backend other than TensorFlow.
        ValueError: for a model that is not compiled, samples that do not
            match, or bad counts.
    """
    x, y = _prepared(model, x, y)
    steps, block = check_count(steps, "steps"), check_count(block, "block")
    if steps % block:
        raise ValueError(f"steps ({steps}) must be a multiple of block ({block}).")
    if batch_size is not None:
        batch_size = check_count(batch_size, "batch_size (None for full batches)")
    keras.utils.set_random_seed(seed)
    x_all, y_all = tf.constant(x), tf.constant(y)
    draws = tf.random.Generator.from_seed(seed)
    try:
        layer = find_bump_layer(model)
    except ValueError:  # a model without a bump layer: losses only
        layer = None

    @tf.function(jit_compile=jit_compile)
    def train_block() -> None:
        for _ in tf.range(block):
            if batch_size is None:
                _gradient_step(model, x_all, y_all)
            else:
                index = draws.uniform([batch_size], 0, x.shape[0], dtype=tf.int64)
                _gradient_step(model, tf.gather(x_all, index), tf.gather(y_all, index))

    loss_fn = keras.losses.get(model.loss)
    full_loss = tf.function(lambda: keras.ops.mean(loss_fn(y_all, model(x_all))))
    history = SigmaHistory(layer)
    for done in range(0, steps + 1, block):
        if done:
            train_block()
        sigma = [] if layer is None else layer.get_sigma()
        history.add_record(sigma, float(full_loss()), done)
    return history


def batch_runner(model: keras.Model) -> Any:
    """Return the XLA loop over the batches ``xs[k], ys[k]`` of one shape.

    It returns the running sums of the weighted loss and of the weights.
    """

    @tf.function(jit_compile=True, reduce_retracing=True)
    def run(xs: Any, ys: Any, loss_sum: Any, weight_sum: Any) -> tuple[Any, Any]:
        size = tf.cast(tf.shape(xs)[1], tf.float32)

        def step(k: Any, loss_sum: Any, weight_sum: Any) -> tuple[Any, Any, Any]:
            loss = _gradient_step(model, xs[k], ys[k])
            return k + 1, loss_sum + loss * size, weight_sum + size

        _, loss_sum, weight_sum = tf.while_loop(
            lambda k, *_: k < tf.shape(xs)[0], step, (tf.constant(0), loss_sum, weight_sum)
        )
        return loss_sum, weight_sum

    return run


def fit_compiled(
    model: keras.Model,
    x: ArrayLike,
    y: ArrayLike,
    *,
    batch_size: int = 32,
    epochs: int = 1,
    seed: int = 0,
    layer: keras.layers.Layer | None = None,
) -> SigmaHistory:
    """Train a compiled Keras ``model`` like ``model.fit`` does, one XLA loop per epoch.

    Args:
        model: A compiled Keras model (``model.compile(optimizer, loss)``) that
            holds a bump layer; TensorFlow backend.
        x: Inputs, first axis the samples.
        y: Targets, first axis the samples.
        batch_size: Samples per optimizer step; the last batch of an epoch
            holds the rest.
        epochs: Passes over the data.
        seed: Seed of the per-epoch shuffles.
        layer: The bump layer to record; by default the model's first one.

    Returns:
        A :class:`~bumplib.SigmaHistory` with the records, as if it had been a
        callback of ``model.fit``: the first record is the state before
        training (loss ``nan``); each loss is the epoch's running mean.

    Raises:
        RuntimeError: on a Keras backend other than TensorFlow.
        ValueError: for a model that is not compiled, samples that do not
            match, or a non-positive ``batch_size`` or ``epochs``.
    """
    x, y = _prepared(model, x, y)
    batch_size, epochs = check_count(batch_size, "batch_size"), check_count(epochs, "epochs")
    layer = find_bump_layer(model) if layer is None else layer
    history = SigmaHistory(layer)
    n = x.shape[0]
    full, rest = divmod(n, batch_size)
    run = batch_runner(model)
    rng = np.random.default_rng(seed)
    history.add_record(layer.get_sigma(), math.nan, 0)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n)
        xs, ys = x[order], y[order]
        loss_sum = weight_sum = tf.constant(0.0)
        for start, count, size in ((0, full, batch_size), (full * batch_size, 1, rest)):
            if count and size:
                end = start + count * size
                loss_sum, weight_sum = run(
                    tf.constant(xs[start:end].reshape(count, size, *x.shape[1:])),
                    tf.constant(ys[start:end].reshape(count, size, *y.shape[1:])),
                    loss_sum,
                    weight_sum,
                )
        steps = epoch * (full + (rest > 0))
        history.add_record(layer.get_sigma(), float(loss_sum / weight_sum), steps)
    return history
