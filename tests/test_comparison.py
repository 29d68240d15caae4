"""Tests of bumpbook.comparison (Gaussian data, ScaledBumpLayer, helpers) and fit_full_batch."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import bumpbook
import bumplib
from bumpbook.comparison import (
    adam_step_sizes,
    gaussian,
    generate_gaussian_data,
    generate_localized_data,
    generate_per_feature_data,
    layer_parameters,
    localized_target,
    make_dense_model,
    place_hidden_units,
    width_gradient,
)
from bumplib import ScaledBumpLayer
from bumplib.reference import bump, bump_grad_sigma, unstable_mask
from bumplib.training import LayerFit, fit_full_batch


@pytest.fixture(autouse=True)
def _seeded():
    bumplib.make_deterministic(0)


# --- data -----------------------------------------------------------------------------------


def test_gaussian_reference_values():
    x = np.array([-1.0, 0.3, 2.0])
    expected = 0.8 * np.exp(-4.0 * (x - 0.3) ** 2)
    np.testing.assert_allclose(gaussian(x, 0.8, 4.0, 0.3), expected, rtol=1e-15)
    assert gaussian(0.3, 0.8, 4.0, 0.3) == pytest.approx(0.8)


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_gaussian_rejects_bad_inverse_width(bad):
    with pytest.raises(ValueError, match="inverse_width"):
        gaussian(0.0, 1.0, bad, 0.0)


def test_generate_gaussian_data_shapes_values_and_seed():
    x, y = generate_gaussian_data(0.8, 1.0, 0.3, min_x=-2.0, max_x=2.0, n=500, seed=3)
    assert x.shape == y.shape == (500, 1)
    assert x.dtype == y.dtype == np.float32
    assert x.min() >= -2.0
    assert x.max() < 2.0
    np.testing.assert_allclose(y, gaussian(x, 0.8, 1.0, 0.3), rtol=1e-6)
    x2, y2 = generate_gaussian_data(0.8, 1.0, 0.3, min_x=-2.0, max_x=2.0, n=500, seed=3)
    assert np.array_equal(x, x2)
    assert np.array_equal(y, y2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_x": 1.0, "max_x": 1.0}, r"\(min_x, max_x\) must be two finite numbers"),
        ({"n": 0}, "n must be an integer >= 1"),
    ],
)
def test_generate_gaussian_data_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_gaussian_data(1.0, 1.0, 0.0, **kwargs)


def test_generate_per_feature_data_columns_are_bumps():
    sigmas = [0.2, 0.5, 1.0, 2.0]
    x, y = generate_per_feature_data(sigmas, n=300, seed=0)
    assert x.shape == y.shape == (300, 4)
    assert np.abs(x).max() < 1.0
    for j, sigma in enumerate(sigmas):
        np.testing.assert_allclose(y[:, j], bump(x[:, j], sigma), rtol=1e-6, atol=1e-37)
    assert np.isfinite(y).all()


def test_generate_per_feature_data_rejects_the_exploding_band():
    with pytest.raises(ValueError, match="explodes"):
        generate_per_feature_data([0.5, 4.0], min_x=-3.0, max_x=3.0)
    with pytest.raises(ValueError, match="non-empty"):
        generate_per_feature_data([])


def test_localized_data_peaks_and_zeros():
    centers, widths, heights = [-2.0, 1.5], [0.5, 0.7], [1.0, -0.7]
    values = localized_target(np.array([-2.0, 1.5, 0.0, 3.0]), centers, widths, heights)
    np.testing.assert_allclose(values, [1.0, -0.7, 0.0, 0.0], atol=1e-12)
    x, y = generate_localized_data(centers, widths, heights, n=200, seed=1)
    assert x.shape == y.shape == (200, 1)
    np.testing.assert_allclose(y, localized_target(x, centers, widths, heights), rtol=1e-6)
    with pytest.raises(ValueError, match="same length"):
        generate_localized_data([0.0], [0.5, 0.5], [1.0])


# --- ScaledBumpLayer ---------------------------------------------------------------------------


def test_scaled_bump_layer_matches_the_reference():
    layer = ScaledBumpLayer(initial_sigma=2.0, initial_height=1.5, initial_center=0.25)
    x = np.linspace(-3.0, 3.0, 121, dtype=np.float32)[:, None]
    shifted = x.astype(np.float64) - 0.25
    expected = 1.5 * np.where(unstable_mask(shifted, 2.0), 0.0, bump(shifted, 2.0))
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-7)
    params = layer_parameters(layer)
    assert set(params) == {"sigma", "height", "center"}
    np.testing.assert_allclose(params["sigma"], [2.0], rtol=1e-6)


def test_scaled_bump_layer_round_trips_through_keras(tmp_path):
    model = keras.Sequential([keras.Input((3,)), ScaledBumpLayer(0.7, 2.0, -0.1, per_feature=True)])
    x = np.linspace(-1.0, 1.0, 30, dtype=np.float32).reshape(10, 3)
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras", compile=False)
    assert np.array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))
    assert again.layers[0].get_config()["initial_height"] == 2.0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"initial_height": math.inf}, ValueError), ({"initial_center": "0"}, TypeError)],
)
def test_scaled_bump_layer_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        ScaledBumpLayer(**kwargs)


def test_layer_parameters_of_the_gaussian_and_a_non_bump():
    layer = bumplib.GaussianBumpLayer(0.5, initial_height=2.0, initial_center=0.1)
    layer(np.zeros((1, 1), np.float32))
    params = layer_parameters(layer)
    assert set(params) == {"sigma", "height", "inverse_width", "center"}
    np.testing.assert_allclose(params["inverse_width"], [4.0], rtol=1e-6)
    np.testing.assert_allclose(params["sigma"], [0.5], rtol=1e-6)
    np.testing.assert_allclose(params["height"], [2.0])
    with pytest.raises(TypeError, match="not a bump layer"):
        layer_parameters(keras.layers.Dense(1))


# --- fit_full_batch -------------------------------------------------------------------------------


def test_fit_full_batch_recovers_each_family_on_its_own_data():
    x, y = generate_gaussian_data(0.8, 1.0, 0.3, min_x=-2.0, max_x=2.0, n=2000, seed=0)
    fit = fit_full_batch(
        bumplib.GaussianBumpLayer(0.5, initial_height=0.5, initial_center=-0.2), x, y, steps=300
    )
    assert isinstance(fit, LayerFit)
    params = layer_parameters(fit.layer)
    np.testing.assert_allclose(params["height"], [0.8], rtol=1e-3)
    np.testing.assert_allclose(params["sigma"], [1.0], rtol=1e-3)
    np.testing.assert_allclose(params["center"], [0.3], atol=1e-3)
    assert fit.loss < 1e-8
    assert fit.losses.shape == fit.steps.shape == (13,)
    assert fit.sigmas.shape == (13, 1)

    xb, yb, _ = bumplib.generate_data(1.0, min_x=-2.0, max_x=2.0, n=2000, seed=0)
    fit = fit_full_batch(ScaledBumpLayer(0.5, 0.5, -0.2), xb, yb, steps=300)
    params = layer_parameters(fit.layer)
    np.testing.assert_allclose(params["sigma"], [1.0], rtol=1e-3)
    np.testing.assert_allclose(params["height"], [1.0], rtol=1e-3)


def test_fit_full_batch_learns_several_sigmas_in_one_fit():
    x, y = generate_per_feature_data([0.2, 2.0], n=2000, seed=0)
    layer = bumplib.StableBumpLayer(1.0, per_feature=True, parametrization="log")
    fit = fit_full_batch(layer, x, y, steps=300)
    np.testing.assert_allclose(layer.get_sigma(), [0.2, 2.0], rtol=1e-3)
    assert fit.sigmas.shape == (13, 2)


def test_fit_full_batch_trains_a_model_and_records_its_bump_layer():
    x, y = generate_localized_data([0.0], [0.5], [1.0], n=500, seed=0)
    model = bumpbook.make_localized_model(1, 4, bumplib.StableBumpLayer(per_feature=True))
    fit = fit_full_batch(model, x, y, steps=50, learning_rate=0.01, beta_1=0.9, beta_2=0.999)
    assert fit.sigmas.shape == (3, 4)
    assert fit.losses[-1] < fit.losses[0]
    dense = fit_full_batch(make_dense_model(1, 4), x, y, steps=25)
    assert dense.sigmas.shape == (2, 0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": 30}, "multiple"),
        ({"steps": 0}, "positive integer"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"beta_2": 1.0}, "beta_2"),
    ],
)
def test_fit_full_batch_rejects_bad_settings(kwargs, match):
    x = np.zeros((4, 1), np.float32)
    with pytest.raises(ValueError, match=match):
        fit_full_batch(bumplib.StableBumpLayer(), x, x, **kwargs)


def test_fit_full_batch_rejects_bad_data():
    x = np.zeros((4, 1), np.float32)
    with pytest.raises(ValueError, match="finite"):
        fit_full_batch(bumplib.StableBumpLayer(), x, np.full((4, 1), np.nan))
    with pytest.raises(ValueError, match="same number"):
        fit_full_batch(bumplib.StableBumpLayer(), x, x[:3])
    with pytest.raises(ValueError, match="samples of shape"):
        fit_full_batch(bumplib.StableBumpLayer(), x, np.zeros((4, 2), np.float32))


# --- gradients and networks -----------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
def test_width_gradient_of_the_bump_matches_the_reference(sigma):
    x = np.linspace(-2.5, 2.5, 501)
    got = width_gradient("bump", x, sigma)
    expected = np.where(unstable_mask(x, sigma), 0.0, bump_grad_sigma(x, sigma))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-300)
    assert (got[np.abs(x) >= min(sigma, math.sqrt(sigma))] == 0).all()


def test_width_gradient_of_the_gaussian_is_the_closed_form_and_never_zero():
    x = np.linspace(-2.5, 2.5, 500)  # x = 0 is not on this grid
    got = width_gradient("gaussian", x, 0.5, height=2.0, center=0.1)
    g = 2.0 * np.exp(-((x - 0.1) ** 2) / 0.25)
    np.testing.assert_allclose(got, g * 2 * (x - 0.1) ** 2 / 0.5**3, rtol=1e-12)
    assert (got != 0).all()


def test_width_gradient_rejects_bad_arguments():
    with pytest.raises(ValueError, match="family"):
        width_gradient("box", [0.0], 1.0)
    with pytest.raises(ValueError, match="> 0"):
        width_gradient("bump", [0.0], 0.0)


def test_place_hidden_units_centres_each_unit():
    model = make_dense_model(2, 3, "tanh", seed=4)
    points = np.array([[0.0, 1.0], [-1.0, 2.0], [0.5, -0.5]])
    place_hidden_units(model, points, slope=3.0)
    hidden = model.get_layer("hidden")
    kernel, bias = hidden.kernel.numpy(), hidden.bias.numpy()
    np.testing.assert_allclose(np.linalg.norm(kernel, axis=0), 3.0, rtol=1e-6)
    pre = np.einsum("ud,du->u", points, kernel) + bias
    np.testing.assert_allclose(pre, 0.0, atol=1e-5)
    with pytest.raises(ValueError, match="one row per hidden unit"):
        place_hidden_units(model, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="slope"):
        place_hidden_units(model, points, slope=0.0)


def test_make_dense_model_mirrors_make_localized_model():
    dense = make_dense_model(1, 5, "relu", seed=2)
    local = bumpbook.make_localized_model(1, 5, bumplib.StableBumpLayer(per_feature=True), seed=2)
    assert [layer.name for layer in dense.layers] == ["hidden", "readout"]
    np.testing.assert_array_equal(
        dense.get_layer("hidden").kernel.numpy(), local.get_layer("hidden").kernel.numpy()
    )


# --- Adam -------------------------------------------------------------------------------------


def test_adam_steps_have_the_learning_rate_length_for_any_gradient_size():
    for gradient in (1e-2, 1.0, 1e4):
        steps = adam_step_sizes(np.full(5, gradient), learning_rate=1e-3)
        np.testing.assert_allclose(steps, 1e-3, rtol=2e-3)


def test_adam_long_memory_shortens_the_steps_after_the_gradient_drops():
    gradients = np.concatenate([np.full(50, 1.0), np.full(100, 0.01)])
    long = adam_step_sizes(gradients)
    short = adam_step_sizes(gradients, beta_1=0.5, beta_2=0.5)
    assert long[-1] < 0.1 * 1e-3
    assert short[-1] == pytest.approx(1e-3, rel=1e-3)
    with pytest.raises(ValueError, match="gradients"):
        adam_step_sizes([])
    with pytest.raises(ValueError, match="beta_1"):
        adam_step_sizes([1.0], beta_1=-0.1)
