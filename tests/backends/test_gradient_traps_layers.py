"""The gradient-trap finder on every core layer, on this backend.

Every core layer passes :func:`bumplib.gradient_traps.assert_no_gradient_traps`
eagerly, as a TensorFlow graph and compiled (XLA, ``jax.jit``, ``torch.compile``),
over the domain its docstring promises: ``StableBumpLayer`` in every float dtype,
the other layers in float32 (each dtype costs a compilation per mode, seconds on
PyTorch: ``benchmarks/bench_gradient_traps.py`` runs every layer in every dtype
and prints the time). The thread's layers, which fail it where the book says,
are tested with the book's layers (``test_book_layers.py``).
"""

from __future__ import annotations

import math

import ml_dtypes
import pytest
from autodiff import BACKEND

from bumplib import GaussianBumpLayer, ScaledBumpLayer, StableBumpLayer
from bumplib.gradient_traps import DTYPES, MODES, assert_no_gradient_traps

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
    dtypes_searched = list(DTYPES) if name == "stable" else ["float32"]
    split = any(isinstance(bounds, dict) for bounds in parameters.values())
    groups = (
        [["float16"], [d for d in dtypes_searched if d != "float16"]]
        if split and "float16" in dtypes_searched
        else [dtypes_searched]
    )
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
    assert len(ran) == len(dtypes_searched) * expected_modes
