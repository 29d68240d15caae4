"""Tests of bumpbook.tfp_bump: TFP's bump as written has the where trap; the fix does not."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import bumplib
from bumpbook.tfp_bump import fixed_round_exponential_bump, tfp_round_exponential_bump

GRID = np.linspace(-3.0, 3.0, 60_001).astype(np.float32)


def values_and_gradients(function, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = function(x)
    return y.numpy(), tape.gradient(y, x).numpy()


def test_tfp_body_has_nan_gradients_just_outside_the_support():
    values, grads = values_and_gradients(tfp_round_exponential_bump, GRID)
    assert np.isfinite(values).all()
    bad = np.abs(GRID[np.isnan(grads)])
    assert bad.size > 0
    edge = np.sqrt(1 + 1 / (np.log(np.finfo(np.float32).max) - 1))
    assert (bad > 1).all()
    assert (bad < edge * 1.0001).all()
    _, probe = values_and_gradients(tfp_round_exponential_bump, np.float32([1.001, 1.004]))
    assert np.isnan(probe).all()


def test_fix_keeps_every_value_and_every_finite_gradient():
    plain_values, plain_grads = values_and_gradients(tfp_round_exponential_bump, GRID)
    values, grads = values_and_gradients(fixed_round_exponential_bump, GRID)
    assert np.isfinite(grads).all()
    np.testing.assert_array_equal(values, plain_values)
    finite = np.isfinite(plain_grads)
    np.testing.assert_array_equal(grads[finite], plain_grads[finite])
    assert (grads[np.abs(GRID) >= 1] == 0).all()
    assert values[np.argmin(np.abs(GRID))] == 1.0


def test_fix_matches_e_times_the_reference_bump():
    x = GRID.astype(np.float64)
    values, _ = values_and_gradients(fixed_round_exponential_bump, x)
    np.testing.assert_allclose(values, np.e * bumplib.bump(x, 1.0), rtol=1e-12, atol=1e-300)


def test_reproduction_equals_tensorflow_probability_when_installed():
    tfp = pytest.importorskip(
        "tensorflow_probability", reason="TensorFlow Probability is not installed (optional)"
    )
    ours_values, ours_grads = values_and_gradients(tfp_round_exponential_bump, GRID)
    theirs_values, theirs_grads = values_and_gradients(
        tfp.math.round_exponential_bump_function, GRID
    )
    np.testing.assert_array_equal(ours_values, theirs_values)
    np.testing.assert_array_equal(ours_grads, theirs_grads)  # nan in the same places
