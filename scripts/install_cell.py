"""Write, as every chapter's first cell, the cell that installs the book's libraries where missing.

Usage::

    python scripts/install_cell.py            # (re)write it into every chapters/*.ipynb
    python scripts/install_cell.py --check    # exit 1 if a notebook's first cell differs
    python scripts/install_cell.py chapters/03_numerical_stability.ipynb

A chapter opened from the book's launch buttons on Colab has neither ``bumplib``
nor the book's helpers (``bumpbook``, distribution ``bumplib-book``), and neither is
on PyPI; on Binder and in a clone, ``requirements.txt`` has installed both. The first
cell therefore runs ``pip install`` of both from the repository at the release tag
``vVERSION`` (the book's helpers from its ``book`` subdirectory) only when
``importlib.util.find_spec("bumpbook")`` finds nothing, and prints nothing otherwise
(so nbval, which runs it with both installed, sees no output). The repository is the
one ``_config.yml`` names (``repository.url``) and the version the one the root
``pyproject.toml`` names (``project.version``): each is written in one place, and the
publish workflow releases exactly that version (scripts/release_notes.py). The cell is
tagged ``remove-cell``, so the HTML book does not show it, and has the fixed id
:data:`CELL_ID`, by which a later run finds and replaces it. Nothing else in a
notebook changes.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
PYPROJECT = ROOT / "pyproject.toml"
CHAPTERS = ROOT / "chapters"
CELL_ID = "install-bumplib"
TAGS = ["remove-cell"]

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


def repository_url(config: Path = CONFIG) -> str:
    """Return ``repository.url`` of the book's ``_config.yml``, checked.

    Raises:
        ValueError: if the file has no such key, or the URL is not an https URL.

    """
    settings = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    url = str((settings.get("repository") or {}).get("url") or "").strip()
    if not url:
        raise ValueError(f"{config}: no repository.url; name the book's repository there.")
    if not url.startswith("https://") or any(char in url for char in " \"'\\"):
        raise ValueError(f"{config}: repository.url {url!r} must be a plain https:// URL.")
    return url.rstrip("/")


def release_version(pyproject: Path = PYPROJECT) -> str:
    """Return ``project.version`` of the root ``pyproject.toml``, checked.

    Raises:
        ValueError: if the file has no such key, or it is not a plain version (1.2.0).

    """
    settings = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    version = str(settings.get("project", {}).get("version") or "").strip()
    if not version:
        raise ValueError(f"{pyproject}: no project.version; name the released version there.")
    if not re.fullmatch(r"\d+(\.\d+)*([a-z]+\d+)?(\.post\d+)?", version):
        raise ValueError(f"{pyproject}: project.version {version!r} is not a release version.")
    return version


def install_cell(url: str, version: str) -> nbformat.NotebookNode:
    """Return the install cell for release ``version`` of the repository at ``url``."""
    cell = nbformat.v4.new_code_cell(CELL_TEMPLATE.format(url=url, version=version))
    cell.id = CELL_ID
    cell.metadata["tags"] = list(TAGS)
    return cell


def with_install_cell(nb: nbformat.NotebookNode, url: str, version: str) -> nbformat.NotebookNode:
    """Put the install cell first in ``nb`` (in place, replacing an earlier one) and return it."""
    cells = [cell for cell in nb.cells if cell.get("id") != CELL_ID]
    nb.cells = [install_cell(url, version), *cells]
    return nb


def first_cell_is_current(nb: nbformat.NotebookNode, url: str, version: str) -> bool:
    """Whether ``nb`` starts with exactly the install cell this script writes."""
    if not nb.cells:
        return False
    first, expected = nb.cells[0], install_cell(url, version)
    return (
        first.cell_type == "code"
        and first.get("id") == CELL_ID
        and first.source == expected.source
        and first.metadata.get("tags") == TAGS
        and not first.get("outputs")
    )


def chapter_notebooks(paths: Sequence[str] = ()) -> list[Path]:
    """Return the notebooks named in ``paths``, or every ``chapters/*.ipynb``."""
    if not paths:
        return sorted(CHAPTERS.glob("*.ipynb"))
    notebooks = []
    for raw in paths:
        path = Path(raw)
        if path.suffix != ".ipynb" or not path.is_file():
            raise SystemExit(f"error: {raw}: not an existing .ipynb file")
        notebooks.append(path)
    return notebooks


def write(path: Path, url: str, version: str) -> bool:
    """Give the notebook at ``path`` the current install cell; return whether it changed."""
    text = path.read_text(encoding="utf-8")
    nb = with_install_cell(nbformat.reads(text, as_version=4), url, version)
    nbformat.validate(nb)
    new = nbformat.writes(nb)
    new = new if new.endswith("\n") else new + "\n"
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="default: every chapters/*.ipynb")
    parser.add_argument(
        "--check", action="store_true", help="only report notebooks whose first cell differs"
    )
    parser.add_argument("--config", default=str(CONFIG), help="the book's _config.yml")
    parser.add_argument("--pyproject", default=str(PYPROJECT), help="the core's pyproject.toml")
    args = parser.parse_args(argv)

    try:
        url = repository_url(Path(args.config))
        version = release_version(Path(args.pyproject))
    except (OSError, ValueError) as error:
        print(f"install_cell: {error}", file=sys.stderr)
        return 2
    notebooks = chapter_notebooks(args.notebooks)
    if args.check:
        stale = [
            path
            for path in notebooks
            if not first_cell_is_current(nbformat.read(path, as_version=4), url, version)
        ]
        for path in stale:
            print(f"install_cell: {path}: first cell is not the install cell (run this script)")
        return 1 if stale else 0
    changed = [path for path in notebooks if write(path, url, version)]
    print(
        f"install_cell: {len(changed)} of {len(notebooks)} notebook(s) updated "
        f"(release v{version} of {url})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
