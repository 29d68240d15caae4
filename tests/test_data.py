"""generate_data: shapes, determinism, exact targets, and the exploding band left out."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bumplib import bump, bump_grad_sigma, generate_data, unstable_interval, unstable_mask


@pytest.mark.parametrize(
    ("sigma", "min_x", "max_x"), [(0.5, -1.0, 1.0), (0.0, -0.1, 0.1), (4.0, -5.0, 5.0)]
)
def test_shapes_dtypes_range_and_exact_targets(sigma, min_x, max_x):
    x, y, dy = generate_data(sigma, min_x=min_x, max_x=max_x, n=5000, seed=1)
    for a in (x, y, dy):
        assert a.shape == (5000, 1)
        assert a.dtype == np.float32
        assert np.isfinite(a).all()
    # Compare in float64: with NumPy 2, float32 array <= Python float compares in float32.
    assert (x.astype(np.float64) >= min_x).all()
    assert (x.astype(np.float64) <= max_x).all()
    # The targets are the float64 reference at the returned (float32) x, rounded once.
    np.testing.assert_array_equal(y, bump(x, sigma).astype(np.float32))
    np.testing.assert_array_equal(dy, bump_grad_sigma(x, sigma).astype(np.float32))
    assert not unstable_mask(x, sigma).any()


def test_same_seed_same_data_other_seed_other_data():
    first = generate_data(0.5, n=1000, seed=7)
    again = generate_data(0.5, n=1000, seed=7)
    other = generate_data(0.5, n=1000, seed=8)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_x_is_uniform_over_the_range():
    x, _, _ = generate_data(0.5, min_x=-1.0, max_x=3.0, n=40_000, seed=2)
    counts, _ = np.histogram(x, bins=8, range=(-1.0, 3.0))
    # Each bin expects 5000 of 40000 (p = 1/8); 5 binomial standard deviations.
    assert np.abs(counts - 5000).max() < 5 * math.sqrt(40_000 * (1 / 8) * (7 / 8))


def test_band_is_left_out_and_the_rest_is_sampled_in_proportion():
    sigma, n = 4.0, 60_000
    x, y, _ = generate_data(sigma, min_x=-5.0, max_x=5.0, n=n, seed=3)
    lo, hi = unstable_interval(sigma)  # (2, 4)
    ax = np.abs(x[:, 0])
    assert not ((ax > lo) & (ax < hi)).any()
    assert (y <= math.exp(-1)).all()
    # The pieces outside the band: [-5, -4], [-2, 2], [4, 5], lengths 1, 4, 1 of 6.
    pieces = [(-5.0, -4.0), (-2.0, 2.0), (4.0, 5.0)]
    for a, b in pieces:
        inside = ((x >= a) & (x <= b)).sum()
        p = (b - a) / 6
        assert abs(inside - n * p) < 5 * math.sqrt(n * p * (1 - p)), (a, b, inside)
        # Spread over the whole piece, not bunched at one end.
        within = x[(x >= a) & (x <= b)]
        assert within.min() < a + 0.01 * (b - a)
        assert within.max() > b - 0.01 * (b - a)


def test_sigma_above_one_inside_the_stable_range_needs_no_dropping():
    # Exercise 5: x in (-1, 1) never meets the band (sqrt(sigma) > 1), so nothing to filter.
    x, y, _ = generate_data(10.0, n=2000, seed=0, unstable="raise")
    assert (np.abs(x) <= 1).all()
    assert np.isfinite(y).all()
    assert (y <= math.exp(-1)).all()


def test_range_ends_that_float32_cannot_hold_are_respected():
    # Neither bound is a float32; the only float32 in [0.09999999, 0.1] is 0.099999994,
    # and rounding a draw above 0.09999999776 to float32 would give 0.10000000149 > 0.1.
    x, _, _ = generate_data(0.5, min_x=0.09999999, max_x=0.1, n=1000, seed=0)
    # In float64: a float32 comparison would round the bounds too and always pass.
    assert (x.astype(np.float64) >= 0.09999999).all()
    assert (x.astype(np.float64) <= 0.1).all()


def test_a_piece_too_thin_for_float32_raises_instead_of_looping():
    # sigma = 1.5: the stable piece [min_x, sqrt(1.5)] lies between two float32 values and
    # nearer the upper one, which is in the band: every draw rounds into the band.
    root = math.sqrt(1.5)
    above = np.float32(root)
    above = above if float(above) > root else np.nextafter(above, np.float32(np.inf))
    below = np.nextafter(above, np.float32(0))
    midpoint = (float(below) + float(above)) / 2
    assert midpoint < root
    with pytest.raises(ValueError, match="has no float32 value outside"):
        generate_data(1.5, min_x=(midpoint + root) / 2, max_x=1.4, n=10, seed=0)


def test_huge_range_is_clipped_to_float32():
    x, y, dy = generate_data(0.5, min_x=-1e39, max_x=1e39, n=100, seed=0)
    assert np.isfinite(x).all()
    assert np.isfinite(y).all()
    assert np.isfinite(dy).all()


@settings(max_examples=100, deadline=None)
@given(
    sigma=st.floats(min_value=0.0, max_value=50.0),
    ends=st.lists(st.floats(min_value=-60.0, max_value=60.0), min_size=2, max_size=2, unique=True),
    seed=st.integers(0, 2**32 - 1),
)
def test_never_nan_or_inf_and_never_in_the_band(sigma, ends, seed):
    min_x, max_x = sorted(ends)
    band = unstable_interval(sigma)
    wholly_in_band = band is not None and any(
        lo <= min_x and max_x <= hi for lo, hi in (band, (-band[1], -band[0]))
    )
    if wholly_in_band:
        with pytest.raises(ValueError, match="lies wholly in"):
            generate_data(sigma, min_x=min_x, max_x=max_x, n=50, seed=seed)
        return
    first_float32 = np.float32(min_x)
    if float(first_float32) < min_x:
        first_float32 = np.nextafter(first_float32, np.float32(np.inf))
    if float(first_float32) > max_x:  # e.g. [1e-121, 1e-89]: x could not be returned
        with pytest.raises(ValueError, match="no float32 value lies in"):
            generate_data(sigma, min_x=min_x, max_x=max_x, n=50, seed=seed)
        return
    try:
        x, y, dy = generate_data(sigma, min_x=min_x, max_x=max_x, n=50, seed=seed)
    except ValueError as error:
        # Allowed only when what is left outside the band is thinner than float32 spacing.
        assert "has no float32 value outside" in str(error)  # noqa: PT017
        overlap = sum(
            max(0.0, min(max_x, hi) - max(min_x, lo)) for lo, hi in (band, (-band[1], -band[0]))
        )
        assert (max_x - min_x) - overlap < 1e-5 * max(1.0, abs(min_x), abs(max_x))
        return
    for a in (x, y, dy):
        assert np.isfinite(a).all()
    x64 = x.astype(np.float64)
    assert ((x64 >= min_x) & (x64 <= max_x)).all()
    assert not unstable_mask(x, sigma).any()
    assert (y <= np.float32(math.exp(-1))).all()
