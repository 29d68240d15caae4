"""Tests of bumpbook.frameworks and bumpbook.backend_processes (chapter 6)."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow as tf
import torch

from bumpbook import backend_processes as backends
from bumpbook import frameworks
from bumpbook.frameworks import CASES, FRAMEWORKS, VERSIONS, Case, TrapResult
from bumpbook.portable_answer_layer import PortableAnswerBumpLayer
from bumplib import StableBumpLayer, bump, bump_grad_sigma, bump_grad_x

ALL_VERSIONS = [(framework, version) for framework in FRAMEWORKS for version in VERSIONS[framework]]
INSIDE = [(0.3, 0.5), (-0.45, 0.5), (0.05, 0.1), (0.9, 1.0), (1.2, 2.0)]


def evaluate(framework: str, version: str, x: float, sigma: float) -> tuple[float, float, float]:
    return FRAMEWORKS[framework](VERSIONS[framework][version], x, sigma)


@pytest.mark.parametrize(("framework", "version"), ALL_VERSIONS)
@pytest.mark.parametrize(("x", "sigma"), INSIDE)
def test_every_version_matches_the_reference_inside_the_support(framework, version, x, sigma):
    value, d_sigma, d_x = evaluate(framework, version, x, sigma)
    x64, sigma64 = float(np.float32(x)), float(np.float32(sigma))
    assert value == pytest.approx(float(bump(x64, sigma64)), rel=1e-5)
    assert d_sigma == pytest.approx(float(bump_grad_sigma(x64, sigma64)), rel=1e-4)
    assert d_x == pytest.approx(float(bump_grad_x(x64, sigma64)), rel=1e-4)


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_one_where_has_the_trap_in_every_framework(framework):
    # The formula overflows at x = 0.501, sigma = 0.25 and is 0/0 at sigma = 0, x = 0:
    # the value is 0 (not selected), the gradients nan.
    for x, sigma in [(0.501, 0.25), (0.0, 0.0)]:
        value, d_sigma, d_x = evaluate(framework, "one where", x, sigma)
        assert value == 0
        assert math.isnan(d_sigma)
        assert math.isnan(d_x)


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_double_where_fixes_the_overflow_but_not_zero_width(framework):
    assert evaluate(framework, "double where", 0.501, 0.25) == (0.0, 0.0, 0.0)
    value, d_sigma, _ = evaluate(framework, "double where", 0.0, 0.0)
    assert value == 0
    assert math.isnan(d_sigma)


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_custom_gradient_is_zero_outside_the_support_and_at_zero_width(framework):
    for x, sigma in [(0.501, 0.25), (0.0, 0.0), (0.5, 0.0), (0.25, 0.25), (-3.0, 2.0)]:
        assert evaluate(framework, "custom gradient", x, sigma) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(("framework", "version"), ALL_VERSIONS)
def test_no_version_fixes_the_exploding_band(framework, version):
    value, d_sigma, _ = evaluate(framework, version, 1.42, 2.0)
    assert value == math.inf
    assert d_sigma == math.inf


def test_custom_gradients_sum_a_shared_sigma_over_the_elements():
    xs = np.array([0.1, 0.3, 0.49, 0.6], np.float32)
    expected = float(np.sum(bump_grad_sigma(xs.astype(np.float64), 0.5)))

    x_tf, sigma_tf = tf.constant(xs), tf.constant(np.float32(0.5))
    with tf.GradientTape() as tape:
        tape.watch(sigma_tf)
        total = tf.reduce_sum(frameworks.tf_custom_gradient_bump(x_tf, sigma_tf))
    assert float(tape.gradient(total, sigma_tf)) == pytest.approx(expected, rel=1e-5)

    import jax

    def jax_total(sigma):
        return jnp.sum(frameworks.jax_custom_jvp_bump(jnp.asarray(xs), sigma))

    assert float(jax.grad(jax_total)(jnp.float32(0.5))) == pytest.approx(expected, rel=1e-5)

    sigma_torch = torch.tensor(0.5, requires_grad=True)
    frameworks.torch_function_bump(torch.from_numpy(xs), sigma_torch).sum().backward()
    assert float(sigma_torch.grad) == pytest.approx(expected, rel=1e-5)


def test_trap_results_cover_every_framework_version_and_case_and_agree():
    results = frameworks.trap_results()
    assert len(results) == len(ALL_VERSIONS) * len(CASES)
    same_pattern, largest = frameworks.frameworks_agree(results)
    assert same_pattern
    assert largest < 1e-6


def test_frameworks_agree_detects_a_different_pattern_and_a_difference():
    case = Case("c", 0.3, 0.5)
    a = TrapResult("TensorFlow", "one where", case, 1.0, math.nan, 2.0)
    b = TrapResult("JAX", "one where", case, 1.0, 0.0, 2.0)
    c = TrapResult("JAX", "one where", case, 1.1, math.nan, 2.0)
    assert frameworks.frameworks_agree([a, b])[0] is False
    same, largest = frameworks.frameworks_agree([a, c])
    assert same
    assert largest == pytest.approx(0.1 / 1.1)
    with pytest.raises(ValueError, match="at least two frameworks"):
        frameworks.frameworks_agree([a])


def test_trap_table_has_a_row_per_version_and_framework_in_order():
    table = frameworks.trap_table(frameworks.trap_results(cases=CASES[:2]))
    lines = table.splitlines()
    assert len(lines) == 2 + len(ALL_VERSIONS)
    assert lines[2].startswith("| one where | TensorFlow |")
    assert lines[-1].startswith("| custom gradient | PyTorch |")
    assert "0.2954 / 0.1581 / -0.5271" in lines[2]
    assert "0 / nan / nan" in lines[2]
    with pytest.raises(ValueError, match="at least one"):
        frameworks.trap_table([])


def test_result_text_prints_exact_values_as_they_are():
    assert [frameworks.result_text(v) for v in (0.0, -0.0, math.nan, math.inf, -math.inf)] == [
        "0",
        "0",
        "nan",
        "inf",
        "-inf",
    ]
    assert frameworks.result_text(0.15814208984375) == "0.1581"


@pytest.mark.parametrize(
    ("x", "sigma", "error", "match"),
    [
        (math.nan, 0.5, ValueError, "x must be finite"),
        (0.1, -0.5, ValueError, "sigma must be >= 0"),
        (True, 0.5, TypeError, "x must be a real number"),
        (0.1, "0.5", TypeError, "sigma must be a real number"),
    ],
)
def test_bad_points_are_refused(x, sigma, error, match):
    for evaluator in FRAMEWORKS.values():
        with pytest.raises(error, match=match):
            evaluator(frameworks.tf_where_bump, x, sigma)


def test_trap_results_refuses_unknown_frameworks_and_no_cases():
    with pytest.raises(ValueError, match="unknown framework"):
        frameworks.trap_results(frameworks=["MXNet"])
    with pytest.raises(ValueError, match="at least one Case"):
        frameworks.trap_results(cases=[])


# --- bumpbook.backend_processes, in this process (whatever its Keras backend) ---------------------


def test_ops_where_layer_has_the_trap_and_matches_the_reference_inside():
    inside, outside, zero = backends.layer_value_and_sigma_gradient(
        backends.OpsWhereBumpLayer, [(0.3, 0.5), (0.501, 0.25), (0.0, 0.0)]
    )
    x = float(np.float32(0.3))
    assert inside[0] == pytest.approx(float(bump(x, 0.5)), rel=1e-5)
    assert inside[1] == pytest.approx(float(bump_grad_sigma(x, 0.5)), rel=1e-4)
    for value, gradient in (outside, zero):
        assert value == 0
        assert math.isnan(gradient)


def test_double_where_and_stable_layers_are_finite_where_the_trap_is():
    double_where = PortableAnswerBumpLayer
    points = [(0.3, 0.25), (0.501, 0.25), (0.0, 0.0), (1.42, 2.0)]
    expected = float(bump_grad_sigma(float(np.float32(0.3)), 0.25))
    measured = {
        layer_class: backends.layer_value_and_sigma_gradient(layer_class, points)
        for layer_class in (double_where, StableBumpLayer)
    }
    for results in measured.values():
        assert results[0][1] == pytest.approx(expected, rel=1e-4)
        assert results[1] == [0.0, 0.0]
    assert math.isnan(measured[double_where][2][1])
    assert measured[double_where][3] == [math.inf, math.inf]
    assert measured[StableBumpLayer][2:] == [[0.0, 0.0], [0.0, 0.0]]


def test_ops_where_layer_is_a_bump_layer_with_a_config_round_trip():
    with pytest.raises(ValueError, match="initial_sigma"):
        backends.OpsWhereBumpLayer(initial_sigma=-1.0)
    layer = backends.OpsWhereBumpLayer(initial_sigma=0.7, name="w")
    clone = backends.OpsWhereBumpLayer.from_config(layer.get_config())
    assert clone.initial_sigma == 0.7
    assert clone.name == "w"
    assert layer.compute_output_shape((None, 3)) == (None, 3)


@pytest.mark.parametrize("points", [[], [(0.3,)], [(0.3, 0.5, 1.0)]])
def test_layer_value_and_sigma_gradient_needs_x_sigma_pairs(points):
    with pytest.raises(ValueError, match="pairs"):
        backends.layer_value_and_sigma_gradient(backends.OpsWhereBumpLayer, points)


def test_train_stable_layer_recovers_sigma():
    result = backends.train_stable_layer(0.5, 1.0, n=200, steps=300, learning_rate=0.01, seed=0)
    assert result["sigma"] == pytest.approx(0.5, rel=1e-4)
    assert result["loss"] < 1e-10


def test_json_round_trip_keeps_nan_and_inf():
    data = {"a": [math.nan, math.inf, -math.inf, 1.5], "b": {"c": 2}}
    back = backends._from_json(backends._json_ready(data))
    assert math.isnan(back["a"][0])
    assert back["a"][1:] == [math.inf, -math.inf, 1.5]
    assert back["b"] == {"c": 2}


@pytest.mark.parametrize(
    "names", [["theano"], [], ["jax", "jax"]], ids=["unknown", "none", "twice"]
)
def test_start_on_backends_refuses_bad_backend_lists(names):
    with pytest.raises(ValueError, match="distinct names"):
        backends.start_on_backends(backends=names)


def test_start_on_backends_refuses_a_bad_timeout():
    with pytest.raises(ValueError, match="timeout"):
        backends.start_on_backends(backends=["jax"], timeout=0)


# --- Child processes: one success and one failure, on the quickest backend to import -------

TINY_REQUEST = {
    "points": [[0.501, 0.25]],
    "training": {
        "true_sigma": 0.5,
        "initial_sigma": 1.0,
        "n": 50,
        "steps": 3,
        "learning_rate": 0.01,
        "seed": 0,
    },
}


def test_a_child_reports_its_backend_and_the_trap():
    (result,) = backends.run_on_backends(TINY_REQUEST, backends=["jax"]).values()
    assert result["backend"] == "jax"
    assert math.isnan(result["gradients"]["one where"][0][1])
    assert result["gradients"]["double where"][0] == [0.0, 0.0]
    assert result["gradients"]["stable"][0] == [0.0, 0.0]
    assert math.isfinite(result["training"]["sigma"])


def test_a_failing_child_raises_with_its_stderr():
    bad = {**TINY_REQUEST, "training": {**TINY_REQUEST["training"], "n": -5}}
    with pytest.raises(backends.BackendRunError) as raised:
        backends.run_on_backends(bad, backends=["jax"])
    message = str(raised.value)
    assert "1 of 1 backend run(s) failed" in message
    assert "jax: the child exited with status 1" in message
    assert "Traceback" in message
    assert "ValueError" in message
