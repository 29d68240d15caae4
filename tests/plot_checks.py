"""Checks shared by the plotting tests: every figure is labelled and has a legend."""

from __future__ import annotations

from matplotlib.axes import Axes


def assert_labelled(ax: Axes) -> None:
    """Assert that ``ax`` has an x label, a y label, a title and a legend with labels."""
    assert ax.get_xlabel().strip()
    assert ax.get_ylabel().strip()
    assert ax.get_title().strip()
    legend = ax.get_legend()
    assert legend is not None
    assert all(text.get_text().strip() for text in legend.get_texts())
