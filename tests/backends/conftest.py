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

from bumplib import torch_fusion

sys.path.insert(0, str(Path(__file__).parent))  # the autodiff helper module


def pytest_report_header() -> str:
    return f"Keras backend: {keras.backend.backend()}"


@pytest.fixture(scope="session", autouse=True)
def _plain_torch_path():
    """Run the stable bump's plain path on PyTorch, as ``use_compiled_kernels(False)`` documents.

    Each new dtype and shape class would compile the fused kernels for seconds;
    ``test_torch_fusion.py`` switches them on for its own tests.
    """
    torch_fusion.use_compiled_kernels(False)


@pytest.fixture(autouse=True)
def _clear_keras_session():
    yield
    keras.backend.clear_session(free_memory=False)
