"""Import a repository file that is not in a package (a script, a Sphinx extension) as a module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_file(relative: str) -> ModuleType:
    """Import ``ROOT / relative`` as the module named by its stem, and register it.

    The module goes into ``sys.modules`` (dataclasses look their module up there),
    and the file's folder is on ``sys.path`` while it runs, so that it can import a
    module beside it (``build_pdf`` imports ``local_site``).
    """
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module
