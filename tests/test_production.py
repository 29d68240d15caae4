"""Tests of bumpbook.production: probing a bump layer element by element in float16."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import bumpbook
import bumplib
from bumpbook.production import LayerProbe, values_and_gradients

# Inputs that break naive float16 code: huge values, the support's edges, the exploding band.
EXTREME = [-6e4, -1e4, -2.0, -1.45, -1.0, -0.999, 0.0, 1e-3, 0.5, 0.999, 1.41, 1.9, 2.0, 6e4]


@pytest.fixture(autouse=True)
def _seeded_and_float32():
    bumplib.make_deterministic(0)
    yield
    # No test may leave a global mixed-precision policy behind.
    assert keras.mixed_precision.dtype_policy().name == "float32"


# --- mixed precision ------------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.0, 1e-30, 0.5, 1.0, 2.0, 20.0])
def test_stable_layer_is_finite_and_bounded_in_mixed_float16(sigma):
    layer = bumplib.StableBumpLayer(initial_sigma=sigma, dtype="mixed_float16")
    probe = values_and_gradients(layer, EXTREME)
    assert isinstance(probe, LayerProbe)
    assert probe.dtype == "float16"
    assert layer.variable_dtype == "float32"
    assert probe.finite
    assert (probe.y >= 0).all()
    assert (probe.y <= np.float16(math.exp(-1))).all()


def test_stable_layer_in_float16_agrees_with_float32_where_the_bump_is_regular():
    x = np.linspace(-0.95, 0.95, 39)
    half = values_and_gradients(bumplib.StableBumpLayer(0.9, dtype="mixed_float16"), x)
    full = values_and_gradients(bumplib.StableBumpLayer(0.9), x)
    np.testing.assert_allclose(half.y, full.y, atol=2e-3)
    np.testing.assert_allclose(half.dy_dweight, full.dy_dweight, atol=2e-2)


def test_thread_layer_breaks_in_float16_where_float32_is_fine():
    # sigma = 1, x = 0.999: phi underflows to 0 but x**2/(sigma - x**2)**2 overflows float16.
    half = values_and_gradients(bumpbook.AnswerBumpLayer(1.0, dtype="mixed_float16"), [0.5, 0.999])
    full = values_and_gradients(bumpbook.AnswerBumpLayer(1.0), [0.5, 0.999])
    assert np.isnan(half.dy_dweight[1])
    assert math.isnan(half.batch_dweight)
    assert full.finite
    # sigma = 2, x = 1.45: exp(19.5) is finite in float32, inf in float16.
    half = values_and_gradients(bumpbook.AnswerBumpLayer(2.0, dtype="mixed_float16"), [1.45])
    full = values_and_gradients(bumpbook.AnswerBumpLayer(2.0), [1.45])
    assert np.isinf(half.y[0])
    assert np.isfinite(full.y[0])
    assert full.y[0] > 1e8


def test_values_and_gradients_keeps_the_shape_and_checks_the_layer():
    probe = values_and_gradients(bumplib.StableBumpLayer(0.5), np.zeros((2, 3)))
    assert probe.y.shape == probe.dy_dx.shape == probe.dy_dweight.shape == (2, 3)
    with pytest.raises(ValueError, match="one trainable weight"):
        values_and_gradients(bumplib.GaussianBumpLayer(), [0.0])
