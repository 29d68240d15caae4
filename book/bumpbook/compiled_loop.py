"""``model.fit``'s mini-batch training, compiled by XLA into one loop per epoch (TensorFlow).

Keras's ``model.fit`` returns to its own bookkeeping between optimizer steps
(data iterator, metrics, callbacks). For the one-parameter models of the book
that bookkeeping costs far more than the step itself: about 0.5 ms a step
with ``steps_per_execution``, against a few microseconds of arithmetic. And
under TensorFlow op determinism Keras refuses ``jit_compile=True``.

:func:`~bumpbook.fit_compiled` runs the same training as ``model.fit(x, y,
batch_size=..., epochs=..., shuffle=True)``: the model's own optimizer (its
update rule, learning rate, step counter and the weights' constraints), the
model's loss averaged over each batch plus the model's regularization
losses, a fresh shuffle of the samples every epoch, batches of ``batch_size``
with a smaller last batch, and the epoch's loss reported as Keras reports it
(the batch losses averaged with the batch sizes as weights). The steps of one
epoch run inside one ``tf.function(jit_compile=True)`` while-loop, which
TensorFlow allows under op determinism. Only the order of the samples differs
from ``model.fit`` (NumPy's generator shuffles here, TensorFlow's there), so a
run follows a different but equally valid path and lands on the same result
to the resolution the training itself determines.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from bumplib.backend import require_tensorflow, tf
from bumplib.callbacks import SigmaHistory, find_bump_layer

__all__ = ["batch_runner", "fit_compiled"]


def _check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` if it is an integer ``>= 1``, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def batch_runner(
    model: keras.Model, layer: keras.layers.Layer, every_step: bool, stop_when_nonfinite: bool
) -> Any:
    """Return the compiled loop over the batches ``xs[k], ys[k]`` of one shape.

    It returns the steps done, the running sums of the weighted loss and of
    the weights, and (when ``every_step``) sigma and the running loss after
    each step.
    """
    loss_fn = keras.losses.get(model.loss)
    variables = model.trainable_variables
    optimizer = model.optimizer

    @tf.function(jit_compile=True, reduce_retracing=True)
    def run(xs: Any, ys: Any, loss_sum: Any, weight_sum: Any) -> tuple[Any, ...]:
        count = tf.shape(xs)[0]
        size = tf.cast(tf.shape(xs)[1], tf.float32)
        sigma_size = tf.size(layer.sigma_tensor())
        sigmas = tf.TensorArray(tf.float32, size=count if every_step else 0, dynamic_size=False)
        losses = tf.TensorArray(tf.float32, size=count if every_step else 0, dynamic_size=False)

        def keep_going(k: Any, *_: Any) -> Any:
            more = k < count
            if stop_when_nonfinite:
                more = tf.logical_and(more, tf.reduce_all(tf.math.is_finite(layer.sigma_tensor())))
            return more

        def step(k: Any, loss_sum: Any, weight_sum: Any, sigmas: Any, losses: Any) -> tuple:
            with tf.GradientTape() as tape:
                predictions = model(xs[k], training=True)
                loss = keras.ops.mean(loss_fn(ys[k], predictions))
                if model.losses:
                    loss = loss + keras.ops.sum(model.losses)
            optimizer.apply(tape.gradient(loss, variables), variables)
            loss_sum = loss_sum + loss * size
            weight_sum = weight_sum + size
            if every_step:
                sigma = tf.reshape(tf.cast(layer.sigma_tensor(), tf.float32), [sigma_size])
                sigmas = sigmas.write(k, sigma)
                losses = losses.write(k, loss_sum / weight_sum)
            return k + 1, loss_sum, weight_sum, sigmas, losses

        done, loss_sum, weight_sum, sigmas, losses = tf.while_loop(
            keep_going, step, (tf.constant(0), loss_sum, weight_sum, sigmas, losses)
        )
        if every_step:
            return done, loss_sum, weight_sum, sigmas.stack(), losses.stack()
        return done, loss_sum, weight_sum

    return run


def fit_compiled(
    model: keras.Model,
    x: ArrayLike,
    y: ArrayLike,
    *,
    batch_size: int = 32,
    epochs: int = 1,
    seed: int = 0,
    every_step: bool = False,
    stop_when_nonfinite: bool = False,
    layer: keras.layers.Layer | None = None,
    until: Callable[[np.ndarray], bool] | None = None,
) -> SigmaHistory:
    """Train a compiled Keras ``model`` like ``model.fit`` does, one XLA loop per epoch.

    Args:
        model: A compiled Keras model (``model.compile(optimizer, loss)``) that
            holds a bump layer; TensorFlow backend.
        x: Inputs, first axis the samples.
        y: Targets, first axis the samples (``nan``/``inf`` allowed: some
            chapters train on them on purpose).
        batch_size: Samples per optimizer step; the last batch of an epoch
            holds the rest.
        epochs: Passes over the data.
        seed: Seed of the per-epoch shuffles.
        every_step: Record sigma and the loss after every optimizer step
            (as :class:`~bumplib.SigmaHistory` with ``every_n_batches=1`` does
            under ``model.fit``); by default once per epoch.
        stop_when_nonfinite: Stop right after the first step that leaves sigma
            ``nan`` or ``inf``.
        layer: The bump layer to record; by default the model's first one.
        until: Called after each epoch with the widths recorded so far (the
            ``sigmas`` array); training stops after the first epoch for which
            it returns True, as a callback that sets ``model.stop_training``
            would stop ``model.fit``.

    Returns:
        A :class:`~bumplib.SigmaHistory` with the records, as if it had been a
        callback of ``model.fit``: the first record is the state before
        training (loss ``nan``); each loss is the epoch's running mean.

    Raises:
        RuntimeError: on a Keras backend other than TensorFlow.
        ValueError: for a model that is not compiled, samples that do not
            match, or a non-positive ``batch_size`` or ``epochs``.
    """
    require_tensorflow("fit_compiled", "model.fit")
    if not isinstance(model, keras.Model) or not getattr(model, "compiled", False):
        raise ValueError("model must be a compiled Keras model: call model.compile(...) first.")
    batch_size = _check_positive_int(batch_size, "batch_size")
    epochs = _check_positive_int(epochs, "epochs")
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(
            f"x and y must hold the same number (>= 1) of samples along their first axis, "
            f"got shapes {x.shape} and {y.shape}."
        )
    layer = find_bump_layer(model) if layer is None else layer
    history = SigmaHistory(layer, every_n_batches=1 if every_step else None)
    n = x.shape[0]
    full, rest = divmod(n, batch_size)
    run = batch_runner(model, layer, every_step, stop_when_nonfinite)
    rng = np.random.default_rng(seed)
    steps = 0
    history.add_record(layer.get_sigma(), math.nan, steps)
    for _ in range(epochs):
        order = rng.permutation(n)
        xs, ys = x[order], y[order]
        pieces = []
        if full:
            pieces.append((xs[: full * batch_size], ys[: full * batch_size], full, batch_size))
        if rest:
            pieces.append((xs[full * batch_size :], ys[full * batch_size :], 1, rest))
        loss_sum = weight_sum = tf.constant(0.0)
        stopped = False
        for px, py, count, size in pieces:
            out = run(
                tf.constant(px.reshape(count, size, *x.shape[1:])),
                tf.constant(py.reshape(count, size, *y.shape[1:])),
                loss_sum,
                weight_sum,
            )
            done, loss_sum, weight_sum = int(out[0]), out[1], out[2]
            if every_step:
                for sigma, loss in zip(out[3].numpy()[:done], out[4].numpy()[:done], strict=True):
                    steps += 1
                    history.add_record(sigma, float(loss), steps)
            else:
                steps += done
            if done < count:
                stopped = True
                break
        if not every_step:
            history.add_record(layer.get_sigma(), float(loss_sum / weight_sum), steps)
        if stopped or (until is not None and until(history.sigmas)):
            break
    return history
