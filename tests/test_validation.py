"""Bad input gives a clear error: the exception type and what its message says."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from bumpbook import (
    AnswerBumpLayer,
    AnswerWhereBumpLayer,
    QuestionBumpLayer,
    fit_answer_recipe,
    make_model,
)
from bumplib import (
    GaussianBumpLayer,
    SigmaHistory,
    StableBumpLayer,
    bump,
    bump_grad_sigma,
    bump_grad_x,
    fit_sigma,
    generate_data,
    make_deterministic,
    unstable_mask,
)

LAYERS = [
    AnswerWhereBumpLayer,
    AnswerBumpLayer,
    StableBumpLayer,
    GaussianBumpLayer,
    QuestionBumpLayer,
]

# --- layer constructors ---------------------------------------------------------------------------


@pytest.mark.parametrize("layer_class", LAYERS)
@pytest.mark.parametrize(
    ("initial_sigma", "error", "fragment"),
    [
        (-0.5, ValueError, r"initial_sigma must be (>= 0|> 0 here), got -0.5"),
        (math.nan, ValueError, "initial_sigma must be finite, got nan"),
        (math.inf, ValueError, "initial_sigma must be finite, got inf"),
        (-math.inf, ValueError, "initial_sigma must be finite, got -inf"),
        (True, TypeError, "initial_sigma must be a real number, got bool True"),
        ("0.5", TypeError, "initial_sigma must be a number or a sequence of numbers, got '0.5'"),
        ([], ValueError, "flat, non-empty sequence"),
        ([[0.1, 0.2]], ValueError, "flat, non-empty sequence"),
        ([0.1, -0.2], ValueError, r"initial_sigma\[1\] must be (>= 0|> 0 here), got -0.2"),
    ],
    ids=["negative", "nan", "inf", "-inf", "bool", "string", "empty", "nested", "negative-item"],
)
def test_bad_initial_sigma(layer_class, initial_sigma, error, fragment):
    with pytest.raises(error, match=fragment):
        layer_class(initial_sigma=initial_sigma, per_feature=True)


@pytest.mark.parametrize("layer_class", LAYERS)
def test_list_of_sigmas_needs_per_feature(layer_class):
    with pytest.raises(ValueError, match="initial_sigma has 2 values but per_feature=False"):
        layer_class(initial_sigma=[0.1, 0.2])


@pytest.mark.parametrize("layer_class", LAYERS)
def test_per_feature_wrong_number_of_sigmas(layer_class):
    layer = layer_class(initial_sigma=[0.5, 0.6], per_feature=True)
    with pytest.raises(ValueError, match="initial_sigma has 2 values but the input has 3 features"):
        layer(np.zeros((1, 3), np.float32))


@pytest.mark.parametrize("layer_class", LAYERS)
def test_per_feature_needs_a_known_last_axis(layer_class):
    with pytest.raises(ValueError, match="per_feature=True needs a known last axis"):
        keras.Sequential([keras.Input((None,)), layer_class(initial_sigma=0.5, per_feature=True)])


@pytest.mark.parametrize("layer_class", LAYERS)
def test_per_feature_must_be_a_bool(layer_class):
    with pytest.raises(TypeError, match="per_feature must be True or False, got 1"):
        layer_class(initial_sigma=0.5, per_feature=1)


def test_log_parametrization_needs_a_positive_sigma():
    with pytest.raises(ValueError, match=r"initial_sigma must be > 0 here, got 0\.0"):
        StableBumpLayer(initial_sigma=0.0, parametrization="log")
    with pytest.raises(ValueError, match=r"initial_sigma\[0\] must be > 0 here"):
        StableBumpLayer(initial_sigma=[0.0, 1.0], per_feature=True, parametrization="log")


def test_gaussian_needs_a_positive_sigma():
    with pytest.raises(ValueError, match=r"initial_sigma must be > 0 here, got 0\.0"):
        GaussianBumpLayer(initial_sigma=0.0)


@pytest.mark.parametrize("name", ["Log", "soft_plus", "", None])
def test_unknown_parametrization(name):
    with pytest.raises(
        ValueError, match="parametrization must be one of 'identity', 'log', 'softplus'"
    ):
        StableBumpLayer(parametrization=name)


@pytest.mark.parametrize("argument", ["initial_height", "initial_center"])
def test_gaussian_bad_height_or_center(argument):
    with pytest.raises(ValueError, match=f"{argument} must be a finite number"):
        GaussianBumpLayer(**{argument: math.nan})
    layer = GaussianBumpLayer(initial_sigma=[1.0, 2.0, 3.0], per_feature=True, **{argument: [1, 2]})
    with pytest.raises(ValueError, match=f"{argument} has 2 values but the layer has 3 kernel"):
        layer.build((None, 3))


def test_get_sigma_before_build():
    with pytest.raises(ValueError, match="has no sigma yet: call it on data"):
        StableBumpLayer().get_sigma()


@pytest.mark.parametrize(
    "value", [np.float32(0.25), np.float64(0.25), np.array(0.25), 0, np.int64(2)]
)
def test_numpy_and_integer_scalars_are_accepted(value):
    # A NumPy scalar or 0-d array is one number, not a sequence.
    assert StableBumpLayer(initial_sigma=value).initial_sigma == float(value)


# --- generate_data --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"sigma": -0.1}, ValueError, "sigma must be >= 0, got -0.1"),
        ({"sigma": math.nan}, ValueError, "sigma must be finite"),
        ({"sigma": "1"}, TypeError, "sigma must be a real number"),
        (
            {"min_x": 1.0, "max_x": 1.0},
            ValueError,
            r"\(min_x, max_x\) must be two finite numbers with min < max",
        ),
        (
            {"min_x": 2.0, "max_x": -2.0},
            ValueError,
            r"\(min_x, max_x\) must be two finite numbers with min < max",
        ),
        (
            {"min_x": -math.inf},
            ValueError,
            r"\(min_x, max_x\) must be two finite numbers with min < max",
        ),
        ({"n": 0}, ValueError, "n must be >= 1, got 0"),
        ({"n": -5}, ValueError, "n must be >= 1, got -5"),
        ({"n": 10.0}, TypeError, "n must be an integer number of samples, got 10.0"),
        ({"n": True}, TypeError, "n must be an integer number of samples"),
        ({"unstable": "keep"}, ValueError, "unstable must be 'drop' or 'raise', got 'keep'"),
        (
            {"sigma": 4.0, "min_x": 2.5, "max_x": 3.5},
            ValueError,
            r"lies wholly in sqrt\(sigma\)=2 < \|x\| < sigma=4",
        ),
        (
            {"sigma": 4.0, "min_x": -3.9, "max_x": -2.1, "unstable": "raise"},
            ValueError,
            "lies wholly in",  # wholly in the band: no sample at all, whatever `unstable` says
        ),
        (
            {"sigma": 4.0, "min_x": -5.0, "max_x": 5.0, "unstable": "raise"},
            ValueError,
            r"meets sqrt\(sigma\)=2 < \|x\| < sigma=4.*pass unstable='drop'",
        ),
        (
            {"sigma": 0.5, "min_x": 0.1, "max_x": 0.100000001},
            ValueError,
            "no float32 value lies in",
        ),
    ],
    ids=[
        "negative-sigma",
        "nan-sigma",
        "string-sigma",
        "empty-range",
        "reversed-range",
        "infinite-bound",
        "n-zero",
        "n-negative",
        "n-float",
        "n-bool",
        "unstable-unknown",
        "range-in-band",
        "range-in-negative-band-raise",
        "raise-meets-band",
        "no-float32-in-range",
    ],
)
def test_generate_data_bad_arguments(kwargs, error, fragment):
    kwargs = {"sigma": 0.5, "n": 10, **kwargs}
    with pytest.raises(error, match=fragment):
        generate_data(**kwargs)


# --- fit_sigma and fit_answer_recipe --------------------------------------------------------------

X = np.linspace(-0.5, 0.5, 20, dtype=np.float32)[:, None]
Y = np.zeros_like(X)


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "fragment"),
    [
        (X, Y[:10], {}, "x has 20 samples but y has 10"),
        (X, np.where(np.arange(20)[:, None] == 3, np.nan, Y), {}, "y has 1 nan or inf values"),
        (np.where(X > 0.4, np.inf, X), Y, {}, "x has 2 nan or inf values"),
        (X.reshape(10, 2), Y.reshape(10, 2), {}, r"x must hold n >= 1 scalar samples.*\(10, 2\)"),
        (X[..., None], Y[..., None], {}, r"shape \(n,\) or \(n, 1\); got \(20, 1, 1\)"),
        (X[:0], Y[:0], {}, r"x must hold n >= 1 scalar samples"),
        (
            X,
            Y,
            {"method": "adam", "steps": 30, "block": 25},
            r"steps \(30\) must be a multiple of block \(25\)",
        ),
        (X, Y, {"method": "adam", "steps": 0}, "steps must be an integer >= 1, got 0"),
        (X, Y, {"method": "adam", "block": 2.5}, "block must be an integer >= 1, got 2.5"),
        (X, Y, {"initial_sigma": 0.0}, "initial_sigma must be > 0 here"),
        (
            X,
            Y,
            {"method": "adam", "learning_rate": -0.1},
            "learning_rate must be a positive number",
        ),
        (
            X,
            Y,
            {"method": "adam", "learning_rate": math.inf},
            "learning_rate must be a positive number",
        ),
        (
            X,
            Y,
            {"method": "adam", "batch_size": 0},
            "batch_size \\(None for full batches\\) must be an integer >= 1, got 0",
        ),
    ],
)
def test_fit_sigma_bad_arguments(x, y, kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        fit_sigma(x, y, **kwargs)


def test_fit_thread_recipe_bad_arguments():
    with pytest.raises(ValueError, match="x has 20 samples but y has 10"):
        fit_answer_recipe(X, Y[:10], 0.5)
    with pytest.raises(ValueError, match="true_sigma must be >= 0"):
        fit_answer_recipe(X, Y, -1.0)


# --- make_model, SigmaHistory, make_deterministic -------------------------------------------------


@pytest.mark.parametrize("not_a_layer", ["dense", StableBumpLayer, lambda x: x, None])
def test_make_model_needs_a_layer(not_a_layer):
    with pytest.raises(TypeError, match="layer must be a Keras layer, got"):
        make_model(not_a_layer)


@pytest.mark.parametrize("learning_rate", [0, -0.1, "fast"])
def test_make_model_bad_learning_rate(learning_rate):
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        make_model(StableBumpLayer(), learning_rate=learning_rate)


@pytest.mark.parametrize("every", [0, -1, 1.5, "2"])
def test_sigma_history_bad_every_n_batches(every):
    with pytest.raises(ValueError, match="every_n_batches must be an integer >= 1, got"):
        SigmaHistory(every_n_batches=every)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_make_deterministic_bad_seed(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got"):
        make_deterministic(seed)


# --- the reference --------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [bump, bump_grad_sigma, bump_grad_x, unstable_mask])
def test_reference_bad_input(fn):
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        fn(0.1, -1.0)
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        fn(0.1, math.nan)
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        fn(np.zeros(3), [0.5, -0.5, 0.5])
    with pytest.raises(ValueError, match="x contains nan"):
        fn([0.0, math.nan], 0.5)
