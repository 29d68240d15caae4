"""Tests of bumpbook's compiled loops: fit_full_batch, and fit_compiled (model.fit in XLA)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import bumpbook
import bumplib
from bumpbook import fit_compiled, fit_full_batch


@pytest.fixture(scope="module")
def data():
    x, y, _ = bumplib.generate_data(0.5, n=1000, seed=1)
    return x, y


def test_takes_the_steps_model_fit_takes_and_learns_what_it_learns(data):
    x, y = data
    bumplib.make_deterministic(0)
    _, keras_model = bumpbook.answer_recipe_model(0)
    record = bumplib.SigmaHistory()
    keras_model.fit(x, y, batch_size=32, epochs=3, verbose=0, callbacks=[record])
    layer, model = bumpbook.answer_recipe_model(0)
    run = fit_compiled(model, x, y, batch_size=32, epochs=3, seed=0)
    # 1000 samples: 31 full batches and one of 8, three times.
    np.testing.assert_array_equal(run.steps, [0, 32, 64, 96])
    assert int(model.optimizer.iterations.numpy()) == 96
    np.testing.assert_array_equal(record.steps, run.steps)
    assert run.sigmas.shape == (4, 1)
    assert np.isnan(run.losses[0])
    assert np.all(np.isfinite(run.losses[1:]))
    # Same start, same number of Adam steps on the same data: a different shuffle only.
    assert run.sigmas[0, 0] == record.sigmas[0, 0]
    np.testing.assert_allclose(run.sigmas[-1], record.sigmas[-1], rtol=0.05)
    np.testing.assert_allclose(run.losses[1:], record.losses[1:], rtol=0.2)
    assert layer.get_sigma()[0] == run.sigmas[-1, 0]


def test_without_shuffling_differences_it_matches_model_fit_step_for_step(data):
    # One batch holding every sample: no shuffle can change anything, so the
    # compiled loop and model.fit must agree to float32 rounding.
    x, y = data
    keras.utils.set_random_seed(0)
    fit_layer = bumpbook.AnswerBumpLayer(initial_sigma=0.3)
    keras_model = bumpbook.make_model(fit_layer)
    keras_model.fit(x, y, batch_size=len(x), epochs=20, verbose=0, shuffle=False)
    layer = bumpbook.AnswerBumpLayer(initial_sigma=0.3)
    run = fit_compiled(bumpbook.make_model(layer), x, y, batch_size=len(x), epochs=20)
    np.testing.assert_allclose(run.sigmas[-1], fit_layer.get_sigma(), rtol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"epochs": 1.5}, "epochs must be an integer >= 1"),
        ({"y": np.zeros((3, 1))}, "same number"),
    ],
)
def test_bad_input(data, kwargs, match):
    x, y = data
    _, model = bumpbook.answer_recipe_model(0)
    args = {"x": x, "y": y, **kwargs}
    with pytest.raises(ValueError, match=match):
        fit_compiled(model, **args)


def test_needs_a_compiled_model(data):
    x, y = data
    model = keras.Sequential([keras.Input((1,)), bumpbook.AnswerBumpLayer(0.5)])
    with pytest.raises(ValueError, match="compiled Keras model"):
        fit_compiled(model, x, y)


def test_fit_thread_recipe_compiled(data):
    x, y = data
    run = bumpbook.fit_answer_recipe(x, y, 0.5, compiled=True)
    keras_run = bumpbook.fit_answer_recipe(x, y, 0.5, steps_per_execution=32)
    np.testing.assert_array_equal(run.steps, keras_run.steps)
    assert run.history[0] == keras_run.history[0]
    np.testing.assert_allclose(run.sigma, keras_run.sigma, rtol=0.05)
    with pytest.raises(TypeError, match="compiled must be True or False"):
        bumpbook.fit_answer_recipe(x, y, 0.5, compiled="yes")


def recovery_model():
    layer = bumplib.StableBumpLayer(initial_sigma=1.0, parametrization="log")
    optimizer = bumplib.make_recovery_optimizer(0.1, 100)
    return layer, bumpbook.make_model(layer, optimizer=optimizer)


def test_fit_full_batch_records_every_block_and_recovers_sigma(data):
    x, y = data
    layer, model = recovery_model()
    run = fit_full_batch(model, x, y, steps=100, block=25)
    np.testing.assert_array_equal(run.steps, [0, 25, 50, 75, 100])
    assert int(model.optimizer.iterations.numpy()) == 100
    assert run.sigmas.shape == (5, 1)
    assert run.sigmas[0, 0] == 1.0
    assert run.sigmas[-1, 0] == layer.get_sigma()[0] == pytest.approx(0.5, rel=1e-4)
    # the loss on all the data, at the start too
    assert np.isfinite(run.losses).all()
    assert run.losses[-1] < 1e-3 * run.losses[0]


def test_fit_full_batch_matches_model_fit_and_repeats(data):
    x, y = data
    layer, model = recovery_model()
    keras.utils.set_random_seed(0)
    model.fit(x, y, batch_size=len(x), epochs=50, shuffle=False, verbose=0)
    for jit_compile in (False, True):
        run = fit_full_batch(recovery_model()[1], x, y, steps=50, block=50, jit_compile=jit_compile)
        np.testing.assert_allclose(run.sigmas[-1], layer.get_sigma(), rtol=1e-5)
    first = fit_full_batch(recovery_model()[1], x, y, steps=50, block=25, batch_size=32, seed=4)
    second = fit_full_batch(recovery_model()[1], x, y, steps=50, block=25, batch_size=32, seed=4)
    np.testing.assert_array_equal(first.sigmas, second.sigmas)  # the draws are seeded


def test_fit_full_batch_without_a_bump_layer_and_bad_input(data):
    x, y = data
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    run = fit_full_batch(model, x, y, steps=10, block=5)
    assert run.sigmas.shape == (3, 0)
    assert run.losses.shape == (3,)
    with pytest.raises(ValueError, match=r"steps \(10\) must be a multiple of block \(4\)"):
        fit_full_batch(model, x, y, steps=10, block=4)
    with pytest.raises(ValueError, match=r"batch_size \(None for full batches\) must be an"):
        fit_full_batch(model, x, y, batch_size=0)
    with pytest.raises(ValueError, match="compiled Keras model"):
        fit_full_batch(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]), x, y)
