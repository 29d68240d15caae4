"""fit_sigma, fit_answer_recipe, make_model, SigmaHistory and make_deterministic."""

from __future__ import annotations

import math
import random

import keras
import numpy as np
import pytest
import tensorflow as tf

from bumpbook import answer_epochs, fit_answer_recipe, make_model
from bumplib import SigmaHistory, StableBumpLayer, fit_sigma, generate_data, make_deterministic

# --- fit_sigma ------------------------------------------------------------------------------------


def test_fit_sigma_defaults_to_least_squares():
    x, y, _ = generate_data(0.3, n=40_000, seed=1)
    result = fit_sigma(x, y)
    assert result.method == "lm"
    assert result.message.startswith(("converged", "exact"))
    assert result.sigma == pytest.approx(0.3, rel=1e-6)
    # One record per iteration, the start (initial_sigma = 1) included.
    assert result.history[0] == 1.0
    assert result.history[-1] == result.sigma
    assert len(result.history) == len(result.losses) == len(result.steps)
    # Iterations taken at each record: the second stage starts where the first stopped.
    assert result.steps[0] == 0
    assert np.all(np.diff(result.steps) >= 0)
    assert np.count_nonzero(np.diff(result.steps) == 0) == 1
    # One model evaluation per record; the first stage's on every 16th sample.
    assert 2 < result.epochs < len(result.history)
    assert np.isfinite(result.losses).all()
    assert result.losses[-1] < 1e-12 < result.losses[0]
    assert 0 < result.seconds < 60
    # Deterministic: the same data give the same fit.
    again = fit_sigma(x, y)
    np.testing.assert_array_equal(again.history, result.history)


def test_fit_sigma_lm_from_far_starts():
    x, y, _ = generate_data(0.05, n=20_000, seed=2)
    for start in (1e-3, 50.0, 1e4):
        result = fit_sigma(x, y, initial_sigma=start)
        assert result.sigma == pytest.approx(0.05, rel=1e-6), start


def test_fit_sigma_lm_steps_is_its_iteration_budget():
    x, y, _ = generate_data(20.0, n=5000, seed=3)
    with pytest.raises(RuntimeError, match=r"did not converge in 2 iterations.*max_iterations"):
        fit_sigma(x, y, steps=2)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("learning_rate", 0.1), ("batch_size", 32), ("block", 25)],
)
def test_fit_sigma_lm_refuses_adam_settings(setting, value):
    x, y, _ = generate_data(0.5, n=100, seed=0)
    with pytest.raises(ValueError, match=f"{setting}: for method='adam' only"):
        fit_sigma(x, y, **{setting: value})


@pytest.mark.parametrize("method", ["lm", "adam"])
def test_fit_sigma_bad_input(method):
    x, y, _ = generate_data(0.5, n=100, seed=0)
    with pytest.raises(ValueError, match="method must be 'lm'"):
        fit_sigma(x, y, method="sgd")
    with pytest.raises(ValueError, match="initial_sigma must be > 0"):
        fit_sigma(x, y, method=method, initial_sigma=0.0)
    with pytest.raises(ValueError, match=r"initial_sigma must be > 0 here, got -1\.0"):
        fit_sigma(x, y, method=method, initial_sigma=-1.0)
    with pytest.raises(ValueError, match="x has 100 samples but y has 99"):
        fit_sigma(x, y[:99], method=method)
    with pytest.raises(ValueError, match=r"y must hold n >= 1 scalar samples.*\(100, 2\)"):
        fit_sigma(x, np.hstack([y, y]), method=method)
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="y has 1 nan or inf values"):
        fit_sigma(x, bad, method=method)
    with pytest.raises(ValueError, match="x has 1 nan or inf values"):
        fit_sigma(np.where(np.arange(100)[:, None] == 0, np.inf, x), y, method=method)
    with pytest.raises(ValueError, match="no bump can fit these targets"):
        fit_sigma(x, y - 1.0, method=method)


@pytest.fixture(scope="module", params=[0.1, 10.0])
def recovery(request):
    """fit_sigma's Adam with its defaults on 100k exact samples of x in (-1, 1) (~1 s each)."""
    sigma = request.param
    x, y, _ = generate_data(sigma, n=100_000, seed=0)
    return sigma, fit_sigma(x, y, method="adam")


def test_fit_sigma_adam_recovers_sigma(recovery):
    sigma, result = recovery
    assert result.method == "adam"
    assert math.isfinite(result.sigma)
    # fit_sigma's docstring promises about 1e-5 with the defaults on such data.
    assert result.sigma == pytest.approx(sigma, rel=1e-5)


def test_fit_sigma_adam_history_and_bookkeeping(recovery):
    _, result = recovery
    # Defaults: initial_sigma = 1, 500 full-batch steps recorded every 25.
    assert result.history[0] == pytest.approx(1.0, rel=1e-7)
    assert result.history[-1] == result.sigma
    assert len(result.history) == len(result.losses) == len(result.steps) == 500 // 25 + 1
    np.testing.assert_array_equal(result.steps, np.arange(0, 501, 25))
    assert np.isfinite(result.history).all()
    # model.fit's losses: none before the first step, then each block's mean, down to rounding.
    assert np.isnan(result.losses[0])
    assert np.isfinite(result.losses[1:]).all()
    assert result.losses[1] > 1e-4 > 1e-6 > result.losses[-1]  # the data are exact
    assert result.epochs == 500  # one full batch per step
    assert 0 < result.seconds < 60


def test_fit_sigma_adam_is_deterministic_and_starts_where_asked():
    x, y, _ = generate_data(0.3, n=5000, seed=4)
    first = fit_sigma(x, y, method="adam", initial_sigma=2.0, steps=100, seed=5)
    second = fit_sigma(x, y, method="adam", initial_sigma=2.0, steps=100, seed=5)
    assert first.sigma == second.sigma
    np.testing.assert_array_equal(first.history, second.history)
    assert first.history[0] == pytest.approx(2.0, rel=1e-7)
    assert len(first.history) == 100 // 25 + 1


def test_fit_sigma_adam_mini_batches():
    x, y, _ = generate_data(0.5, n=20_000, seed=0)
    result = fit_sigma(x, y, method="adam", batch_size=1024, seed=1)
    assert result.sigma == pytest.approx(0.5, rel=1e-3)
    assert result.epochs == pytest.approx(500 * 1024 / 20_000)
    again = fit_sigma(x, y, method="adam", batch_size=1024, seed=1)
    assert again.sigma == result.sigma  # the mini-batch draws are seeded too


@pytest.mark.parametrize("method", ["lm", "adam"])
@pytest.mark.parametrize(
    ("sigma", "min_x", "max_x", "initial_sigma"),
    [
        (4.0, -5.0, 5.0, 1.0),  # band dropped, samples far outside the support
        (0.05, -1.0, 1.0, 50.0),  # start three orders of magnitude too wide
        (0.0, -1.0, 1.0, 1.0),  # all targets 0: sigma heads for 0 but stays finite
    ],
)
def test_fit_sigma_never_returns_nan(method, sigma, min_x, max_x, initial_sigma):
    x, y, _ = generate_data(sigma, min_x=min_x, max_x=max_x, n=2000, seed=0)
    steps = 100 if method == "adam" else None
    result = fit_sigma(x, y, method=method, initial_sigma=initial_sigma, steps=steps)
    assert np.isfinite(result.history).all()
    assert np.isfinite(result.losses[1:]).all()
    assert result.sigma > 0
    if method == "lm":
        if sigma == 0.0:  # every sample outside the support: an exact fit
            assert result.losses[-1] == 0.0
            assert result.sigma <= np.abs(x).min()
        else:
            assert result.sigma == pytest.approx(sigma, rel=1e-6)


# --- the thread's recipe --------------------------------------------------------------------------


def test_thread_epochs_rule():
    assert [answer_epochs(s) for s in (0.1, 0.99, 1.0, 4.9, 5.0, 50.0)] == [3, 3, 5, 5, 10, 10]


def test_fit_thread_recipe_small():
    # Slow by design (batch 32, Keras fit loop): a small data set only.
    x, y, _ = generate_data(0.5, n=2000, seed=0)
    result = fit_answer_recipe(x, y, 0.5, seed=0)
    epochs = answer_epochs(0.5)
    assert result.epochs == epochs
    assert len(result.history) == epochs + 1
    assert 0 <= result.history[0] <= 0.1  # drawn from [0, 0.1]
    assert result.sigma == result.history[-1]
    # It moves toward the truth, monotonically, with a falling loss.
    assert abs(result.sigma - 0.5) < abs(result.history[0] - 0.5)
    assert (np.diff(result.history) > 0).all()
    assert (np.diff(result.losses[1:]) < 0).all()
    np.testing.assert_array_equal(result.steps, np.arange(epochs + 1) * math.ceil(2000 / 32))


# --- make_model -----------------------------------------------------------------------------------


def test_make_model_defaults():
    layer = StableBumpLayer(0.5)
    model = make_model(layer)
    assert model.layers == [layer]
    assert model.input_shape == (None, 1)
    assert model.loss == "mse"
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.001)


def test_make_model_input_shape_optimizer_and_learning_rate():
    model = make_model(
        StableBumpLayer(0.5, per_feature=True),
        input_shape=(3,),
        optimizer="sgd",
        learning_rate=0.25,
    )
    assert model.input_shape == (None, 3)
    assert model.layers[0].get_sigma().shape == (3,)
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(model.optimizer.learning_rate) == 0.25
    # The compiled loss is the mean squared error.
    x = np.array([[0.1, 0.2, 0.3]], np.float32)
    y = np.zeros((1, 3), np.float32)
    expected = np.mean(keras.ops.convert_to_numpy(model(x)) ** 2)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-6)


# --- SigmaHistory ---------------------------------------------------------------------------------


def _small_fit(callback, epochs=3, n=320, batch_size=32):
    keras.utils.set_random_seed(0)
    x, y, _ = generate_data(0.5, n=n, seed=0)
    layer = StableBumpLayer(0.2)
    model = make_model(layer, learning_rate=0.01)
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[callback])
    return layer


def test_sigma_history_per_epoch():
    history = SigmaHistory()  # finds the bump layer by itself
    layer = _small_fit(history, epochs=3)
    assert history.sigmas.shape == (4, 1)
    assert history.sigmas[0, 0] == pytest.approx(0.2, rel=1e-7)  # before training
    assert history.sigmas[-1, 0] == layer.get_sigma()[0]
    assert (np.diff(history.sigmas[:, 0]) != 0).all()  # it trained between records
    np.testing.assert_array_equal(history.steps, [0, 10, 20, 30])
    assert math.isnan(history.losses[0])
    assert np.isfinite(history.losses[1:]).all()


def test_sigma_history_every_n_batches():
    history = SigmaHistory(every_n_batches=4)
    layer = StableBumpLayer(0.2)
    history.layer = layer
    model = make_model(layer, learning_rate=0.01)
    x, y, _ = generate_data(0.5, n=320, seed=0)
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[history])
    # 10 batches per epoch, 20 in all: records at steps 0, 4, 8, ..., 20.
    np.testing.assert_array_equal(history.steps, np.arange(0, 21, 4))
    assert history.sigmas.shape == (6, 1)
    assert history.sigmas[0, 0] == pytest.approx(0.2, rel=1e-7)
    assert history.sigmas[-1, 0] == layer.get_sigma()[0]
    assert len(history.losses) == 6


def test_sigma_history_needs_a_bump_layer():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(loss="mse")
    with pytest.raises(ValueError, match="has no bump layer"):
        model.fit(np.zeros((4, 1)), np.zeros((4, 1)), verbose=0, callbacks=[SigmaHistory()])


# --- make_deterministic ---------------------------------------------------------------------------


@pytest.fixture
def restore_op_determinism():
    """Leave TensorFlow's op determinism as it was (no public getter or setter to undo it)."""
    from tensorflow.python.framework import config as tf_config

    was_enabled = tf_config.is_op_determinism_enabled()
    yield tf_config
    if not was_enabled:
        tf_config.disable_op_determinism()


def test_make_deterministic_repeats_every_random_source(restore_op_determinism):
    def draw():
        return (
            random.random(),
            float(np.random.rand()),
            float(tf.random.uniform([])),
            float(keras.random.uniform([], seed=keras.random.SeedGenerator())),
        )

    make_deterministic(123)
    first = draw()
    make_deterministic(123)
    assert draw() == first
    make_deterministic(124)
    assert draw() != first
    assert restore_op_determinism.is_op_determinism_enabled()
