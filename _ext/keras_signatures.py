"""Sphinx extension: show the real constructor signatures of Keras layers in the API page.

Keras 3's ``Layer`` defines ``__new__(cls, *args, **kwargs)``; autodoc prefers
``__new__`` to ``__init__`` unless ``__new__`` is on its blacklist, so every
bumplib layer would read ``(*args, **kwargs)``. Adding Keras' ``__new__`` to
that list makes autodoc show each layer's ``__init__`` arguments instead.
"""

from __future__ import annotations

from typing import Any

from sphinx.ext import autodoc


def setup(app: Any) -> dict[str, bool]:
    """Register the fix; the extension is safe for parallel builds."""
    autodoc._CLASS_NEW_BLACKLIST.append("keras.src.layers.layer.Layer.__new__")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
