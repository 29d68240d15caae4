"""Forward values of the layers against the float64 NumPy reference, and the question's layer."""

from __future__ import annotations

import math
from fractions import Fraction

import keras
import numpy as np
import pytest
import tensorflow as tf

from bumpbook import AnswerBumpLayer, AnswerWhereBumpLayer, QuestionBumpLayer, make_model
from bumplib import GaussianBumpLayer, StableBumpLayer, bump, unstable_mask

SIGMAS = [0.0, 0.25, 0.3, 0.5, 1.0, 2.0, 3.0, 10.0]
DTYPES = ["float32", "float64"]

# --- tolerances -----------------------------------------------------------------------------------
#
# float64: relative 1e-6, as the project asks (the analysis below with float64's eps
# bounds the real error by 3e-10, at t ~ 745 where phi underflows).
#
# float32, derived. Let eps = 2**-23 (float32 ulp of 1), u = eps / 2 (unit roundoff),
# t = sigma / (sigma - x**2), so phi = exp(-t).
#  * Thread layers compute d = sigma - fl(x**2). The rounding of x**2 (error u * x**2) is
#    amplified by the cancellation: |dd / d| <= u * (x**2 / |d| + 1) <= u * (|t| + 2).
#    Then q = -sigma / d adds u, so |dt / t| <= u * (|t| + 3).
#  * StableBumpLayer computes r = x / sigma, w = 1 - r * x, t = 1 / w: the relative error
#    of w is <= u * (2 * (|t| - 1) + 1), plus u for 1 / w: |dt / t| <= 2u * |t| + u.
#  * exp turns an absolute error |t| * |dt / t| of its argument into the same relative
#    error, plus at most 2 ulps of its own: |dphi / phi| <= 2u * |t| * (|t| + 3) + 2 eps,
#    which is below 2 * eps * (1 + |t|)**2 for every t (at x = 0, t = 1: 8 ulps of exp(-1)).
#  The reference is evaluated at the same float32 x and float32 sigma (exactly), so this
#  is the layer's whole error. |t| = |log(phi)| is read off the reference itself.
#  * TensorFlow flushes subnormal results to zero on CPU (float32 and float64), so values
#    below the smallest normal number may come out as 0: that is the absolute part.
EPS32 = float(np.finfo(np.float32).eps)


def tolerance(reference: np.ndarray, dtype: str) -> np.ndarray:
    """Allowed |layer - reference| at each point (see the derivation above)."""
    tiny = float(np.finfo(dtype).tiny)
    if dtype == "float64":
        return 1e-6 * np.abs(reference) + tiny
    with np.errstate(divide="ignore"):  # log(0) = -inf; masked just below
        t = np.abs(np.log(reference))
    relative = np.where(reference > 0, 2 * EPS32 * (1 + np.where(reference > 0, t, 0)) ** 2, 0)
    return relative * reference + tiny


def edge_grid(sigma: float, dtype: str) -> np.ndarray:
    """78 points of ``dtype``: 0, +-sigma, +-sqrt(sigma), the floats just inside and outside
    each of them, a regular grid over the support and beyond, and +-1e30."""
    np_dtype = np.dtype(dtype).type
    s = np_dtype(sigma)
    anchors = np.array([0, s, -s, np.sqrt(s), -np.sqrt(s)], dtype=dtype)
    inside = np.nextafter(anchors, np_dtype(0))
    outside = np.nextafter(anchors, np.copysign(np_dtype(np.inf), anchors))
    reach = 1.5 * max(sigma, math.sqrt(sigma), 1.0)
    regular = np.linspace(-reach, reach, 61).astype(dtype)
    return np.concatenate([anchors, inside, outside, regular, np.array([1e30, -1e30], dtype)])


def evaluate(layer: keras.layers.Layer, x: np.ndarray) -> np.ndarray:
    """The layer's output on a column of single values, as a 1-D array."""
    return keras.ops.convert_to_numpy(layer(x[:, None]))[:, 0]


def assert_close(actual, reference, dtype, where):
    error = np.abs(actual[where].astype(np.float64) - reference[where])
    allowed = tolerance(reference[where], dtype)
    worst = np.argmax(error - allowed) if error.size else None
    assert (error <= allowed).all(), (worst, actual[where][worst], reference[where][worst])


def layer_sigma(layer: keras.layers.Layer) -> np.ndarray:
    """The layer's sigma as float64 (exactly the value the layer uses)."""
    return layer.get_sigma().astype(np.float64)


def decidable(x: np.ndarray, sigma: float | np.ndarray) -> np.ndarray:
    """Where the formula's value does not hang on a rounding error of ``sigma - x**2``.

    Within a few float64 ulps of x**2 = sigma (but not on it), |t| > 1e14: the value is 0
    or inf depending on the sign of the rounding error, for the layer and the reference
    alike (e.g. fl(sqrt(10))**2 exceeds 10 by 1.2e-15, and the reference rounds
    1 - x**2 / 10 to 0). Points of a float32 grid are never this close (x**2 is exact in
    float64). The gap is measured exactly, with fractions.
    """
    pairs = np.broadcast(np.asarray(x, dtype=np.float64), np.asarray(sigma, dtype=np.float64))
    gaps = [
        abs(Fraction(float(v)) ** 2 - Fraction(float(s))) / max(s, v * v, 1e-300) for v, s in pairs
    ]
    gap = np.array([float(g) for g in gaps]).reshape(
        np.broadcast_shapes(np.shape(x), np.shape(sigma))
    )
    return (gap == 0) | (gap > 4 * np.finfo(np.float64).eps)


# --- the thread's working layers ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sigma", SIGMAS)
@pytest.mark.parametrize("layer_class", [AnswerWhereBumpLayer, AnswerBumpLayer])
def test_thread_layers_match_reference_where_finite(layer_class, sigma, dtype):
    layer = layer_class(initial_sigma=sigma, dtype=dtype)
    x = edge_grid(sigma, dtype)
    out = evaluate(layer, x)
    assert out.dtype == np.dtype(dtype)
    # The layer holds sigma exactly in its own dtype.
    assert layer.get_sigma()[0] == np.dtype(dtype).type(sigma)
    reference = bump(x.astype(np.float64), layer_sigma(layer))
    # Compare where the formula is finite in the layer's dtype.
    finite = (reference <= np.finfo(dtype).max) & decidable(x, layer_sigma(layer))
    assert np.isfinite(out[finite]).all()
    assert_close(out, reference, dtype, finite)
    # The grid reaches the interesting points: inside the support when sigma > 0, and
    # for sigma > 1 the band where the formula is above 1.
    assert (reference[finite] > 0).any() == (sigma > 0)
    if sigma > 1:
        assert (out[finite] > 1).any()


@pytest.mark.parametrize("sigma", [0.25, 0.5, 2.0, 10.0])
def test_bump_layer_forward_equals_where_layer(sigma):
    x = edge_grid(sigma, "float32")
    where_out = evaluate(AnswerWhereBumpLayer(initial_sigma=sigma), x)
    bump_out = evaluate(AnswerBumpLayer(initial_sigma=sigma), x)
    # The inner tf.where changes only the unselected values, never the output.
    np.testing.assert_array_equal(where_out, bump_out)


# --- the stable layer -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("parametrization", "sigma"),
    # sigma = 0 has no log parametrization (that refusal is in test_validation.py).
    [("identity", s) for s in SIGMAS] + [("log", s) for s in SIGMAS if s > 0],
)
def test_stable_layer_matches_reference_and_is_zero_in_the_band(parametrization, sigma, dtype):
    layer = StableBumpLayer(initial_sigma=sigma, parametrization=parametrization, dtype=dtype)
    x = edge_grid(sigma, dtype)
    out = evaluate(layer, x)
    sigma_used = layer_sigma(layer)
    if parametrization == "identity":
        assert sigma_used[0] == np.dtype(dtype).type(sigma)
    else:  # sigma = exp(log(sigma)), rounded twice in the layer's dtype
        np.testing.assert_allclose(sigma_used, sigma, rtol=4 * np.finfo(dtype).eps)
    reference = bump(x.astype(np.float64), sigma_used)
    regular = reference <= 1
    assert_close(out, reference, dtype, regular)
    band = unstable_mask(x.astype(np.float64), sigma_used)
    # In the band the formula explodes; the stable layer gives 0 there, and also at
    # the undecidable points next to x**2 = sigma (0 is the limit from inside).
    assert (out[band | ~decidable(x, sigma_used)] == 0).all()
    assert band.any() == (sigma > 1)
    assert regular.sum() + band.sum() == x.size
    assert (out >= 0).all()
    assert (out <= np.dtype(dtype).type(math.exp(-1))).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer_class", [AnswerWhereBumpLayer, AnswerBumpLayer, StableBumpLayer])
def test_per_feature_matches_reference_column_by_column(layer_class, dtype):
    sigmas = [0.3, 1.0, 4.0]
    layer = layer_class(initial_sigma=sigmas, per_feature=True, dtype=dtype)
    x = np.stack([edge_grid(s, dtype) for s in sigmas], axis=1)
    out = keras.ops.convert_to_numpy(layer(x))
    assert out.shape == x.shape
    assert layer.get_sigma().shape == (3,)
    reference = bump(x.astype(np.float64), layer_sigma(layer))
    if layer_class is StableBumpLayer:
        compared = reference <= 1
        assert (out[unstable_mask(x.astype(np.float64), layer_sigma(layer))] == 0).all()
    else:
        compared = reference <= np.finfo(dtype).max
    assert_close(out, reference, dtype, compared)


def test_layers_act_element_wise_on_any_shape():
    x = np.random.default_rng(0).uniform(-2, 2, size=(2, 3, 4)).astype(np.float32)
    for layer in (AnswerWhereBumpLayer(0.7), AnswerBumpLayer(0.7), StableBumpLayer(0.7)):
        out = keras.ops.convert_to_numpy(layer(x))
        assert out.shape == x.shape
        assert layer.compute_output_shape(x.shape) == x.shape
        assert_close(out, bump(x.astype(np.float64), layer_sigma(layer)), "float32", x == x)
    per_feature = StableBumpLayer([0.5, 1.0, 1.5, 2.0], per_feature=True)
    out = keras.ops.convert_to_numpy(per_feature(x))
    reference = bump(x.astype(np.float64), layer_sigma(per_feature))  # broadcast on last axis
    assert_close(out, reference, "float32", reference <= 1)


@pytest.mark.parametrize("layer_class", [AnswerWhereBumpLayer, AnswerBumpLayer, StableBumpLayer])
def test_non_negativity_constraint_clips_sigma_at_zero(layer_class):
    layer = layer_class(initial_sigma=0.1)
    layer.build((None, 1))
    variable = layer.trainable_variables[0]
    # One plain gradient step of size 5 would take sigma to -4.9; the constraint stops at 0.
    keras.optimizers.SGD(learning_rate=1.0).apply([tf.constant([5.0])], [variable])
    assert layer.get_sigma()[0] == 0


# --- the Gaussian alternative ---------------------------------------------------------------------


@pytest.mark.parametrize("per_feature", [False, True])
def test_gaussian_layer_formula(per_feature):
    sigma = [0.5, 1.0, 2.0] if per_feature else 0.7
    height = [1.0, 2.0, 0.5] if per_feature else 1.5
    center = [0.0, -0.3, 0.4] if per_feature else 0.2
    layer = GaussianBumpLayer(
        initial_sigma=sigma,
        initial_height=height,
        initial_center=center,
        per_feature=per_feature,
        dtype="float64",
    )
    x = np.linspace(-3, 3, 21)[:, None] * np.ones(3)
    out = keras.ops.convert_to_numpy(layer(x))
    b = 1 / np.square(sigma)
    expected = np.asarray(height) * np.exp(-b * (x - np.asarray(center)) ** 2)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_allclose(layer.get_sigma(), np.broadcast_to(sigma, layer.get_sigma().shape))
    assert layer.get_sigma().shape == ((3,) if per_feature else (1,))


# --- the question's layer (QuestionBumpLayer) and its faults --------------------------------------


def test_cond_layer_eager_batch_of_two_fails_with_ambiguous_truth_value():
    layer = QuestionBumpLayer(initial_sigma=0.5)
    # tf.cond calls bool() on the 2-element predicate.
    with pytest.raises(
        ValueError, match="truth value of an array with more than one element is ambiguous"
    ):
        layer(np.array([[0.1], [0.2]], dtype=np.float32))


def test_cond_layer_in_a_graph_fails_on_a_non_scalar_predicate():
    layer = QuestionBumpLayer(initial_sigma=0.5)
    traced = tf.function(layer)
    # What TensorFlow 2.21 really raises: the switch of tf.cond gets a [2] predicate.
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"must be a scalar, but it has shape \[2\]"
    ):
        traced(tf.constant([[0.1], [0.2]]))


def test_cond_layer_fit_has_no_gradient():
    model = make_model(QuestionBumpLayer(initial_sigma=0.5))
    x = np.linspace(-0.5, 0.5, 4, dtype=np.float32)[:, None]
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        model.fit(x, x, batch_size=1, epochs=1, shuffle=False, verbose=0)


def test_cond_layer_gradient_of_threshold_is_none():
    layer = QuestionBumpLayer(initial_sigma=0.5)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(layer(tf.constant([[0.3]])))
    assert tape.gradient(y, layer.threshold_level) is None


@pytest.mark.parametrize(
    ("x", "thresholds", "expected"),
    [
        (0.3, (0.5, 0.9, 30.0), math.exp(-1 / (1 - 0.3**2))),  # x < threshold: f_True(x)
        (0.3, (0.0, 0.1, 0.2), 0.0),  # x >= threshold: 0 * x
        (-0.6, (-0.5, 0.0, 2.0), math.exp(-1 / (1 - 0.6**2))),
    ],
)
def test_cond_layer_output_ignores_the_threshold_value(x, thresholds, expected):
    layer = QuestionBumpLayer(initial_sigma=0.5)
    layer.build((1, 1))
    outputs = []
    for threshold in thresholds:
        layer.threshold_level.assign([threshold])
        outputs.append(float(layer(np.array([[x]], dtype=np.float32))[0, 0]))
    # Same predicate, same output: the weight only chooses a branch, it is not in either.
    assert outputs == [outputs[0]] * len(outputs)
    assert outputs[0] == pytest.approx(expected, rel=8 * EPS32)


def test_cond_layer_default_threshold_is_glorot_uniform():
    # As in the question: no initial value, a GlorotUniform draw (which may be negative).
    keras.utils.set_random_seed(0)
    layer = QuestionBumpLayer()
    layer.build((None, 1))
    keras.utils.set_random_seed(0)
    expected = keras.ops.convert_to_numpy(keras.initializers.GlorotUniform()((1,)))
    np.testing.assert_array_equal(layer.get_sigma(), expected)
    assert layer.get_config()["initial_sigma"] is None
