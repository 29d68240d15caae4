"""Tests of bumpbook.production: round trips, XLA timing, mixed precision, MirroredStrategy."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import bumpbook
import bumplib
from bumpbook.production import (
    LayerProbe,
    RoundTrip,
    compiled_training,
    configure_logical_cpus,
    fit_loss_scaled,
    fit_with_strategy,
    relative_difference,
    round_trip,
    time_forward_backward,
    upstream_underflow,
    values_and_gradients,
)

# Inputs that break naive float16 code: huge values, the support's edges, the exploding band.
EXTREME = [-6e4, -1e4, -2.0, -1.45, -1.0, -0.999, 0.0, 1e-3, 0.5, 0.999, 1.41, 1.9, 2.0, 6e4]


@pytest.fixture(autouse=True)
def _seeded_and_float32():
    bumplib.make_deterministic(0)
    yield
    # No test may leave a global mixed-precision policy behind.
    assert keras.mixed_precision.dtype_policy().name == "float32"


# --- save, reload, export -------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_model",
    [
        lambda: bumpbook.make_model(bumplib.StableBumpLayer(0.7, parametrization="log")),
        lambda: bumpbook.make_localized_model(
            1, 4, bumplib.StableBumpLayer(1.3, per_feature=True), activation=None
        ),
    ],
    ids=["one-layer", "localized"],
)
def test_round_trip_gives_identical_outputs(tmp_path, make_model):
    model = make_model()
    x = np.linspace(-3.0, 3.0, 61, dtype=np.float32)[:, None]
    copies = round_trip(model, x, tmp_path)
    assert isinstance(copies, RoundTrip)
    assert copies.identical
    assert os.path.isfile(copies.keras_path)
    assert os.path.isfile(os.path.join(copies.export_path, "saved_model.pb"))
    assert copies.original.shape == (61, 1)


def test_round_trip_needs_an_existing_directory(tmp_path):
    model = bumpbook.make_model(bumplib.StableBumpLayer())
    with pytest.raises(FileNotFoundError, match="does not exist"):
        round_trip(model, np.zeros((2, 1)), tmp_path / "missing")


# --- XLA ----------------------------------------------------------------------------------------


def test_time_forward_backward_with_and_without_xla_agree():
    x = np.linspace(-1.2, 1.2, 10_001, dtype=np.float32)[:, None]
    layer = bumplib.StableBumpLayer(0.5)
    plain, plain_grads = time_forward_backward(layer, x, jit_compile=False, repeats=2)
    fused, fused_grads = time_forward_backward(layer, x, jit_compile=True, repeats=2)
    assert plain > 0
    assert fused > 0
    assert [g.shape for g in plain_grads] == [(10_001, 1), (1,)]
    for a, b in zip(plain_grads, fused_grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-9)
    with pytest.raises(ValueError, match="repeats"):
        time_forward_backward(layer, x, jit_compile=False, repeats=0)


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


def test_mixed_float16_training_learns_sigma_to_float16_precision():
    from bumplib.training import fit_full_batch

    x, y, _ = bumplib.generate_data(0.5, n=2000, seed=0)
    layer = bumplib.StableBumpLayer(parametrization="log", dtype="mixed_float16")
    fit_full_batch(layer, x, y, steps=200)
    assert layer.get_sigma()[0] == pytest.approx(0.5, rel=1e-2)


# --- distribution ---------------------------------------------------------------------------


def test_fit_with_strategy_on_the_default_strategy():
    x, y, _ = bumplib.generate_data(0.5, n=1024, seed=0)
    result = fit_with_strategy(x, y, global_batch_size=128, epochs=3)
    assert result.history.shape == (4,)
    assert result.history[0] == pytest.approx(1.0)
    assert result.sigma == pytest.approx(0.5, rel=1e-2)
    assert result.epochs == 3.0


def test_relative_difference():
    assert relative_difference(1.0, 1.0) == 0.0
    assert relative_difference(1.1, 1.0) == pytest.approx(0.1)
    assert relative_difference(1.0, 0.0) == math.inf


def test_configure_logical_cpus_rejects_bad_counts_and_late_calls():
    with pytest.raises(ValueError, match="positive integer"):
        configure_logical_cpus(0)
    tf.constant(1.0) + 1.0  # make sure TensorFlow has set up its devices in this process
    count = len(tf.config.list_logical_devices("CPU"))
    with pytest.raises(RuntimeError, match="already initialized"):
        configure_logical_cpus(count + 1)


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    from bumpbook.production import configure_logical_cpus, fit_with_strategy
    devices = configure_logical_cpus(2)
    import bumplib
    bumplib.make_deterministic(0)
    x, y, _ = bumplib.generate_data(0.5, n=1024, seed=0)
    settings = dict(global_batch_size=256, epochs=2, seed=0)
    single = fit_with_strategy(x, y, None, **settings)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    mirrored = fit_with_strategy(x, y, strategy, **settings)
    print(json.dumps({
        "devices": len(devices),
        "replicas": strategy.num_replicas_in_sync,
        "single": single.sigma,
        "mirrored": mirrored.sigma,
        "history": mirrored.history.tolist(),
    }))
    """
)


def test_mirrored_strategy_on_two_logical_cpus_matches_one_device():
    # A fresh process: this one's TensorFlow has fixed its devices already.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", MIRRORED_SCRIPT],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["devices"] == 2
    assert result["replicas"] == 2
    assert len(result["history"]) == 3
    assert math.isfinite(result["mirrored"])
    assert result["mirrored"] != result["history"][0]  # it trained
    # Same data, seed and global batch: equal up to the order of float32 sums.
    assert relative_difference(result["mirrored"], result["single"]) <= 1e-6


def test_upstream_underflow_float16_and_loss_scale():
    x, y, _ = bumplib.generate_data(0.5, n=20_000, seed=0)

    def layer():
        return bumplib.StableBumpLayer(
            initial_sigma=0.499, parametrization="log", dtype="mixed_float16"
        )

    plain = upstream_underflow(layer(), x, y)
    scaled = upstream_underflow(layer(), x, y, loss_scale=2.0**10)
    assert plain > 0.5 > 0.01 > scaled
    assert upstream_underflow(bumplib.StableBumpLayer(initial_sigma=0.499), x, y) == 0.0
    exact = bumplib.StableBumpLayer(initial_sigma=0.5)
    assert upstream_underflow(exact, x[:10], exact(x[:10]).numpy()) == 0.0
    with pytest.raises(ValueError, match="loss_scale"):
        upstream_underflow(layer(), x, y, loss_scale=0.0)


@pytest.mark.parametrize("loss_scale", [None, 2.0**10, "dynamic"])
def test_fit_loss_scaled_float16_stable_layer(loss_scale):
    x, y, _ = bumplib.generate_data(0.5, n=4_000, seed=0)
    layer = bumplib.StableBumpLayer(parametrization="log", dtype="mixed_float16")
    fit = fit_loss_scaled(layer, x, y, loss_scale=loss_scale, steps=200, block=50)
    assert fit.sigmas.shape == (5, 1)
    assert list(fit.steps) == [0, 50, 100, 150, 200]
    assert abs(fit.sigmas[-1, 0] - 0.5) / 0.5 < 2e-3
    assert np.isfinite(fit.losses).all()


def test_fit_loss_scaled_dynamic_skips_non_finite_steps():
    # The thread's layer overflows float16 near |x| = 1 at sigma = 1: every gradient is nan,
    # the LossScaleOptimizer skips every step, and sigma stays where it started.
    x, y, _ = bumplib.generate_data(0.5, n=2_000, seed=0)
    layer = bumpbook.AnswerBumpLayer(initial_sigma=1.0, dtype="mixed_float16")
    fit = fit_loss_scaled(layer, x, y, loss_scale="dynamic", steps=50, block=25)
    assert fit.sigmas[-1, 0] == 1.0
    unscaled = fit_loss_scaled(
        bumpbook.AnswerBumpLayer(initial_sigma=1.0, dtype="mixed_float16"), x, y, steps=25, block=25
    )
    assert np.isnan(unscaled.sigmas[-1, 0])


def test_fit_loss_scaled_bad_settings():
    x, y, _ = bumplib.generate_data(0.5, n=100, seed=0)
    for bad in (0.0, -1.0, float("inf"), "static", True):
        with pytest.raises(ValueError, match="loss_scale"):
            fit_loss_scaled(bumplib.StableBumpLayer(), x, y, loss_scale=bad)
    with pytest.raises(ValueError, match="multiple"):
        fit_loss_scaled(bumplib.StableBumpLayer(), x, y, steps=30, block=25)
    with pytest.raises(ValueError, match="finite"):
        fit_loss_scaled(bumplib.StableBumpLayer(), np.full_like(x, np.nan), y, steps=25)


def test_compiled_training_with_and_without_xla():
    x, y, _ = bumplib.generate_data(0.5, n=2_000, seed=0)
    learned = {}
    for jit_compile in (False, True):
        layer = bumplib.StableBumpLayer(parametrization="log")
        train = compiled_training(layer, x, y, steps=100, jit_compile=jit_compile)
        loss = float(train())
        assert np.isfinite(loss)
        learned[jit_compile] = float(layer.get_sigma()[0])
    assert learned[True] == pytest.approx(learned[False], rel=1e-5)
    assert abs(learned[True] - 0.5) < 1e-3
    hlo = train.experimental_get_compiler_ir()(stage="hlo")
    assert hlo.startswith("HloModule")
    with pytest.raises(ValueError, match="steps"):
        compiled_training(bumplib.StableBumpLayer(), x, y, steps=0, jit_compile=False)
