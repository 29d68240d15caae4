"""The ``where`` trap and its two fixes in plain TensorFlow, JAX and PyTorch (chapter 6).

Each framework gets the same three versions of the bump
``phi_sigma(x) = exp(-sigma / (sigma - x**2))`` for ``|x| < sigma``, 0 elsewhere,
written with nothing but that framework's own operations:

* **one where** (:func:`tf_where_bump`, :func:`jax_where_bump`,
  :func:`torch_where_bump`): the accepted answer's first layer. Its gradient is
  ``nan`` wherever the unselected formula (or its derivative) is infinite or
  ``nan``, in all three frameworks.
* **double where** (:func:`tf_double_where_bump`, ...): the answer's fix, an
  inner ``where`` that feeds the formula the safe input 0 outside the support.
  It still fails at ``sigma == 0``, where the safe input gives ``0 / 0``.
* **custom gradient** (:func:`tf_custom_gradient_bump` with
  ``tf.custom_gradient``,
  :func:`~bumpbook.frameworks.jax_custom_jvp_bump` with ``jax.custom_jvp``,
  :func:`torch_function_bump` with ``torch.autograd.Function``): the forward
  pass of the first version, with the closed-form derivatives selected by a
  ``where`` on *values*, so no unselected derivative ever meets the chain rule.

None of the three changes what the formula gives where it is *selected*: in the
band ``sqrt(sigma) < |x| < sigma`` (``sigma > 1``) the value itself explodes.
That needs a different, safe formula (:func:`bumplib.stable_bump`).

:data:`VERSIONS` maps each framework to its three functions,
:data:`bumpbook.backend_processes.CASES` holds the telling inputs of the chapter's
table (shared with the Keras-backend runs), and :func:`trap_results` evaluates
every version of every framework on them with that framework's own autodiff
(float32 throughout; JAX's default precision is float32 too, so no
``jax_enable_x64`` is needed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import tensorflow as tf
import torch

from bumpbook.backend_processes import CASES, Case
from bumpbook.formatting import value_text

__all__ = [
    "CASES",
    "FRAMEWORKS",
    "VERSIONS",
    "Case",
    "TorchBumpFunction",
    "TrapResult",
    "case_header",
    "frameworks_agree",
    "jax_custom_jvp_bump",
    "jax_double_where_bump",
    "jax_value_and_gradients",
    "jax_where_bump",
    "result_text",
    "tf_custom_gradient_bump",
    "tf_double_where_bump",
    "tf_value_and_gradients",
    "tf_where_bump",
    "torch_double_where_bump",
    "torch_function_bump",
    "torch_value_and_gradients",
    "torch_where_bump",
    "trap_results",
    "trap_table",
]

# --- TensorFlow ----------------------------------------------------------------------------


def tf_where_bump(x: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """One ``tf.where``: the formula everywhere, 0 selected outside ``|x| < sigma``."""
    inside = tf.abs(x) < sigma
    return tf.where(inside, tf.exp(-sigma / (sigma - x**2)), 0.0)


def tf_double_where_bump(x: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """Double ``tf.where``: the formula sees the safe input 0 outside the support."""
    inside = tf.abs(x) < sigma
    x_safe = tf.where(inside, x, 0.0)
    return tf.where(inside, tf.exp(-sigma / (sigma - x_safe**2)), 0.0)


@tf.custom_gradient
def _tf_custom_gradient_same_shape(x: tf.Tensor, sigma: tf.Tensor) -> tuple[tf.Tensor, Any]:
    """:func:`tf_where_bump` with its closed-form derivatives, for ``x``, ``sigma`` of one shape."""
    inside = tf.abs(x) < sigma
    phi = tf.where(inside, tf.exp(-sigma / (sigma - x**2)), 0.0)

    def grad(upstream: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        scale = upstream * phi / (sigma - x**2) ** 2
        return tf.where(inside, scale * (-2 * sigma * x), 0.0), tf.where(inside, scale * x**2, 0.0)

    return phi, grad


def tf_custom_gradient_bump(x: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """``tf.custom_gradient``: the one-``where`` forward pass, closed-form derivatives.

    ``x`` and ``sigma`` are broadcast to one shape first, so that TensorFlow
    itself sums the derivative of a shared ``sigma`` over the elements.
    """
    x, sigma = tf.convert_to_tensor(x), tf.convert_to_tensor(sigma)
    shape = tf.broadcast_dynamic_shape(tf.shape(x), tf.shape(sigma))
    return _tf_custom_gradient_same_shape(tf.broadcast_to(x, shape), tf.broadcast_to(sigma, shape))


# --- JAX -----------------------------------------------------------------------------------


def jax_where_bump(x: jax.Array, sigma: jax.Array) -> jax.Array:
    """One ``jnp.where``: the formula everywhere, 0 selected outside ``|x| < sigma``."""
    inside = jnp.abs(x) < sigma
    return jnp.where(inside, jnp.exp(-sigma / (sigma - x**2)), 0.0)


def jax_double_where_bump(x: jax.Array, sigma: jax.Array) -> jax.Array:
    """Double ``jnp.where``: the formula sees the safe input 0 outside the support."""
    inside = jnp.abs(x) < sigma
    x_safe = jnp.where(inside, x, 0.0)
    return jnp.where(inside, jnp.exp(-sigma / (sigma - x_safe**2)), 0.0)


@jax.custom_jvp
def jax_custom_jvp_bump(x: jax.Array, sigma: jax.Array) -> jax.Array:
    """``jax.custom_jvp``: the one-``where`` forward pass, closed-form derivatives.

    The rule (``_jax_bump_jvp``) is linear in the tangents, with
    coefficients that a ``where`` has already set to 0 outside the support, so
    ``jax.grad`` (which transposes it) never meets an unselected derivative.
    """
    return jax_where_bump(x, sigma)


@jax_custom_jvp_bump.defjvp
def _jax_bump_jvp(
    primals: tuple[jax.Array, jax.Array], tangents: tuple[jax.Array, jax.Array]
) -> tuple[jax.Array, jax.Array]:
    """Forward-mode rule of :func:`jax_custom_jvp_bump`: value and directional derivative."""
    (x, sigma), (x_dot, sigma_dot) = primals, tangents
    inside = jnp.abs(x) < sigma
    phi = jnp.where(inside, jnp.exp(-sigma / (sigma - x**2)), 0.0)
    scale = phi / (sigma - x**2) ** 2
    d_x = jnp.where(inside, scale * (-2 * sigma * x), 0.0)
    d_sigma = jnp.where(inside, scale * x**2, 0.0)
    return phi, d_x * x_dot + d_sigma * sigma_dot


# --- PyTorch -------------------------------------------------------------------------------


def torch_where_bump(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """One ``torch.where``: the formula everywhere, 0 selected outside ``|x| < sigma``."""
    inside = torch.abs(x) < sigma
    return torch.where(inside, torch.exp(-sigma / (sigma - x**2)), 0.0)


def torch_double_where_bump(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Double ``torch.where``: the formula sees the safe input 0 outside the support."""
    inside = torch.abs(x) < sigma
    x_safe = torch.where(inside, x, 0.0)
    return torch.where(inside, torch.exp(-sigma / (sigma - x_safe**2)), 0.0)


class TorchBumpFunction(torch.autograd.Function):
    """``torch.autograd.Function``: the one-``where`` forward pass, closed-form derivatives.

    Call it through :func:`torch_function_bump`, which broadcasts ``x`` and
    ``sigma`` to one shape (``backward`` returns one gradient per element).
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """Return :func:`torch_where_bump` and keep what ``backward`` needs."""
        phi = torch_where_bump(x, sigma)
        ctx.save_for_backward(x, sigma, phi)
        return phi

    @staticmethod
    def backward(ctx: Any, upstream: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the closed-form derivatives, set to 0 outside the support."""
        x, sigma, phi = ctx.saved_tensors
        inside = torch.abs(x) < sigma
        scale = upstream * phi / (sigma - x**2) ** 2
        d_x = torch.where(inside, scale * (-2 * sigma * x), 0.0)
        return d_x, torch.where(inside, scale * x**2, 0.0)


def torch_function_bump(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Apply :class:`TorchBumpFunction` to ``x`` and ``sigma`` broadcast to one shape."""
    return TorchBumpFunction.apply(*torch.broadcast_tensors(x, sigma))


# --- Evaluation with each framework's own autodiff -----------------------------------------

BumpFunction = Callable[[Any, Any], Any]
Evaluator = Callable[[BumpFunction, float, float], tuple[float, float, float]]


def _check_point(x: float, sigma: float) -> tuple[np.float32, np.float32]:
    """Return ``x`` and ``sigma`` as float32 scalars, or raise for bad input."""
    for name, value in (("x", x), ("sigma", sigma)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a real number, got {value!r}.")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}.")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0 (the bump's width), got {sigma!r}.")
    return np.float32(x), np.float32(sigma)


def tf_value_and_gradients(
    function: BumpFunction, x: float, sigma: float
) -> tuple[float, float, float]:
    """Return ``(phi, d phi/d sigma, d phi/d x)`` at one float32 point, by ``tf.GradientTape``."""
    x32, sigma32 = _check_point(x, sigma)
    x_t, sigma_t = tf.constant(x32), tf.constant(sigma32)
    with tf.GradientTape() as tape:
        tape.watch([x_t, sigma_t])
        phi = function(x_t, sigma_t)
    d_x, d_sigma = tape.gradient(phi, [x_t, sigma_t])
    return float(phi), float(d_sigma), float(d_x)


def jax_value_and_gradients(
    function: BumpFunction, x: float, sigma: float
) -> tuple[float, float, float]:
    """Return ``(phi, d phi/d sigma, d phi/d x)`` at one float32 point, by ``jax.grad``."""
    x32, sigma32 = _check_point(x, sigma)
    phi, (d_x, d_sigma) = jax.value_and_grad(function, argnums=(0, 1))(
        jnp.float32(x32), jnp.float32(sigma32)
    )
    return float(phi), float(d_sigma), float(d_x)


def torch_value_and_gradients(
    function: BumpFunction, x: float, sigma: float
) -> tuple[float, float, float]:
    """Return ``(phi, d phi/d sigma, d phi/d x)`` at one float32 point, by ``backward()``."""
    x32, sigma32 = _check_point(x, sigma)
    x_t = torch.tensor(x32, dtype=torch.float32, requires_grad=True)
    sigma_t = torch.tensor(sigma32, dtype=torch.float32, requires_grad=True)
    phi = function(x_t, sigma_t)
    phi.backward()
    return float(phi.detach()), float(sigma_t.grad), float(x_t.grad)


#: Framework name -> how to evaluate a bump and its two derivatives there.
FRAMEWORKS: dict[str, Evaluator] = {
    "TensorFlow": tf_value_and_gradients,
    "JAX": jax_value_and_gradients,
    "PyTorch": torch_value_and_gradients,
}

#: Framework name -> version name -> the bump written in that framework.
VERSIONS: dict[str, dict[str, BumpFunction]] = {
    "TensorFlow": {
        "one where": tf_where_bump,
        "double where": tf_double_where_bump,
        "custom gradient": tf_custom_gradient_bump,
    },
    "JAX": {
        "one where": jax_where_bump,
        "double where": jax_double_where_bump,
        "custom gradient": jax_custom_jvp_bump,
    },
    "PyTorch": {
        "one where": torch_where_bump,
        "double where": torch_double_where_bump,
        "custom gradient": torch_function_bump,
    },
}


@dataclass(frozen=True)
class TrapResult:
    """Value and derivatives of one version of the bump in one framework at one case."""

    framework: str
    version: str
    case: Case
    value: float
    d_sigma: float
    d_x: float


def trap_results(
    cases: Sequence[Case] = CASES, frameworks: Sequence[str] = tuple(FRAMEWORKS)
) -> list[TrapResult]:
    """Evaluate every version of every framework at every case, with that framework's autodiff.

    Raises:
        ValueError: if a framework name is unknown or no case is given.
    """
    unknown = [name for name in frameworks if name not in FRAMEWORKS]
    if unknown:
        raise ValueError(f"unknown framework(s) {unknown}; choose from {list(FRAMEWORKS)}.")
    if not cases:
        raise ValueError("give at least one Case to evaluate.")
    results = []
    for framework in frameworks:
        evaluate = FRAMEWORKS[framework]
        for version, function in VERSIONS[framework].items():
            for case in cases:
                value, d_sigma, d_x = evaluate(function, case.x, case.sigma)
                results.append(TrapResult(framework, version, case, value, d_sigma, d_x))
    return results


def _relative_difference(a: float, b: float) -> float:
    """Return ``|a - b| / max(|a|, |b|)`` for finite numbers (0 when both are 0)."""
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0 else abs(a - b) / scale


def frameworks_agree(results: Sequence[TrapResult]) -> tuple[bool, float]:
    """Compare the frameworks, version by version and case by case.

    Returns:
        ``(same_pattern, largest)``: whether every number is ``nan``, ``inf``
        (of the same sign) or finite in every framework alike, and the largest
        relative difference between two frameworks' finite numbers.

    Raises:
        ValueError: if ``results`` holds fewer than two frameworks.
    """
    groups: dict[tuple[str, Case], list[TrapResult]] = {}
    for result in results:
        groups.setdefault((result.version, result.case), []).append(result)
    if not groups or min(len(group) for group in groups.values()) < 2:
        raise ValueError("frameworks_agree needs the results of at least two frameworks.")
    same_pattern, largest = True, 0.0
    for group in groups.values():
        first = group[0]
        for other in group[1:]:
            for a, b in (
                (first.value, other.value),
                (first.d_sigma, other.d_sigma),
                (first.d_x, other.d_x),
            ):
                if math.isfinite(a) and math.isfinite(b):
                    largest = max(largest, _relative_difference(a, b))
                elif not (math.isnan(a) and math.isnan(b)) and a != b:
                    same_pattern = False
    return same_pattern, largest


def result_text(value: float, resolution: float = 1e-4) -> str:
    """Return a float32 result as the tables print it.

    ``nan``, ``inf`` and 0 (of either sign) are exact and printed as ``nan``,
    ``inf``, ``-inf`` and ``0``; any other value with the significant digits
    that the relative ``resolution`` determines (4 by default, see
    :func:`bumpbook.formatting.value_text`).
    """
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    return value_text(value, resolution)


def case_header(case: Case) -> str:
    """Return a table header for ``case``: its label, ``sigma`` and ``x``."""
    return f"{case.label} ($\\sigma = {case.sigma:g}$, $x = {case.x:g}$)"


def trap_table(results: Sequence[TrapResult]) -> str:
    """Return the chapter's table as Markdown: a row per version and framework, a column per case.

    Each entry is ``value / d phi/d sigma / d phi/d x``, printed by :func:`result_text`.

    Raises:
        ValueError: if ``results`` is empty.
    """
    if not results:
        raise ValueError("trap_table needs at least one TrapResult.")
    cases = list(dict.fromkeys(result.case for result in results))
    rows: dict[tuple[str, str], dict[Case, TrapResult]] = {}
    for result in results:
        rows.setdefault((result.version, result.framework), {})[result.case] = result
    versions = list(dict.fromkeys(v for table in VERSIONS.values() for v in table))
    frameworks = list(FRAMEWORKS)
    lines = [
        "| version | framework | " + " | ".join(case_header(case) for case in cases) + " |",
        "|:---|:---|" + "---:|" * len(cases),
    ]
    for key in sorted(rows, key=lambda k: (versions.index(k[0]), frameworks.index(k[1]))):
        cells = [
            " / ".join(result_text(v) for v in (r.value, r.d_sigma, r.d_x))
            if (r := rows[key].get(case)) is not None
            else "-"
            for case in cases
        ]
        lines.append(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
