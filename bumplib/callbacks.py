"""A Keras callback that records the width of a bump layer while a model trains."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from bumplib.validation import check_count

__all__ = ["SigmaHistory"]


def find_bump_layer(model: keras.layers.Layer) -> keras.layers.Layer:
    """Return ``model`` if it is a bump layer, else its first layer that has ``get_sigma``."""
    if hasattr(model, "get_sigma"):
        return model
    for layer in getattr(model, "layers", ()):
        try:
            return find_bump_layer(layer)
        except ValueError:
            continue
    raise ValueError(
        f"model {model.name!r} has no bump layer (no layer with get_sigma()); "
        "add one of bumplib's layers, or pass layer= to SigmaHistory."
    )


class SigmaHistory(keras.callbacks.Callback):
    """Record sigma (and the loss) after every epoch, or every ``every_n_batches`` batches.

    After training, ``sigmas`` has shape ``(records, n_sigma)`` and ``losses``
    shape ``(records,)``; ``steps`` holds the number of optimizer steps taken
    at each record. The first record is the state before training.

    Args:
        layer: The bump layer to watch; by default the model's first layer
            with a ``get_sigma`` method.
        every_n_batches: Record every this many batches instead of once per
            epoch (must be ``>= 1``). Keras reports a batch once per call
            into the compiled step, so with ``steps_per_execution=k`` a
            "batch" here is ``k`` optimizer steps; ``steps`` always counts
            optimizer steps.
    """

    def __init__(
        self, layer: keras.layers.Layer | None = None, every_n_batches: int | None = None
    ) -> None:
        super().__init__()
        if every_n_batches is not None:
            every_n_batches = check_count(every_n_batches, "every_n_batches")
        self.layer = layer
        self.every_n_batches = every_n_batches
        self._sigmas: list[np.ndarray] = []
        self._losses: list[float] = []
        self._steps: list[int] = []
        self._calls = 0
        self._first_step = 0

    @property
    def sigmas(self) -> np.ndarray:
        """Recorded widths, one row per record."""
        return np.array(self._sigmas)

    @property
    def losses(self) -> np.ndarray:
        """Recorded training losses (``nan`` for the record before training).

        Per batch, this is the loss Keras reports: the running mean over the
        epoch so far, not the loss of that batch alone.
        """
        return np.array(self._losses)

    @property
    def steps(self) -> np.ndarray:
        """Optimizer steps taken at each record."""
        return np.array(self._steps)

    def add_record(self, sigma: ArrayLike, loss: float, steps: int) -> None:
        """Append one record by hand, for a training loop that is not ``model.fit``.

        The book's compiled loops (``bumpbook.fit_full_batch``,
        ``bumpbook.fit_compiled``) fill a history this way, so that their runs
        read like those of ``model.fit`` with this callback.
        """
        self._sigmas.append(np.array(sigma, dtype=np.float32).reshape(-1))
        self._losses.append(float(loss))
        self._steps.append(int(steps))

    def _optimizer_steps(self) -> int:
        """Return the optimizer's step counter (a mirrored variable under a strategy)."""
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def _record(self, loss: float) -> None:
        self._sigmas.append(self.layer.get_sigma().copy())
        self._losses.append(loss)
        self._steps.append(self._optimizer_steps() - self._first_step)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Find the layer, forget any earlier run and record the starting width."""
        self._sigmas, self._losses, self._steps, self._calls = [], [], [], 0
        self._first_step = self._optimizer_steps()
        if self.layer is None:
            self.layer = find_bump_layer(self.model)
        self._record(float("nan"))

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Count Keras' batch reports; record every ``every_n_batches`` of them if asked to."""
        self._calls += 1
        if self.every_n_batches and self._calls % self.every_n_batches == 0:
            self._record(float((logs or {}).get("loss", np.nan)))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Record once per epoch unless recording by batches."""
        if not self.every_n_batches:
            self._record(float((logs or {}).get("loss", np.nan)))
