"""Tests for bumpbook.history: the If op, the unlowered cond, the formula, StopAfterSteps."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from plot_checks import assert_labelled
from tensorflow.python.ops import control_flow_util_v2

import bumpbook
import bumplib
from bumpbook.history import (
    StopAfterSteps,
    array_text,
    classic_formula,
    plot_thread_formula,
    run_if_op,
    unlowered_cond,
)

X = tf.constant([1.0, 2.0, 3.0])


def double(t: tf.Tensor) -> tf.Tensor:
    return 2.0 * t


def negate(t: tf.Tensor) -> tf.Tensor:
    return -t


# --- run_if_op ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pred", "expected"),
    [
        (True, [2.0, 4.0, 6.0]),
        (False, [-1.0, -2.0, -3.0]),
        # The If op's rule: a non-scalar predicate is true when it is non-empty.
        ([True, False, True], [2.0, 4.0, 6.0]),
        ([False, False, False], [2.0, 4.0, 6.0]),
        ([[False]], [2.0, 4.0, 6.0]),
    ],
)
def test_run_if_op_follows_the_if_rule(pred, expected):
    result = run_if_op(tf.constant(pred), double, negate, X)
    np.testing.assert_array_equal(result.numpy(), expected)


def test_run_if_op_empty_predicate_is_false():
    result = run_if_op(tf.zeros([0], tf.bool), double, negate, X)
    np.testing.assert_array_equal(result.numpy(), [-1.0, -2.0, -3.0])


def test_run_if_op_rejects_bad_input():
    with pytest.raises(TypeError, match="boolean tensor"):
        run_if_op(tf.constant([1.0]), double, negate, X)
    with pytest.raises(TypeError, match="else_fn must be callable"):
        run_if_op(tf.constant(True), double, "negate", X)


# --- unlowered_cond ----------------------------------------------------------------------------


def _cond_function():
    @tf.function
    def select(pred, x):
        return tf.cond(pred, lambda: 2.0 * x, lambda: -x)

    return select


def test_lowered_cond_refuses_a_vector_predicate():
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be a scalar"):
        _cond_function()(tf.constant([False, True]), X[:2])


def test_unlowered_cond_runs_the_if_kernel_and_restores_the_switch():
    before = control_flow_util_v2._DISABLE_LOWER_USING_SWITCH_MERGE
    with unlowered_cond():
        result = _cond_function()(tf.constant([False, False]), X[:2])
    np.testing.assert_array_equal(result.numpy(), [2.0, 4.0])
    assert before == control_flow_util_v2._DISABLE_LOWER_USING_SWITCH_MERGE


def test_unlowered_cond_restores_the_switch_after_an_error():
    before = control_flow_util_v2._DISABLE_LOWER_USING_SWITCH_MERGE
    with pytest.raises(ZeroDivisionError), unlowered_cond():
        _ = 1 / 0
    assert before == control_flow_util_v2._DISABLE_LOWER_USING_SWITCH_MERGE


def test_unlowered_cond_lets_the_question_layer_predict_batches():
    bumplib.make_deterministic(0)
    x = np.linspace(-0.1, 0.1, 64, dtype=np.float32)[:, None]
    with unlowered_cond():
        model = bumpbook.make_model(bumpbook.QuestionBumpLayer(initial_sigma=0.0))
        predicted = model.predict(x, batch_size=32, verbose=0)
    # Every batch is non-empty: the If op takes the true branch, whatever the threshold.
    expected = np.exp(-1.0 / (1.0 - x.astype(np.float64) ** 2))
    np.testing.assert_allclose(predicted, expected, rtol=1e-6)


def test_unlowered_cond_without_the_switch(monkeypatch):
    monkeypatch.delattr(control_flow_util_v2, "_DISABLE_LOWER_USING_SWITCH_MERGE")
    with pytest.raises(RuntimeError, match="has no control_flow_util_v2"), unlowered_cond():
        pass


# --- classic_formula and the stretch identity -------------------------------------------------


def test_classic_formula_values():
    np.testing.assert_allclose(classic_formula([0.0, 0.5]), [math.exp(-1), math.exp(-1 / 0.75)])
    assert classic_formula(1.0) == np.inf
    assert classic_formula(-1.0) == np.inf
    assert classic_formula(2.0) == pytest.approx(math.exp(1 / 3))  # above 1 outside (-1, 1)


def test_classic_formula_rejects_non_real():
    with pytest.raises(TypeError, match="real numbers"):
        classic_formula(np.array(["a"]))


@pytest.mark.parametrize("sigma", [0.3, 0.5, 2.0, 4.0])
def test_stretch_identity_on_the_support(sigma):
    x = np.linspace(-sigma, sigma, 2001)[1:-1]
    x = x[np.abs(np.abs(x) - math.sqrt(sigma)) > 1e-3]  # away from the poles
    np.testing.assert_allclose(
        bumplib.bump(x, sigma), classic_formula(x / math.sqrt(sigma)), rtol=1e-10
    )


# --- plot_thread_formula -----------------------------------------------------------------------


def test_plot_thread_formula_panels_and_labels():
    fig = plot_thread_formula(sigmas=(2.0, 0.5), num=2001)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert_labelled(ax)
        assert ax.get_ylim() == (0.0, 4.0)
    assert fig.get_figwidth() <= 7.0
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "exploding band" in labels
    assert "exploding band" not in [t.get_text() for t in fig.axes[1].get_legend().get_texts()]


def test_plot_thread_formula_spikes_reach_the_top():
    fig = plot_thread_formula(sigmas=(2.0,), num=4001, y_max=3.0)
    curve = fig.axes[0].get_lines()[0].get_ydata()
    assert np.nanmax(curve) > 3.0  # drawn up to just above the axes' top


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sigmas": ()}, "non-empty"),
        ({"sigmas": (1.0, 2.0, 3.0, 4.0)}, "1 to 3 widths"),
        ({"sigmas": (0.0,)}, "must be > 0"),
        ({"x_range": (1.0, -1.0)}, "x_range"),
        ({"y_max": 1.0}, "y_max"),
        ({"num": 1}, "num"),
    ],
)
def test_plot_thread_formula_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_thread_formula(**kwargs)


# --- StopAfterSteps ----------------------------------------------------------------------------


def _fit(callbacks, n=640):
    bumplib.make_deterministic(0)
    x, y, _ = bumplib.generate_data(0.5, min_x=-0.1, max_x=0.1, n=n, seed=0)
    model = bumpbook.make_model(bumpbook.AnswerWhereBumpLayer(initial_sigma=0.1))
    record = bumplib.SigmaHistory(every_n_batches=1)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[record, *callbacks])
    return record


def test_stop_after_steps_keeps_the_full_runs_batches():
    full = _fit([])
    stopped = _fit([StopAfterSteps(5)])
    assert stopped.steps[-1] == 5
    assert len(full.steps) == 21
    np.testing.assert_array_equal(stopped.sigmas, full.sigmas[:6])


@pytest.mark.parametrize("steps", [0, -1, 1.5, True, None])
def test_stop_after_steps_rejects_bad_steps(steps):
    with pytest.raises(ValueError, match="positive integer"):
        StopAfterSteps(steps)


# --- array_text --------------------------------------------------------------------------------


def test_array_text_rounds_each_element_and_keeps_zeros_readable():
    values = np.array([[0.0], [-0.0], [0.2953745], [-0.52714]], dtype=np.float32)
    assert array_text(values, 1e-5) == "[0, -0, 0.29537, -0.52714]"
    assert array_text([np.inf, np.nan], 1e-3) == "[inf, nan]"


def test_array_text_rejects_bad_input():
    with pytest.raises(TypeError, match="real numbers"):
        array_text(["a"], 1e-3)
    with pytest.raises(ValueError, match="resolution"):
        array_text([1.0], 2.0)
