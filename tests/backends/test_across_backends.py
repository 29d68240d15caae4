"""A model saved on one Keras backend loads on the next and computes the same outputs.

Each backend's run saves a ``.keras`` file holding every core layer, then loads
it in a fresh Python on the next backend (TensorFlow -> JAX -> PyTorch ->
TensorFlow), so the three runs of ``tests/backends`` close the circle. The
saved model has been trained for a few steps first, so the weights that
travel are not the initial ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from autodiff import BACKEND

import bumplib
from bumplib import GaussianBumpLayer, ScaledBumpLayer, StableBumpLayer

# The child's environment besides KERAS_BACKEND: quiet, CPU only, repeatable.
CHILD_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""}

NEXT_BACKEND = {"tensorflow": "jax", "jax": "torch", "torch": "tensorflow"}

LOAD_AND_RUN = """
import json, sys
import keras, numpy as np
import bumplib  # registers the layers
from bumplib import torch_fusion
torch_fusion.use_compiled_kernels(False)  # as in conftest.py: no compilation in the suite
model = keras.saving.load_model(sys.argv[1])
x = np.load(sys.argv[2])
names = [type(layer).__name__ for layer in model.layers]
print(json.dumps({"backend": keras.backend.backend(), "layers": names,
                  "y": keras.ops.convert_to_numpy(model(x)).tolist()}))
"""


def every_core_layer_model() -> keras.Model:
    """Dense(4) then each core layer on its own branch, concatenated, then Dense(1)."""
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, activation="tanh")(inputs)
    branches = [
        StableBumpLayer([0.3, 0.8, 1.5, 4.0], per_feature=True)(hidden),
        StableBumpLayer(0.9, parametrization="softplus")(hidden),
        StableBumpLayer(0.6, parametrization="log")(hidden),
        GaussianBumpLayer(0.5, per_feature=True)(hidden),
        ScaledBumpLayer(0.8, initial_height=1.5, initial_center=0.1)(hidden),
    ]
    outputs = keras.layers.Dense(1)(keras.layers.Concatenate()(branches))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    return model


def weight_values(model: keras.Model) -> list[np.ndarray]:
    """Copies of the model's weights (``get_weights`` gives the warning below)."""
    return [np.array(keras.ops.convert_to_numpy(v.value)) for v in model.weights]


# Keras 3.15's Variable.numpy() calls np.array(self), which NumPy 2.4 warns about for
# JAX and PyTorch variables when the model (with its optimizer) is saved: Keras' warning,
# not bumplib's, and harmless.
@pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)
def test_saved_model_loads_on_the_next_backend(tmp_path: Path) -> None:
    bumplib.make_deterministic(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.5, 1.5, (64, 3)).astype(np.float32)
    y = np.sin(x).sum(axis=1, keepdims=True).astype(np.float32)
    model = every_core_layer_model()
    before = weight_values(model)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    assert any(not np.array_equal(a, b) for a, b in zip(before, weight_values(model), strict=True))
    expected = keras.ops.convert_to_numpy(model(x))
    assert np.isfinite(expected).all()

    path = tmp_path / f"from_{BACKEND}.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", x)
    target = NEXT_BACKEND[BACKEND]
    env = {**os.environ, **CHILD_ENV, "KERAS_BACKEND": target}
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AND_RUN, str(path), str(tmp_path / "x.npy")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["backend"] == target
    assert loaded["layers"] == [type(layer).__name__ for layer in model.layers]
    # the same float32 computation on another backend: equal to float32 rounding
    np.testing.assert_allclose(np.array(loaded["y"]), expected, rtol=1e-5, atol=1e-6)
