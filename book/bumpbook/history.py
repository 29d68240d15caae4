"""The thread's history, rerun: TensorFlow's ``If`` op, the "two spikes" plot, short training runs.

Chapters 1 and 2 use these helpers to show what happened in 2020 and what
happens today, with code cells that stay short:

* :func:`run_if_op` calls TensorFlow's ``If`` op directly, so that a reader
  can see how it treats a predicate with more than one element;
* :func:`unlowered_cond` traces ``tf.cond`` as an ``If`` op that is *not*
  rewritten into ``Switch``/``Merge`` nodes, as a model's graph could run it
  in 2020 (a private TensorFlow switch, restored on exit);
* :func:`plot_thread_formula` draws the thread's formula as an answer of
  the thread plotted it (two sharp spikes for ``sigma > 1``), with the
  stretched classic bump on top;
* :func:`array_text` prints a row of float32 results at a given resolution;
* :class:`StopAfterSteps` ends ``model.fit`` after a given number of
  optimizer steps, with the batches of the full run.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure
from tensorflow.python.ops import control_flow_util_v2

from bumpbook.formatting import value_text
from bumpbook.plotting.style import (
    COLORS,
    break_at_support_edges,
    clip_above,
    detached_figure,
    shade_band,
    style_axes,
    vertical_pair,
)
from bumplib.reference import bump
from bumplib.validation import check_range, check_sigma_list

__all__ = [
    "StopAfterSteps",
    "array_text",
    "classic_formula",
    "plot_thread_formula",
    "run_if_op",
    "unlowered_cond",
]


def run_if_op(
    pred: tf.Tensor,
    then_fn: Callable[[tf.Tensor], tf.Tensor],
    else_fn: Callable[[tf.Tensor], tf.Tensor],
    x: tf.Tensor,
) -> tf.Tensor:
    """Return ``then_fn(x)`` or ``else_fn(x)`` as TensorFlow's ``If`` op chooses from ``pred``.

    The branches are traced into functions for ``x``'s shape and dtype and
    handed to ``tf.raw_ops.If`` with ``pred`` unchanged, so the op's own rule
    decides: a scalar is converted to a boolean, a tensor with more than one
    element counts as true when it is non-empty, whatever its values.

    Args:
        pred: The predicate, a boolean tensor of any shape.
        then_fn: Branch taken when the op counts ``pred`` as true.
        else_fn: Branch taken otherwise. Both return one tensor of the same dtype.
        x: The branches' input.

    Raises:
        TypeError: if ``pred`` is not a boolean tensor or a branch is not callable.
    """
    pred = tf.convert_to_tensor(pred)
    if pred.dtype != tf.bool:
        raise TypeError(f"pred must be a boolean tensor, got dtype {pred.dtype.name}.")
    for name, fn in (("then_fn", then_fn), ("else_fn", else_fn)):
        if not callable(fn):
            raise TypeError(f"{name} must be callable, got {fn!r}.")
    x = tf.convert_to_tensor(x)
    spec = tf.TensorSpec(x.shape, x.dtype)
    branches = [
        tf.function(lambda t, fn=fn: [fn(t)], autograph=False).get_concrete_function(spec)
        for fn in (then_fn, else_fn)
    ]
    (result,) = tf.raw_ops.If(
        cond=pred,
        input=[x],
        Tout=[x.dtype],
        then_branch=branches[0],
        else_branch=branches[1],
    )
    return result


@contextlib.contextmanager
def unlowered_cond() -> Iterator[None]:
    """Within the block, trace ``tf.cond`` as an ``If`` op that stays an ``If`` op.

    Today ``tf.cond`` in a graph builds an ``If`` op marked
    ``_lower_using_switch_merge``, and TensorFlow rewrites it into ``Switch``
    and ``Merge`` nodes, whose predicate must be a scalar. Inside this block
    the mark is not set (TensorFlow's private module switch
    ``control_flow_util_v2._DISABLE_LOWER_USING_SWITCH_MERGE``), so the graph
    runs the ``If`` kernel, with the ``If`` op's rule for the predicate.
    Only graphs *traced* inside the block are affected: build or re-trace a
    model's functions there. The switch is restored on exit, also after an
    error.

    Raises:
        RuntimeError: if this TensorFlow has no such switch.
    """
    name = "_DISABLE_LOWER_USING_SWITCH_MERGE"
    if not hasattr(control_flow_util_v2, name):
        raise RuntimeError(
            f"this TensorFlow ({tf.__version__}) has no control_flow_util_v2.{name}; "
            "the demonstration needs a TensorFlow 2 release that has it."
        )
    before = getattr(control_flow_util_v2, name)
    setattr(control_flow_util_v2, name, True)
    try:
        yield
    finally:
        setattr(control_flow_util_v2, name, before)


def classic_formula(u: np.ndarray | float) -> np.ndarray:
    """Return ``exp(-1 / (1 - u**2))`` for every ``u`` with ``u**2 != 1``, in float64.

    This is the classic bump's formula (the question's ``f_True``) without
    its cut-off: for ``|u| > 1`` it exceeds 1 and grows without bound as
    ``|u|`` comes down to 1. At ``|u| == 1`` it returns ``inf`` above and
    ``0`` below, as the two limits; NumPy's warnings are silenced.

    Raises:
        TypeError: if ``u`` is not real.
    """
    u = np.asarray(u)
    if not (np.issubdtype(u.dtype, np.floating) or np.issubdtype(u.dtype, np.integer)):
        raise TypeError(f"u must be real numbers, got dtype {u.dtype}.")
    u = u.astype(np.float64)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        result = np.exp(-1.0 / (1.0 - u**2))
    return np.where(np.abs(u) == 1.0, np.inf, result)


def plot_thread_formula(
    sigmas: Sequence[float] = (2.0, 0.5),
    x_range: tuple[float, float] = (-2.5, 2.5),
    y_max: float = 4.0,
    num: int = 20_001,
) -> Figure:
    """Plot the thread's formula on ``|x| < sigma``, one panel per width, stacked.

    Each panel shows ``phi_sigma(x)`` as the thread's layers compute it
    (:func:`bumplib.bump`: the formula inside ``(-sigma, sigma)``, 0 outside)
    on a linear axis that stops at ``y_max``, the stretched classic formula
    ``classic_formula(x / sqrt(sigma))`` as a dotted line, the band
    ``sqrt(sigma) < |x| < sigma`` shaded and the lines ``x = +-sqrt(sigma)``
    and ``x = +-sigma``. For ``sigma > 1`` the curve leaves the axes in two
    sharp spikes just outside ``+-sqrt(sigma)``; for ``sigma < 1`` it drops to
    0 at ``+-sigma``.

    Args:
        sigmas: Widths, one panel each (at most 3, to stay legible on a phone).
        x_range: ``(min, max)`` of the inputs.
        y_max: Top of the value axis; larger values leave the plot.
        num: Number of grid points (many, to resolve the spikes).

    Raises:
        ValueError: for invalid widths, range, ``y_max`` or ``num``.
    """
    sigmas = check_sigma_list(sigmas)
    if not 1 <= len(sigmas) <= 3:
        raise ValueError(f"give 1 to 3 widths (one panel each), got {len(sigmas)}.")
    if any(s <= 0 for s in sigmas):
        raise ValueError(f"widths must be > 0 to have a support, got {list(sigmas)}.")
    x_range = check_range(x_range, "x_range")
    if isinstance(y_max, bool) or not isinstance(y_max, (int, float)) or not 1 < y_max < math.inf:
        raise ValueError(f"y_max must be a finite number > 1, got {y_max!r}.")
    if isinstance(num, bool) or not isinstance(num, int) or num < 2:
        raise ValueError(f"num must be an integer >= 2, got {num!r}.")
    x = np.linspace(*x_range, num)
    fig = detached_figure(figsize=(7.0, 3.2 * len(sigmas)))
    axes = np.atleast_1d(fig.subplots(len(sigmas), 1))
    for ax, sigma in zip(axes, sigmas, strict=True):
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            values = bump(x, sigma)
        stretched = np.where(np.abs(x) < sigma, classic_formula(x / math.sqrt(sigma)), np.nan)
        # No vertical segment across the jump at the edge; what leaves the axes ends at the top.
        x_drawn, values, stretched = break_at_support_edges(x, sigma, values, stretched)
        ylim = (0.0, y_max)
        ax.plot(
            x_drawn,
            clip_above(values, ylim),
            color=COLORS["bump"],
            lw=2,
            label=r"$\varphi_\sigma(x)$",
        )
        ax.plot(
            x_drawn,
            clip_above(stretched, ylim),
            color="black",
            lw=1.2,
            ls=":",
            label=r"$\varphi_1(x/\sqrt{\sigma})$, formula",
        )
        if sigma > 1:
            shade_band(ax, sigma, x_range, color=COLORS["bump"], hatch="//", label="exploding band")
        vertical_pair(
            ax,
            math.sqrt(sigma),
            color=COLORS["sqrt_sigma"],
            linestyle=":",
            label=r"$x = \pm\sqrt{\sigma}$",
        )
        vertical_pair(ax, sigma, color=COLORS["sigma"], linestyle="--", label=r"$x = \pm\sigma$")
        ax.set_xlim(*x_range)
        ax.set_ylim(*ylim)
        style_axes(
            ax,
            xlabel="input $x$",
            ylabel=r"$\varphi_\sigma(x)$",
            title=rf"$\sigma$ = {sigma:g}",
            legend_loc="upper center",
            legend_ncols=2,
        )
    return fig


class StopAfterSteps(keras.callbacks.Callback):
    """End ``model.fit`` after ``steps`` optimizer steps, with the full run's batches.

    ``fit(..., steps_per_epoch=n)`` draws its batches differently from a
    full epoch, so it is no way to watch the first ``n`` steps of a run. This
    callback lets ``fit`` draw the batches of the full run and stops it once
    the optimizer has taken ``steps`` steps (counted from the start of this
    ``fit``). Use it with ``steps_per_execution=1`` to stop exactly there.

    Args:
        steps: Optimizer steps to take, at least 1.

    Raises:
        ValueError: if ``steps`` is not a positive integer.
    """

    def __init__(self, steps: int) -> None:
        super().__init__()
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}.")
        self.steps = steps
        self._start = 0

    def _taken(self) -> int:
        """Optimizer steps taken since this ``fit`` began."""
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)) - self._start

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Remember the optimizer's step counter at the start."""
        self._start = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Stop training once ``steps`` optimizer steps are taken."""
        if self._taken() >= self.steps:
            self.model.stop_training = True


def array_text(values: Any, resolution: float) -> str:
    """Return float32 results as ``"[a, b, ...]"``, each with the digits ``resolution`` allows.

    Each element goes through :func:`bumpbook.formatting.value_text`;
    exact zeros print as ``0`` (``-0.0`` as ``-0``), so that a row of
    outputs stays readable.

    Raises:
        TypeError: if ``values`` holds anything but real numbers.
        ValueError: if ``resolution`` is not in ``(0, 1)``.
    """
    array = np.asarray(values)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"values must be real numbers, got dtype {array.dtype}.")
    texts = [
        ("-0" if math.copysign(1.0, v) < 0 else "0") if v == 0 else value_text(v, resolution)
        for v in (float(v) for v in array.ravel())
    ]
    return "[" + ", ".join(texts) + "]"
