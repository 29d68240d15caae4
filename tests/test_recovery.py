"""Tests of bumpbook.recovery: curve_fit on log sigma."""

from __future__ import annotations

import pytest

import bumplib
from bumpbook.recovery import curve_fit_sigma


@pytest.fixture(autouse=True)
def _seeded():
    bumplib.make_deterministic(0)


@pytest.mark.parametrize("sigma", [0.05, 1.0, 50.0])
def test_curve_fit_sigma_recovers_sigma(sigma):
    x, y, _ = bumplib.generate_data(sigma, n=20_000, seed=0)
    found, evaluations, seconds = curve_fit_sigma(x, y)
    assert abs(found - sigma) / sigma < 1e-6
    assert evaluations >= 1
    assert seconds > 0


def test_curve_fit_sigma_bad_start():
    x, y, _ = bumplib.generate_data(1.0, n=100, seed=0)
    with pytest.raises(ValueError, match="initial_sigma"):
        curve_fit_sigma(x, y, initial_sigma=0.0)
