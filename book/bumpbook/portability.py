"""A switch that re-rounds the generated data, to check that printed results are portable.

float32 results differ in their last bits from one processor to another (a
different vector width sums in a different order; a different ``exp`` rounds
the other way). The book prints only the digits that survive such
differences. To check that on one machine, set the environment variable
``BUMPLIB_PERTURB_ROUNDING=1`` before Python starts. Each chapter's set-up cell
calls :func:`apply_switch`, and the book's own data generators call
:func:`perturb_rounding`: with the switch on, :func:`bumplib.generate_data` (as
the chapters see it) and those generators move each non-zero float32 target ``y`` they return by one
float32 step up or down, at random (zeros stay exact; the inputs ``x`` are
not touched, so no sample moves into or out of the bump's support). That
changes the rounding of every loss and gradient computed from the data, as
another CPU would, and nothing else: the same seed still draws the same
samples. Re-executing the notebooks with
the switch on and comparing with the stored outputs (``scripts/test.sh
--portability``) shows which printed digits depend on the last bit.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["SWITCH", "apply_switch", "perturb_rounding", "rounding_perturbed"]

#: Name of the environment variable that turns the perturbation on (value ``"1"``).
SWITCH = "BUMPLIB_PERTURB_ROUNDING"

# The perturbation has its own generator, so that it never shifts the draws of
# the data's seed: the perturbed data are the same samples, rounded differently.
_PERTURBATION_SEED = 20_260_101


def rounding_perturbed() -> bool:
    """Return whether ``BUMPLIB_PERTURB_ROUNDING`` is ``"1"``.

    Raises:
        ValueError: if it is set to anything but ``"0"``, ``"1"`` or the empty string.
    """
    value = os.environ.get(SWITCH, "")
    if value not in ("", "0", "1"):
        raise ValueError(f"{SWITCH} must be '1' (on), '0' or unset (off), got {value!r}.")
    return value == "1"


def perturb_rounding(values: NDArray[np.floating]) -> NDArray[np.floating]:
    """Return ``values`` moved by one float step up or down where the switch is on.

    With ``BUMPLIB_PERTURB_ROUNDING`` off this returns ``values`` itself,
    unchanged. With it on, it returns a new array of the same dtype and shape
    in which every non-zero finite element has moved to one of its two
    neighbouring floats, chosen at random (with a fixed seed, so two runs with
    the switch on agree); zeros, infinities and nan are left as they are.

    Raises:
        TypeError: if ``values`` is not a floating-point NumPy array.
    """
    if not isinstance(values, np.ndarray) or not np.issubdtype(values.dtype, np.floating):
        raise TypeError(
            f"perturb_rounding takes a floating-point NumPy array, got {type(values).__name__}"
            f"{'' if not isinstance(values, np.ndarray) else ' of dtype ' + str(values.dtype)}."
        )
    if not rounding_perturbed():
        return values
    rng = np.random.default_rng(_PERTURBATION_SEED + values.size)
    up = rng.random(values.shape) < 0.5
    toward = np.where(up, np.inf, -np.inf).astype(values.dtype)
    moved = np.nextafter(values, toward)
    keep = (values == 0) | ~np.isfinite(values) | ~np.isfinite(moved)
    return np.where(keep, values, moved).astype(values.dtype, copy=False)


def apply_switch() -> bool:
    """Re-round the targets of ``bumplib.generate_data`` in this process if the switch is on.

    The core reads no environment variable: this replaces the function that
    ``bumplib.generate_data`` and ``bumplib.data.generate_data`` name with one
    that returns the same ``x`` and the targets ``y`` and ``dy_dsigma`` passed
    through :func:`perturb_rounding`. Code that looks the function up when it
    calls it (``bumplib.generate_data(...)``, as the chapters do) sees the
    change. Calling it again changes nothing.

    Returns:
        Whether the switch is on.
    """
    if not rounding_perturbed():
        return False
    import bumplib
    import bumplib.data

    original = bumplib.data.generate_data
    if getattr(original, "rounding_perturbed", False):
        return True

    @functools.wraps(original)
    def generate_data(*args: Any, **kwargs: Any) -> tuple[NDArray, NDArray, NDArray]:
        x, y, dy_dsigma = original(*args, **kwargs)
        return x, perturb_rounding(y), perturb_rounding(dy_dsigma)

    generate_data.rounding_perturbed = True  # type: ignore[attr-defined]
    bumplib.generate_data = bumplib.data.generate_data = generate_data
    return True
