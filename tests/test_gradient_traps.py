"""The gradient-trap finder on the TensorFlow backend: arguments, points, findings, helper, command.

The finder on the other backends, and on every core layer, is tested in
``tests/backends/test_gradient_traps_layers.py``.
"""

from __future__ import annotations

import math
import os
import re

import keras
import ml_dtypes
import numpy as np
import pytest
from keras import ops

from bumpbook import PortableAnswerBumpLayer
from bumplib import StableBumpLayer
from bumplib.gradient_traps import (
    TrapReport,
    assert_no_gradient_traps,
    command,
    find_gradient_traps,
    merge_reports,
    tolerance_of,
)
from bumplib.gradient_traps.points import hard_points, special_values, step_ulps
from bumplib.gradient_traps.spec import check_backends, edge_from_expression

F32 = "float32"


def masked_log(x):
    """The JAX FAQ's trap: the unselected log(0) = -inf still poisons the gradient."""
    return ops.where(x > 0, ops.log(x), 0.0)


def scaled_square(x, sigma):
    return sigma * ops.square(x)


def search(target, **kwargs):
    kwargs.setdefault("dtypes", [F32])
    kwargs.setdefault("modes", ["eager"])
    return find_gradient_traps(target, **kwargs)


# --- every argument error -----------------------------------------------------------------------

ARGUMENT_ERRORS = [
    ({"dtypes": ["float8"]}, ValueError, r"dtypes must be a non-empty selection.*float8"),
    ({"dtypes": []}, ValueError, "dtypes must be a non-empty selection"),
    ({"modes": ["jit"]}, ValueError, r"modes must be .*\['jit'\] unknown"),
    ({"modes": 3}, ValueError, "modes must be names from"),
    ({"inputs": {"x": (1.0, -1.0)}}, ValueError, r"inputs\['x'\] must be two finite numbers"),
    ({"inputs": {"x": (1.0, 1.0)}}, ValueError, "with min < max"),
    ({"inputs": {"x": (0.0, math.inf)}}, ValueError, "two finite numbers"),
    ({"inputs": {"x": 3}}, ValueError, r"must be two numbers \(min, max\)"),
    ({"inputs": {}}, ValueError, "inputs must name at least one input"),
    ({"inputs": [(-1, 1)]}, TypeError, "inputs must be a mapping"),
    ({"inputs": {"1x": (-1, 1)}}, ValueError, "Python identifiers"),
    ({"parameters": {"sigma": (-1, -2)}}, ValueError, r"parameters\['sigma'\]"),
    ({"parameters": {"x": (0, 1)}, "inputs": {"x": (0, 1)}}, ValueError, "both inputs and"),
    ({"edges": {"e": 0.5}}, TypeError, "edge 'e' must be a function of the parameters"),
    ({"edges": {"e": lambda tau: tau}}, ValueError, r"edge 'e' takes \['tau'\].*unknown"),
    ({"edges": [lambda sigma: sigma]}, TypeError, "edges must be a mapping"),
    ({"ulps": -1}, ValueError, "ulps must be an integer from 0 to 64"),
    ({"ulps": True}, ValueError, "ulps must be an integer"),
    ({"tolerance": 0}, ValueError, "tolerance must be a finite number > 0"),
    ({"tolerance": math.nan}, ValueError, "tolerance must be"),
]


@pytest.mark.parametrize(("change", "error", "message"), ARGUMENT_ERRORS)
def test_every_bad_argument_is_a_clear_error(change, error, message):
    kwargs = {"inputs": {"x": (-1.0, 1.0)}, "parameters": {"sigma": (0.0, 2.0)}} | change
    with pytest.raises(error, match=message):
        search(scaled_square, **kwargs)


def test_bad_targets_are_clear_errors():
    with pytest.raises(TypeError, match="function of tensors or a Keras layer"):
        search(42, inputs={"x": (-1, 1)})
    with pytest.raises(TypeError, match=r"pass a layer instance, not the class StableBumpLayer"):
        search(StableBumpLayer, inputs=(-1, 1))
    with pytest.raises(ValueError, match=r"takes \['x'\] but the search passes.*\['sigma'\]"):
        search(masked_log, inputs={"x": (-1, 1)}, parameters={"sigma": (0, 1)})
    with pytest.raises(ValueError, match="element-wise and return one value per point"):
        search(lambda x: ops.sum(x), inputs={"x": (-1, 1)})


def test_layer_arguments_are_checked():
    layer = StableBumpLayer(0.5)
    with pytest.raises(ValueError, match=r"each trainable weight of the layer, \['sigma'\]"):
        search(layer, inputs=(-1, 1), parameters={})
    with pytest.raises(ValueError, match=r"unknown \['tau'\]"):
        search(layer, inputs=(-1, 1), parameters={"sigma": (0, 1), "tau": (0, 1)})
    with pytest.raises(ValueError, match="a layer takes one input"):
        search(layer, inputs={"x": (-1, 1), "y": (-1, 1)}, parameters={"sigma": (0, 1)})
    wide = StableBumpLayer([0.5, 1.0], per_feature=True)
    wide.build((None, 2))
    with pytest.raises(ValueError, match=r"one scalar parameter.*per_feature=False"):
        search(wide, inputs=(-1, 1), parameters={"sigma": (0, 1)})
    with pytest.raises(ValueError, match="no trainable weights"):
        search(keras.layers.Activation("relu"), inputs=(-1, 1))


def test_backend_names_and_edge_expressions_are_checked():
    assert check_backends(["jax", "torch", "jax"]) == ("jax", "torch")
    with pytest.raises(ValueError, match=r"backends must be .*\['numpy'\] unknown"):
        check_backends(["numpy"])
    edge = edge_from_expression("sqrt(sigma) / 2", ["sigma", "tau"])
    assert edge(sigma=4.0) == 1.0
    with pytest.raises(ValueError, match=r"it uses \['os'\]"):
        edge_from_expression("os.getcwd()", ["sigma"])
    with pytest.raises(ValueError, match=r"uses .*Attribute"):
        edge_from_expression("sigma.real", ["sigma"])
    with pytest.raises(ValueError, match="not a valid expression"):
        edge_from_expression("sqrt(", ["sigma"])


# --- the points ---------------------------------------------------------------------------------


def test_hard_points_cover_zero_edges_ulps_tiny_and_huge():
    points = hard_points(
        {"x": (-2.0, 2.0)},
        {"sigma": (0.0, 10.0)},
        {"sigma": lambda sigma: sigma},
        {"sigma": ("sigma",)},
        F32,
        ulps=2,
    )
    x, sigma = points.values["x"], points.values["sigma"]
    info = ml_dtypes.finfo(F32)
    assert sorted(set(sigma.tolist())) == [
        0.0,
        float(np.float32(1.4e-45)),
        1.1754943508222875e-38,
        1.0,
        10.0,
    ]
    at_one = x[sigma == 1.0]
    expected = {0.0, float(info.smallest_subnormal), float(info.tiny), 1.0, 2.0}
    expected |= {step_ulps(1.0, k, F32) for k in (-2, -1, 1, 2)}
    assert expected | {-v for v in expected} == set(at_one.tolist())
    assert np.signbit(at_one[at_one == 0]).tolist() == [False, True]  # 0 and -0 both
    assert (np.abs(x) <= 2).all()  # 1e30 and max clipped to the range
    assert np.array_equal(x.astype(np.float32).astype(np.float64), x)  # representable
    labels = [
        points.labels[i] for i in np.flatnonzero((sigma == 1.0) & (x == step_ulps(1, 1, F32)))
    ]
    assert labels == ["x=edge sigma+1ulp"]
    rows = zip(x.tolist(), np.signbit(x), sigma.tolist(), np.signbit(sigma), strict=True)
    assert len(set(rows)) == len(points)  # no point twice (0 and -0 are two points)


def test_hard_points_in_float16_clip_huge_values_to_its_range():
    points = hard_points({"x": (-1e30, 1e30)}, {}, {}, {}, "float16")
    assert float(np.abs(points.values["x"]).max()) == 65504.0
    assert set(special_values("float16")) >= {"0", "-0", "subnormal", "-max"}


# --- findings -----------------------------------------------------------------------------------


def test_masked_log_has_a_nonfinite_gradient_at_zero():
    report = search(masked_log, inputs={"x": (-1.0, 1.0)}, modes=["eager", "compiled"])
    traps = report.of_kind("nonfinite-gradient")
    assert {(t.mode, t.quantity) for t in traps} == {("eager", "d/dx"), ("compiled", "d/dx")}
    # x = 0, -0, and the subnormals that TensorFlow reads as 0; never a normal point
    assert all(abs(t.point["x"]) < float(ml_dtypes.finfo(F32).tiny) for t in traps)
    assert any(t.point["x"] == 0 for t in traps)
    assert all(t.values["value"] == 0 and math.isnan(t.values["got"]) for t in traps)
    assert not report


@ops.custom_gradient
def lossy_square(x):
    """Exact in float64; in float32 its gradient is 1 % off: the float64 reference must see it."""
    factor = 2.0 if keras.backend.standardize_dtype(x.dtype) == "float64" else 2.02

    def grad(*args, upstream=None):
        return (args[0] if upstream is None else upstream) * factor * x

    return ops.square(x), grad


@ops.custom_gradient
def wrong_gradient_square(x):
    def grad(*args, upstream=None):
        return (args[0] if upstream is None else upstream) * 3.0 * x

    return ops.square(x), grad


def eager_only_square(x):
    import tensorflow as tf

    return ops.square(x) * (1.0 if tf.executing_eagerly() else 1.5)


def test_each_kind_of_disagreement_is_found():
    report = search(lossy_square, inputs={"x": (-2.0, 2.0)})
    wrong = report.of_kind("reference-mismatch")
    assert wrong
    assert all(t.quantity == "d/dx" for t in wrong)
    at_one = next(t for t in wrong if t.point["x"] == 1.0)
    assert at_one.values == pytest.approx({"got": 2.02, "expected": 2.0})

    report = search(wrong_gradient_square, inputs={"x": (-2.0, 2.0)}, dtypes=["float64"])
    found = {t.point["x"]: t.values for t in report.of_kind("difference-mismatch")}
    assert found[1.0] == pytest.approx({"got": 3.0, "central difference": 2.0})

    report = search(eager_only_square, inputs={"x": (-2.0, 2.0)}, modes=["eager", "graph"])
    mismatch = {(t.point["x"], t.quantity): t.values for t in report.of_kind("mode-mismatch")}
    assert mismatch[(2.0, "value")] == {"got": 6.0, "eager": 4.0}
    assert mismatch[(2.0, "d/dx")] == {"got": 6.0, "eager": 4.0}


def test_a_clean_function_passes_and_the_helper_returns_the_report():
    kwargs = {"inputs": {"x": (-3.0, 3.0)}, "parameters": {"sigma": (0.0, 10.0)}}
    report = assert_no_gradient_traps(scaled_square, dtypes=[F32, "float64"], **kwargs)
    assert isinstance(report, TrapReport)
    assert report
    assert report.traps == []
    assert "no traps found." in str(report)
    assert report.tolerances == {F32: tolerance_of(F32), "float64": tolerance_of("float64")}


def test_the_pytest_helper_fails_with_the_report():
    with pytest.raises(AssertionError) as failure:
        assert_no_gradient_traps(
            PortableAnswerBumpLayer(0.5), inputs=(-2, 2), parameters={"sigma": (0, 4)},
            dtypes=[F32], modes=["eager"],
        )  # fmt: skip
    text = str(failure.value)
    assert "Gradient-trap search of PortableAnswerBumpLayer" in text
    assert re.search(r"nonfinite-gradient +tensorflow +float32 +eager +d/dsigma", text)
    assert "x=0, sigma=0" in text


def test_reports_save_load_and_merge_with_backend_mismatches(tmp_path):
    report = search(masked_log, inputs={"x": (-1.0, 1.0)})
    report.save(tmp_path / "tf")
    loaded = TrapReport.load(tmp_path / "tf")
    assert repr(loaded.traps) == repr(report.traps)  # nan != nan: compare the text
    assert str(loaded) == str(report)
    # the same search "on another backend" that gives 0 where TensorFlow gives nan
    other = TrapReport.load(tmp_path / "tf")
    evaluation = other.evaluations.pop(("tensorflow", F32, "eager"))
    fixed = np.nan_to_num(evaluation.gradients["x"], nan=0.0)
    other.evaluations[("jax", F32, "eager")] = type(evaluation)(evaluation.value, {"x": fixed})
    other.traps = []
    merged = merge_reports({"tensorflow": report, "jax": other, "torch": "not installed"}, "f")
    assert merged.backends == {"tensorflow": "ran", "jax": "ran", "torch": "not installed"}
    across = merged.of_kind("backend-mismatch")
    assert {t.backend for t in across} == {"jax vs tensorflow"}
    assert all(t.values["jax"] == 0 and math.isnan(t.values["tensorflow"]) for t in across)
    assert len(across) == len(report.traps)
    assert "torch (not installed)" in str(merged)
    with pytest.raises(ValueError, match="kind must be one of"):
        merged.of_kind("nan")


# --- the command --------------------------------------------------------------------------------


def test_command_usage_errors(capsys):
    assert command.main(["bumplib:StableBumpLayer", "--kwargs", "{bad"]) == 2
    assert "--kwargs is not JSON" in capsys.readouterr().err
    assert command.main(["bumplib:StableBumpLayer"]) == 2
    assert "give at least one --input" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        command.main(["bumplib:StableBumpLayer", "--input", "x=1"])
    assert "expected NAME=LOW,HIGH" in capsys.readouterr().err
    with pytest.raises(ValueError, match="cannot load target 'bumplib:Nothing'"):
        command.load_target("bumplib:Nothing")
    with pytest.raises(ValueError, match="must be 'module:function'"):
        command.load_target("bumplib")
    with pytest.raises(ValueError, match="--kwargs is for a layer class"):
        command.load_target("bumplib:stable_bump", {"a": 1})


def test_command_merges_backends_and_shows_a_missing_one(monkeypatch, capsys, tmp_path):
    # one real child (JAX, a function: no layer config to serialize, so no TensorFlow import)
    (tmp_path / "trap_target.py").write_text(
        "from keras import ops\n\n"
        "def masked_log(x):\n    return ops.where(x > 0, ops.log(x), 0.0)\n"
    )
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}:{os.environ.get('PYTHONPATH', '')}")
    monkeypatch.setattr(command, "installed", lambda backend: backend != "torch")
    status = command.main(
        [
            "trap_target:masked_log",
            "--input", "x=-2,2",
            "--dtypes", "float32",
            "--modes", "eager",
            "--backends", "jax", "torch",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert status == 1
    assert "backends: jax (ran), torch (not installed)" in out
    assert re.search(r"nonfinite-gradient +jax +float32 +eager +d/dx +\d+ +x=0 ", out)
