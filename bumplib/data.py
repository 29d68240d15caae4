"""Training data for recovering sigma: ``x`` uniform, ``y = phi_sigma(x)`` and ``dy/dsigma``."""

from __future__ import annotations

import itertools
import math
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from bumplib.reference import bump, bump_grad_sigma, unstable_mask
from bumplib.validation import check_range, check_sigma

__all__ = ["generate_data", "unstable_interval"]

#: Redraws of samples that float32 rounding moved into the exploding band.
_MAX_REDRAWS = 100


def unstable_interval(sigma: float) -> tuple[float, float] | None:
    """Return ``(sqrt(sigma), sigma)``, where the formula explodes for ``|x|`` inside, or None.

    The band exists only for ``sigma > 1``; there ``sigma - x**2 < 0`` and
    ``phi_sigma(x) = exp(sigma / (x**2 - sigma)) > 1``, infinite in float64
    (and float32) near ``x = +-sqrt(sigma)``.
    """
    sigma = check_sigma(sigma)
    return (math.sqrt(sigma), sigma) if sigma > 1.0 else None


def _stable_pieces(sigma: float, min_x: float, max_x: float) -> list[tuple[float, float]]:
    """Split ``[min_x, max_x]`` into the pieces that lie outside the exploding band."""
    band = unstable_interval(sigma)
    if band is None:
        return [(min_x, max_x)]
    lo, hi = band
    cuts = sorted({min_x, max_x} | {c for c in (-hi, -lo, lo, hi) if min_x < c < max_x})
    return [(a, b) for a, b in itertools.pairwise(cuts) if not lo < abs((a + b) / 2) < hi]


def _uniform_on(pieces: list[tuple[float, float]], rng: np.random.Generator, size: int) -> NDArray:
    """Draw ``size`` points uniformly on the union of ``pieces`` (float64)."""
    starts = np.array([a for a, _ in pieces])
    lengths = np.array([b - a for a, b in pieces])
    offsets = np.concatenate([[0.0], np.cumsum(lengths)])
    u = rng.uniform(0.0, offsets[-1], size=size)
    piece = np.clip(np.searchsorted(offsets, u, side="right") - 1, 0, len(pieces) - 1)
    return starts[piece] + (u - offsets[piece])


def generate_data(
    sigma: float,
    min_x: float = -1.0,
    max_x: float = 1.0,
    n: int = 100_000,
    seed: int | None = None,
    unstable: Literal["drop", "raise"] = "drop",
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Sample ``x`` uniformly in ``[min_x, max_x)`` and return ``(x, y, dy_dsigma)``.

    ``y = phi_sigma(x)`` and ``dy_dsigma = d(phi)/d(sigma)`` come from the
    float64 reference (:mod:`bumplib.reference`), evaluated at the float32
    ``x`` that is returned, so the three arrays agree exactly. Each has shape
    ``(n, 1)`` and dtype float32. The same ``seed`` gives the same data
    on every machine, whatever the environment holds.

    When ``sigma > 1`` and the range reaches into ``sqrt(sigma) < |x| <
    sigma``, the formula there gives values above 1 that grow to ``inf``:
    no bump layer can fit them, and one such sample makes the loss infinite.
    ``unstable="drop"`` (the default) leaves that band out: ``x`` is then
    uniform on the rest of the range, and ``n`` samples are still returned.
    Dropping is chosen over raising because the rest of the data is exactly
    what the bump (and :class:`~bumplib.StableBumpLayer`) describes; the
    band's samples are not noisy data but a region where the formula has
    no useful value. ``unstable="raise"`` refuses such a range instead.

    Raises:
        ValueError: for ``sigma < 0`` or not finite, ``min_x >= max_x`` or a
            bound not finite, ``n < 1``, a range that lies wholly in the
            exploding band, or (with ``unstable="raise"``) a range that meets it;
            also for a range that holds no float32 value (outside the band).
        TypeError: for a non-integer ``n``.
    """
    sigma = check_sigma(sigma)
    min_x, max_x = check_range((min_x, max_x), "(min_x, max_x)")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an integer number of samples, got {n!r}.")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}.")
    if unstable not in ("drop", "raise"):
        raise ValueError(f"unstable must be 'drop' or 'raise', got {unstable!r}.")
    pieces = _stable_pieces(sigma, min_x, max_x)
    if pieces != [(min_x, max_x)]:
        band = unstable_interval(sigma)
        where = f"sqrt(sigma)={band[0]:.6g} < |x| < sigma={band[1]:.6g}"
        advice = "Choose x inside (-sqrt(sigma), sqrt(sigma)) or with |x| >= sigma"
        if not pieces:
            raise ValueError(
                f"x in [{min_x}, {max_x}] lies wholly in {where}, where phi_sigma(x) > 1 "
                f"and overflows to inf: no sample can be kept. {advice}."
            )
        if unstable == "raise":
            raise ValueError(
                f"x in [{min_x}, {max_x}] meets {where}, where phi_sigma(x) > 1 and "
                f"overflows to inf. {advice}, or pass unstable='drop' to leave that band out."
            )
    # The float32 values of [min_x, max_x]: rounding to float32 must not leave the range
    # (a bound beyond the float32 range rounds to inf, then steps back to the largest float).
    with np.errstate(over="ignore"):
        lo32, hi32 = np.float32(min_x), np.float32(max_x)
    lo32 = lo32 if float(lo32) >= min_x else np.nextafter(lo32, np.float32(np.inf))
    hi32 = hi32 if float(hi32) <= max_x else np.nextafter(hi32, np.float32(-np.inf))
    if lo32 > hi32:
        raise ValueError(f"no float32 value lies in [{min_x}, {max_x}]; widen the range.")
    rng = np.random.default_rng(seed)

    def draw(size: int) -> NDArray[np.float32]:
        with np.errstate(over="ignore"):
            return np.clip(_uniform_on(pieces, rng, size).astype(np.float32), lo32, hi32)

    x = draw(n).reshape(n, 1)
    # Rounding to float32 can move a point at a band edge into the band: redraw it.
    # A piece so thin that all its float32 values are in the band would loop forever.
    for _ in range(_MAX_REDRAWS):
        if not (bad := unstable_mask(x, sigma)).any():
            break
        x[bad] = draw(int(bad.sum()))
    else:
        raise ValueError(
            f"x in [{min_x}, {max_x}] has no float32 value outside sqrt(sigma) < |x| < sigma: "
            "every sample rounds into that band, where phi_sigma(x) > 1. Widen the range."
        )
    y = bump(x, sigma).astype(np.float32)
    dy_dsigma = bump_grad_sigma(x, sigma).astype(np.float32)
    return x, y, dy_dsigma
