"""Saving and loading models that hold each layer, and the get_config round trip."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from bumpbook import (
    AnswerBumpLayer,
    AnswerWhereBumpLayer,
    PortableAnswerBumpLayer,
    QuestionBumpLayer,
)
from bumplib import GaussianBumpLayer, ScaledBumpLayer, StableBumpLayer

ONE_FEATURE = np.linspace(-2.5, 2.5, 41, dtype=np.float32)[:, None]
THREE_FEATURES = np.linspace(-2.5, 2.5, 60, dtype=np.float32).reshape(20, 3)

# (id, layer factory, inputs). QuestionBumpLayer only works on a 1-element input.
CASES = [
    ("where", lambda: AnswerWhereBumpLayer(0.7), ONE_FEATURE),
    (
        "where-per-feature",
        lambda: AnswerWhereBumpLayer([0.3, 0.7, 1.5], per_feature=True),
        THREE_FEATURES,
    ),
    ("bump", lambda: AnswerBumpLayer(0.7), ONE_FEATURE),
    (
        "bump-per-feature",
        lambda: AnswerBumpLayer([0.3, 0.7, 1.5], per_feature=True),
        THREE_FEATURES,
    ),
    ("stable", lambda: StableBumpLayer(1.7), ONE_FEATURE),
    (
        "stable-per-feature",
        lambda: StableBumpLayer([0.3, 1.0, 4.0], per_feature=True),
        THREE_FEATURES,
    ),
    ("stable-log", lambda: StableBumpLayer(1.7, parametrization="log"), ONE_FEATURE),
    (
        "stable-log-per-feature",
        lambda: StableBumpLayer([0.3, 1.0, 4.0], per_feature=True, parametrization="log"),
        THREE_FEATURES,
    ),
    (
        "gaussian",
        lambda: GaussianBumpLayer(0.7, initial_height=2.0, initial_center=0.3),
        ONE_FEATURE,
    ),
    (
        "gaussian-per-feature",
        lambda: GaussianBumpLayer(
            [0.5, 1.0, 2.0], initial_center=[0.0, 0.5, -0.5], per_feature=True
        ),
        THREE_FEATURES,
    ),
    ("cond", lambda: QuestionBumpLayer(0.5), np.array([[0.3]], np.float32)),
    ("cond-glorot", lambda: QuestionBumpLayer(), np.array([[-0.2]], np.float32)),
]


@pytest.mark.parametrize(
    ("make_layer", "inputs"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_save_and_load_keeps_outputs_and_sigma(tmp_path, make_layer, inputs):
    keras.utils.set_random_seed(0)
    layer = make_layer()
    model = keras.Sequential([keras.Input(inputs.shape[1:]), layer])
    initial_sigma = layer.get_sigma()
    # Move every weight away from its initial value, as training would: the loaded
    # model must hold the trained weights, not re-run the initializers.
    for variable in layer.trainable_variables:
        variable.assign(variable * 1.25)
    outputs, sigma = keras.ops.convert_to_numpy(model(inputs)), layer.get_sigma()
    assert not np.array_equal(sigma, initial_sigma)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    loaded_layer = loaded.layers[0]
    assert type(loaded_layer) is type(layer)
    np.testing.assert_array_equal(loaded_layer.get_sigma(), sigma)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(inputs)), outputs)
    assert loaded_layer.get_config() == layer.get_config()


@pytest.mark.parametrize(
    ("make_layer", "inputs"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_config_round_trip(make_layer, inputs):
    keras.utils.set_random_seed(0)
    layer = make_layer()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    # Built from the same config (and seed), the clone computes the same function.
    keras.utils.set_random_seed(1)
    expected = keras.ops.convert_to_numpy(layer(inputs))
    keras.utils.set_random_seed(1)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone(inputs)), expected)
    np.testing.assert_array_equal(clone.get_sigma(), layer.get_sigma())


def test_config_keeps_every_constructor_argument():
    layer = StableBumpLayer(
        [0.5, 2.0],
        per_feature=True,
        parametrization="log",
        sigma_regularizer="l2",
        name="width",
        dtype="float64",
    )
    clone = StableBumpLayer.from_config(layer.get_config())
    assert clone.initial_sigma == [0.5, 2.0]
    assert clone.per_feature is True
    assert clone.parametrization == "log"
    assert clone.weight_name == "log_sigma"
    assert clone.sigma_constraint is None  # the log parametrization needs none
    assert isinstance(clone.sigma_regularizer, keras.regularizers.L2)
    assert clone.name == "width"
    assert clone.dtype == "float64"
    identity = StableBumpLayer.from_config(StableBumpLayer(0.5).get_config())
    assert isinstance(identity.sigma_constraint, keras.constraints.NonNeg)


# A model saved by bumplib 1.0.0, before the thread's layers were renamed and moved to
# bumpbook (tests/data; written with that version's StableBumpLayer, BumpLayer,
# WhereBumpLayer, SafeWhereBumpLayer, GaussianBumpLayer and ScaledBumpLayer).
SAVED_BY_1_0_0 = Path(__file__).parent / "data" / "model_bumplib_1_0_0.keras"


def test_a_model_saved_by_bumplib_1_0_0_loads_under_the_new_names():
    model = keras.saving.load_model(SAVED_BY_1_0_0)
    expected_classes = [
        StableBumpLayer,
        AnswerBumpLayer,
        AnswerWhereBumpLayer,
        PortableAnswerBumpLayer,
        GaussianBumpLayer,
        ScaledBumpLayer,
    ]
    for layer, expected_class in zip(model.layers[1:-1], expected_classes, strict=True):
        assert isinstance(layer, expected_class), (layer, expected_class)
    x = np.array([[0.1, -0.3], [0.5, 0.05], [0.0, 0.7]], np.float32)
    expected = np.load(SAVED_BY_1_0_0.with_name("model_bumplib_1_0_0_outputs.npy"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected, rtol=1e-6)
