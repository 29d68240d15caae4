"""The float64 NumPy reference: closed forms, finite differences, its docstring's promises."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from floats import step_ulps
from hypothesis import given, settings
from hypothesis import strategies as st

from bumplib import bump, bump_grad_sigma, bump_grad_x, unstable_mask

SETTINGS = settings(max_examples=200, deadline=None)
F64_MAX = float(np.finfo(np.float64).max)
SMALLEST_SUBNORMAL = float(np.finfo(np.float64).smallest_subnormal)
E_MINUS_1 = math.exp(-1.0)
# max over t >= 0 of t**2 * exp(-t) is 4 * exp(-2), at t = 2 (the docstring's bound of
# d(phi)/d(sigma) = phi * t**2 * r**2 with |r| < 1); d(phi)/dx = -2 * phi * t**2 * r is
# bounded by twice that. 1e-12 of slack for float64 rounding.
GRAD_SIGMA_BOUND = 4.0 * math.exp(-2.0) * (1 + 1e-12)
GRAD_X_BOUND = 2.0 * GRAD_SIGMA_BOUND

finite_x = st.floats(allow_nan=False, allow_infinity=False)
sigmas = st.one_of(
    st.sampled_from([0.0, SMALLEST_SUBNORMAL, 1e-300, 0.25, 1.0, 2.0, 1e300, F64_MAX]),
    st.floats(min_value=0.0, max_value=F64_MAX),
)


@st.composite
def x_sigma(draw: st.DrawFn) -> tuple[float, float]:
    """An ``(x, sigma)`` pair; ``x`` is free or on (or 1-2 ulps off) +-sigma or +-sqrt(sigma)."""
    sigma = draw(sigmas)
    anchor = draw(st.sampled_from(["free", "sigma", "sqrt"]))
    if anchor == "free":
        return draw(finite_x), sigma
    x = sigma if anchor == "sigma" else math.sqrt(sigma)
    x = step_ulps(x, draw(st.integers(-2, 2)))
    return draw(st.sampled_from([1.0, -1.0])) * x, sigma


pair_lists = st.lists(x_sigma(), min_size=1, max_size=16)


def _evaluate(pairs: list[tuple[float, float]]) -> tuple[np.ndarray, ...]:
    """Evaluate everything with NumPy's default error state and every warning an error."""
    x, sigma = np.array(pairs).T
    with warnings.catch_warnings(), np.errstate(divide="warn", over="warn", invalid="warn"):
        warnings.simplefilter("error")
        return (
            x,
            sigma,
            bump(x, sigma),
            bump_grad_sigma(x, sigma),
            bump_grad_x(x, sigma),
            unstable_mask(x, sigma),
        )


@SETTINGS
@given(pair_lists)
def test_no_warning_no_nan_and_inf_only_in_the_unstable_band(pairs):
    _, _, phi, d_sigma, d_x, unstable = _evaluate(pairs)
    for values in (phi, d_sigma, d_x):
        assert not np.isnan(values).any()
        assert unstable[~np.isfinite(values)].all()


@SETTINGS
@given(pair_lists)
def test_support_bounds_and_unstable_band(pairs):
    x, sigma, phi, d_sigma, d_x, unstable = _evaluate(pairs)
    outside = ~(np.abs(x) < sigma)
    for values in (phi, d_sigma, d_x):
        assert (values[outside] == 0).all()
    assert (phi >= 0).all()
    # The band exists only for sigma > 1, inside the support, and there phi >= 1.
    assert (sigma[unstable] > 1).all()
    assert not outside[unstable].any()
    assert (phi[unstable] >= 1).all()
    stable = ~unstable
    assert (phi[stable] <= E_MINUS_1).all()
    assert (np.abs(d_sigma[stable]) <= GRAD_SIGMA_BOUND).all()
    assert (np.abs(d_x[stable]) <= GRAD_X_BOUND).all()


@SETTINGS
@given(pair_lists)
def test_symmetry_in_x(pairs):
    x, sigma, phi, d_sigma, d_x, _ = _evaluate(pairs)
    np.testing.assert_array_equal(bump(-x, sigma), phi)
    np.testing.assert_array_equal(bump_grad_sigma(-x, sigma), d_sigma)
    np.testing.assert_array_equal(bump_grad_x(-x, sigma), -d_x)
    np.testing.assert_array_equal(unstable_mask(-x, sigma), unstable_mask(x, sigma))


@SETTINGS
@given(st.lists(finite_x, min_size=1, max_size=16))
def test_sigma_zero_is_zero_everywhere(xs):
    for fn in (bump, bump_grad_sigma, bump_grad_x):
        assert (fn(np.array(xs), 0.0) == 0).all()
    assert not unstable_mask(np.array(xs), 0.0).any()


def test_classic_bump_at_sigma_one():
    x = np.concatenate([np.linspace(-1, 1, 2001), np.nextafter([-1.0, 1.0], 0.0)])
    inside = np.abs(x) < 1
    with np.errstate(divide="ignore"):  # the direct formula divides by 0 at x = +-1
        direct = np.exp(-1.0 / (1.0 - x[inside] ** 2))
    # Same operations up to rounding; 1e-12 leaves room for a few ulps of 1 - x**2
    # amplified by t = 1 / (1 - x**2) up to ~50 (beyond, both underflow to 0).
    np.testing.assert_allclose(bump(x[inside], 1.0), direct, rtol=1e-12, atol=0)
    assert (bump(x[~inside], 1.0) == 0).all()


@pytest.mark.parametrize("sigma", [0.1, 0.5, 1.0, 2.0, 10.0])
def test_known_values(sigma):
    assert bump(0.0, sigma) == pytest.approx(E_MINUS_1, rel=1e-15)
    # x = sqrt(sigma) / 2 when inside: sigma - x**2 = 3 sigma / 4, so phi = exp(-4/3).
    half = math.sqrt(sigma) / 2
    if half < sigma:
        assert bump(half, sigma) == pytest.approx(math.exp(-4 / 3), rel=1e-14)
    assert bump(sigma, sigma) == 0
    assert bump(-sigma, sigma) == 0


@pytest.mark.parametrize("sigma", [0.1, 0.5, 0.9])
def test_jump_at_the_support_edge_for_sigma_below_one(sigma):
    just_inside = np.nextafter(sigma, 0.0)
    assert bump(just_inside, sigma) == pytest.approx(math.exp(-1 / (1 - sigma)), rel=1e-12)
    assert bump(sigma, sigma) == 0
    assert bump_grad_sigma(just_inside, sigma) > 0
    assert bump_grad_sigma(sigma, sigma) == 0


def test_unstable_band_for_sigma_four():
    x = np.arange(-5.0, 6.0)
    expected = np.abs(x) == 3  # sqrt(4) = 2 < |x| < 4
    np.testing.assert_array_equal(unstable_mask(x, 4.0), expected)
    np.testing.assert_allclose(bump(3.0, 4.0), math.exp(4 / 5), rtol=1e-15)
    # x**2 == sigma exactly: 0, the limit from inside.
    assert bump(2.0, 4.0) == 0
    assert bump_grad_sigma(2.0, 4.0) == 0
    assert bump_grad_x(-2.0, 4.0) == 0
    for sigma in (0.0, 0.5, 1.0):
        assert not unstable_mask(np.linspace(-10, 10, 201), sigma).any()


def test_broadcasting():
    x = np.linspace(-1, 1, 5)[:, None]
    sigma = np.array([0.3, 1.0, 2.0])
    assert bump(x, sigma).shape == (5, 3)
    np.testing.assert_array_equal(bump(x, sigma)[:, 1], bump(x[:, 0], 1.0))


def _smooth_points(sigma: float) -> np.ndarray:
    """Points at least 5% (of the edge) away from |x| = sigma and x**2 = sigma."""
    edge = min(sigma, math.sqrt(sigma))
    points = [f * edge for f in np.linspace(-0.95, 0.95, 39)] + [1.05 * sigma, -1.3 * sigma]
    if sigma > 1:  # inside the band, away from its ends
        lo, hi = math.sqrt(sigma), sigma
        points += [s * (lo + f * (hi - lo)) for s in (1, -1) for f in (0.1, 0.5, 0.9)]
    return np.array(points)


def _central_difference(fn, step: float) -> np.ndarray:
    return (fn(step) - fn(-step)) / (2 * step)


@pytest.mark.parametrize("sigma", [0.1, 0.5, 1.0, 2.0, 10.0])
def test_closed_forms_match_central_differences(sigma):
    x = _smooth_points(sigma)
    # Central differences in float64 with a step of 1e-6 of the scale: truncation
    # ~ h**2 * |phi'''| and rounding ~ 1e-16 * |phi| / h, both far below 1e-6 relative.
    h_sigma = 1e-6 * sigma
    fd_sigma = _central_difference(lambda h: bump(x, sigma + h), h_sigma)
    h_x = 1e-6 * min(sigma, math.sqrt(sigma))
    fd_x = _central_difference(lambda h: bump(x + h, sigma), h_x)
    # Absolute floor for gradients that vanish (x = 0): rounding of phi over the step.
    atol = 1e-9 * np.maximum(bump(x, sigma), 1.0)
    for closed, fd in ((bump_grad_sigma(x, sigma), fd_sigma), (bump_grad_x(x, sigma), fd_x)):
        error = np.abs(closed - fd)
        assert (error <= 1e-6 * np.abs(fd) + atol).all(), (x, closed, fd)
    # The points are not all trivial: the gradients are non-zero inside the support.
    assert (bump_grad_sigma(x, sigma)[(np.abs(x) < sigma) & (x != 0)] != 0).all()
