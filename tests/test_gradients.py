"""Gradients of the layers against the closed forms and central differences of the reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from bumpbook import AnswerBumpLayer, AnswerWhereBumpLayer
from bumplib import StableBumpLayer, bump, bump_grad_sigma, bump_grad_x, unstable_mask

SIGMAS = [0.1, 0.5, 1.0, 2.0, 10.0]
EPS32 = float(np.finfo(np.float32).eps)


def smooth_points(sigma: float) -> np.ndarray:
    """Points where phi is smooth: at least 5% (of the edge) from |x| = sigma and x**2 = sigma.

    Inside the support, outside it, and (for sigma > 1) inside the band where phi > 1.
    """
    edge = min(sigma, math.sqrt(sigma))
    points = [f * edge for f in np.linspace(-0.95, 0.95, 39)] + [1.05 * sigma, -1.3 * sigma]
    if sigma > 1:
        lo, hi = math.sqrt(sigma), sigma
        points += [s * (lo + f * (hi - lo)) for s in (1, -1) for f in (0.1, 0.5, 0.9)]
    return np.array(points)


def per_point_gradients(layer, x: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """d(output)/d(weight) and d(output)/dx, one single-element input at a time.

    The layer's only trainable weight is its width (``sigma`` or ``log_sigma``); the
    output of a (1, 1) input is one number, so the tape's gradient is that point's.
    """
    layer.build((None, 1))
    (variable,) = layer.trainable_variables

    @tf.function(input_signature=[tf.TensorSpec([1, 1], dtype)])
    def gradients(point: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch(point)
            total = tf.reduce_sum(layer(point))
        return tuple(tape.gradient(total, [variable, point]))

    pairs = [gradients(tf.constant([[value]], dtype)) for value in x]
    return (
        np.array([float(g_var[0]) for g_var, _ in pairs]),
        np.array([float(g_x[0, 0]) for _, g_x in pairs]),
    )


def central_difference(fn, step: float) -> np.ndarray:
    """(fn(+step) - fn(-step)) / (2 step), in float64."""
    return (fn(step) - fn(-step)) / (2 * step)


def assert_float64_close(actual, expected, what):
    # rtol 1e-6 as the project asks. The thread layers' autodiff forms
    # -1/d + sigma/d**2 (d = sigma - x**2), which cancels to x**2/d**2 and so loses
    # ~1e-16 * phi * t**2 / sigma absolutely (t = sigma/d): far below the 1e-12 floor here.
    error = np.abs(actual - expected)
    bad = error > 1e-6 * np.abs(expected) + 1e-12
    assert not bad.any(), (what, np.flatnonzero(bad), actual[bad], expected[bad])


@pytest.mark.parametrize("sigma", SIGMAS)
@pytest.mark.parametrize("layer_class", [AnswerWhereBumpLayer, AnswerBumpLayer, StableBumpLayer])
def test_float64_gradients_match_closed_forms_and_finite_differences(layer_class, sigma):
    x = smooth_points(sigma)
    d_sigma, d_x = per_point_gradients(layer_class(sigma, dtype="float64"), x, "float64")
    assert np.isfinite(d_sigma).all()
    assert np.isfinite(d_x).all()
    closed_sigma, closed_x = bump_grad_sigma(x, sigma), bump_grad_x(x, sigma)
    # Central differences of the reference, step 1e-6 of the scale (truncation and
    # rounding both ~1e-10 relative at these points; see test_reference.py).
    fd_sigma = central_difference(lambda h: bump(x, sigma + h), 1e-6 * sigma)
    fd_x = central_difference(lambda h: bump(x + h, sigma), 1e-6 * min(sigma, math.sqrt(sigma)))
    compared = np.ones_like(x, dtype=bool)
    if layer_class is StableBumpLayer:
        # The stable layer is 0, with 0 gradients, where the formula explodes.
        band = unstable_mask(x, sigma)
        assert band.any() == (sigma > 1)
        assert (d_sigma[band] == 0).all()
        assert (d_x[band] == 0).all()
        compared = ~band
    for actual, closed, fd, what in (
        (d_sigma, closed_sigma, fd_sigma, "d/dsigma"),
        (d_x, closed_x, fd_x, "d/dx"),
    ):
        assert_float64_close(actual[compared], closed[compared], what + " vs closed form")
        assert_float64_close(actual[compared], fd[compared], what + " vs finite difference")
    # The test has teeth: most gradients here are far from 0.
    assert (np.abs(d_sigma[compared]) > 1e-6).sum() > x.size // 2


@pytest.mark.parametrize("sigma", SIGMAS)
def test_log_parametrization_gradient_is_sigma_times_the_sigma_gradient(sigma):
    layer = StableBumpLayer(sigma, parametrization="log", dtype="float64")
    x = smooth_points(sigma)
    d_log_sigma, d_x = per_point_gradients(layer, x, "float64")
    sigma_used = float(layer.get_sigma()[0])
    stable = ~unstable_mask(x, sigma_used)
    # d(phi)/d(log sigma) = sigma * d(phi)/d(sigma)
    assert_float64_close(
        d_log_sigma[stable], sigma_used * bump_grad_sigma(x, sigma_used)[stable], "d/dlog"
    )
    assert_float64_close(d_x[stable], bump_grad_x(x, sigma_used)[stable], "d/dx")
    assert (d_log_sigma[~stable] == 0).all()


def float32_tolerance(x, sigma, closed, autodiff_of_thread_formula):
    """Allowed |layer - closed form| for a float32 gradient, derived below.

    With t = sigma / (sigma - x**2) = -log(phi) and u = eps / 2:
    * The closed forms phi * t**2 * r**2 and -2 * phi * t**2 * r (the stable layer's
      custom gradient, and the thread layers' d/dx, a plain product by autodiff) multiply
      phi (relative error < 2 eps (1 + |t|)**2, see test_layers.py) by t twice (each
      < u (|t| + 3)) and r with a few roundings of their own: < 4 eps (1 + |t|)**2.
    * The thread layers' d/dsigma by autodiff is phi * (sigma / d**2 - 1 / d), d = sigma -
      x**2, a difference of terms of size phi * (t**2 + |t|) / sigma, each with relative
      error < u (2 |t| + 7): an absolute error < 2 eps phi (1 + |t|)**3 / sigma more.
    * TensorFlow flushes subnormals to 0: an absolute float32 tiny more.
    """
    phi = bump(x, sigma)
    with np.errstate(divide="ignore"):
        t = np.where(phi > 0, np.abs(np.log(np.where(phi > 0, phi, 1.0))), 0.0)
    allowed = 4 * EPS32 * (1 + t) ** 2 * np.abs(closed) + float(np.finfo(np.float32).tiny)
    if autodiff_of_thread_formula:
        allowed = allowed + 2 * EPS32 * phi * (1 + t) ** 3 / sigma
    return allowed


@pytest.mark.parametrize("sigma", SIGMAS)
@pytest.mark.parametrize("layer_class", [AnswerWhereBumpLayer, AnswerBumpLayer, StableBumpLayer])
def test_float32_gradients_match_closed_forms(layer_class, sigma):
    x = smooth_points(sigma).astype(np.float32)
    layer = layer_class(sigma)
    d_sigma, d_x = per_point_gradients(layer, x, "float32")
    x64, sigma64 = x.astype(np.float64), float(layer.get_sigma()[0])
    is_stable_layer = layer_class is StableBumpLayer
    compared = ~unstable_mask(x64, sigma64) if is_stable_layer else np.ones_like(x64, bool)
    for actual, closed, thread_autodiff in (
        (d_sigma, bump_grad_sigma(x64, sigma64), not is_stable_layer),
        (d_x, bump_grad_x(x64, sigma64), False),
    ):
        allowed = float32_tolerance(x64, sigma64, closed, thread_autodiff)
        error = np.abs(actual - closed)
        assert (error[compared] <= allowed[compared]).all()
        assert (actual[~compared] == 0).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layer_class", [AnswerWhereBumpLayer, AnswerBumpLayer, StableBumpLayer])
def test_per_feature_gradient_is_each_points_own(layer_class, dtype):
    # One feature per point, each with its own sigma: the gradient of the sum with
    # respect to the sigma vector holds every point's d(phi)/d(sigma) at once.
    x = np.concatenate([smooth_points(s) for s in (0.5, 1.0, 2.0)])
    sigmas = np.concatenate([np.full(smooth_points(s).size, s) for s in (0.5, 1.0, 2.0)])
    x = x.astype(dtype)
    layer = layer_class(sigmas.tolist(), per_feature=True, dtype=dtype)
    inputs = tf.constant(x[None, :])
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        total = tf.reduce_sum(layer(inputs))
    g_sigma, g_x = (np.asarray(g) for g in tape.gradient(total, [layer.sigma, inputs]))
    g_x = g_x[0]
    x64, s64 = x.astype(np.float64), layer.get_sigma().astype(np.float64)
    is_stable_layer = layer_class is StableBumpLayer
    compared = ~unstable_mask(x64, s64) if is_stable_layer else np.ones_like(x64, bool)
    for actual, closed, thread_autodiff in (
        (g_sigma, bump_grad_sigma(x64, s64), not is_stable_layer),
        (g_x, bump_grad_x(x64, s64), False),
    ):
        if dtype == "float64":
            assert_float64_close(actual[compared], closed[compared], "per feature")
        else:
            allowed = float32_tolerance(x64, s64, closed, thread_autodiff)
            assert (np.abs(actual - closed)[compared] <= allowed[compared]).all()
        assert (actual[~compared] == 0).all()
