"""Tests of bumpbook.formatting (portable numbers) and bumpbook.portability (the switch)."""

from __future__ import annotations

import numpy as np
import pytest
from floats import float32_steps

import bumplib
import bumplib.data
from bumpbook.formatting import FLOAT32_EPS, error_text, value_text
from bumpbook.portability import SWITCH, apply_switch, perturb_rounding, rounding_perturbed


def test_error_text_bound_and_one_digit():
    assert error_text(5.7e-7) == "< 1e-06"
    assert error_text(6.7e-7) == "< 1e-06"  # the two machines of issue 8 now agree
    assert error_text(0.0) == "< 1e-06"
    assert error_text(1.4e-5) == "1e-05"
    assert error_text(2.6e-5, bound=1e-5) == "3e-05"
    assert error_text(float("nan")) == "nan"
    assert error_text(float("inf")) == "inf"


@pytest.mark.parametrize(
    ("error", "bound", "match"),
    [(-1e-7, 1e-6, "absolute value"), (1e-7, 0.0, "bound"), (1e-7, float("inf"), "bound")],
)
def test_error_text_rejects_bad_input(error, bound, match):
    with pytest.raises(ValueError, match=match):
        error_text(error, bound)


def test_error_text_rejects_non_numbers():
    with pytest.raises(TypeError, match="error must be a real number"):
        error_text("1e-6")
    with pytest.raises(TypeError, match="bound must be a real number"):
        error_text(1e-7, True)


def test_value_text_digits_follow_resolution():
    assert value_text(0.0099999, 1e-4) == "0.01000"
    assert value_text(0.00999989, 1e-4) == "0.01000"
    assert value_text(-0.999326, 1e-5) == "-0.99933"
    assert value_text(-0.999327, 1e-5) == "-0.99933"
    assert value_text(49.999966, 1e-6) == "50.0000"
    assert value_text(49.99966, 1e-6) == "49.9997"
    assert value_text(0.5, 0.3) == "0.5"  # at least one digit
    assert value_text(5.0, 0.3) == "5"
    assert value_text(-0.0, 1e-3) == "0.00"
    assert value_text(float("inf"), 1e-3) == "inf"


@pytest.mark.parametrize("resolution", [0.0, 1.0, -1e-3, float("nan")])
def test_value_text_rejects_bad_resolution(resolution):
    with pytest.raises(ValueError, match="resolution must be in"):
        value_text(1.0, resolution)


def test_float32_steps():
    one = np.float32(1.0)
    assert float32_steps(one, one) == 0
    assert float32_steps(np.nextafter(one, np.float32(2)), one) == 1
    assert float32_steps(1.0 + 3 * FLOAT32_EPS, 1.0) == 3
    tiny = np.float32(np.finfo(np.float32).smallest_subnormal)
    assert float32_steps(tiny, -tiny) == 2  # across zero: -tiny, 0, +tiny
    assert float32_steps(0.0, -0.0) == 0
    with pytest.raises(ValueError, match="finite in float32"):
        float32_steps(1e39, 1.0)


def test_switch_off_returns_the_array_itself(monkeypatch):
    monkeypatch.delenv(SWITCH, raising=False)
    values = np.linspace(-1, 1, 11, dtype=np.float32)
    assert not rounding_perturbed()
    assert perturb_rounding(values) is values


def test_switch_on_moves_each_nonzero_value_one_step(monkeypatch):
    monkeypatch.setenv(SWITCH, "1")
    values = np.array([0.0, 1.0, -0.5, 3e-39, np.inf, np.nan, 0.25], dtype=np.float32)
    moved = perturb_rounding(values)
    assert moved.dtype == np.float32
    assert moved.shape == values.shape
    assert moved[0] == 0.0
    assert np.isinf(moved[4])
    assert np.isnan(moved[5])
    for i in (1, 2, 3, 6):
        assert float32_steps(moved[i], values[i]) == 1
    np.testing.assert_array_equal(perturb_rounding(values), moved)  # repeatable


def test_generate_data_ignores_the_environment(monkeypatch):
    monkeypatch.delenv(SWITCH, raising=False)
    plain = bumplib.generate_data(0.5, n=1000, seed=3)
    monkeypatch.setenv(SWITCH, "1")
    for a, b in zip(plain, bumplib.generate_data(0.5, n=1000, seed=3), strict=True):
        np.testing.assert_array_equal(a, b)


def test_apply_switch_does_nothing_when_off(monkeypatch):
    monkeypatch.delenv(SWITCH, raising=False)
    original = bumplib.generate_data
    assert apply_switch() is False
    assert bumplib.generate_data is original


def test_apply_switch_rerounds_targets_not_inputs(monkeypatch):
    monkeypatch.delenv(SWITCH, raising=False)
    x0, y0, g0 = bumplib.generate_data(0.5, n=1000, seed=3)
    monkeypatch.setattr(bumplib, "generate_data", bumplib.generate_data)  # undone after the test
    monkeypatch.setattr(bumplib.data, "generate_data", bumplib.data.generate_data)
    monkeypatch.setenv(SWITCH, "1")
    assert apply_switch() is True
    patched = bumplib.generate_data
    assert apply_switch() is True
    assert bumplib.generate_data is patched  # a second call changes nothing
    assert bumplib.data.generate_data is patched
    x1, y1, g1 = bumplib.generate_data(0.5, n=1000, seed=3)
    np.testing.assert_array_equal(x0, x1)
    nonzero = y0 != 0
    assert nonzero.any()
    assert np.all(y1[~nonzero] == 0)
    steps = [float32_steps(a, b) for a, b in zip(y0[nonzero], y1[nonzero], strict=True)]
    assert set(steps) == {1}
    assert not np.array_equal(g0, g1)


def test_switch_rejects_a_bad_value(monkeypatch):
    monkeypatch.setenv(SWITCH, "yes")
    with pytest.raises(ValueError, match="BUMPLIB_PERTURB_ROUNDING must be '1'"):
        rounding_perturbed()


def test_perturb_rounding_rejects_non_float_arrays():
    with pytest.raises(TypeError, match="floating-point NumPy array"):
        perturb_rounding([1.0, 2.0])
    with pytest.raises(TypeError, match="of dtype int64"):
        perturb_rounding(np.arange(3))
