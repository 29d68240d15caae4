"""Shared pytest configuration for the bumplib test suite."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    # Figures left open by a test would pile up (and make matplotlib warn).
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


def pytest_configure(config: pytest.Config) -> None:
    # pyproject.toml turns every warning into an error. One warning is not ours:
    # Keras saves a variable with ``np.array(variable)`` (keras/src/backend/tensorflow/
    # core.py, convert_to_numpy), and TensorFlow 2.21's ``__array__`` has no ``copy``
    # keyword, so NumPy 2 emits a DeprecationWarning from inside Keras on every
    # ``model.save``. Ignore exactly that message, category and module.
    # The same holds for Keras' JAX and PyTorch variables (keras/src/backend/*/core.py).
    for backend in ("tensorflow", "jax", "torch"):
        config.addinivalue_line(
            "filterwarnings",
            "ignore:__array__ implementation doesn't accept a copy keyword"
            rf":DeprecationWarning:keras\.src\.backend\.{backend}\.core",
        )


# The browser test (tests/browser) reads the built book in Chromium; it needs the book
# built and requirements-browser.txt installed, and runs as its own stage:
# bash scripts/browser_test.sh (which names the folder, so it is collected then).
collect_ignore = ["browser"]
