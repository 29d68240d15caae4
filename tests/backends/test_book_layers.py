"""The book's versions of the 2020 thread's layers on the running Keras backend.

:class:`~bumpbook.PortableAnswerBumpLayer` (the answer's double ``where`` in
``keras.ops``) runs everywhere, with the answer's traps; the thread's own layers
are TensorFlow code and say so elsewhere. These are the book's layers, not the
core's: the test of the installed ``bumplib`` wheel leaves this file out.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from autodiff import BACKEND, gradient_function, weights_of

import bumpbook
from bumpbook import PortableAnswerBumpLayer
from bumplib import StableBumpLayer, bump

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
