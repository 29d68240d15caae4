"""Re-execute the book's notebooks in place, refreshing the outputs the book shows.

    python scripts/execute_notebooks.py                      # every chapters/*.ipynb
    python scripts/execute_notebooks.py chapters/03_*.ipynb  # only some

The book shows the outputs stored in the notebooks (``execute_notebooks: "off"``) and
nbval re-runs them and compares. nbclient runs each notebook in a fresh ``python3``
kernel, in ``chapters/``, with :data:`NOTEBOOK_ENV` (nbval runs with the same: see
``scripts/test.sh``). A cell meant to fail is tagged ``raises-exception``; any other
error leaves that notebook unchanged on disk, the others still run, and the exit status
is 1. The one step of our own: tracebacks name no folder of the machine that ran them
(:func:`neutral_tracebacks`).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
CELL_TIMEOUT_S = 600

#: The kernels' environment: Keras on TensorFlow, no TensorFlow log lines and no oneDNN
#: kernels (quiet, and the same rounding on every CPU), deterministic ops and hashes, and
#: figures as inline PNG outputs even where CI sets ``MPLBACKEND=Agg``.
NOTEBOOK_ENV: dict[str, str] = {
    "KERAS_BACKEND": "tensorflow",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "TF_DETERMINISTIC_OPS": "1",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}

#: An absolute path up to an installed-packages folder, as a traceback prints it.
_PACKAGES_PREFIX = re.compile(
    r"""(?P<before>^|[\s"'(\[=]|\x1b\[[\d;]*m)~?/(?:[^\s/\x1b"':]+/)*?"""
    r"(?P<folder>(?:site|dist)-packages)/"
)


def neutral_tracebacks(nb: nbformat.NotebookNode, root: Path = ROOT) -> nbformat.NotebookNode:
    """Rewrite the machine's folders out of every error traceback of ``nb``, in place.

    ``/any/venv/lib/python3.11/site-packages/`` becomes ``.../site-packages/`` and
    ``<root>/bumplib/x.py`` reads ``bumplib/x.py``. An error's name and value, which
    nbval compares, are left alone.
    """
    repository = re.compile(re.escape(str(root).rstrip("/") + "/"))
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [
                    repository.sub("", _PACKAGES_PREFIX.sub(r"\g<before>.../\g<folder>/", line))
                    for line in output.get("traceback", [])
                ]
    return nb


def execute_notebook(path: Path) -> None:
    """Execute ``path`` in a fresh kernel and write it back with its new outputs."""
    nb = nbformat.read(path, as_version=4)
    resources = {"metadata": {"path": str(CHAPTERS)}}
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources=resources, record_timing=False
    )
    client.execute()
    nbformat.write(neutral_tracebacks(nb), path)


def main(paths: list[str]) -> int:
    """Run the notebooks ``paths`` (default: every chapter); return the exit status."""
    notebooks = [Path(p).resolve() for p in paths] or sorted(CHAPTERS.glob("*.ipynb"))
    wrong = [str(p) for p in notebooks if p.suffix != ".ipynb" or p.parent != CHAPTERS]
    if wrong or not all(p.is_file() for p in notebooks):
        print(f"error: not notebooks of {CHAPTERS}: {wrong or paths}", file=sys.stderr)
        return 2
    os.environ.update(NOTEBOOK_ENV)
    failed = []
    for path in notebooks:
        print(f"executing {path.relative_to(ROOT)} ...", flush=True)
        try:
            execute_notebook(path)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            failed.append(f"--- {path.relative_to(ROOT)} (left unchanged)\n{error}")
    if failed:
        print("\n".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
