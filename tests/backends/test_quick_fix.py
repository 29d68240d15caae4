"""The quick-fix page's own layer on the running Keras backend: finite everywhere, right inside.

The layer is not copied here. It is the code cell with id ``quick-fix-layer`` of
``chapters/quick_fix.ipynb``, executed as a reader who copies it would run it, so a change
to the page is a change to what this file tests. Its values and gradients are taken with the
backend's own autodiff (``autodiff.py``: ``tf.GradientTape``, ``jax.value_and_grad``,
``torch.autograd``) in every mode ``model.fit`` may run it (a TensorFlow graph, ``jax.jit``,
eager PyTorch, and eagerly and under XLA besides), and by ``model.fit`` itself.

Tolerances, against the float64 reference ``bumplib.bump`` (and its gradients):

* value: ``4 eps t**2`` relative, plus float32's smallest normal number absolute, where
  ``t = sigma / (sigma - x**2)`` and ``eps = 2**-23``. ``t`` is computed from the rounded
  ``q = x / sqrt(sigma)``, which carries about two roundings; ``1 - q**2`` multiplies that
  relative error by ``q**2 / (1 - q**2) < t``, and ``exp(-t)`` by ``t`` again.
* ``d/dx``: ``8 eps t**2`` relative, the same reasoning with the two more roundings of the
  derivative's factors; plus an absolute ``1e-33 / min(1, sqrt(sigma))`` for the terms
  that TensorFlow and XLA flush to 0 once they fall below the smallest normal number
  (``|d/dx| <= 2 exp(-t) t**2 |x| / sigma`` and ``|x| / sigma < 1 / sqrt(sigma)`` there).
* ``d/dsigma`` summed over the inputs (all terms are >= 0, so no cancellation): ``1e-5``
  relative, for widths from ``1e-35`` to ``1e30``. Beyond, the terms ``exp(-t) t**2 x**2 /
  sigma**2`` leave float32's normal range (as ``1 / sigma`` for huge widths, through
  subnormal intermediate products for tiny ones) and backends that flush subnormals lose them.

Where the backend flushes subnormal numbers to zero (TensorFlow and XLA on the CPU), a
subnormal ``x`` or ``sigma`` is read as 0: those points are checked for finiteness only.
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest
from autodiff import BACKEND, MODES, gradient_function
from floats import step_ulps

import bumplib
from bumplib import bump, bump_grad_sigma, bump_grad_x, flushes_subnormals

PAGE = Path(__file__).resolve().parents[2] / "chapters" / "quick_fix.ipynb"
LAYER_CELL = "quick-fix-layer"
QUESTION_CELL = "question-layer"
QUESTION_FIT_CELL = "question-fit"

F32 = np.float32
INFO = np.finfo(F32)
BIG, TINY, SUB = float(INFO.max), float(INFO.tiny), float(INFO.smallest_subnormal)
EPS = float(INFO.eps)
FLUSHES = flushes_subnormals("float32")

#: Widths: zero, subnormal, the smallest normal ones, tiny, ordinary, around 1, huge, the max.
WIDTHS = sorted(
    {
        float(F32(s))
        for s in (
            *(0.0, SUB, 2 * SUB, 1e-44, 1e-40, 3e-39, TINY / 3, TINY, 2 * TINY, 1e-37, 1e-35),
            *(1e-30, 1e-26, 1e-20, 1e-10, 1e-5, 1e-3, 0.01, 0.25, 0.5, 0.99, 1.0, 1.01, 2.0),
            *(10.0, 255.0, 1e4, 1e10, 1e20, 1e30, BIG / 4, BIG),
        )
    }
)
#: Widths whose summed sigma-gradient is compared with the reference (see the module doc).
GRADIENT_WIDTHS = (1e-35, 1e30)


def page_cell(cell_id: str) -> nbformat.NotebookNode:
    """Return the page's cell with id ``cell_id`` (there must be exactly one)."""
    cells = [c for c in nbformat.read(PAGE, as_version=4).cells if c.get("id") == cell_id]
    assert len(cells) == 1, f"{PAGE.name} must hold one cell with id {cell_id!r}"
    return cells[0]


def run_cell(cell_id: str, namespace: dict | None = None) -> dict:
    """Execute the page cell ``cell_id`` in ``namespace`` (a fresh one by default); return it."""
    namespace = {"__name__": "quick_fix_page", **(namespace or {})}
    exec(compile(page_cell(cell_id).source, f"{PAGE.name}[{cell_id}]", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def bump_class() -> type[keras.layers.Layer]:
    layer_class = run_cell(LAYER_CELL)["TrainableBump"]
    assert issubclass(layer_class, keras.layers.Layer)
    return layer_class


def hard_inputs(sigma: float, seed: int = 0) -> np.ndarray:
    """float32 inputs for width ``sigma``: its edges and guards, 3 ulps either side, specials."""
    anchors = (sigma, math.sqrt(sigma), 0.9955 * math.sqrt(sigma), 0.991 * sigma)
    anchors += (sigma / 2, math.sqrt(sigma) / 2)
    xs = [0.0, -0.0, SUB, -SUB, TINY, -TINY, 1.0, -1.0, 1e30, -1e30, BIG, -BIG]
    for anchor in anchors:
        anchor = float(F32(anchor))
        for k in range(-3, 4):
            moved = max(step_ulps(anchor, k, "float32"), 0.0)
            xs += [moved, -moved]
    rng = np.random.default_rng(seed)
    xs += list(rng.uniform(-1.5, 1.5, 64) * max(sigma, math.sqrt(sigma)))
    return np.clip(np.array(xs), -BIG, BIG).astype(F32)[:, None]


def reference(x: np.ndarray, sigma: float) -> tuple[np.ndarray, ...]:
    """The page's convention in float64: the formula for |x| < min(sigma, sqrt(sigma)), else 0.

    Returns the value, d/dx, d/dsigma per point, ``t`` (1 off the support) and the support.
    """
    x64 = x[:, 0].astype(np.float64)
    support = np.abs(x64) < min(sigma, math.sqrt(sigma))
    inside = np.where(support, x64, 0.0)
    with np.errstate(all="ignore"):
        t = np.where(support, sigma / (sigma - inside**2), 1.0)
    values = [
        np.where(support, f(inside, sigma), 0.0) for f in (bump, bump_grad_x, bump_grad_sigma)
    ]
    return (*values, t, support)


@pytest.fixture(scope="module", params=MODES)
def results(request: pytest.FixtureRequest, bump_class: type) -> list[tuple]:
    """``(sigma, x, y, d_x, d_sigma)`` for every width, in one autodiff mode."""
    layer = bump_class(initial_sigma=0.5)
    layer.build((None, 1))
    run = gradient_function(layer, request.param)
    rows = []
    for sigma in WIDTHS:
        x = hard_inputs(sigma)
        y, d_x, (d_sigma,) = run(x, [np.array(sigma, F32)])
        rows.append((sigma, x, y[:, 0], d_x[:, 0], float(d_sigma)))
    return rows


def checked_exactly(x: np.ndarray, sigma: float) -> np.ndarray:
    """Where the float32 result can be compared: no subnormal x or sigma on flushing backends."""
    if not FLUSHES:
        return np.ones(len(x), bool)
    return (np.abs(x[:, 0]) >= TINY) | (x[:, 0] == 0) if sigma >= TINY else np.zeros(len(x), bool)


def test_finite_values_and_gradients_at_every_hard_point(results):
    for sigma, x, y, d_x, d_sigma in results:
        for name, values in (("y", y), ("d/dx", d_x), ("d/dsigma", np.array([d_sigma]))):
            bad = ~np.isfinite(values)
            assert not bad.any(), f"sigma={sigma:g}: {name} not finite at x={x[bad[: len(x)], 0]}"
        assert ((y >= 0) & (y <= F32(math.exp(-1)))).all(), f"sigma={sigma:g}: y out of [0, 1/e]"


def test_zero_outside_the_support_and_the_band(results):
    for sigma, x, y, _d_x, _d_sigma in results:
        outside = np.abs(x[:, 0].astype(np.float64)) >= min(sigma, math.sqrt(sigma))
        assert (y[outside] == 0).all(), (
            f"sigma={sigma:g}: nonzero at x={x[outside][y[outside] != 0]}"
        )


def test_values_match_the_reference_inside_the_support(results):
    compared = 0
    for sigma, x, y, _d_x, _d_sigma in results:
        expected, _gx, _gs, t, support = reference(x, sigma)
        keep = checked_exactly(x, sigma)
        error = np.abs(y.astype(np.float64) - expected)
        bound = 4 * EPS * t**2 * expected + TINY
        bad = keep & (error > bound)
        assert not bad.any(), f"sigma={sigma:g}: x={x[bad, 0]} y={y[bad]} expected={expected[bad]}"
        compared += int((keep & support & (expected > TINY)).sum())
    assert compared > 1000  # the grid really reaches inside the supports


def test_x_gradient_matches_the_reference(results):
    for sigma, x, _y, d_x, _d_sigma in results:
        _value, expected, _gs, t, _support = reference(x, sigma)
        keep = checked_exactly(x, sigma)
        error = np.abs(d_x.astype(np.float64) - expected)
        bound = 8 * EPS * t**2 * np.abs(expected) + 1e-33 / min(1.0, math.sqrt(sigma) or 1.0)
        bad = keep & (error > bound)
        assert not bad.any(), (
            f"sigma={sigma:g}: x={x[bad, 0]} d_x={d_x[bad]} expected={expected[bad]}"
        )


def test_sigma_gradient_matches_the_reference(results):
    lowest, highest = GRADIENT_WIDTHS
    compared = 0
    for sigma, x, _y, _d_x, d_sigma in results:
        if sigma == 0:
            assert d_sigma == 0  # an empty support passes no gradient (the page says so)
        if not lowest <= sigma <= highest:
            continue
        expected = reference(x, sigma)[2].sum()
        assert d_sigma == pytest.approx(expected, rel=1e-5), f"sigma={sigma:g}"
        compared += 1
    assert compared >= 15


def test_model_fit_keeps_sigma_finite_from_every_width(bump_class):
    bumplib.make_deterministic(0)
    layer = bump_class(initial_sigma=0.0)
    model = keras.Sequential([keras.Input((1,)), layer])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    for sigma in (0.0, SUB, 1e-30, 1.0, 4.0, BIG):
        x = hard_inputs(sigma)
        y = reference(x, sigma)[0].astype(F32)[:, None]
        layer.sigma.assign(F32(sigma))
        loss = model.fit(x, y, epochs=1, batch_size=len(x), verbose=0).history["loss"]
        learned = float(keras.ops.convert_to_numpy(layer.sigma))
        assert np.isfinite(loss).all(), f"sigma={sigma:g}: loss {loss}"
        assert math.isfinite(learned), f"sigma={sigma:g}: learned {learned}"
        assert learned >= 0, f"sigma={sigma:g}: learned {learned}"


def test_layer_learns_sigma_with_model_fit(bump_class):
    bumplib.make_deterministic(0)
    x, y, _ = bumplib.generate_data(sigma=0.5, n=1000, seed=0)
    layer = bump_class(initial_sigma=0.1)
    model = keras.Sequential([keras.Input((1,)), layer])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert float(keras.ops.convert_to_numpy(layer.sigma)) == pytest.approx(0.5, abs=0.01)


def test_config_round_trip_and_output_shape(bump_class):
    layer = bump_class(initial_sigma=0.25, name="bump")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is bump_class
    assert restored.initial_sigma == 0.25
    assert restored.name == "bump"
    assert layer.compute_output_shape((None, 3, 2)) == (None, 3, 2)
    x = np.array([[0.0, 0.25, 0.4]], F32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(restored(x)), bump(x, 0.25), rtol=1e-6)


@pytest.mark.parametrize("bad", [-1.0, -1e-30, math.nan])
def test_negative_or_nan_initial_sigma_is_refused(bump_class, bad):
    with pytest.raises(ValueError, match="initial_sigma must be a number >= 0"):
        bump_class(initial_sigma=bad)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="the question's layer is TensorFlow code")
def test_question_layer_fails_as_the_page_shows():
    import tensorflow as tf

    keras.utils.set_random_seed(0)  # as the page does; op determinism may be on in this worker
    namespace = run_cell(QUESTION_CELL, {"tf": tf})
    stored = [o for o in page_cell(QUESTION_FIT_CELL).outputs if o.output_type == "error"]
    assert [(o.ename, o.evalue) for o in stored] == [
        ("ValueError", "No gradients provided for any variable.")
    ]
    assert "raises-exception" in page_cell(QUESTION_FIT_CELL).metadata.get("tags", [])
    with pytest.raises(ValueError, match=r"^No gradients provided for any variable\.$"):
        run_cell(QUESTION_FIT_CELL, {**namespace, "keras": keras, "bumplib": bumplib})
