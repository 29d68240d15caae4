"""Regenerate ``images/bump_family.png``, the figure on the book's introduction page.

Run from anywhere::

    python scripts/make_intro_figure.py

The figure is drawn from :func:`bumplib.reference.bump` (NumPy, float64), so it
needs no TensorFlow computation and is the same on every machine with the same
Matplotlib version. The PNG carries no "Software" metadata, so regenerating it
with the same Matplotlib gives the same bytes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from bumplib.reference import bump

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "images" / "bump_family.png"
MAX_BYTES = 100_000


#: Font sizes in points. The figure is 700 px wide and the book scales it down to the
#: column: to about 358 px on a 390 px phone, where 14 pt text is still about 10 px tall.
FONT_SIZES = {"font.size": 14, "axes.titlesize": 14, "axes.labelsize": 15, "legend.fontsize": 13}


def make_figure() -> plt.Figure:
    """Draw the two panels: well-behaved widths, and the singular case sigma = 2.

    Side by side (as the introduction's text and alt text describe them), with
    few ticks and large type, so that the labels stay legible on a phone.
    """
    with plt.rc_context(FONT_SIZES):
        fig, (left, right) = plt.subplots(1, 2, figsize=(7.0, 3.6), dpi=100, layout="constrained")

        x = np.linspace(-1.2, 1.2, 1201)
        for sigma, color in zip((0.25, 0.5, 0.75, 1.0), ("C0", "C1", "C2", "C3"), strict=True):
            inside = np.abs(x) < sigma
            # Only the support is drawn in colour (the value 0 outside it is the
            # grey baseline), so the jump at |x| = sigma for sigma < 1 shows as a
            # gap instead of a vertical line.
            left.plot(
                x,
                np.where(inside, bump(x, sigma), np.nan),
                color=color,
                lw=2.2,
                label=rf"$\sigma = {sigma:g}$",
            )
        left.axhline(0.0, color="0.5", lw=1.0)
        left.set_title(r"$\sigma \leq 1$: a bump on $(-\sigma, \sigma)$")
        left.set_xlabel("$x$")
        left.set_ylabel(r"$\varphi_\sigma(x)$")
        left.set_ylim(-0.02, 0.5)
        left.set_xlim(-1.2, 1.2)
        left.set_xticks([-1, 0, 1])
        left.set_yticks([0, 0.2, 0.4])
        left.legend(
            frameon=False,
            loc="upper left",
            ncols=2,
            handlelength=1.2,
            columnspacing=0.8,
            borderaxespad=0.2,
        )

        sigma = 2.0
        x = np.linspace(-2.4, 2.4, 4801)
        y = bump(x, sigma)
        shown = np.where((y > 0) & np.isfinite(y), y, np.nan)
        right.semilogy(x, shown, color="C3", lw=2.2)
        for edge in (-sigma, sigma):
            right.axvline(edge, color="C0", ls="--", lw=1.4)
        for pole in (-np.sqrt(sigma), np.sqrt(sigma)):
            right.axvline(pole, color="0.4", ls=":", lw=1.4)
        right.set_ylim(1e-3, 1e14)
        right.set_yticks([1e0, 1e4, 1e8, 1e12])
        right.set_xticks([-2, 0, 2])
        right.set_title(r"$\sigma = 2$: poles at $\pm\sqrt{\sigma}$ (dotted)")
        right.set_xlabel("$x$")
        right.set_ylabel(r"$\varphi_2(x)$")
        right.text(0.0, 1e6, "edges $\\pm\\sigma$\n(dashed)", ha="center", fontsize=13)
    return fig


def main() -> int:
    """Write the PNG and check that it stays small."""
    fig = make_figure()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUTPUT, metadata={"Software": None})
    plt.close(fig)
    size = OUTPUT.stat().st_size
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({size} bytes)")
    if size > MAX_BYTES:
        print(f"error: the figure is larger than {MAX_BYTES} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
