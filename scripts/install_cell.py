"""Write the cell that installs bumplib where it is missing as the first cell of every chapter.

Usage::

    python scripts/install_cell.py            # (re)write it into every chapters/*.ipynb
    python scripts/install_cell.py --check    # exit 1 if a notebook's first cell differs
    python scripts/install_cell.py chapters/03_numerical_stability.ipynb

A chapter opened from the book's launch buttons on Colab has no bumplib; on
Binder and in a clone, ``requirements.txt`` has installed it. The first cell
therefore runs ``pip install "bumplib @ git+<repository>"`` only when
``importlib.util.find_spec("bumplib")`` finds nothing, and prints nothing
otherwise (so nbval, which runs it with bumplib installed, sees no output).
The repository is the one ``_config.yml`` names (``repository.url``): the one
place where it is written. The cell is tagged ``remove-cell``, so the HTML book
does not show it, and has the fixed id :data:`CELL_ID`, by which a later run
finds and replaces it. Nothing else in a notebook changes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
CHAPTERS = ROOT / "chapters"
CELL_ID = "install-bumplib"
TAGS = ["remove-cell"]

CELL_TEMPLATE = """\
# Install bumplib, the book's library, where it is missing (on Colab, say). Binder and a
# clone of the repository already have it; then this cell does nothing.
import importlib
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("bumplib") is None:
    requirement = "bumplib @ git+{url}"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", requirement], check=True)
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


def install_cell(url: str) -> nbformat.NotebookNode:
    """Return the install cell for the repository at ``url``."""
    cell = nbformat.v4.new_code_cell(CELL_TEMPLATE.format(url=url))
    cell.id = CELL_ID
    cell.metadata["tags"] = list(TAGS)
    return cell


def with_install_cell(nb: nbformat.NotebookNode, url: str) -> nbformat.NotebookNode:
    """Put the install cell first in ``nb`` (in place, replacing an earlier one) and return it."""
    cells = [cell for cell in nb.cells if cell.get("id") != CELL_ID]
    nb.cells = [install_cell(url), *cells]
    return nb


def first_cell_is_current(nb: nbformat.NotebookNode, url: str) -> bool:
    """Whether ``nb`` starts with exactly the install cell this script writes."""
    if not nb.cells:
        return False
    first, expected = nb.cells[0], install_cell(url)
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


def write(path: Path, url: str) -> bool:
    """Give the notebook at ``path`` the current install cell; return whether it changed."""
    text = path.read_text(encoding="utf-8")
    nb = with_install_cell(nbformat.reads(text, as_version=4), url)
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
    args = parser.parse_args(argv)

    try:
        url = repository_url(Path(args.config))
    except (OSError, ValueError) as error:
        print(f"install_cell: {error}", file=sys.stderr)
        return 2
    notebooks = chapter_notebooks(args.notebooks)
    if args.check:
        stale = [
            path
            for path in notebooks
            if not first_cell_is_current(nbformat.read(path, as_version=4), url)
        ]
        for path in stale:
            print(f"install_cell: {path}: first cell is not the install cell (run this script)")
        return 1 if stale else 0
    changed = [path for path in notebooks if write(path, url)]
    print(
        f"install_cell: {len(changed)} of {len(notebooks)} notebook(s) updated "
        f"(bumplib @ git+{url})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
