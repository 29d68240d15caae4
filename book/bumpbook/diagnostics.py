"""Measurements behind chapters 3 and 4: bad data, bad gradients, slow training.

Each function answers one question that the stability chapter or the
exercises ask of a bump layer or of its training data:

* :func:`unfiltered_data`, :func:`count_bad_values` and :func:`band_fraction`:
  what ``y`` looks like when ``x`` is drawn *without*
  :func:`~bumplib.generate_data`'s filtering, how many of its values are
  ``nan``, ``inf`` or larger than 1, and how many should be.
* :func:`layer_gradients`, :func:`count_nonfinite` and
  :func:`edge_case_inputs`: a layer's output and its gradients with respect
  to ``x`` and ``sigma``, point by point, on inputs chosen to break it.
* :func:`fit_layer` and :func:`first_nonfinite`: a Keras fit with the
  thread's settings that records sigma after every step and stops as soon as
  sigma is no longer finite.
* :func:`mean_abs_grad_sigma`, :func:`asymptotic_mean_abs_grad_sigma`,
  :func:`mse_between_widths` and :func:`measure_epochs_to_converge`: why a
  large sigma needs more epochs.
* :func:`localized_task` and :func:`layer_inputs`: a small regression task
  for a model with a bump layer inside, and the values that reach that layer.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import keras
import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike, NDArray

from bumpbook.answer_recipe import answer_recipe_model, make_model
from bumpbook.compiled_loop import fit_compiled
from bumpbook.portability import perturb_rounding
from bumplib.callbacks import SigmaHistory
from bumplib.data import unstable_interval
from bumplib.reference import bump, bump_grad_sigma
from bumplib.validation import check_count, check_range, check_sigma

__all__ = [
    "BadValueCounts",
    "ConvergenceRun",
    "LayerGradients",
    "asymptotic_mean_abs_grad_sigma",
    "band_fraction",
    "count_bad_values",
    "count_nonfinite",
    "edge_case_inputs",
    "epochs_to_converge",
    "first_nonfinite",
    "fit_layer",
    "layer_gradients",
    "layer_inputs",
    "localized_task",
    "mean_abs_grad_sigma",
    "measure_epochs_to_converge",
    "mse_between_widths",
    "unfiltered_data",
]


# --- checking data ------------------------------------------------------------------------------


class BadValueCounts(NamedTuple):
    """How many values of an array are unusable as training targets.

    Attributes:
        total: Number of values.
        nan: Values that are ``nan``.
        inf: Values that are ``+inf`` or ``-inf``.
        huge: Finite values whose magnitude exceeds the threshold given to
            :func:`count_bad_values` (1 by default: a bump never exceeds
            ``exp(-1)``).

    """

    total: int
    nan: int
    inf: int
    huge: int

    @property
    def bad(self) -> int:
        """Values that are ``nan``, ``inf`` or huge."""
        return self.nan + self.inf + self.huge


def count_bad_values(y: ArrayLike, huge: float = 1.0) -> BadValueCounts:
    """Count the ``nan``, ``inf`` and huge (finite, ``|y| > huge``) values of ``y``.

    Args:
        y: Values of any shape and float dtype.
        huge: Threshold for a finite value to count as huge, ``> 0``. Every
            value of the bump is at most ``exp(-1)`` where the formula is
            usable, so the default 1 flags exactly the exploding values.

    Returns:
        The counts; the three kinds do not overlap.

    Raises:
        ValueError: if ``huge`` is not a finite number ``> 0``.

    """
    if not (isinstance(huge, (int, float)) and math.isfinite(huge) and huge > 0):
        raise ValueError(f"huge must be a finite number > 0, got {huge!r}.")
    values = np.asarray(y, dtype=np.float64)
    finite = np.isfinite(values)
    return BadValueCounts(
        total=int(values.size),
        nan=int(np.isnan(values).sum()),
        inf=int(np.isinf(values).sum()),
        huge=int((np.abs(values[finite]) > huge).sum()),
    )


def unfiltered_data(
    sigma: float,
    min_x: float = -1.0,
    max_x: float = 1.0,
    n: int = 10_000,
    seed: int | None = 0,
    grid: bool = False,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Return ``(x, y)`` with ``y = phi_sigma(x)`` and *no* filtering of the exploding band.

    This is the data a naive generator makes: unlike
    :func:`~bumplib.generate_data`, it keeps the points with ``sqrt(sigma) <
    |x| < sigma`` (for ``sigma > 1``), where ``y`` exceeds 1 and reaches
    ``inf``. ``y`` is computed in float64 by :func:`bumplib.bump` and then
    rounded to float32, the dtype a Keras model trains in, so every value
    above the largest float32 (about ``3.4e38``) becomes ``inf`` (silently:
    no NumPy warning is emitted).

    Args:
        sigma: The width, ``>= 0``.
        min_x: Lower end of the x range.
        max_x: Upper end of the x range, ``> min_x``.
        n: Number of points, ``>= 2`` for a grid and ``>= 1`` otherwise.
        seed: Seed of the uniform draw (ignored for a grid).
        grid: Evenly spaced points from ``min_x`` to ``max_x`` (both included)
            instead of uniform random ones in ``[min_x, max_x)``.

    Returns:
        ``x`` and ``y``, float32 arrays of shape ``(n, 1)``.

    Raises:
        ValueError: for a bad ``sigma``, range or ``n``.

    """
    sigma = check_sigma(sigma)
    min_x, max_x = check_range((min_x, max_x), "(min_x, max_x)")
    n = check_count(n, "n", 2 if grid else 1)
    if grid:
        x = np.linspace(min_x, max_x, n)
    else:
        x = np.random.default_rng(seed).uniform(min_x, max_x, size=n)
    x = x.astype(np.float32).reshape(n, 1)
    with np.errstate(over="ignore"):
        y = perturb_rounding(bump(x, sigma).astype(np.float32))
    return x, y


def band_fraction(sigma: float, min_x: float, max_x: float) -> float:
    """Return the share of ``[min_x, max_x]`` that lies in the band ``sqrt(sigma) < |x| < sigma``.

    For ``x`` uniform on that range, this is the expected share of samples
    whose ``y`` explodes (0 when ``sigma <= 1``: there is no band).
    """
    sigma = check_sigma(sigma)
    low, high = check_range((min_x, max_x), "(min_x, max_x)")
    band = unstable_interval(sigma)
    if band is None:
        return 0.0
    inner, outer = band
    covered = sum(
        max(0.0, min(b, high) - max(a, low)) for a, b in ((-outer, -inner), (inner, outer))
    )
    return covered / (high - low)


# --- a layer's values and gradients -------------------------------------------------------------


class LayerGradients(NamedTuple):
    """A bump layer's output and its gradients at each input point (float32 arrays).

    Attributes:
        x: The inputs, shape ``(n,)``.
        y: The layer's output at each input.
        dy_dx: ``d(y_i)/d(x_i)``.
        dy_dsigma: ``d(y_i)/d(w)`` for the layer's stored weight ``w``
            (``sigma`` itself unless the layer stores ``log(sigma)``).

    """

    x: NDArray[np.float32]
    y: NDArray[np.float32]
    dy_dx: NDArray[np.float32]
    dy_dsigma: NDArray[np.float32]


def layer_gradients(
    layer_class: type[keras.layers.Layer], x: ArrayLike, sigma: float, **layer_kwargs: Any
) -> LayerGradients:
    """Evaluate a bump layer of width ``sigma`` and both its gradients at every point of ``x``.

    A scalar-width layer shares one sigma among all inputs, so one backward
    pass only gives the *sum* of the ``d(y_i)/d(sigma)``. Here the layer is
    built with ``per_feature=True`` on a single sample whose features are the
    ``n`` points, every width set to ``sigma``: then ``d(sum(y))/d(sigma_i)``
    is exactly ``d(y_i)/d(sigma)``, and one backward pass gives all of them.
    The values are those of the scalar layer, since each output element sees
    one input and one (equal) width.

    Args:
        layer_class: A bump layer class, for example
            :class:`~bumpbook.AnswerBumpLayer` or :class:`~bumplib.StableBumpLayer`.
        x: Input points, any shape (flattened), finite or not.
        sigma: The width, ``>= 0``.
        **layer_kwargs: More constructor arguments of the layer.

    Returns:
        The points, the output and both gradients, each of shape ``(n,)``;
        ``nan`` and ``inf`` are kept as the layer produced them.

    """
    sigma = check_sigma(sigma)
    points = np.asarray(x, dtype=np.float32).ravel()
    if points.size == 0:
        raise ValueError("x must hold at least one point.")
    layer = layer_class(initial_sigma=sigma, per_feature=True, **layer_kwargs)
    inputs = tf.constant(points[None, :])
    layer.build(inputs.shape)
    weights = layer.trainable_variables
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        y = layer(inputs)
        total = tf.reduce_sum(y)
    dy_dx, dy_dw = tape.gradient(total, [inputs, weights[0]])
    return LayerGradients(
        x=points,
        y=np.asarray(y).ravel(),
        dy_dx=np.asarray(dy_dx).ravel(),
        dy_dsigma=np.asarray(dy_dw).ravel(),
    )


def edge_case_inputs(
    sigma: float, x_range: tuple[float, float] = (-5.0, 5.0), num: int = 100_001
) -> NDArray[np.float32]:
    """Return float32 inputs that probe every weak point of a bump layer of width ``sigma``.

    An even grid of ``num`` points over ``x_range``, then, with both signs:
    ``1e30`` and the largest float32, the support's edge ``sigma``, the
    singular point ``sqrt(sigma)``, the float32 neighbours of these two on
    either side, and 0.

    Returns:
        A 1-D float32 array of ``num + 18`` points (not sorted, may repeat).

    """
    sigma = check_sigma(sigma)
    low, high = check_range(x_range, "x_range")
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 2:
        raise ValueError(f"num must be an integer >= 2, got {num!r}.")
    f32 = np.float32
    edge, root = f32(sigma), f32(math.sqrt(sigma))
    special = [f32(1e30), np.finfo(f32).max, edge, root, f32(0.0)]
    special += [np.nextafter(v, f32(np.inf)) for v in (edge, root)]
    special += [np.nextafter(v, f32(0.0)) for v in (edge, root)]
    points = np.array(special, dtype=f32)
    grid = np.linspace(low, high, num).astype(f32)
    return np.concatenate([grid, points, -points])


def count_nonfinite(values: LayerGradients) -> dict[str, int]:
    """Return how many values of ``y``, ``dy_dx`` and ``dy_dsigma`` are ``nan`` or ``inf``."""
    return {
        name: int((~np.isfinite(getattr(values, name))).sum())
        for name in ("y", "dy_dx", "dy_dsigma")
    }


# --- training that may fail ---------------------------------------------------------------------


class _StopWhenSigmaNotFinite(keras.callbacks.Callback):
    """Stop training (silently) after the first step that leaves sigma ``nan`` or ``inf``."""

    def __init__(self, layer: keras.layers.Layer) -> None:
        super().__init__()
        self.layer = layer

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Check sigma after each step."""
        if not np.isfinite(self.layer.get_sigma()).all():
            self.model.stop_training = True


def fit_layer(
    layer: keras.layers.Layer,
    x: ArrayLike,
    y: ArrayLike,
    *,
    epochs: int,
    batch_size: int = 32,
    seed: int = 0,
    learning_rate: float | None = None,
    stop_when_nonfinite: bool = True,
    compiled: bool = True,
) -> SigmaHistory:
    """Train the one-layer model of the thread and record sigma after every optimizer step.

    The model is :func:`~bumpbook.make_model` (``Input((1,)) -> layer``, MSE,
    Adam with default settings unless ``learning_rate`` is given), trained by
    ``model.fit`` with shuffling, or (``compiled=True``, the default) by
    :func:`~bumpbook.fit_compiled`, which runs the same steps in one XLA loop
    per epoch. Unlike :func:`~bumpbook.fit_answer_recipe`,
    the data are not checked: ``y`` may hold ``inf``, which is the point of
    some exercises.

    Args:
        layer: A fresh bump layer with a scalar sigma.
        x: Inputs, shape ``(n, 1)``.
        y: Targets, shape ``(n, 1)``; may hold ``nan`` or ``inf``.
        epochs: Passes over the data, ``>= 1``.
        batch_size: Mini-batch size (32, Keras' default, in the thread).
        seed: Seeds Keras (and so the shuffling).
        learning_rate: Adam's learning rate; Keras' default 0.001 when None.
        stop_when_nonfinite: Stop right after the first step that leaves sigma
            ``nan`` or ``inf`` (nothing can bring it back), so a failing run
            costs no more time than it takes to fail.
        compiled: Train with :func:`~bumpbook.fit_compiled` instead of
            ``model.fit`` (the same steps, its own shuffle, many times faster).

    Returns:
        The :class:`~bumplib.SigmaHistory` that recorded the run:
        ``sigmas[k]`` and ``losses[k]`` after ``steps[k]`` steps, the first
        record being the state before training. Each loss is what Keras
        reports after that step: the mean of the batch losses of the epoch
        so far.

    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    keras.utils.set_random_seed(seed)
    model = make_model(layer, learning_rate=learning_rate)
    if compiled:
        return fit_compiled(
            model,
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            seed=seed,
            every_step=True,
            stop_when_nonfinite=stop_when_nonfinite,
            layer=layer,
        )
    history = SigmaHistory(layer, every_n_batches=1)
    callbacks: list[keras.callbacks.Callback] = [history]
    if stop_when_nonfinite:
        callbacks.append(_StopWhenSigmaNotFinite(layer))
    model.fit(
        np.asarray(x, dtype=np.float32),
        np.asarray(y, dtype=np.float32),
        batch_size=batch_size,
        epochs=epochs,
        verbose=0,
        callbacks=callbacks,
    )
    return history


def first_nonfinite(values: ArrayLike) -> int | None:
    """Return the index of the first ``nan`` or ``inf`` along the first axis, or None.

    For a 2-D array (records by widths), a row counts when any of its values
    is not finite.
    """
    array = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(array.reshape(len(array), -1)).all(axis=1) if array.size else []
    hits = np.flatnonzero(bad)
    return int(hits[0]) if hits.size else None


# --- why large sigma is slow --------------------------------------------------------------------


def _midpoints(x_range: tuple[float, float], num: int) -> NDArray[np.float64]:
    """Return ``num`` midpoints of an even split of ``x_range`` (its ends excluded)."""
    low, high = check_range(x_range, "x_range")
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
        raise ValueError(f"num must be a positive integer, got {num!r}.")
    edges = np.linspace(low, high, num + 1)
    return (edges[:-1] + edges[1:]) / 2


def mean_abs_grad_sigma(
    sigmas: ArrayLike, x_range: tuple[float, float] = (-1.0, 1.0), num: int = 20_000
) -> NDArray[np.float64]:
    """Return the mean of ``|d(phi)/d(sigma)|`` over ``x`` uniform in ``x_range``, for each sigma.

    This is the average size of the gradient that one sample gives sigma,
    when the layer's sigma equals the data's. It is computed from the float64
    reference :func:`bumplib.bump_grad_sigma` on ``num`` evenly spaced
    midpoints (a midpoint-rule integral).

    Args:
        sigmas: Widths ``>= 0``, any shape.
        x_range: ``(min, max)`` of the inputs; ``(-1, 1)`` in the thread.
        num: Number of points of the integral.

    Returns:
        An array of the shape of ``sigmas``.

    """
    s = np.asarray(sigmas, dtype=np.float64)
    x = _midpoints(x_range, num)
    return np.abs(bump_grad_sigma(x[:, None], s.ravel()[None, :])).mean(axis=0).reshape(s.shape)


def asymptotic_mean_abs_grad_sigma(
    sigmas: ArrayLike, x_range: tuple[float, float] = (-1.0, 1.0)
) -> NDArray[np.float64]:
    """Return ``exp(-1) * mean(x**2) / sigma**2``, the large-sigma limit of the mean gradient.

    For ``|x|`` much smaller than ``sqrt(sigma)``, ``phi -> exp(-1)`` and
    ``(sigma - x**2)**2 -> sigma**2``, so ``d(phi)/d(sigma) = phi * x**2 /
    (sigma - x**2)**2`` tends to ``exp(-1) * x**2 / sigma**2``. Averaged over
    ``x`` uniform in ``(a, b)``, ``mean(x**2) = (b**3 - a**3) / (3 (b - a))``
    (1/3 on ``(-1, 1)``).
    """
    low, high = check_range(x_range, "x_range")
    mean_x2 = (high**3 - low**3) / (3 * (high - low))
    s = np.asarray(sigmas, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return math.exp(-1.0) * mean_x2 / s**2


def mse_between_widths(
    sigma: ArrayLike,
    other: ArrayLike,
    x_range: tuple[float, float] = (-1.0, 1.0),
    num: int = 20_000,
) -> NDArray[np.float64]:
    """Return ``mean((phi_sigma(x) - phi_other(x))**2)`` over ``x`` uniform in ``x_range``.

    This is the loss (MSE) of a layer whose width is ``other`` on exact data
    of width ``sigma``: how much the loss rises when sigma is off. Both
    arguments broadcast against each other.
    """
    a, b = np.broadcast_arrays(np.asarray(sigma, np.float64), np.asarray(other, np.float64))
    x = _midpoints(x_range, num)[:, None]
    diff = bump(x, a.ravel()[None, :]) - bump(x, b.ravel()[None, :])
    return np.mean(diff**2, axis=0).reshape(a.shape)


def epochs_to_converge(history: ArrayLike, true_sigma: float, rtol: float = 0.01) -> int | None:
    """Return the first record index whose sigma is within ``rtol`` (relative) of ``true_sigma``.

    ``history[0]`` is sigma before training and ``history[k]`` sigma after
    ``k`` epochs, so the index is the number of epochs; None if no record
    gets that close (``nan`` never does).
    """
    true_sigma = check_sigma(true_sigma, "true_sigma", positive=True)
    values = np.asarray(history, dtype=np.float64).ravel()
    with np.errstate(invalid="ignore"):
        close = np.abs(values - true_sigma) <= rtol * true_sigma
    hits = np.flatnonzero(close)
    return int(hits[0]) if hits.size else None


class ConvergenceRun(NamedTuple):
    """How many epochs the thread's recipe needed to bring sigma within ``rtol`` of the truth.

    Attributes:
        true_sigma: The width the data were made with.
        epochs: Epochs until sigma was first within ``rtol``; None if it never
            was within ``max_epochs``.
        history: Sigma before training and after each epoch run.
        steps_per_epoch: Optimizer steps in one epoch.

    """

    true_sigma: float
    epochs: int | None
    history: NDArray[np.float64]
    steps_per_epoch: int


def measure_epochs_to_converge(
    x: ArrayLike,
    y: ArrayLike,
    true_sigma: float,
    *,
    rtol: float = 0.01,
    max_epochs: int = 100,
    batch_size: int = 32,
    seed: int = 0,
) -> ConvergenceRun:
    """Train sigma with the thread's recipe until it is within ``rtol`` of ``true_sigma``.

    The recipe is that of :func:`~bumpbook.fit_answer_recipe`: a
    :class:`~bumpbook.AnswerBumpLayer` starting from a width drawn uniformly in
    ``[0, 0.1]`` (from ``seed``), Adam with default settings, mini-batches of
    ``batch_size``, MSE. Only the number of epochs differs: training stops
    after the first epoch that ends with ``|sigma - true_sigma| <= rtol *
    true_sigma``, or after ``max_epochs``. The steps run in one XLA loop per
    epoch (:func:`~bumpbook.fit_compiled`).

    Returns:
        A :class:`ConvergenceRun`.

    """
    true_sigma = check_sigma(true_sigma, "true_sigma", positive=True)
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
        raise ValueError(f"max_epochs must be a positive integer, got {max_epochs!r}.")
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    layer, model = answer_recipe_model(seed)
    record = fit_compiled(
        model,
        x,
        y,
        batch_size=batch_size,
        epochs=max_epochs,
        seed=seed,
        layer=layer,
        until=lambda sigmas: epochs_to_converge(sigmas[:, 0], true_sigma, rtol) is not None,
    )
    history = record.sigmas[:, 0].astype(np.float64)
    return ConvergenceRun(
        true_sigma=true_sigma,
        epochs=epochs_to_converge(history, true_sigma, rtol),
        history=history,
        steps_per_epoch=math.ceil(len(x) / batch_size),
    )


# --- a model with a bump layer inside -----------------------------------------------------------


def localized_task(
    n: int = 2_000, x_range: tuple[float, float] = (-3.0, 3.0), seed: int = 0
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Return a small 2-D regression task whose target is made of two localized bumps.

    ``x`` is uniform in the square ``x_range**2`` and ``y = exp(-|x - (1, 0)|**2)
    - 0.7 exp(-2 |x - (-1, 1)|**2)``: a hill and a narrower dip, nearly 0 far
    from them, the kind of target a layer of local activations suits. The
    range is wider than ``(-1, 1)`` on purpose: the raw inputs are not
    confined there, only what a ``tanh`` layer passes on is.

    Returns:
        ``x`` of shape ``(n, 2)`` and ``y`` of shape ``(n, 1)``, float32.

    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    low, high = check_range(x_range, "x_range")
    x = np.random.default_rng(seed).uniform(low, high, size=(n, 2))
    hill = np.exp(-((x[:, 0] - 1.0) ** 2 + x[:, 1] ** 2))
    dip = 0.7 * np.exp(-2.0 * ((x[:, 0] + 1.0) ** 2 + (x[:, 1] - 1.0) ** 2))
    return x.astype(np.float32), (hill - dip).astype(np.float32)[:, None]


def layer_inputs(
    model: keras.Sequential, layer: keras.layers.Layer, x: ArrayLike
) -> NDArray[np.float32]:
    """Return the values that reach ``layer`` when the Sequential ``model`` is applied to ``x``.

    The model's layers before ``layer`` are applied in order, in inference
    mode, so the result is exactly the tensor ``layer`` receives.

    Raises:
        TypeError: if ``model`` is not a ``keras.Sequential``.
        ValueError: if ``layer`` is not one of its layers.

    """
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"model must be a keras.Sequential, got {type(model).__name__}.")
    values = tf.constant(np.asarray(x, dtype=np.float32))
    for candidate in model.layers:
        if candidate is layer:
            return np.asarray(values)
        values = candidate(values, training=False)
    raise ValueError(f"layer {layer.name!r} is not a layer of model {model.name!r}.")
