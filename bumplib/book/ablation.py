"""Which of ``fit_sigma``'s Adam choices make sigma train fast: each switched off alone.

``fit_sigma(..., method="adam")`` trains a :class:`~bumplib.StableBumpLayer`
with four choices that differ from the thread's recipe (batch 32, Adam's
defaults, learning rate 1e-3, sigma itself as the weight):

* ``parametrization``: ``"log"`` (sigma = exp(rho)) against ``"identity"``
  (the thread's) and ``"softplus"`` (sigma = log(1 + exp(rho)));
* ``batch``: full batch against mini-batches of 32 (drawn with replacement);
* ``betas``: short memories ``beta_1 = beta_2 = 0.5`` against Adam's defaults
  ``(0.9, 0.999)``;
* ``learning_rate``: 0.1 against the recipe's 1e-3.

:func:`run_ablation` trains with ``fit_sigma``'s choices (the baseline) and
with each choice replaced by each alternative, the other three kept, over a
set of true widths, on the same data for every variant, with the same number
of steps and the same cosine decay (:func:`~bumplib.make_recovery_optimizer`),
and returns an :class:`AblationTable` that a chapter can print.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bumplib.book.formatting import error_text, value_text
from bumplib.data import generate_data
from bumplib.stable_layer import StableBumpLayer
from bumplib.training import fit_full_batch
from bumplib.validation import check_count, check_sigma_list

__all__ = [
    "ALTERNATIVES",
    "BASELINE",
    "AblationRow",
    "AblationTable",
    "run_ablation",
]

#: ``fit_sigma``'s Adam choices.
BASELINE: dict[str, Any] = {
    "parametrization": "log",
    "batch": None,
    "betas": (0.5, 0.5),
    "learning_rate": 0.1,
}

#: What each choice is switched to, alone.
ALTERNATIVES: dict[str, tuple[Any, ...]] = {
    "parametrization": ("identity", "softplus"),
    "batch": (32,),
    "betas": ((0.9, 0.999),),
    "learning_rate": (1e-3,),
}

_DEFAULT_SIGMAS = (0.05, 0.5, 5.0, 50.0)


def _setting_text(choice: str, value: Any) -> str:
    """Return how a setting is printed: ``"log"``, ``"full batch"``, ``"(0.9, 0.999)"``..."""
    if choice == "batch":
        return "full batch" if value is None else f"batch {value}"
    if choice == "betas":
        return f"betas ({value[0]:g}, {value[1]:g})"
    if choice == "learning_rate":
        return f"lr {value:g}"
    return str(value)


@dataclass(frozen=True)
class AblationRow:
    """One variant trained on one width.

    Attributes:
        variant: ``"baseline"`` or the choice changed (``"parametrization"``,
            ``"batch"``, ``"betas"``, ``"learning_rate"``).
        setting: What that choice was set to, as printed.
        sigma: The true width.
        learned: The learned width (``nan`` if training broke down).
        relative_error: ``|learned - sigma| / sigma``.
        steps: Optimizer steps taken.
        seconds: Wall-clock time of the training loop.
    """

    variant: str
    setting: str
    sigma: float
    learned: float
    relative_error: float
    steps: int
    seconds: float


@dataclass(frozen=True)
class AblationTable:
    """What :func:`run_ablation` returns: the rows, and the settings of the run.

    Attributes:
        rows: One :class:`AblationRow` per variant and width, the baseline first.
        n: Samples per width.
        steps: Optimizer steps per run.
        widths: The true widths, in the order given.
    """

    rows: tuple[AblationRow, ...]
    n: int
    steps: int
    widths: tuple[float, ...]

    def row(self, variant: str, setting: str, sigma: float) -> AblationRow:
        """Return the row of ``variant`` at ``setting`` and true width ``sigma``.

        Raises:
            KeyError: if there is no such row.
        """
        for r in self.rows:
            if (r.variant, r.setting, r.sigma) == (variant, setting, float(sigma)):
                return r
        raise KeyError(f"no row for {variant!r} = {setting!r} at sigma = {sigma!r}.")

    def worst_error(self, variant: str, setting: str) -> float:
        """Return the largest relative error of one variant over the widths (nan if any broke)."""
        errors = [
            r.relative_error for r in self.rows if (r.variant, r.setting) == (variant, setting)
        ]
        if not errors:
            raise KeyError(f"no rows for {variant!r} = {setting!r}.")
        return float("nan") if any(math.isnan(e) for e in errors) else max(errors)

    def markdown(self, seconds: bool = True, resolution: float = 1e-6) -> str:
        """Return the table as Markdown: one row per variant, one column pair per width.

        Learned widths and errors are printed at ``resolution`` with
        :func:`~bumplib.book.formatting.value_text` and
        :func:`~bumplib.book.formatting.error_text` (errors below it as ``"<
        1e-06"``), so that the table reads the same on every CPU.

        Args:
            seconds: Include a column with each variant's total time (leave
                it out in validated notebook outputs: timings vary).
            resolution: The relative resolution of the printed numbers.
        """
        header = ["variant", "setting"]
        for s in self.widths:
            header += [f"\u03c3 = {s:g}: learned", "rel. error"]
        if seconds:
            header.append("time (s)")
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        variants: dict[tuple[str, str], list[AblationRow]] = {}
        for r in self.rows:
            variants.setdefault((r.variant, r.setting), []).append(r)
        for (variant, setting), rows in variants.items():
            by_sigma = {r.sigma: r for r in rows}
            cells = [variant, setting]
            for s in self.widths:
                r = by_sigma[s]
                cells += [
                    value_text(r.learned, resolution),
                    error_text(r.relative_error, resolution),
                ]
            if seconds:
                cells.append(f"{sum(r.seconds for r in rows):.2f}")
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _train(
    x: np.ndarray, y: np.ndarray, settings: dict[str, Any], steps: int, seed: int
) -> tuple[float, float]:
    """Train one variant; return ``(learned sigma, seconds)``."""
    layer = StableBumpLayer(initial_sigma=1.0, parametrization=settings["parametrization"])
    beta_1, beta_2 = settings["betas"]
    start = time.perf_counter()
    fit = fit_full_batch(
        layer,
        x,
        y,
        steps=steps,
        learning_rate=settings["learning_rate"],
        beta_1=beta_1,
        beta_2=beta_2,
        block=steps,
        batch_size=settings["batch"],
        seed=seed,
    )
    seconds = time.perf_counter() - start
    return float(fit.sigmas[-1, 0]), seconds


def run_ablation(
    sigmas: Sequence[float] = _DEFAULT_SIGMAS,
    *,
    n: int = 10_000,
    steps: int = 500,
    seed: int = 0,
    variants: Sequence[str] | None = None,
) -> AblationTable:
    """Train sigma with ``fit_sigma``'s Adam, and with each of its choices switched alone.

    Every run starts at sigma = 1 and takes ``steps`` optimizer steps of
    Adam on the mean squared error with the learning rate decaying along a
    cosine (as in ``fit_sigma(method="adam")``); the data for a width are
    ``generate_data(sigma, n=n, seed=seed)`` for every variant.

    Args:
        sigmas: True widths, each ``> 0``.
        n: Samples per width. 10k gives the same conclusions as 100k at a
            tenth of the time of the full-batch runs.
        steps: Optimizer steps per run.
        seed: Seeds the data, Keras and the mini-batch draws.
        variants: The choices to switch (keys of :data:`ALTERNATIVES`); all
            by default. The baseline always runs.

    Returns:
        An :class:`AblationTable`: the baseline's rows, then those of each
        alternative, each over all ``sigmas``.

    Raises:
        ValueError: for a bad width, count or variant.
    """
    widths = tuple(check_sigma_list(sigmas, "sigmas"))
    if any(s <= 0 for s in widths):
        raise ValueError(f"every width must be > 0, got {widths}.")
    n = check_count(n, "n", 1)
    steps = check_count(steps, "steps", 1)
    variants = list(ALTERNATIVES) if variants is None else list(variants)
    unknown = [v for v in variants if v not in ALTERNATIVES]
    if unknown:
        raise ValueError(f"unknown variants {unknown}; choose from {list(ALTERNATIVES)}.")
    runs = [("baseline", "fit_sigma's Adam", dict(BASELINE))]
    for choice in variants:
        for value in ALTERNATIVES[choice]:
            runs.append((choice, _setting_text(choice, value), {**BASELINE, choice: value}))
    data = {s: generate_data(s, n=n, seed=seed)[:2] for s in widths}
    rows = []
    for variant, setting, settings in runs:
        for sigma in widths:
            x, y = data[sigma]
            learned, seconds = _train(x, y, settings, steps, seed)
            rows.append(
                AblationRow(
                    variant=variant,
                    setting=setting,
                    sigma=sigma,
                    learned=learned,
                    relative_error=abs(learned - sigma) / sigma,
                    steps=steps,
                    seconds=seconds,
                )
            )
    return AblationTable(rows=tuple(rows), n=n, steps=steps, widths=widths)
