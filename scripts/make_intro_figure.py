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


def make_figure() -> plt.Figure:
    """Draw the two panels: well-behaved widths, and the singular case sigma = 2."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.4), dpi=100)

    x = np.linspace(-1.2, 1.2, 1201)
    for sigma, color in zip((0.25, 0.5, 0.75, 1.0), ("C0", "C1", "C2", "C3"), strict=True):
        inside = np.abs(x) < sigma
        # Only the support is drawn in colour (the value 0 outside it is the
        # grey baseline), so the jump at |x| = sigma for sigma < 1 shows as a gap
        # instead of a vertical line.
        left.plot(
            x,
            np.where(inside, bump(x, sigma), np.nan),
            color=color,
            lw=1.8,
            label=rf"$\sigma = {sigma:g}$",
        )
    left.axhline(0.0, color="0.5", lw=1.0)
    left.set_title(r"$\sigma \leq 1$: a bump on $(-\sigma, \sigma)$")
    left.set_xlabel("$x$")
    left.set_ylabel(r"$\varphi_\sigma(x)$")
    left.set_ylim(-0.02, 0.42)
    left.set_xlim(-1.2, 1.2)
    left.legend(frameon=False, fontsize=9, loc="upper left")

    sigma = 2.0
    x = np.linspace(-2.4, 2.4, 4801)
    y = bump(x, sigma)
    shown = np.where((y > 0) & np.isfinite(y), y, np.nan)
    right.semilogy(x, shown, color="C3", lw=1.8, label=rf"$\varphi_{{{sigma:g}}}(x)$")
    for edge in (-sigma, sigma):
        right.axvline(edge, color="C0", ls="--", lw=1.0)
    for pole in (-np.sqrt(sigma), np.sqrt(sigma)):
        right.axvline(pole, color="0.4", ls=":", lw=1.0)
    right.set_ylim(1e-3, 1e12)
    right.set_title(r"$\sigma = 2$: poles at $x = \pm\sqrt{\sigma}$ (dotted)")
    right.set_xlabel("$x$")
    right.text(0.0, 1e6, "support edges\n" r"$x = \pm\sigma$ (dashed)", ha="center", fontsize=8)

    fig.tight_layout()
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
