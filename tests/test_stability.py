"""The nan-gradient traps of the thread's layers, and the stable layer that has none."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from floats import step_ulps
from hypothesis import given, settings
from hypothesis import strategies as st

from bumpbook import AnswerBumpLayer, AnswerWhereBumpLayer
from bumplib import StableBumpLayer

SETTINGS = settings(max_examples=200, deadline=None)
F32 = np.float32
F32_MAX = float(np.finfo(np.float32).max)
E_MINUS_1_F32 = F32(math.exp(-1))  # TensorFlow's float32 exp(-1) is this, correctly rounded


def value_and_gradients(layer, x: float) -> tuple[float, ...]:
    """Output, d/d(weight) and d/dx of ``layer`` at the single input ``x`` (float32)."""
    point = tf.constant([[x]], tf.float32)
    layer.build((None, 1))
    (variable,) = layer.trainable_variables
    with tf.GradientTape() as tape:
        tape.watch(point)
        output = tf.reduce_sum(layer(point))
    d_weight, d_x = tape.gradient(output, [variable, point])
    return float(output), float(d_weight[0]), float(d_x[0, 0])


# --- the traps, on constructed inputs -------------------------------------------------------------


def test_where_layer_nan_gradient_from_the_unselected_branch():
    # sigma = 0.25, x = 0.5: |x| >= sigma, so tf.where selects 0 (a finite output), but
    # the bump branch is evaluated anyway and sigma - x**2 == 0 there: -sigma / 0 = -inf,
    # and its gradient times tf.where's zero upstream gradient is 0 * inf = nan.
    output, d_sigma, d_x = value_and_gradients(AnswerWhereBumpLayer(0.25), 0.5)
    assert output == 0
    assert math.isnan(d_sigma)
    assert math.isnan(d_x)


def test_bump_layer_is_safe_on_that_input():
    # The inner tf.where feeds the bump x = 0 there: sigma - 0 = 0.25, nothing explodes.
    assert value_and_gradients(AnswerBumpLayer(0.25), 0.5) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("x", [0.0, 0.3, -2.0])
def test_bump_layer_nan_gradient_at_sigma_zero_with_finite_output(x):
    # At sigma = 0 the safe input 0 gives -0 / (0 - 0) = nan in the unselected branch:
    # the output is still 0 (tf.where selects 0) but the sigma-gradient is nan.
    output, d_sigma, d_x = value_and_gradients(AnswerBumpLayer(0.0), x)
    assert output == 0
    assert math.isnan(d_sigma)
    assert d_x == 0  # x only reaches the output through the selected (constant) 0
    assert math.isnan(value_and_gradients(AnswerWhereBumpLayer(0.0), 0.0)[1])


def test_bump_layer_explodes_in_the_band_for_sigma_above_one():
    # The answer's caveat (exercise 1): sigma = 2, x = 1.5 lies in sqrt(2) < |x| < 2,
    # where exp(-2 / (2 - 2.25)) = exp(8) ~ 2981, and near sqrt(2) the values overflow.
    output, d_sigma, _ = value_and_gradients(AnswerBumpLayer(2.0), 1.5)
    assert output == pytest.approx(math.exp(8), rel=1e-5)
    assert d_sigma > 1e5
    assert value_and_gradients(AnswerBumpLayer(2.0), 1.4143)[0] == math.inf
    assert value_and_gradients(StableBumpLayer(2.0), 1.5) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(("x", "sigma"), [(0.5, 0.25), (0.0, 0.0), (0.3, 0.0), (1.5, 2.0)])
def test_stable_layer_has_no_trap_on_those_inputs(x, sigma):
    values = value_and_gradients(StableBumpLayer(sigma), x)
    assert values == (0.0, 0.0, 0.0)


# --- StableBumpLayer: property-based --------------------------------------------------------------
#
# TensorFlow on CPU flushes float32 subnormals to zero (inputs and results), so a subnormal
# sigma or x behaves as 0: that is allowed, as long as everything stays finite.

special_x = [0.0, -0.0, 1e-45, -1e-45, 1e-38, 1.0, -1.0, 1e30, -1e30, F32_MAX, -F32_MAX]
free_x = st.one_of(
    st.sampled_from(special_x), st.floats(width=32, allow_nan=False, allow_infinity=False)
)
special_sigma = [0.0, 1e-45, 1e-40, 1e-20, 0.25, 1.0, 2.0, 1e19, 1e30, F32_MAX]
sigmas = st.one_of(
    st.sampled_from(special_sigma), st.floats(min_value=0.0, max_value=F32_MAX, width=32)
)


@st.composite
def x_for(draw: st.DrawFn, sigma: float) -> float:
    """A float32 x: free, or exactly (or 1-2 ulps off) +-sigma or +-sqrt(sigma)."""
    anchor = draw(st.sampled_from(["free", "sigma", "sqrt"]))
    if anchor == "free":
        return draw(free_x)
    x = F32(sigma) if anchor == "sigma" else np.sqrt(F32(sigma))
    x = F32(step_ulps(x, draw(st.integers(-2, 2)), "float32"))
    return float(draw(st.sampled_from([1, -1])) * x)


@st.composite
def x_and_sigma(draw: st.DrawFn) -> tuple[float, float]:
    sigma = draw(sigmas)
    return draw(x_for(sigma)), sigma


def _compiled(layer, features: int):
    """A traced function: (x, weight) -> (output, d/dweight, d/dx), for ``features`` inputs."""
    layer.build((None, features))
    (variable,) = layer.trainable_variables

    @tf.function(
        input_signature=[tf.TensorSpec([1, features], tf.float32), tf.TensorSpec([features])]
    )
    def run(x: tf.Tensor, weight: tf.Tensor) -> tuple[tf.Tensor, ...]:
        variable.assign(weight)
        with tf.GradientTape() as tape:
            tape.watch(x)
            output = layer(x)
            total = tf.reduce_sum(output)
        d_weight, d_x = tape.gradient(total, [variable, x])
        return output, d_weight, d_x

    return run


def _assert_finite_and_bounded(output, d_weight, d_x):
    output, d_weight, d_x = (np.asarray(a) for a in (output, d_weight, d_x))
    assert np.isfinite(output).all(), output
    assert np.isfinite(d_weight).all(), d_weight
    assert np.isfinite(d_x).all(), d_x
    assert (output >= 0).all()
    assert (output <= E_MINUS_1_F32).all()


@pytest.fixture(scope="module")
def stable_scalar():
    return _compiled(StableBumpLayer(1.0), 1)


@pytest.fixture(scope="module")
def stable_per_feature():
    return _compiled(StableBumpLayer([1.0, 1.0, 1.0], per_feature=True), 3)


@pytest.fixture(scope="module")
def stable_log():
    return _compiled(StableBumpLayer(1.0, parametrization="log"), 1)


@SETTINGS
@given(x_and_sigma())
def test_stable_layer_finite_for_every_x_and_sigma(stable_scalar, pair):
    x, sigma = pair
    _assert_finite_and_bounded(*stable_scalar(tf.constant([[x]]), tf.constant([sigma])))


@SETTINGS
@given(st.lists(x_and_sigma(), min_size=3, max_size=3))
def test_stable_layer_per_feature_finite(stable_per_feature, pairs):
    xs, sigmas_ = zip(*pairs, strict=True)
    _assert_finite_and_bounded(*stable_per_feature(tf.constant([xs]), tf.constant(sigmas_)))


# log_sigma from any float32 whose exp is a float32 sigma in [0, max]: very negative
# values give sigma = 0 (exp underflows), log(max) ~ 88.72 gives the largest sigma.
LOG_MAX = float(np.nextafter(np.log(F32(F32_MAX)), F32(0)))
log_sigmas = st.one_of(
    st.sampled_from([-F32_MAX, -1e4, -104.0, -87.0, 0.0, LOG_MAX]),
    st.floats(min_value=-F32_MAX, max_value=LOG_MAX, width=32),
)


@st.composite
def x_and_log_sigma(draw: st.DrawFn) -> tuple[float, float]:
    log_sigma = draw(log_sigmas)
    return draw(x_for(float(np.exp(F32(log_sigma))))), log_sigma


@SETTINGS
@given(x_and_log_sigma())
def test_stable_layer_log_parametrization_finite(stable_log, pair):
    x, log_sigma = pair
    assert np.isfinite(np.exp(F32(log_sigma)))
    _assert_finite_and_bounded(*stable_log(tf.constant([[x]]), tf.constant([log_sigma])))
