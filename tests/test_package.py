"""The package as installed: its version, its type marker, and where it is imported from.

``scripts/dists.py test-installed`` runs this module against the core's wheel in a
fresh environment (and sets ``BUMPLIB_INSTALLED_IN`` to it); the unit tests run it
against the clone, installed editable.
"""

from __future__ import annotations

import importlib.metadata
import os
import tomllib
from pathlib import Path

import bumplib

ROOT = Path(__file__).resolve().parent.parent
LOCATION = Path(bumplib.__file__).resolve().parent


def test_the_version_is_the_installed_distributions():
    assert bumplib.__version__ == importlib.metadata.version("bumplib")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert bumplib.__version__ == pyproject["project"]["version"]


def test_the_package_ships_its_type_marker():
    assert (LOCATION / "py.typed").is_file()


def test_bumplib_is_imported_from_the_environment_under_test():
    installed_in = os.environ.get("BUMPLIB_INSTALLED_IN")
    if installed_in:  # the wheel, installed into a fresh environment
        assert LOCATION.is_relative_to(Path(installed_in).resolve()), LOCATION
        assert "site-packages" in LOCATION.parts
        assert LOCATION != ROOT / "bumplib"
    else:  # the clone, installed editable: the tests test the working tree
        assert LOCATION == ROOT / "bumplib"
