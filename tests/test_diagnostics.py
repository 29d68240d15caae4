"""Tests of bumpbook.diagnostics, the measurements behind the worked exercises."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from step_records import fit_per_step

import bumplib
from bumpbook import AnswerBumpLayer, make_localized_model
from bumpbook.diagnostics import (
    BadValueCounts,
    band_fraction,
    count_bad_values,
    count_nonfinite,
    edge_case_inputs,
    first_nonfinite,
    layer_gradients,
    layer_inputs,
    localized_task,
    mean_abs_grad_sigma,
    mse_between_widths,
    unfiltered_data,
)
from bumplib import StableBumpLayer
from bumplib.reference import bump, bump_grad_sigma, bump_grad_x

# --- count_bad_values / unfiltered_data ---------------------------------------------------------


def test_count_bad_values_counts_each_kind_once():
    y = np.array([np.nan, np.inf, -np.inf, 2.0, -3.0, 0.5, 1.0, 0.0])
    counts = count_bad_values(y)
    assert counts == BadValueCounts(total=8, nan=1, inf=2, huge=2)
    assert counts.bad == 5


def test_count_bad_values_threshold():
    assert count_bad_values([0.2, 0.5, 0.9], huge=0.4).huge == 2


@pytest.mark.parametrize("huge", [0.0, -1.0, math.inf, math.nan, "1"])
def test_count_bad_values_rejects_bad_threshold(huge):
    with pytest.raises(ValueError, match="huge"):
        count_bad_values([1.0], huge=huge)


def test_unfiltered_data_keeps_the_exploding_band():
    x, y = unfiltered_data(2.0, -3.0, 3.0, n=2001, grid=True)  # no warning: errors are on
    assert x.shape == y.shape == (2001, 1)
    assert x.dtype == y.dtype == np.float32
    assert x[0, 0] == -3.0
    assert x[-1, 0] == 3.0
    counts = count_bad_values(y)
    in_band = bumplib.unstable_mask(x, 2.0)
    assert counts.inf > 0
    assert counts.huge > 0
    assert counts.inf + counts.huge == int(in_band.sum())  # every band point is bad ...
    assert np.all(y[~in_band] <= math.exp(-1) + 1e-7)  # ... and no other point is


@pytest.mark.parametrize(
    ("sigma", "low", "high"), [(2.0, -1.0, 1.0), (5.0, -1.0, 1.0), (0.5, -5, 5)]
)
def test_unfiltered_data_is_clean_where_no_band_is_reached(sigma, low, high):
    _, y = unfiltered_data(sigma, low, high, n=5000, seed=1)
    assert count_bad_values(y).bad == 0


def test_unfiltered_data_is_seeded():
    a = unfiltered_data(2.0, -3, 3, n=100, seed=3)
    b = unfiltered_data(2.0, -3, 3, n=100, seed=3)
    c = unfiltered_data(2.0, -3, 3, n=100, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sigma": -1.0}, "sigma must be >= 0"),
        (
            {"sigma": 1.0, "min_x": 1.0, "max_x": 0.0},
            r"\(min_x, max_x\) must be two finite numbers with min < max",
        ),
        ({"sigma": 1.0, "n": 0}, "n must be"),
    ],
)
def test_unfiltered_data_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        unfiltered_data(**kwargs)


# --- layer_gradients ----------------------------------------------------------------------------


def test_layer_gradients_match_the_reference():
    x = np.linspace(-0.95, 0.95, 39)
    g = layer_gradients(StableBumpLayer, x, 0.7)
    np.testing.assert_allclose(g.y, bump(x, 0.7), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g.dy_dx, bump_grad_x(x, 0.7), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(g.dy_dsigma, bump_grad_sigma(x, 0.7), rtol=1e-4, atol=1e-6)


def test_layer_gradients_sum_to_the_scalar_layers_gradient():
    x = np.linspace(-1.5, 1.5, 31).astype(np.float32)
    g = layer_gradients(AnswerBumpLayer, x, 0.8)
    layer = AnswerBumpLayer(initial_sigma=0.8)
    layer.build((None, 1))
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(layer(x[:, None]))
    expected = float(tape.gradient(total, layer.sigma)[0])
    assert float(g.dy_dsigma.sum()) == pytest.approx(expected, rel=1e-5)


def test_sigma_zero_trap_shows_in_the_gradients():
    x = [-2.0, -0.5, 0.0, 0.5, 1e30]
    thread = layer_gradients(AnswerBumpLayer, x, 0.0)
    stable = layer_gradients(StableBumpLayer, x, 0.0)
    assert count_nonfinite(thread) == {"y": 0, "dy_dx": 0, "dy_dsigma": 5}
    assert count_nonfinite(stable) == {"y": 0, "dy_dx": 0, "dy_dsigma": 0}
    np.testing.assert_array_equal(thread.y, 0.0)


def test_layer_gradients_rejects_empty_input():
    with pytest.raises(ValueError, match="at least one"):
        layer_gradients(AnswerBumpLayer, [], 1.0)


# --- first_nonfinite and failing fits ---------------------------------------------------------


def test_first_nonfinite():
    assert first_nonfinite([1.0, 2.0, np.nan, 3.0]) == 2
    assert first_nonfinite([1.0, np.inf]) == 1
    assert first_nonfinite([1.0, 2.0]) is None
    assert first_nonfinite(np.array([[1.0, 2.0], [1.0, np.nan]])) == 1
    assert first_nonfinite([]) is None


def test_a_per_step_record_stops_after_the_step_that_breaks_sigma():
    x, y, _ = bumplib.generate_data(0.5, n=256, seed=0)
    history = fit_per_step(AnswerBumpLayer(initial_sigma=0.0), x, y, epochs=3)
    assert first_nonfinite(history.sigmas) == 1
    assert len(history.sigmas) == 2  # stopped after the step that made sigma nan


def test_infinite_targets_outside_the_support_leave_sigma_finite():
    x, y = unfiltered_data(2.0, -3.0, 3.0, n=2001, grid=True)
    assert np.isinf(y).any()
    history = fit_per_step(AnswerBumpLayer(initial_sigma=0.05), x, y, epochs=1, batch_size=2001)
    assert np.isinf(history.losses[1])
    # The infinite targets lie where the layer outputs 0, and tf.where passes no gradient
    # there: sigma itself stays finite.
    assert np.isfinite(history.sigmas).all()


# --- gradient size, loss flatness, convergence --------------------------------------------------


def test_mean_gradient_falls_as_one_over_sigma_squared():
    sigmas = np.array([10.0, 100.0, 1000.0])
    mean = mean_abs_grad_sigma(sigmas)
    limit = math.exp(-1) / (3 * sigmas**2)  # e^-1 mean(x^2) / sigma^2 on (-1, 1)
    assert mean.shape == (3,)
    np.testing.assert_allclose(mean[1:], limit[1:], rtol=0.01)
    assert mean[0] == pytest.approx(limit[0], rel=0.1)
    assert mean[1] / mean[2] == pytest.approx(100.0, rel=0.01)


def test_mean_gradient_peaks_near_one():
    sigmas = np.geomspace(0.1, 10.0, 41)
    peak = sigmas[np.argmax(mean_abs_grad_sigma(sigmas))]
    assert 0.5 < peak < 1.5


def test_mean_gradient_rejects_bad_range():
    with pytest.raises(ValueError, match="x_range"):
        mean_abs_grad_sigma([1.0], x_range=(1.0, -1.0))


def test_mse_between_widths():
    assert mse_between_widths(2.0, 2.0) == 0.0
    a, b = mse_between_widths(2.0, 2.02), mse_between_widths(2.02, 2.0)
    assert a > 0
    assert a == pytest.approx(b)
    off = mse_between_widths([1.0, 4.0], [1.01, 4.04])  # 1% off at each width
    assert off.shape == (2,)
    assert off[1] < off[0] / 4


# --- a model with a bump layer inside -----------------------------------------------------------


def test_localized_task():
    x, y = localized_task(500, seed=2)
    assert x.shape == (500, 2)
    assert y.shape == (500, 1)
    assert x.dtype == y.dtype == np.float32
    assert x.min() >= -3
    assert x.max() < 3
    assert -0.7 < y.min() < 0 < y.max() < 1
    np.testing.assert_array_equal(x, localized_task(500, seed=2)[0])


def test_layer_inputs_are_the_hidden_activations():
    keras.utils.set_random_seed(0)
    x, _ = localized_task(200, seed=0)
    layer = AnswerBumpLayer(initial_sigma=1.0, per_feature=True)
    model = make_localized_model(2, 8, layer, activation=None)
    values = layer_inputs(model, layer, x)
    expected = np.asarray(model.get_layer("hidden")(x))
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    assert np.abs(values).max() > 1  # a linear hidden layer leaves (-1, 1)
    tanh_layer = AnswerBumpLayer(initial_sigma=1.0, per_feature=True)
    tanh_model = make_localized_model(2, 8, tanh_layer, steps_per_execution=7)
    assert tanh_model.steps_per_execution == 7
    assert np.abs(layer_inputs(tanh_model, tanh_layer, x)).max() <= 1.0


def test_layer_inputs_rejects_foreign_layers_and_models():
    layer = AnswerBumpLayer(per_feature=True)
    model = make_localized_model(2, 4, layer)
    with pytest.raises(ValueError, match="not a layer"):
        layer_inputs(model, AnswerBumpLayer(), np.zeros((1, 2)))
    functional = keras.Model(model.inputs, model.outputs)
    with pytest.raises(TypeError, match="Sequential"):
        layer_inputs(functional, layer, np.zeros((1, 2)))


# --- band_fraction / edge_case_inputs -----------------------------------------------------------


def test_band_fraction():
    assert band_fraction(0.5, -5.0, 5.0) == 0.0  # no band for sigma <= 1
    assert band_fraction(2.0, -1.0, 1.0) == 0.0  # out of reach
    assert band_fraction(4.0, -5.0, 5.0) == pytest.approx(0.4)  # 2 < |x| < 4: 4 of 10
    assert band_fraction(4.0, 3.0, 5.0) == pytest.approx(0.5)  # 3 < x < 4: 1 of 2
    _, y = unfiltered_data(5.0, -3.0, 3.0, n=50_000, seed=0)
    share = count_bad_values(y).bad / 50_000
    assert share == pytest.approx(band_fraction(5.0, -3.0, 3.0), abs=0.01)
    with pytest.raises(ValueError, match=r"\(min_x, max_x\) must be two finite numbers"):
        band_fraction(2.0, 1.0, -1.0)


def test_edge_case_inputs():
    x = edge_case_inputs(4.0, num=11)
    assert x.dtype == np.float32
    assert x.shape == (11 + 18,)
    for value in (1e30, np.finfo(np.float32).max, 4.0, 2.0, np.nextafter(np.float32(2), 3)):
        assert np.float32(value) in x
        assert -np.float32(value) in x
    assert np.isfinite(x).all()
    with pytest.raises(ValueError, match="num"):
        edge_case_inputs(1.0, num=1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mean_abs_grad_sigma([0.5], num=0), "num must be an integer >= 1, got 0"),
        (lambda: mse_between_widths(0.5, 0.6, num=2.5), "num must be an integer >= 1, got 2.5"),
        (lambda: localized_task(n=True), "n must be an integer >= 1, got True"),
        (lambda: make_localized_model(2, 0, None), "hidden_units must be an integer >= 1, got 0"),
        (lambda: make_localized_model(1.0, 4, None), "input_dim must be an integer >= 1"),
        (
            lambda: make_localized_model(2, 4, None, steps_per_execution=0),
            "steps_per_execution must be an integer >= 1, got 0",
        ),
    ],
)
def test_counts_are_checked(call, message):
    with pytest.raises(ValueError, match=message):
        call()
