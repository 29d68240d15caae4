"""Comparisons beyond the thread: bump against Gaussian, many widths at once, bumps in a network.

The other answer of the thread proposed a Gaussian ``a * exp(-b * (x - c)**2)``
instead of the bump. To compare the two fairly, both need the same freedom:
:class:`~bumplib.ScaledBumpLayer` gives the stable bump a trainable height and centre,
``a * phi_sigma(x - c)``, so that it has three parameters like
:class:`~bumplib.GaussianBumpLayer`. Both are trained by :func:`~bumplib.fit_full_batch`, the
same full-batch loop for every layer or model, on data of either family
(:func:`generate_gaussian_data`, :func:`bumplib.generate_data`).
:func:`width_gradient` computes how each family's output changes with its width
across ``x``. :func:`generate_per_feature_data`, :func:`generate_localized_data`
and :func:`make_dense_model` serve the last part of chapter 5: several widths
learned in one fit, and the bump as a localized activation inside a network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import keras
import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike, NDArray

from bumpbook.models import make_localized_model
from bumpbook.portability import perturb_rounding
from bumplib.reference import bump
from bumplib.stable_layer import stable_bump
from bumplib.validation import check_count, check_range, check_sigma, check_sigma_values

__all__ = [
    "adam_step_sizes",
    "gaussian",
    "generate_gaussian_data",
    "generate_localized_data",
    "generate_per_feature_data",
    "layer_parameters",
    "localized_target",
    "make_dense_model",
    "place_hidden_units",
    "width_gradient",
]

Family = Literal["bump", "gaussian"]


def adam_step_sizes(
    gradients: ArrayLike,
    learning_rate: float = 1e-3,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
) -> NDArray[np.float64]:
    """Return how far Adam moves one scalar weight at each step, given its gradients.

    Applies Keras' Adam to a single float64 weight, feeding it ``gradients``
    one by one, and records ``|change of the weight|`` at each step. With the
    defaults this is the thread's optimizer. It shows two facts about Adam
    that decide how fast sigma trains: a step is about ``learning_rate`` long
    whatever the gradient's size (Adam divides by the gradient's running
    root mean square), and after the gradients shrink, a long memory
    (``beta_2`` close to 1) keeps the old, large ones in that mean, so the
    steps stay short for a long time.

    Args:
        gradients: The gradient at each step, a flat sequence of finite numbers.
        learning_rate: Adam's learning rate, ``> 0``.
        beta_1: First-moment decay, in ``[0, 1)``.
        beta_2: Second-moment decay, in ``[0, 1)``.

    Returns:
        The step lengths, one per gradient.

    Raises:
        ValueError: for an empty or non-finite ``gradients`` or bad settings.

    """
    grads = np.asarray(gradients, dtype=np.float64).ravel()
    if grads.size == 0 or not np.isfinite(grads).all():
        raise ValueError("gradients must be a non-empty sequence of finite numbers.")
    if not (isinstance(learning_rate, (int, float)) and 0 < learning_rate < math.inf):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}.")
    for name, value in (("beta_1", beta_1), ("beta_2", beta_2)):
        if not (isinstance(value, (int, float)) and 0 <= value < 1):
            raise ValueError(f"{name} must be in [0, 1), got {value!r}.")
    weight = keras.Variable(0.0, dtype="float64", name="weight")
    optimizer = keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2)
    optimizer.build([weight])

    @tf.function
    def step(gradient: tf.Tensor) -> tf.Tensor:
        before = tf.identity(weight.value)
        optimizer.apply([gradient], [weight])
        return tf.abs(weight.value - before)

    return np.array([float(step(tf.constant(g, tf.float64))) for g in grads])


def gaussian(x: ArrayLike, height: float, inverse_width: float, center: float) -> NDArray:
    """Return ``height * exp(-inverse_width * (x - center)**2)`` in float64.

    The NumPy reference of :class:`~bumplib.GaussianBumpLayer`; its width
    ``sigma = 1 / sqrt(inverse_width)``.

    Raises:
        ValueError: for an ``inverse_width`` that is negative or not finite.

    """
    if not (math.isfinite(inverse_width) and inverse_width >= 0):
        raise ValueError(f"inverse_width must be finite and >= 0, got {inverse_width!r}.")
    x = np.asarray(x, dtype=np.float64)
    return height * np.exp(-inverse_width * np.square(x - center))


def generate_gaussian_data(
    height: float,
    inverse_width: float,
    center: float,
    min_x: float = -1.0,
    max_x: float = 1.0,
    n: int = 100_000,
    seed: int | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Sample ``x`` uniformly in ``[min_x, max_x)`` and return ``(x, y)``, Gaussian targets.

    ``y = height * exp(-inverse_width * (x - center)**2)`` from the float64
    reference :func:`gaussian` at the float32 ``x`` returned; both arrays
    have shape ``(n, 1)`` and dtype float32. The same ``seed`` gives the same
    data (the same ``x`` as :func:`bumplib.generate_data` with that seed and
    range, when no band is dropped there).

    Raises:
        ValueError: for a bad range, ``n < 1`` or a bad ``inverse_width``.

    """
    check_range((min_x, max_x), "(min_x, max_x)")
    n = check_count(n, "n")
    x = np.random.default_rng(seed).uniform(min_x, max_x, size=n).astype(np.float32)
    x = x.reshape(n, 1)
    return x, perturb_rounding(gaussian(x, height, inverse_width, center).astype(np.float32))


def layer_parameters(layer: keras.layers.Layer) -> dict[str, NDArray[np.float64]]:
    """Return the interpretable parameters of a bump layer as float64 arrays.

    ``"sigma"`` (the width, from ``get_sigma()``) for every bump layer, plus
    ``"height"`` and ``"center"`` when the layer has them (Gaussian and
    :class:`~bumplib.ScaledBumpLayer`) and ``"inverse_width"`` for the Gaussian.

    Raises:
        TypeError: if ``layer`` has no ``get_sigma`` method.

    """
    if not hasattr(layer, "get_sigma"):
        raise TypeError(f"{type(layer).__name__} is not a bump layer (it has no get_sigma()).")
    params = {"sigma": np.asarray(layer.get_sigma(), dtype=np.float64)}
    for name in ("height", "inverse_width", "center"):
        if hasattr(layer, name):
            value = keras.ops.convert_to_numpy(getattr(layer, name))
            params[name] = np.asarray(value, dtype=np.float64)
    return params


def width_gradient(
    family: Family,
    x: ArrayLike,
    sigma: float,
    height: float = 1.0,
    center: float = 0.0,
) -> NDArray[np.float64]:
    """Return ``dy/d(sigma)`` at each ``x`` for one family, by TensorFlow autodiff in float64.

    ``"bump"``: ``y = height * stable_bump(x - center, sigma)``, the layer's
    own forward pass (and closed-form gradient). ``"gaussian"``: ``y = height
    * exp(-(x - center)**2 / sigma**2)``, the :class:`~bumplib.GaussianBumpLayer`
    formula with ``b = 1 / sigma**2``, differentiated with respect to
    ``sigma`` (not ``b``) so that the two families are on the same footing.

    Raises:
        ValueError: for an unknown family or ``sigma <= 0``.

    """
    if family not in ("bump", "gaussian"):
        raise ValueError(f"family must be 'bump' or 'gaussian', got {family!r}.")
    sigma = check_sigma(sigma, positive=True)
    x_t = tf.constant(np.asarray(x, dtype=np.float64))
    # One copy of sigma per x: each y depends on its own x and its own copy only,
    # so the gradient of sum(y) with respect to the copies is dy/d(sigma) at each x.
    sigmas = tf.fill(tf.shape(x_t), tf.constant(sigma, tf.float64))
    with tf.GradientTape() as tape:
        tape.watch(sigmas)
        shifted = x_t - center
        if family == "bump":
            y = height * stable_bump(shifted, sigmas)
        else:
            y = height * tf.exp(-tf.square(shifted) / tf.square(sigmas))
    return tape.gradient(y, sigmas).numpy()


def generate_per_feature_data(
    sigmas: Sequence[float],
    n: int = 20_000,
    seed: int | None = None,
    min_x: float = -1.0,
    max_x: float = 1.0,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Return ``(x, y)`` of shape ``(n, len(sigmas))``: ``y[:, j] = phi_{sigmas[j]}(x[:, j])``.

    Every ``x`` is uniform in ``[min_x, max_x)``, independently per feature,
    and ``y`` comes from the float64 reference :func:`bumplib.bump` at the
    float32 ``x`` returned. The range must avoid the exploding band of every
    width (``sqrt(sigma) < |x| < sigma`` for ``sigma > 1``); the default
    ``(-1, 1)`` does for all widths.

    Raises:
        ValueError: for no width, a bad width or range, ``n < 1``, or a range
            that meets a width's exploding band.

    """
    values = check_sigma_values(list(sigmas), "sigmas")
    check_range((min_x, max_x), "(min_x, max_x)")
    n = check_count(n, "n")
    for sigma in values:
        if (
            sigma > 1
            and max(abs(min_x), abs(max_x)) > math.sqrt(sigma)
            and min(abs(min_x), abs(max_x)) < sigma
        ):
            raise ValueError(
                f"x in [{min_x}, {max_x}] meets the band sqrt(sigma) < |x| < sigma of "
                f"sigma = {sigma:g}, where the formula explodes; use a range inside (-1, 1)."
            )
    rng = np.random.default_rng(seed)
    x = rng.uniform(min_x, max_x, size=(n, len(values))).astype(np.float32)
    y = perturb_rounding(bump(x, np.asarray(values)).astype(np.float32))
    return x, y


def generate_localized_data(
    centers: Sequence[float],
    widths: Sequence[float],
    heights: Sequence[float],
    min_x: float = -3.0,
    max_x: float = 3.0,
    n: int = 2_000,
    seed: int | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Return ``(x, y)`` of shape ``(n, 1)``: a sum of narrow bumps of ``x``.

    ``y = sum_k heights[k] * e * phi_1((x - centers[k]) / widths[k])``: the
    classic bump (``sigma = 1``) scaled to peak ``heights[k]`` at
    ``centers[k]`` and to support ``centers[k] +- widths[k]``, exactly 0
    elsewhere. A target that needs localized responses.

    Raises:
        ValueError: for sequences of different lengths or empty, a width
            ``<= 0``, a bad range or ``n < 1``.

    """
    if not (len(centers) == len(widths) == len(heights) >= 1):
        raise ValueError("centers, widths and heights must be non-empty and of the same length.")
    widths = [check_sigma(w, "widths[k]", positive=True) for w in widths]
    check_range((min_x, max_x), "(min_x, max_x)")
    n = check_count(n, "n")
    x = np.random.default_rng(seed).uniform(min_x, max_x, size=(n, 1)).astype(np.float32)
    return x, perturb_rounding(localized_target(x, centers, widths, heights).astype(np.float32))


def localized_target(
    x: ArrayLike, centers: Sequence[float], widths: Sequence[float], heights: Sequence[float]
) -> NDArray[np.float64]:
    """Return the target of :func:`generate_localized_data` at ``x``, in float64."""
    x = np.asarray(x, dtype=np.float64)
    total = np.zeros_like(x)
    for c, w, h in zip(centers, widths, heights, strict=True):
        total += h * math.e * bump((x - c) / w, 1.0)
    return total


def make_dense_model(
    input_dim: int,
    hidden_units: int,
    activation: str = "tanh",
    output_units: int = 1,
    seed: int = 0,
) -> keras.Sequential:
    """Return ``Input -> Dense(hidden, activation) -> Dense(output)``: the baseline network.

    The same layers, names and initializers as
    :func:`bumpbook.make_localized_model` without the bump layer, so a
    comparison changes one thing only.
    """
    return make_localized_model(
        input_dim, hidden_units, None, output_units, activation=activation, seed=seed
    )


def place_hidden_units(
    model: keras.Model, points: ArrayLike, slope: float = 2.0, layer_name: str = "hidden"
) -> None:
    """Re-initialize a hidden ``Dense`` layer so that unit ``k`` is centred on ``points[k]``.

    Each unit's weight vector keeps its direction but gets the length
    ``slope``, and its bias is set so that the unit's pre-activation ``w_k .
    x + b_k`` is 0 at ``x = points[k]``. A bump unit then peaks there, and a
    ``tanh`` or ``relu`` unit has its transition there. Spreading the points
    over the inputs gives every unit data inside its support from the first
    step, the usual start for networks of localized units (radial basis
    function networks). The models of :func:`bumpbook.make_localized_model`
    and :func:`make_dense_model` name that layer ``"hidden"``.

    Args:
        model: The model, built.
        points: One point per hidden unit, shape ``(units, input_dim)``
            (or ``(units,)`` for one input feature).
        slope: Length of each unit's weight vector, ``> 0``.
        layer_name: Name of the hidden ``Dense`` layer.

    Raises:
        ValueError: if the shapes do not match or ``slope <= 0``.

    """
    hidden = model.get_layer(layer_name)
    kernel = np.asarray(keras.ops.convert_to_numpy(hidden.kernel), dtype=np.float64)
    points = np.asarray(points, dtype=np.float64).reshape(-1, kernel.shape[0])
    if points.shape != kernel.T.shape:
        raise ValueError(
            f"points must have one row per hidden unit and one column per input feature, "
            f"{kernel.T.shape}; got {points.shape}."
        )
    if not (math.isfinite(slope) and slope > 0):
        raise ValueError(f"slope must be a finite number > 0, got {slope!r}.")
    norms = np.linalg.norm(kernel, axis=0)
    kernel = slope * kernel / np.where(norms > 0, norms, 1.0)
    hidden.kernel.assign(kernel.astype(np.float32))
    hidden.bias.assign((-np.einsum("du,ud->u", kernel, points)).astype(np.float32))
