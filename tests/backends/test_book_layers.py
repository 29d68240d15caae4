"""The book's versions of the 2020 thread's layers on the running Keras backend.

:class:`~bumpbook.PortableAnswerBumpLayer` (the answer's double ``where`` in
``keras.ops``) runs everywhere, with the answer's traps; the thread's own layers
are TensorFlow code and say so elsewhere. These are the book's layers, not the
core's: the test of the installed ``bumplib`` wheel leaves this file out.
"""

from __future__ import annotations

import math

import keras
import ml_dtypes
import numpy as np
import pytest
from autodiff import BACKEND, gradient_function, weights_of

import bumpbook
from bumpbook import PortableAnswerBumpLayer
from bumplib import StableBumpLayer, bump
from bumplib.base_layer import BaseBumpLayer
from bumplib.gradient_traps import MODES, find_gradient_traps

F32 = np.float32

# --- the answer's double where in keras.ops --------------------------------------------------


def test_safe_where_layer_matches_the_formula_and_is_finite_inside_minus_one_one():
    x = np.linspace(-0.999, 0.999, 201).astype(F32)
    for sigma in (0.05, 0.25, 0.5, 1.0, 3.0):
        layer = PortableAnswerBumpLayer(sigma)
        layer.build((None, 1))
        y, d_x, (d_sigma,) = gradient_function(layer)(x[:, None], weights_of(layer))
        x64 = x.astype(np.float64)
        with np.errstate(all="ignore"):
            expected = np.where(np.abs(x) < sigma, bump(x64, sigma), 0.0)
            t = np.where(np.abs(x) < sigma, sigma / (sigma - x64**2), 1.0)
        # the formula computes t = sigma / (sigma - x**2) in float32: relative error ~ eps t
        # from the subtraction, which exp(-t) multiplies by t (as in the stable layer's test)
        tolerance = 4 * float(np.finfo(F32).eps) * np.maximum(t, 1.0) ** 2 * expected
        error = np.abs(y[:, 0].astype(np.float64) - expected)
        assert (error <= tolerance + float(np.finfo(F32).tiny)).all(), (sigma, error.max())
        if sigma <= 1:  # the answer's claim: finite for inputs in (-1, 1)
            assert np.isfinite(d_x).all()
            assert np.isfinite(d_sigma).all()


def test_safe_where_layer_fixes_the_unselected_branch_but_keeps_the_answers_traps():
    def at(layer, x):
        layer.build((None, 1))
        y, d_x, (d_sigma,) = gradient_function(layer, "eager")(
            np.array([[x]], F32), weights_of(layer)
        )
        return float(y[0, 0]), float(d_x[0, 0]), float(d_sigma[0])

    # sigma - x**2 == 0 in the unselected branch: the inner where removes it
    assert at(PortableAnswerBumpLayer(0.25), 0.5) == (0.0, 0.0, 0.0)
    # sigma == 0: the safe input 0 gives -0 / (0 - 0) = nan, on every backend
    y, _d_x, d_sigma = at(PortableAnswerBumpLayer(0.0), 0.3)
    assert y == 0
    assert math.isnan(d_sigma)
    # sigma > 1: the band sqrt(sigma) < |x| < sigma is selected and explodes
    assert at(PortableAnswerBumpLayer(2.0), 1.5)[0] == pytest.approx(math.exp(8), rel=1e-5)
    # the stable layer has neither trap
    assert at(StableBumpLayer(0.0), 0.3) == (0.0, 0.0, 0.0)
    assert at(StableBumpLayer(2.0), 1.5) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("name", ["QuestionBumpLayer", "AnswerWhereBumpLayer", "AnswerBumpLayer"])
def test_thread_layers_are_tensorflow_only(name):
    if BACKEND == "tensorflow":
        layer = getattr(bumpbook, name)(0.5)
        assert layer.get_config()["initial_sigma"] == 0.5
        return
    with pytest.raises(RuntimeError, match=rf"{name}.*TensorFlow code.*'{BACKEND}' backend"):
        getattr(bumpbook, name)(0.5)


# --- the gradient-trap finder on the thread's layers: they fail where the book says -------------

BIG_EDGES = {"|x| = sigma": lambda sigma: sigma, "x**2 = sigma": lambda sigma: math.sqrt(sigma)}


def sigma_seen_as_zero(sigma: float) -> bool:
    """sigma = 0, or a subnormal sigma that TensorFlow and XLA read as 0 in float32."""
    return sigma == 0 or (BACKEND != "torch" and sigma < float(ml_dtypes.finfo("float32").tiny))


def search_thread_layer(layer):
    """The finder on one of the thread's layers: x in (-2, 2), sigma in (0, 1), float32."""
    return find_gradient_traps(
        layer,
        inputs=(-2.0, 2.0),
        parameters={"sigma": (0.0, 1.0)},
        edges=BIG_EDGES,
        dtypes=["float32"],
        modes=MODES,
    )


def with_tensorflow_twin(portable_class, tensorflow_class):
    """The keras.ops layer, and on TensorFlow also the thread's own TensorFlow layer."""
    classes = [portable_class] + ([tensorflow_class] if BACKEND == "tensorflow" else [])
    return [layer_class(0.5) for layer_class in classes]


@pytest.mark.parametrize(
    "layer",
    with_tensorflow_twin(PortableAnswerBumpLayer, bumpbook.AnswerBumpLayer),
    ids=lambda layer: type(layer).__name__,
)
def test_double_where_layer_has_a_nan_sigma_gradient_at_sigma_zero(layer):
    report = search_thread_layer(layer)
    nonfinite = report.of_kind("nonfinite-gradient")
    at_zero = [t for t in nonfinite if t.point["sigma"] == 0]
    points_at_zero = sum(1 for s in report.points_of["float32"]["sigma"] if s == 0)
    modes = [m for m in MODES if report.modes[f"{BACKEND}/float32/{m}"] == "ok"]
    # every input at sigma = 0, in every mode: a nan sigma gradient under a value of 0
    sigma_traps = [t for t in at_zero if t.quantity == "d/dsigma"]
    assert len(sigma_traps) == points_at_zero * len(modes)
    assert all(t.values["value"] == 0 and math.isnan(t.values["got"]) for t in sigma_traps)
    # and nowhere but there and where sigma**2 underflows (below about 1e-19 in float32), as
    # (sigma - x**2)**2 in the derivative is then 0: on PyTorch (which keeps subnormal sigma),
    # in XLA (TensorFlow compiled, and JAX, whose eager operations are compiled one by one)
    assert all(t.point["sigma"] < 1e-19 for t in nonfinite)


class OpsWhereBumpLayer(BaseBumpLayer):
    """The answer's first layer in ``keras.ops``: one ``where``, the trap on every backend."""

    def call(self, inputs):
        sigma = self.sigma_tensor()
        inside = keras.ops.abs(inputs) < sigma
        formula = keras.ops.exp(-sigma / (sigma - keras.ops.square(inputs)))
        return keras.ops.where(inside, formula, 0.0)


@pytest.mark.parametrize(
    "layer",
    with_tensorflow_twin(OpsWhereBumpLayer, bumpbook.AnswerWhereBumpLayer),
    ids=lambda layer: type(layer).__name__,
)
def test_single_where_layer_has_nan_gradients_outside_the_support(layer):
    report = search_thread_layer(layer)
    nonfinite = report.of_kind("nonfinite-gradient")
    # sigma - x**2 = 0 outside the support (sigma = 1, x = +-1): the book's example
    assert {t.point["x"] for t in nonfinite if t.point["sigma"] == 1} >= {-1.0, 1.0}

    # every trap is outside the support |x| < sigma (as the backend sees sigma), where the
    # value is 0; or, compiled (and on JAX), where sigma**2 underflows, as for the double where
    def outside(trap):
        x, sigma = trap.point["x"], trap.point["sigma"]
        return abs(x) >= sigma or sigma_seen_as_zero(sigma)

    assert all(outside(t) or t.point["sigma"] < 1e-19 for t in nonfinite)
    assert all(t.values["value"] == 0 for t in nonfinite if outside(t))
    assert sum(outside(t) for t in nonfinite) > len(nonfinite) / 2
