"""A per-step record of ``model.fit`` for the tests of failing training runs."""

from __future__ import annotations

import keras
import numpy as np

import bumpbook
from bumplib import SigmaHistory


def fit_per_step(layer, x, y, *, epochs, batch_size=32):
    """Train the thread's one-layer model with ``model.fit``; record sigma after every step.

    Training stops after the first step that leaves sigma ``nan`` or ``inf``.
    """
    keras.utils.set_random_seed(0)
    model = bumpbook.make_model(layer)
    record = SigmaHistory(layer, every_n_batches=1)

    def stop_if_lost(batch, logs):
        if not np.isfinite(layer.get_sigma()).all():
            model.stop_training = True

    stop = keras.callbacks.LambdaCallback(on_train_batch_end=stop_if_lost)
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[record, stop])
    return record
