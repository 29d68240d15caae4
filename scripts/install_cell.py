"""Write, first in every chapter, the cell that installs the book's libraries where missing.

    python scripts/install_cell.py           # (re)write it into every chapters/*.ipynb
    python scripts/install_cell.py --check   # exit 1 if a chapter does not start with it

On Colab a chapter has neither ``bumplib`` nor the book's helpers (``bumpbook``), and
neither is on PyPI; Binder and a clone have both. The cell pip-installs both from the
repository that ``_config.yml`` names (``repository.url``) at the tag of the version that
the root ``pyproject.toml`` names (``project.version``): each is written in one place. It
prints nothing where ``bumpbook`` is installed (so nbval sees no output), is tagged
``remove-cell`` (the HTML does not show it) and has the id :data:`CELL_ID`, by which a
later run replaces it.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
PYPROJECT = ROOT / "pyproject.toml"
CHAPTERS = ROOT / "chapters"
CELL_ID = "install-bumplib"
CELL_TEMPLATE = """\
# Install the book's libraries where they are missing (on Colab, say): bumplib and the book's
# helpers (bumpbook) of release v{version}. Binder and a clone already have both: then this
# cell does nothing.
import importlib
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("bumpbook") is None:
    release = "git+{url}@v{version}"
    requirements = ["bumplib @ " + release, "bumplib-book @ " + release + "#subdirectory=book"]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *requirements], check=True)
    importlib.invalidate_caches()"""


def release() -> tuple[str, str]:
    """Return the repository's URL (from ``_config.yml``) and the version (``pyproject.toml``).

    Raises:
        ValueError: saying which of the two is missing or malformed, and where.

    """
    settings = yaml.safe_load(CONFIG.read_text(encoding="utf-8")) or {}
    url = str((settings.get("repository") or {}).get("url") or "").rstrip("/")
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8")).get("project", {})
    version = str(project.get("version", ""))
    if not re.fullmatch(r"https://[^\s\"'\\]+", url):
        raise ValueError(f"{CONFIG}: repository.url must be a plain https:// URL, got {url!r}")
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        raise ValueError(f"{PYPROJECT}: project.version must read like 1.1.0, got {version!r}")
    return url, version


def install_cell(url: str, version: str) -> nbformat.NotebookNode:
    """Return the install cell for release ``version`` of the repository at ``url``."""
    cell = nbformat.v4.new_code_cell(CELL_TEMPLATE.format(url=url, version=version))
    cell.id = CELL_ID
    cell.metadata["tags"] = ["remove-cell"]
    return cell


def starts_with(nb: nbformat.NotebookNode, cell: nbformat.NotebookNode) -> bool:
    """Whether ``nb``'s first cell is ``cell`` (its id, source and tags), without outputs."""
    first = nb.cells[0] if nb.cells else {}
    keys = ("id", "source", "cell_type")
    return (
        all(first.get(key) == cell[key] for key in keys)
        and not first.get("outputs")
        and (first["metadata"].get("tags") == cell.metadata["tags"])
    )


def main(argv: list[str]) -> int:
    """Write the cell into every chapter, or with ``--check`` list those without it."""
    if argv not in ([], ["--check"]):
        print("usage: python scripts/install_cell.py [--check]", file=sys.stderr)
        return 2
    try:
        cell = install_cell(*release())
    except (OSError, ValueError) as error:
        print(f"install_cell: {error}", file=sys.stderr)
        return 2
    stale = []
    for path in sorted(CHAPTERS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if not starts_with(nb, cell):
            stale.append(path.name)
            nb.cells = [cell, *(old for old in nb.cells if old.get("id") != CELL_ID)]
            if not argv:
                nbformat.write(nb, path)
    verb = "do not start with the install cell" if argv else "updated"
    print(f"install_cell: {len(stale)} chapter(s) {verb}: {', '.join(stale) or 'none'}")
    return 1 if argv and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
