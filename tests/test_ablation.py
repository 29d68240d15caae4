"""bumplib.book.ablation: fit_sigma's Adam choices, each switched alone."""

from __future__ import annotations

import math

import pytest

from bumplib.book.ablation import ALTERNATIVES, BASELINE, AblationTable, run_ablation
from bumplib.book.formatting import error_text, value_text


@pytest.fixture(scope="module")
def table():
    """A small ablation: two widths, 2000 samples, 150 steps."""
    return run_ablation((0.5, 5.0), n=2000, steps=150)


def test_every_variant_runs_on_every_width(table):
    assert isinstance(table, AblationTable)
    assert (table.n, table.steps, table.widths) == (2000, 150, (0.5, 5.0))
    variants = [(r.variant, r.setting) for r in table.rows[::2]]
    assert variants == [
        ("baseline", "fit_sigma's Adam"),
        ("parametrization", "identity"),
        ("parametrization", "softplus"),
        ("batch", "batch 32"),
        ("betas", "betas (0.9, 0.999)"),
        ("learning_rate", "lr 0.001"),
    ]
    assert [r.sigma for r in table.rows] == [0.5, 5.0] * len(variants)
    for r in table.rows:
        assert r.steps == 150
        assert r.seconds > 0
        assert r.relative_error == pytest.approx(abs(r.learned - r.sigma) / r.sigma)


def test_the_table_shows_what_each_choice_buys(table):
    # fit_sigma's Adam gets both widths; the recipe's learning rate, 100x smaller, moves
    # sigma by about 1e-3 per step from 1, so 150 steps reach neither 0.5 nor 5.
    assert table.worst_error("baseline", "fit_sigma's Adam") < 1e-4
    lr = table.row("learning_rate", "lr 0.001", 5.0)
    assert 1.0 < lr.learned < 1.0 + 150 * 3e-3
    assert table.worst_error("learning_rate", "lr 0.001") > 0.1


def test_markdown(table):
    text = table.markdown()
    lines = text.splitlines()
    assert lines[0].startswith("| variant | setting | \u03c3 = 0.5: learned | rel. error |")
    assert lines[0].endswith("| time (s) |")
    assert len(lines) == 2 + 6
    baseline = [table.row("baseline", "fit_sigma's Adam", s) for s in (0.5, 5.0)]
    cells = " | ".join(
        f"{value_text(r.learned, 1e-6)} | {error_text(r.relative_error)}" for r in baseline
    )
    assert lines[2].startswith(f"| baseline | fit_sigma's Adam | {cells} | ")
    assert "time (s)" not in table.markdown(seconds=False)
    baseline = table.row("baseline", "fit_sigma's Adam", 0.5)
    assert f"| {baseline.learned:#.3g}" in table.markdown(resolution=1e-3)


def test_lookups_and_errors(table):
    with pytest.raises(KeyError, match="no row for 'batch'"):
        table.row("batch", "batch 64", 0.5)
    with pytest.raises(KeyError, match="no rows for"):
        table.worst_error("betas", "betas (0, 0)")
    with pytest.raises(ValueError, match="unknown variants"):
        run_ablation((0.5,), variants=["momentum"])
    with pytest.raises(ValueError, match="every width must be > 0"):
        run_ablation((0.0, 1.0))
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        run_ablation((0.5,), n=0)
    assert set(ALTERNATIVES) == set(BASELINE)


def test_one_variant_only():
    small = run_ablation((2.0,), n=500, steps=50, variants=["betas"])
    assert [(r.variant, r.setting) for r in small.rows] == [
        ("baseline", "fit_sigma's Adam"),
        ("betas", "betas (0.9, 0.999)"),
    ]
    assert all(math.isfinite(r.learned) for r in small.rows)
