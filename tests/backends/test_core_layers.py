"""The core layers on the running Keras backend: values, finite gradients, promises kept.

Gradients are taken with the backend's own autodiff (``autodiff.py``), not
through Keras, eagerly and compiled (XLA on TensorFlow, ``jax.jit``).
"""

from __future__ import annotations

import math
import subprocess
import sys

import keras
import ml_dtypes
import numpy as np
import pytest
from autodiff import (
    BACKEND,
    MODES,
    float64_enabled,
    gradient_function,
    tensorflow_xla_entry,
    weights_of,
)
from floats import step_ulps
from keras.src import testing

import bumplib
from bumplib import (
    GaussianBumpLayer,
    ScaledBumpLayer,
    StableBumpLayer,
    bump,
    bump_grad_sigma,
    bump_grad_x,
    stable_bump,
)
from bumplib.stable_layer import blocked_total, flushes_subnormals, underflow_cutoff

F32 = np.float32
F32_MAX = float(np.finfo(F32).max)
DTYPES = ["float32", "float16", "bfloat16"]


# --- the stress set: every hard (x, sigma) pair, one pair per feature --------------------------


def stress_pairs(dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (x, sigma) in ``dtype``: special values, +-sigma and +-sqrt(sigma) and 2 ulps
    either side, huge and tiny x, and random floats over the whole range."""
    info = ml_dtypes.finfo(dtype)
    big, tiny, sub = float(info.max), float(info.tiny), float(info.smallest_subnormal)
    sigmas = [0.0, sub, 2 * sub, tiny / 3, tiny, 1e-20, 1e-4, 0.25, 0.5, 0.99, 1.0, 1.01]
    sigmas += [2.0, 10.0, 255.0, 1e4, big / 4, big]
    sigmas = sorted({float(np.array(s).astype(np.dtype(info.dtype))) for s in sigmas})
    rng = np.random.default_rng(seed)
    xs_free = [0.0, -0.0, sub, -sub, tiny, 1.0, -1.0, 1e30, -1e30, big, -big]
    rows = []
    for s in sigmas:
        # the support's edge, the pole, and the singularity guard's edge in x and in x**2
        guard = 1 - 1 / underflow_cutoff("float32")
        anchors = [s, math.sqrt(s), math.sqrt(s * guard), s * guard]
        for a in anchors:
            a = float(np.array(a).astype(np.dtype(info.dtype)))  # the nearest value in dtype
            for k in range(-2, 3):
                for sign in (1, -1):
                    rows.append((sign * max(step_ulps(a, k, dtype), 0.0), s))
        rows += [(x, s) for x in xs_free]
        rows += [(x, s) for x in rng.uniform(-1.5, 1.5, 8) * max(s, math.sqrt(s))]
    log_range = rng.uniform(math.log(sub), math.log(big), (400, 2))
    signs = rng.choice([-1.0, 1.0], 400)
    rows += [
        (sx * math.exp(lx), math.exp(ls)) for (lx, ls), sx in zip(log_range, signs, strict=True)
    ]
    x, sigma = np.array(rows, dtype=np.float64).T
    with np.errstate(over="ignore"):
        x = np.clip(x, -big, big).astype(np.dtype(info.dtype))
        sigma = np.clip(sigma, 0, big).astype(np.dtype(info.dtype))
    return x, sigma


def check_finite(y, d_x, d_sigma, upper):
    for name, a in (("y", y), ("d_x", d_x), ("d_sigma", d_sigma)):
        a = np.asarray(a, dtype=np.float64)
        assert np.isfinite(a).all(), f"{name} not finite at {np.flatnonzero(~np.isfinite(a))[:5]}"
    y = np.asarray(y, dtype=np.float64)
    assert (y >= 0).all()
    assert (y <= upper).all()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_stable_layer_finite_for_every_hard_pair(dtype, mode):
    x, sigma = stress_pairs(dtype)
    layer = StableBumpLayer(sigma.astype(np.float64).tolist(), per_feature=True, dtype=dtype)
    layer.build((None, x.size))
    y, d_x, (d_sigma,) = gradient_function(layer, mode)(x[None], weights_of(layer))
    check_finite(y, d_x, d_sigma, upper=float(np.array(math.exp(-1)).astype(y.dtype)))
    assert y.dtype == np.dtype(getattr(ml_dtypes, dtype, None) or dtype)
    # on its support |x| < min(sigma, sqrt(sigma)) the layer is the formula (rounded), 0 off it
    x64, s64 = x.astype(np.float64), sigma.astype(np.float64)
    with np.errstate(all="ignore"):
        support = np.abs(x64) < np.minimum(s64, np.sqrt(s64))
        exact = np.where(support, np.exp(-s64 / (s64 - x64**2)), 0.0)
    usable = np.isfinite(exact) & (s64 > float(ml_dtypes.finfo(dtype).tiny))
    # t = 1 / (1 - r x) is computed from the rounded r = x / sigma and r x (about 2 ulps);
    # the subtraction amplifies that by r x / (1 - r x) < t, so t carries a relative error
    # of about 2 eps t, and exp(-t) carries t times that: allow 4 eps t**2
    # (where the exact value is 0, t may be inf: the bound is then ``smallest`` alone)
    with np.errstate(all="ignore"):
        t = np.where(usable & (exact > 0), s64 / (s64 - x64**2), 1.0)
    tolerance = float(ml_dtypes.finfo(dtype).eps) * 4 * np.maximum(t, 1.0) ** 2
    error = np.abs(y[0].astype(np.float64) - exact)
    smallest = float(ml_dtypes.finfo(dtype).tiny)  # below it, flushed or subnormal results
    assert (error[usable] <= tolerance[usable] * exact[usable] + smallest).all()


@pytest.mark.parametrize("parametrization", ["log", "softplus"])
def test_stable_layer_reparametrized_finite(parametrization):
    x, sigma = stress_pairs("float32", seed=1)
    keep = sigma > 0  # these store a transform of a positive sigma
    x, sigma = x[keep], sigma[keep]
    layer = StableBumpLayer(
        sigma.astype(np.float64).tolist(), per_feature=True, parametrization=parametrization
    )
    layer.build((None, x.size))
    stored = weights_of(layer)
    assert np.isfinite(stored[0]).all()
    y, d_x, (d_stored,) = gradient_function(layer, "compiled")(x[None], stored)
    check_finite(y, d_x, d_stored, upper=float(F32(math.exp(-1))))
    np.testing.assert_allclose(layer.get_sigma(), sigma, rtol=1e-5, atol=1e-37)


@pytest.mark.parametrize("sigma", [0.05, 0.25, 0.7, 1.0, 2.0, 9.0])
def test_float64_gradients_are_the_closed_forms(sigma):
    with float64_enabled():
        check_float64_closed_forms(sigma)


def check_float64_closed_forms(sigma: float) -> None:
    """The float64 layer's value and gradients are the closed forms (to 1e-10)."""
    x = np.linspace(-3.5, 3.5, 141)
    # away from the edges |x| = sigma and |x| = sqrt(sigma), where one rounding of x decides
    # between 0 and exp(-1 / (1 - sigma)) (the bump jumps there when sigma < 1)
    for edge in (sigma, math.sqrt(sigma)):
        x = x[np.abs(np.abs(x) - edge) > 1e-3]
    layer = StableBumpLayer(sigma, dtype="float64")
    layer.build((None, 1))
    y, d_x, (d_sigma,) = gradient_function(layer, "eager")(x[:, None], weights_of(layer))
    inside = np.abs(x) < min(sigma, math.sqrt(sigma))
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(y[:, 0], np.where(inside, bump(x, sigma), 0.0), rtol=1e-12)
        np.testing.assert_allclose(
            d_x[:, 0], np.where(inside, bump_grad_x(x, sigma), 0.0), rtol=1e-10, atol=1e-300
        )
        expected = np.where(inside, bump_grad_sigma(x, sigma), 0.0).sum()
    assert d_sigma[0] == pytest.approx(expected, rel=1e-10)


def test_float32_gradients_match_float64_reference_and_finite_differences():
    sigma = 0.7
    x = np.linspace(-0.69, 0.69, 47).astype(F32)
    layer = StableBumpLayer(sigma)
    layer.build((None, 1))
    _y, d_x, (d_sigma,) = gradient_function(layer)(x[:, None], weights_of(layer))
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(d_x[:, 0], bump_grad_x(x64, sigma), rtol=2e-5, atol=1e-6)
    assert d_sigma[0] == pytest.approx(bump_grad_sigma(x64, sigma).sum(), rel=1e-5)
    h = 1e-3  # central difference of the summed output in sigma
    step = [bump(x64, sigma + h).sum() - bump(x64, sigma - h).sum()]
    assert d_sigma[0] == pytest.approx(step[0] / (2 * h), rel=1e-4)


@pytest.mark.parametrize("per_feature", [False, True])
def test_sigma_gradient_is_summed_over_broadcast_axes(per_feature):
    # batch (4, 5, 3): a shared sigma sums over everything, a per-feature one over (4, 5)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.2, 1.2, (4, 5, 3)).astype(F32)
    sigmas = [0.4, 0.9, 1.6]
    layer = StableBumpLayer(sigmas if per_feature else 0.9, per_feature=per_feature)
    layer.build((None, 5, 3))
    _y, _d_x, (d_sigma,) = gradient_function(layer)(x, weights_of(layer))
    s = np.array(sigmas if per_feature else [0.9] * 3)
    x64 = x.astype(np.float64)
    inside = np.abs(x64) < np.minimum(s, np.sqrt(s))
    per_point = np.where(inside, bump_grad_sigma(np.where(inside, x64, 0), s), 0)
    expected = per_point.sum(axis=(0, 1)) if per_feature else [per_point.sum()]
    assert d_sigma.shape == ((3,) if per_feature else (1,))
    np.testing.assert_allclose(d_sigma, expected, rtol=1e-4)


@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 1025, 300_001])
def test_blocked_total_sums_every_element(size):
    # every value in [0.5, 1): a value lost or counted twice moves the sum by more than 1e-6
    values = np.random.default_rng(size).uniform(0.5, 1.0, (size, 1)).astype(F32)
    total = keras.ops.convert_to_numpy(blocked_total(keras.ops.convert_to_tensor(values)))
    assert total.shape == ()
    assert float(total) == pytest.approx(math.fsum(values.ravel().tolist()), rel=1e-6, abs=1e-6)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="XLA's own sum, on TensorFlow")
def test_blocked_total_under_xla_takes_any_batch_and_rounds_less_than_xlas_sum():
    from bumplib.backend import tf

    def compiled(function):
        spec = tf.TensorSpec([None, 1], tf.float32)  # the unknown batch of Keras' graphs
        return tf.function(function, input_signature=[spec], jit_compile=True)

    blocked, plain = compiled(blocked_total), compiled(tf.reduce_sum)
    for size in (1, 1023, 1025, 3001):
        values = np.linspace(0.5, 1.0, size, dtype=F32).reshape(-1, 1)
        exact = math.fsum(values.ravel().tolist())
        assert float(blocked(values)) == pytest.approx(exact, rel=1e-6)
    values = np.random.default_rng(0).uniform(0.0, 1.0, (1_000_000, 1)).astype(F32)
    exact = math.fsum(values.ravel().tolist())
    blocked_error, plain_error = (abs(float(f(values)) / exact - 1) for f in (blocked, plain))
    assert blocked_error < plain_error / 4, (blocked_error, plain_error)


def test_stable_bump_function_broadcasts_both_ways():
    x = keras.ops.convert_to_tensor(np.array([0.1, 0.5], F32))
    sigma = keras.ops.convert_to_tensor(np.array([[0.3], [1.0], [4.0]], F32))
    y = keras.ops.convert_to_numpy(stable_bump(x, sigma))
    assert y.shape == (3, 2)
    np.testing.assert_allclose(y[1], bump(np.array([0.1, 0.5]), 1.0), rtol=1e-6)
    assert y[0, 1] == 0  # |x| >= sigma
    int_input = keras.ops.convert_to_numpy(stable_bump(np.array([0, 3]), 2.0))
    assert int_input.dtype == np.float32
    assert int_input[1] == 0


# --- Gaussian and scaled layers ----------------------------------------------------------------


# Finite gradients of the Gaussian and scaled layers in every dtype and mode: the gradient-trap
# finder's searches (test_gradient_traps_layers.py) cover them, over their whole promised domain.


def test_gaussian_formula_and_scaled_formula():
    x = np.linspace(-2, 2, 9, dtype=F32)[:, None]
    gaussian = GaussianBumpLayer(0.5, initial_height=2.0, initial_center=0.2)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(gaussian(x)), 2.0 * np.exp(-4.0 * (x - 0.2) ** 2), rtol=1e-6
    )
    assert gaussian.get_sigma() == pytest.approx([0.5])
    scaled = ScaledBumpLayer(0.8, initial_height=1.5, initial_center=0.1)
    with np.errstate(all="ignore"):
        expected = 1.5 * np.where(np.abs(x - 0.1) < 0.8, bump((x - 0.1).astype(np.float64), 0.8), 0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(scaled(x)), expected, rtol=1e-5)


# --- Keras' own layer harness ----------------------------------------------------------------

HARNESS_CASES = [
    (StableBumpLayer, {"initial_sigma": 0.7}, 1),
    (StableBumpLayer, {"initial_sigma": [0.3, 1.0, 2.0], "per_feature": True}, 1),
    (StableBumpLayer, {"initial_sigma": 0.7, "parametrization": "log"}, 1),
    (StableBumpLayer, {"initial_sigma": 0.7, "parametrization": "softplus"}, 1),
    (GaussianBumpLayer, {"initial_sigma": 0.7, "per_feature": True}, 3),
    (ScaledBumpLayer, {"initial_sigma": 0.7, "initial_height": 2.0}, 3),
]


@pytest.mark.parametrize(
    ("layer_class", "kwargs", "weights"),
    HARNESS_CASES,
    ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(HARNESS_CASES)],
)
@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed:UserWarning")
def test_keras_layer_harness(layer_class, kwargs, weights):
    # build, call, output shape, get_config/from_config, serialization, a training step,
    # and (with eager and compiled runs) the same output
    case = testing.TestCase()
    case.run_layer_test(
        layer_class,
        init_kwargs=kwargs,
        input_shape=(2, 3),
        expected_output_shape=(2, 3),
        expected_num_trainable_weights=weights,
        expected_num_non_trainable_weights=0,
        supports_masking=True,
        run_training_check=True,
    )


# --- the cutoff: the table in underflow_cutoff is what this backend does -----------------------


def _exp(t: np.ndarray, dtype: str, compiled: bool) -> np.ndarray:
    function = keras.ops.exp
    if compiled and BACKEND == "tensorflow":
        import tensorflow as tf

        function = tf.function(keras.ops.exp, jit_compile=True)
    elif compiled and BACKEND == "jax":
        import jax

        function = jax.jit(keras.ops.exp)
    tensor = keras.ops.cast(keras.ops.convert_to_tensor(t.astype(np.float32)), dtype)
    return np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(function(-tensor), "float32")))


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_underflow_cutoff_is_where_exp_reaches_zero_here(dtype, compiled):
    cutoff = underflow_cutoff(dtype)
    info = ml_dtypes.finfo(dtype)
    below, above = _exp(np.array([cutoff - 1.2, cutoff, cutoff + 0.5]), dtype, compiled)[[0, 2]]
    assert below > 0  # exp(-t) is still representable just below the cutoff ...
    assert above == 0  # ... and 0 beyond it
    flushed = _exp(np.array([-math.log(float(info.tiny)) + 1.0]), dtype, compiled)[0]
    assert (flushed == 0) == flushes_subnormals(dtype)  # a subnormal result, kept or flushed


def test_underflow_cutoff_table():
    assert underflow_cutoff("float32", "tensorflow") == pytest.approx(88.34, abs=0.01)
    assert underflow_cutoff("float32", "torch") == pytest.approx(104.28, abs=0.01)
    assert underflow_cutoff("float16", "jax") == pytest.approx(17.64, abs=0.01)
    with pytest.raises(ValueError, match="backend must be one of"):
        underflow_cutoff("float32", "numpy")


# --- the rest of the core on this backend -------------------------------------------------------


def test_import_does_not_load_tensorflow_on_other_backends():
    code = "import sys, bumplib; bumplib.StableBumpLayer(); print('tensorflow' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == str(BACKEND == "tensorflow")


def full_size_loops(function, *args, shape: str) -> list[str]:
    """The XLA loops (fusions) of ``function.compiled`` on ``args`` whose result has ``shape``."""
    entry = tensorflow_xla_entry(function.compiled, *args)
    loops = [line.split(" fusion(")[0] for line in entry.splitlines() if " fusion(" in line]
    return [line for line in loops if shape in line]


def test_forward_and_backward_are_compiled_by_xla_inside_tensorflow_graphs_only():
    """On TensorFlow XLA fuses the forward pass into one loop and the backward pass into a
    few, inside graphs, and gives the plain functions' values up to rounding; eagerly, and
    on the other backends, they are the plain functions."""
    from bumplib.backend import tf, xla_supports_these_devices
    from bumplib.stable_layer import (
        closed_form_gradients,
        fused_guarded_bump,
        fused_recomputed_gradients,
        guarded_bump,
        guarded_forward,
        recomputed_gradients,
    )

    if BACKEND != "tensorflow":
        assert fused_guarded_bump is guarded_bump
        assert fused_recomputed_gradients is recomputed_gradients
        return
    assert xla_supports_these_devices()  # a CPU-only machine
    x = keras.ops.convert_to_tensor(np.linspace(-1.5, 1.5, 3001, dtype=F32).reshape(-1, 1))
    sigma = keras.ops.convert_to_tensor(F32(0.7))
    upstream = keras.ops.convert_to_tensor(np.linspace(0.5, 2.0, 3001, dtype=F32).reshape(-1, 1))
    for function, args in (
        (fused_guarded_bump, (x, sigma)),
        (fused_recomputed_gradients, (upstream, x, sigma)),
    ):
        graph = tf.function(function).get_concrete_function(*args).graph
        calls = [op for op in graph.get_operations() if op.type == "PartitionedCall"]
        assert [op.get_attr("_XlaMustCompile") for op in calls] == [True]
    np.testing.assert_array_equal(fused_guarded_bump(x, sigma), guarded_bump(x, sigma))
    for eager, plain in zip(
        fused_recomputed_gradients(upstream, x, sigma),
        recomputed_gradients(upstream, x, sigma),
        strict=True,
    ):
        np.testing.assert_array_equal(eager, plain)
    assert len(full_size_loops(fused_guarded_bump, x, sigma, shape="f32[3001,1]")) == 1
    # One loop writes d_x, where TensorFlow runs seven ops; the width's gradient is a product
    # of blocks (blocked_total) that reads d_x and x, with no full-size loop of its own.
    backward = full_size_loops(fused_recomputed_gradients, upstream, x, sigma, shape="f32[3001,1]")
    assert len(backward) == 1, backward
    phi_0, q_0, w_0, inverse_root_0 = guarded_forward(x, sigma)
    phi_0, w_0 = keras.ops.convert_to_numpy(phi_0), keras.ops.convert_to_numpy(w_0)
    d_x_0, d_sigma_0 = closed_form_gradients(upstream, x, sigma, phi_0, q_0, w_0, inverse_root_0)
    phi = keras.ops.convert_to_numpy(fused_guarded_bump.compiled(x, sigma))
    d_x, d_sigma = fused_recomputed_gradients.compiled(upstream, x, sigma)
    eps = float(np.finfo(F32).eps)
    # XLA may round 1 - q * q once (a fused multiply-add) where TensorFlow rounds twice: w
    # moves by an ulp of 1, and phi = exp(-1 / w) by that much over w**2, relatively; the
    # gradient, phi / w**2 times bounded factors, by that and twice an ulp of 1 over w.
    assert np.all(np.abs(phi - phi_0) <= phi_0 * (eps / w_0**2 + 4 * eps)), "phi moved too far"
    assert np.all(np.isfinite(phi))
    assert np.count_nonzero(phi) > 1000  # the bump itself, not only its safe zeros
    d_x, d_x_0 = keras.ops.convert_to_numpy(d_x), keras.ops.convert_to_numpy(d_x_0)
    bound = np.abs(d_x_0) * (eps / w_0**2 + 2 * eps / w_0 + 8 * eps)
    assert np.all(np.abs(d_x - d_x_0) <= bound), "d_x moved too far"
    assert float(d_sigma) == pytest.approx(float(d_sigma_0), rel=1e-5)


@pytest.mark.parametrize(
    ("device_types", "cuda_or_rocm", "supported"),
    [
        (["CPU"], False, True),
        (["CPU", "GPU"], True, True),  # CUDA or ROCm GPUs
        (["CPU", "TPU"], False, True),
        (["CPU", "GPU"], False, False),  # Apple's Metal plugin: a "GPU" without CUDA
        (["CPU", "DML"], False, False),  # DirectML
    ],
)
def test_xla_is_used_only_where_it_compiles_for_every_device(device_types, cuda_or_rocm, supported):
    from bumplib.backend import xla_supports

    assert xla_supports(device_types, cuda_or_rocm) is supported


@pytest.mark.parametrize("parametrization", ["identity", "log", "softplus"])
def test_get_sigma_and_config(parametrization):
    layer = StableBumpLayer([0.2, 3.0], per_feature=True, parametrization=parametrization)
    with pytest.raises(ValueError, match="call it on data"):
        layer.get_sigma()
    layer.build((None, 2))
    np.testing.assert_allclose(layer.get_sigma(), [0.2, 3.0], rtol=1e-6)
    clone = StableBumpLayer.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert (
        clone.weight_name
        == {"identity": "sigma", "log": "log_sigma", "softplus": "rho"}[parametrization]
    )


def test_make_model_trains_and_sigma_history_records():
    bumplib.make_deterministic(0)
    x, y = bumplib.generate_data(0.5, n=256, seed=0)[:2]
    layer = StableBumpLayer(0.3, parametrization="softplus")
    model = keras.Sequential([keras.Input((1,)), layer])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    record = bumplib.SigmaHistory()
    model.fit(x, y, batch_size=64, epochs=3, verbose=0, callbacks=[record])
    assert record.sigmas.shape == (4, 1)
    assert record.steps.tolist() == [0, 4, 8, 12]
    assert np.isfinite(record.losses[1:]).all()
    assert abs(record.sigmas[-1, 0] - 0.5) < abs(0.3 - 0.5)  # it moves toward the truth


def test_make_deterministic_repeats_on_this_backend():
    def draw():
        bumplib.make_deterministic(3)
        return keras.ops.convert_to_numpy(keras.random.uniform((4,), seed=None))

    np.testing.assert_array_equal(draw(), draw())
    if BACKEND == "torch":
        import torch

        assert torch.are_deterministic_algorithms_enabled()
        torch.use_deterministic_algorithms(False)


def test_fit_sigma_adam_trains_on_this_backend():
    # model.fit with full batches, steps_per_execution where the backend has it
    x, y = bumplib.generate_data(0.5, n=2000, seed=0)[:2]
    fit = bumplib.fit_sigma(x, y, method="adam", initial_sigma=2.0, steps=100, seed=3)
    assert fit.sigma == pytest.approx(0.5, rel=1e-4)
    np.testing.assert_array_equal(fit.steps, np.arange(0, 101, 25))
    assert fit.history[0] == pytest.approx(2.0, rel=1e-7)
    assert np.isnan(fit.losses[0])
    assert fit.losses[-1] < 1e-2 * fit.losses[1]
    again = bumplib.fit_sigma(x, y, method="adam", initial_sigma=2.0, steps=100, seed=3)
    np.testing.assert_array_equal(again.history, fit.history)


@pytest.mark.parametrize("sigma", [0.05, 0.5, 5.0])
def test_least_squares_recovers_sigma_on_this_backend(sigma):
    # the guarded bump of the layers, in keras.ops: float64 where the backend has it (JAX
    # without x64 computes in float32, which lands within a few float32 steps)
    x, y = bumplib.generate_data(sigma, n=20_000, seed=0)[:2]
    fit = bumplib.least_squares_sigma(x, y)
    assert fit.sigma == pytest.approx(sigma, rel=1e-6)
