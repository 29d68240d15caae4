"""bumplib.least_squares: Levenberg-Marquardt recovery of sigma on the stable bump."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from scipy.optimize import curve_fit

from bumplib import generate_data, least_squares_sigma, stable_bump
from bumplib.least_squares import LeastSquaresProblem, check_recovery_data
from bumplib.reference import bump, bump_grad_sigma

SIGMAS = (0.03, 0.05, 0.1, 0.5, 0.9, 0.99, 1.0, 1.01, 2.0, 5.0, 10.0, 20.0, 50.0)


def stable_terms(x, y, sigma):
    """Cost, gradient and curvature in log(sigma) from stable_bump and TensorFlow's autodiff."""
    x = tf.constant(x, dtype=tf.float32)
    log_sigma = tf.constant(math.log(sigma), dtype=tf.float32)
    with tf.autodiff.ForwardAccumulator(log_sigma, tf.constant(1.0)) as forward:
        phi = stable_bump(x, tf.exp(log_sigma))
    jac = forward.jvp(phi).numpy().astype(np.float64)  # d(phi)/d(log sigma) per sample
    residual = phi.numpy().astype(np.float64) - y
    return np.sum(residual**2), np.sum(jac * residual), np.sum(jac**2), int((phi > 0).numpy().sum())


@pytest.mark.parametrize("sigma", [0.03, 0.5, 0.9, 1.0, 2.0, 50.0])
def test_terms_match_stable_bump_and_its_autodiff(sigma):
    rng = np.random.default_rng(0)
    x = rng.uniform(-3.0, 3.0, size=(4000, 1)).astype(np.float32)
    y = rng.uniform(0.0, 0.4, size=(4000, 1)).astype(np.float32)
    terms = LeastSquaresProblem(x, y, "float32").terms(sigma)
    cost, gradient, curvature, inside = stable_terms(x[:, 0], y[:, 0].astype(np.float64), sigma)
    assert terms.sigma == float(np.float32(sigma))
    # Every sample where stable_bump is > 0 is inside; a few more may be, where exp(-t)
    # flushes to 0 in TensorFlow's float32 (no subnormals) but not in the cutoff.
    assert inside <= terms.inside <= inside + 0.01 * x.shape[0]
    assert terms.cost == pytest.approx(cost, rel=1e-5)
    assert terms.gradient == pytest.approx(gradient, rel=1e-4, abs=1e-6 * abs(curvature) ** 0.5)
    assert terms.curvature == pytest.approx(curvature, rel=1e-4)
    # In float64 the same function, more exactly.
    double = LeastSquaresProblem(x, y).terms(sigma)
    assert double.cost == pytest.approx(cost, rel=1e-4)
    assert double.curvature == pytest.approx(curvature, rel=1e-4)


def test_terms_outside_the_support_cost_y_squared():
    x = np.array([[0.5], [-0.7], [0.9]], dtype=np.float32)
    y = np.array([[0.1], [0.2], [0.3]], dtype=np.float32)
    terms = LeastSquaresProblem(x, y).terms(0.2)  # every |x| >= sigma: the bump is 0 everywhere
    assert terms.inside == 0
    assert (terms.gradient, terms.curvature) == (0.0, 0.0)
    assert terms.cost == pytest.approx(float(np.sum(y.astype(np.float64) ** 2)))


def recovered(sigma, n, seed=0, **kwargs):
    x, y, _ = generate_data(sigma, n=n, seed=seed)
    return least_squares_sigma(x, y, **kwargs)


@pytest.mark.parametrize("sigma", [0.03, 0.1, 0.99, 1.01, 50.0])
def test_recovers_sigma_from_100k_samples(sigma):
    result = recovered(sigma, 100_000)
    assert result.sigma == pytest.approx(sigma, rel=1e-6)
    assert result.message.startswith("converged")
    assert result.history[0] == 1.0
    assert result.history[-1] == result.sigma
    # Two stages (every 16th sample, then all), one record per evaluation.
    assert result.method == "lm"
    assert len(result.history) == len(result.losses) == len(result.steps)
    assert len(result.history) == result.steps[-1] + 2  # iterations, and the two starts
    assert 2 < result.epochs < len(result.history)
    assert result.losses[-1] < 1e-13


def test_one_stage_keeps_only_steps_that_lower_the_cost():
    x, y, _ = generate_data(0.2, n=20_000, seed=8)
    result = least_squares_sigma(x, y, coarse=1)
    assert result.sigma == pytest.approx(0.2, rel=1e-6)
    np.testing.assert_array_equal(result.steps, np.arange(len(result.history)))
    assert result.epochs == len(result.history)
    assert np.all(np.diff(result.losses) <= 0)


@pytest.mark.parametrize("sigma", [s for s in SIGMAS if s not in (0.03, 0.1, 0.99, 1.01, 50.0)])
def test_recovers_every_sigma_from_fewer_samples(sigma):
    assert recovered(sigma, 20_000, seed=1).sigma == pytest.approx(sigma, rel=1e-6)


@pytest.mark.parametrize(
    ("sigma", "initial_sigma"),
    [
        (0.03, 50.0),
        (50.0, 0.03),
        (0.5, 1e-4),  # no sample inside the first support: the bump widens until it meets them
        (20.0, 1e5),
        (0.99, 1.01),  # across sigma = 1, where the jump at |x| = sigma ends
        (1.01, 0.99),
    ],
)
def test_far_starts(sigma, initial_sigma):
    result = recovered(sigma, 20_000, seed=2, initial_sigma=initial_sigma)
    assert result.sigma == pytest.approx(sigma, rel=1e-6)
    assert result.history[0] == pytest.approx(initial_sigma, rel=1e-7)


def test_float32_arithmetic_lands_within_a_few_float32_steps_where_the_bump_is_wide():
    # sigma = 50 on x in (-1, 1): phi moves by under 1% per relative change of sigma, so
    # the fit amplifies the values' rounding; the stable form keeps float32 within a few steps
    x, y, _ = generate_data(50.0, n=100_000, seed=0)
    single = least_squares_sigma(x, y, dtype="float32")
    double = least_squares_sigma(x, y)
    assert double.sigma == pytest.approx(50.0, rel=1e-7)
    float32_step = 50.0 * float(np.finfo(np.float32).eps) / 2  # sigma's ulp in [32, 64)
    assert abs(single.sigma - double.sigma) <= 4 * float32_step


def test_jump_aware_step_lands_in_the_gap():
    # Just above the true width, the samples between the two have y = 0 but phi ~ 0.33:
    # the cost jumps at each of them, and the jump-aware model steps past all of them.
    x, y, _ = generate_data(0.1, n=20_000, seed=4)
    samples = LeastSquaresProblem(x, y)
    assert samples.jump_aware_step(samples.terms(2.0)) is None
    above = samples.terms(0.1 * 1.01)
    step = samples.jump_aware_step(above)
    assert step is not None
    assert step < 0
    landed = samples.terms(above.sigma * math.exp(step))
    assert landed.sigma == pytest.approx(0.1, rel=1e-4)
    assert landed.cost < 1e-4 * above.cost


def test_noisy_data_agree_with_curve_fit():
    x, y, _ = generate_data(0.7, n=20_000, seed=5)
    y = y + np.random.default_rng(5).normal(0.0, 1e-3, size=y.shape).astype(np.float32)
    result = least_squares_sigma(x, y)
    xs, ys = x[:, 0].astype(np.float64), y[:, 0].astype(np.float64)
    (log_sigma,), _ = curve_fit(
        lambda x, u: bump(x, np.exp(u)),
        xs,
        ys,
        p0=[0.0],
        jac=lambda x, u: (np.exp(u) * bump_grad_sigma(x, np.exp(u)))[:, None],
        method="lm",
    )
    assert result.sigma == pytest.approx(0.7, rel=1e-3)
    assert result.sigma == pytest.approx(math.exp(log_sigma), rel=1e-5)


def test_all_zero_targets_are_an_exact_fit():
    x, y, _ = generate_data(0.0, n=500, seed=6)
    result = least_squares_sigma(x, y)
    assert result.message == "exact fit: the cost is 0"
    assert 0 < result.sigma <= np.abs(x).min()
    assert result.losses[-1] == 0.0


def test_data_no_bump_fits():
    x = np.linspace(-1, 1, 1000, dtype=np.float32)
    y = np.where(np.abs(x) > 0.5, 0.35, 0.0).astype(np.float32)  # a bump turned inside out
    with pytest.raises(ValueError, match=r"no bump fits these data: the best fit.*unexplained"):
        least_squares_sigma(x, y)
    with pytest.raises(ValueError, match=r"no bump can fit these targets.*\[0, exp\(-1\)"):
        least_squares_sigma(x, -np.abs(x) - 0.1)


def test_shapes_and_values_are_checked():
    x, y = check_recovery_data([0.1, 0.2], [[0.3], [0.3]])
    assert x.shape == y.shape == (2, 1)
    assert x.dtype == y.dtype == np.float32
    with pytest.raises(ValueError, match=r"x must hold n >= 1 scalar samples.*\(2, 2\)"):
        check_recovery_data(np.zeros((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"x must hold n >= 1 scalar samples.*\(0,"):
        check_recovery_data([], [])
    with pytest.raises(ValueError, match="y must be an array of numbers"):
        check_recovery_data([0.1], ["a"])
    with pytest.raises(ValueError, match="x has 1 nan or inf values"):
        check_recovery_data([np.nan, 0.1], [0.1, 0.1])


@pytest.mark.parametrize(
    ("setting", "match"),
    [
        ({"initial_sigma": 0.0}, "initial_sigma must be > 0"),
        ({"initial_sigma": math.inf}, "initial_sigma must be finite"),
        ({"max_iterations": 0}, "max_iterations must be an integer >= 1"),
        ({"max_iterations": 2.5}, "max_iterations must be an integer >= 1"),
        ({"xtol": 0.0}, r"xtol must be a number in \(0, 1\)"),
        ({"max_unexplained": 1.5}, r"max_unexplained must be in \(0, 1\]"),
        ({"dtype": "float16"}, "dtype must be 'float32' or 'float64'"),
        ({"coarse": 0}, "coarse must be an integer >= 1"),
    ],
)
def test_bad_settings(setting, match):
    x, y, _ = generate_data(0.5, n=50, seed=0)
    with pytest.raises(ValueError, match=match):
        least_squares_sigma(x, y, **setting)


def test_non_convergence_is_an_error_not_a_result():
    x, y, _ = generate_data(50.0, n=2000, seed=7)
    with pytest.raises(RuntimeError, match=r"did not converge in 3 iterations: sigma = "):
        least_squares_sigma(x, y, max_iterations=3)
