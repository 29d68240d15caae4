"""A switch that re-rounds the generated data, to check that printed results are portable.

float32 results differ in their last bits from one processor to another (a
different vector width sums in a different order; a different ``exp`` rounds
the other way). The book prints only the digits that survive such
differences. To check that on one machine, set the environment variable
``BUMPLIB_PERTURB_ROUNDING=1`` before Python starts: every data generator of
``bumplib`` then moves each non-zero float32 target ``y`` it returns by one
float32 step up or down, at random (zeros stay exact; the inputs ``x`` are
not touched, so no sample moves into or out of the bump's support). That
changes the rounding of every loss and gradient computed from the data, as
another CPU would, and nothing else: the same seed still draws the same
samples. Re-executing the notebooks with
the switch on and comparing with the stored outputs (``scripts/test.sh
--portability``) shows which printed digits depend on the last bit.
"""

from __future__ import annotations

import os

import numpy as np
from numpy.typing import NDArray

__all__ = ["SWITCH", "perturb_rounding", "rounding_perturbed"]

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
