"""The gradient-trap finder on every core layer, and on the thread's layers, on this backend.

Every core layer passes :func:`bumplib.gradient_traps.assert_no_gradient_traps` in
every float dtype, eagerly, as a TensorFlow graph and compiled (XLA, ``jax.jit``,
``torch.compile``), over the domain its docstring promises. The thread's layers
fail where the book says they do: the double ``where`` (the answer's final layer)
at ``sigma = 0``, the single ``where`` outside the support.
"""

from __future__ import annotations

import math

import ml_dtypes
import pytest
from autodiff import BACKEND

from bumplib import GaussianBumpLayer, SafeWhereBumpLayer, ScaledBumpLayer, StableBumpLayer
from bumplib.gradient_traps import DTYPES, MODES, assert_no_gradient_traps, find_gradient_traps

BIG = float(ml_dtypes.finfo("float32").max)
#: Stored log widths whose exp is a normal number of the dtype: the log layers clip larger
#: ones to the dtype's largest finite log, so float64 (which is the reference) would compute
#: another width there. float16 searches its own, shorter range.
LOG_RANGE = {"float16": (-9.0, 11.0), "wide": (-87.0, 88.0)}


def exp_or_inf(value: float) -> float:
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf


EDGES = {"|x| = sigma": lambda sigma: sigma, "x**2 = sigma": lambda sigma: math.sqrt(sigma)}
LOG_EDGES = {
    "|x| = sigma": lambda log_sigma: exp_or_inf(log_sigma),
    "x**2 = sigma": lambda log_sigma: exp_or_inf(log_sigma / 2),
}

#: Layer, its input range, its parameters' ranges, its edges: what each core layer promises.
CORE_SEARCHES = {
    # finite value and gradients for every finite x and every sigma >= 0 (stable_bump)
    "stable": (lambda: StableBumpLayer(0.5), (-BIG, BIG), {"sigma": (0.0, BIG)}, EDGES),
    "stable-log": (
        lambda: StableBumpLayer(0.5, parametrization="log"),
        (-BIG, BIG),
        {"log_sigma": LOG_RANGE},
        LOG_EDGES,
    ),
    "stable-softplus": (
        lambda: StableBumpLayer(0.5, parametrization="softplus"),
        (-BIG, BIG),
        {"rho": LOG_RANGE},
        {"|x| = sigma": lambda rho: math.log1p(exp_or_inf(rho)) if rho < 700 else rho},
    ),
    # the Gaussian squares x - c in its own dtype: moderate inputs and widths only
    "gaussian": (
        lambda: GaussianBumpLayer(0.5),
        (-10.0, 10.0),
        {"inverse_width": (0.0, 100.0), "height": (-10.0, 10.0), "center": (-10.0, 10.0)},
        {"x = center": lambda center: center},
    ),
    # the stable bump of x - c: any inputs whose difference is finite
    "scaled": (
        lambda: ScaledBumpLayer(0.5),
        (-1e30, 1e30),
        {"log_sigma": LOG_RANGE, "height": (-1e4, 1e4), "center": (-1e30, 1e30)},
        {"x - c = sigma": lambda log_sigma, center: center + exp_or_inf(log_sigma)},
    ),
}


def ranges_for(parameters: dict, dtype: str) -> dict:
    """The parameters' ranges in ``dtype`` (the log ranges depend on it)."""
    return {
        name: bounds.get(dtype, bounds["wide"]) if isinstance(bounds, dict) else bounds
        for name, bounds in parameters.items()
    }


@pytest.mark.parametrize("name", CORE_SEARCHES)
def test_core_layer_has_no_gradient_traps(name):
    make, inputs, parameters, edges = CORE_SEARCHES[name]
    split = any(isinstance(bounds, dict) for bounds in parameters.values())
    groups = [["float16"], [d for d in DTYPES if d != "float16"]] if split else [list(DTYPES)]
    ran = []
    for dtypes in groups:
        report = assert_no_gradient_traps(
            make(),
            inputs=inputs,
            parameters=ranges_for(parameters, dtypes[0]),
            edges=edges,
            dtypes=dtypes,
            modes=MODES,
        )
        ran += [key for key, status in report.modes.items() if status == "ok"]
    expected_modes = 3 if BACKEND == "tensorflow" else 2
    assert len(ran) == len(DTYPES) * expected_modes


def sigma_seen_as_zero(sigma: float) -> bool:
    """sigma = 0, or a subnormal sigma that TensorFlow and XLA read as 0 in float32."""
    return sigma == 0 or (BACKEND != "torch" and sigma < float(ml_dtypes.finfo("float32").tiny))


def search_thread_layer(layer):
    """The finder on one of the thread's layers: x in (-2, 2), sigma in (0, 1), float32."""
    return find_gradient_traps(
        layer,
        inputs=(-2.0, 2.0),
        parameters={"sigma": (0.0, 1.0)},
        edges=EDGES,
        dtypes=["float32"],
        modes=MODES,
    )


def double_where_layers():
    layers = [SafeWhereBumpLayer(0.5)]
    if BACKEND == "tensorflow":
        from bumplib.thread_layers import BumpLayer

        layers.append(BumpLayer(0.5))
    return layers


@pytest.mark.parametrize("layer", double_where_layers(), ids=lambda layer: type(layer).__name__)
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


def single_where_layers():
    from bumplib.book.backends import OpsWhereBumpLayer

    layers = [OpsWhereBumpLayer(0.5)]
    if BACKEND == "tensorflow":
        from bumplib.thread_layers import WhereBumpLayer

        layers.append(WhereBumpLayer(0.5))
    return layers


@pytest.mark.parametrize("layer", single_where_layers(), ids=lambda layer: type(layer).__name__)
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
