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
* :func:`first_nonfinite`: the first record of a training run whose sigma is
  no longer finite.
* :func:`mean_abs_grad_sigma` and :func:`mse_between_widths`: why a large
  sigma needs more epochs.
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

from bumpbook.portability import perturb_rounding
from bumplib.data import unstable_interval
from bumplib.reference import bump, bump_grad_sigma
from bumplib.validation import check_count, check_range, check_sigma

__all__ = [
    "BadValueCounts",
    "LayerGradients",
    "band_fraction",
    "count_bad_values",
    "count_nonfinite",
    "edge_case_inputs",
    "first_nonfinite",
    "layer_gradients",
    "layer_inputs",
    "localized_task",
    "mean_abs_grad_sigma",
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


# --- training that fails ---------------------------------------------------------------------


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
    edges = np.linspace(low, high, check_count(num, "num") + 1)
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
    n = check_count(n, "n")
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
