"""Tests of bumpbook.recovery: the Adam ablation, curve_fit on log sigma, fair baselines."""

from __future__ import annotations

import pytest

import bumplib
from bumpbook.recovery import (
    ABLATION_VARIANTS,
    Recovery,
    adam_ablation,
    curve_fit_sigma,
    recovery_baselines,
)


@pytest.fixture(autouse=True)
def _seeded():
    bumplib.make_deterministic(0)


def test_recovery_relative_error():
    assert Recovery("m", 2.0, 2.5, 10, 0.1).relative_error == pytest.approx(0.25)


def test_ablation_rows_and_what_each_change_does():
    rows = adam_ablation(
        (0.05, 50.0),
        n=2_000,
        variants=["fit_sigma (adam)", "identity parametrization", "learning rate 1e-3"],
    )
    assert [(r.method, r.true_sigma) for r in rows] == [
        ("fit_sigma (adam)", 0.05),
        ("fit_sigma (adam)", 50.0),
        ("identity parametrization", 0.05),
        ("identity parametrization", 50.0),
        ("learning rate 1e-3", 0.05),
        ("learning rate 1e-3", 50.0),
    ]
    by = {(r.method, r.true_sigma): r for r in rows}
    assert by["fit_sigma (adam)", 0.05].relative_error < 1e-4
    assert by["fit_sigma (adam)", 50.0].relative_error < 1e-4
    assert by["identity parametrization", 0.05].sigma == 0.0  # clipped to 0, stuck there
    assert by["identity parametrization", 50.0].sigma < 30.0  # out of learning-rate budget
    assert by["learning rate 1e-3", 50.0].sigma < 1.3  # exp(0.25) at most
    for row in rows:
        assert row.steps == 500
        assert row.seconds > 0
        assert row.history[0] == pytest.approx(1.0)
        assert row.history.shape == row.history_steps.shape
        assert row.history_steps[-1] == 500


def test_ablation_bad_input():
    with pytest.raises(ValueError, match="unknown variants"):
        adam_ablation((1.0,), variants=["bigger batches"])
    with pytest.raises(ValueError, match="sigmas"):
        adam_ablation((0.0,), n=100)
    with pytest.raises(ValueError, match="n must be"):
        adam_ablation((1.0,), n=0)
    assert "fit_sigma (adam)" in ABLATION_VARIANTS
    assert ABLATION_VARIANTS["fit_sigma (adam)"] == {}


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


def test_baselines_same_steps_with_and_without_steps_per_execution():
    rows = recovery_baselines(0.5, n=2_000, seed=0)
    names = [row.method for row in rows]
    assert names == [
        "thread's recipe",
        "recipe, steps_per_execution",
        "curve_fit (scipy)",
        "fit_sigma (lm)",
        "fit_sigma (adam)",
    ]
    recipe, chunked = rows[0], rows[1]
    assert recipe.steps == chunked.steps == 3 * 63
    assert chunked.sigma == pytest.approx(recipe.sigma, rel=1e-6)
    for row in rows[2:]:
        assert row.relative_error < 1e-4
    with pytest.raises(ValueError, match="sigma"):
        recovery_baselines(-1.0)
