"""The backend tests run once per Keras backend: ``KERAS_BACKEND=jax pytest tests/backends``.

Keras fixes its backend when it is first imported, so one pytest process
tests one backend; ``scripts/test.sh`` runs this directory under TensorFlow
(with the rest of ``tests``), JAX and PyTorch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the autodiff helper module


def pytest_report_header() -> str:
    return f"Keras backend: {keras.backend.backend()}"


@pytest.fixture(autouse=True)
def _clear_keras_session():
    yield
    keras.backend.clear_session(free_memory=False)
