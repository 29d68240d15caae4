"""Re-execute the book's notebooks in place, refreshing their stored outputs.

This is the one command that refreshes what the book shows::

    python scripts/execute_notebooks.py                      # every chapters/*.ipynb
    python scripts/execute_notebooks.py chapters/03_*.ipynb  # only some

The book is built with ``execute_notebooks: "off"``: the HTML shows exactly the
outputs stored in the notebooks, and the tests (``pytest --nbval``) re-run each
notebook and compare its fresh outputs with the stored ones. So after changing
a chapter or bumplib, run this script, look at the diff, and commit the
notebooks with their new outputs.

Each notebook runs in a fresh ``python3`` kernel with ``chapters/`` as the
working directory, a limit of 600 s per cell, and the environment of
:data:`NOTEBOOK_ENV` (quiet TensorFlow, fixed hash seed, deterministic ops,
Matplotlib's inline backend). The test run must use the same environment, or
its outputs will not match the stored ones.

A cell that is meant to fail (the book shows some errors on purpose) must be
tagged ``raises-exception``: nbclient then records the error and goes on, and
nbval expects it. Any other error stops that notebook; it is left unchanged on
disk, the other notebooks still run, and the script exits with status 1.

After execution the volatile metadata is removed (per-cell ``execution``
timings and ``ExecuteTime``, and the notebook's ``widgets`` and ``papermill``
entries), so that re-running unchanged code gives an unchanged file. The
tracebacks of error outputs name no folder of the machine that ran them
(:func:`neutral_tracebacks`): a file of an installed package shows as
``.../site-packages/keras/...`` and a file of this repository by its path in the
repository (``book/bumpbook/answer_layers.py``). nbval does not compare tracebacks
(only an error's name and value), so this changes nothing it checks.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
KERNEL_NAME = "python3"
CELL_TIMEOUT_S = 600

#: Environment of every kernel started by this script. The test run (nbval)
#: must set the same values.
NOTEBOOK_ENV: dict[str, str] = {
    # Keras 3 backend used by bumplib.
    "KERAS_BACKEND": "tensorflow",
    # No INFO/WARNING lines from TensorFlow's C++ logging in the outputs.
    "TF_CPP_MIN_LOG_LEVEL": "3",
    # oneDNN's start-up notice is printed (with a time stamp and a process id)
    # even with TF_CPP_MIN_LOG_LEVEL=3, and its kernels may round differently
    # on different CPUs; turning them off keeps the outputs quiet and portable.
    "TF_ENABLE_ONEDNN_OPTS": "0",
    # Deterministic TensorFlow kernels (bumplib.make_deterministic also turns
    # op determinism on; this covers code that runs before it is called).
    "TF_DETERMINISTIC_OPS": "1",
    # Same str/bytes hashes, so the same set and dict iteration orders.
    "PYTHONHASHSEED": "0",
    # Figures must be captured as inline image/png outputs. ipykernel selects
    # this backend only when MPLBACKEND is unset; a non-interactive value such
    # as "Agg" inherited from a CI environment would drop every figure (and
    # warn on plt.show()), so the inline backend is set explicitly.
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    # Silence the debugger's "frozen modules" notice at kernel start-up.
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}

#: Cell metadata keys that only record when or how long a cell ran.
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime")
#: Notebook metadata keys written by tools, not by the authors.
VOLATILE_NOTEBOOK_METADATA = ("widgets", "papermill")


def strip_volatile_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove timing and tool metadata from ``nb`` in place, and return it."""
    for key in VOLATILE_NOTEBOOK_METADATA:
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
    return nb


#: An absolute path up to an installed-packages folder (a virtualenv's, the system's,
#: Debian's dist-packages), as tracebacks print it.
_PACKAGES_PREFIX = re.compile(
    r"""(?P<before>^|[\s"'(\[=]|\x1b\[[\d;]*m)~?/(?:[^\s/\x1b"':]+/)*?"""
    r"(?P<folder>(?:site|dist)-packages)/"
)
NEUTRAL_PACKAGES_PREFIX = ".../"
_NEUTRAL = rf"\g<before>{NEUTRAL_PACKAGES_PREFIX}\g<folder>/"


def neutral_tracebacks(nb: nbformat.NotebookNode, root: Path = ROOT) -> nbformat.NotebookNode:
    """Rewrite the machine's folders out of every error traceback of ``nb``, in place.

    ``/any/venv/lib/python3.11/site-packages/`` becomes ``.../site-packages/``
    and ``<root>/`` (the repository) is dropped, so ``<root>/bumplib/x.py``
    reads ``bumplib/x.py``. Only the ``traceback`` lines change; an error's
    name and value, which nbval compares, are left alone.
    """
    repository = re.compile(re.escape(str(root).rstrip("/") + "/"))
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [
                    repository.sub("", _PACKAGES_PREFIX.sub(_NEUTRAL, line))
                    for line in output.get("traceback", [])
                ]
    return nb


def resolve_notebooks(paths: Sequence[str]) -> list[Path]:
    """Return the notebooks to run: the given paths, or every ``chapters/*.ipynb``."""
    if not paths:
        notebooks = sorted(CHAPTERS.glob("*.ipynb"))
        if not notebooks:
            raise SystemExit(f"error: no notebooks found in {CHAPTERS}")
        return notebooks
    notebooks = []
    for raw in paths:
        path = Path(raw).resolve()
        if path.suffix != ".ipynb" or not path.is_file():
            raise SystemExit(f"error: {raw}: not an existing .ipynb file")
        if path.parent != CHAPTERS:
            raise SystemExit(
                f"error: {raw}: only notebooks directly in {CHAPTERS.relative_to(ROOT)}/ "
                "are part of the book"
            )
        notebooks.append(path)
    return notebooks


def execute_notebook(path: Path, timeout: int = CELL_TIMEOUT_S) -> None:
    """Execute ``path`` in a fresh kernel and write it back with fresh outputs.

    Raises:
        CellExecutionError: if a cell not tagged ``raises-exception`` fails
            (the file on disk is then left unchanged).

    """
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(CHAPTERS)}},
        record_timing=False,
    )
    client.execute()
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    strip_volatile_metadata(nb)
    neutral_tracebacks(nb)
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the notebooks given on the command line (default: all chapters)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "notebooks",
        nargs="*",
        help="notebooks to run (default: every chapters/*.ipynb)",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=CELL_TIMEOUT_S,
        help=f"limit per cell in seconds (default: {CELL_TIMEOUT_S})",
    )
    args = parser.parse_args(argv)

    notebooks = resolve_notebooks(args.notebooks)
    os.environ.update(NOTEBOOK_ENV)

    failed: list[tuple[Path, str]] = []
    for path in notebooks:
        name = path.relative_to(ROOT)
        print(f"executing {name} ...", flush=True)
        start = time.perf_counter()
        try:
            execute_notebook(path, timeout=args.timeout)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            failed.append((name, str(exc)))
            print(f"  FAILED after {time.perf_counter() - start:.1f} s (file left unchanged)")
            continue
        print(f"  done in {time.perf_counter() - start:.1f} s")

    if failed:
        print(f"\n{len(failed)} of {len(notebooks)} notebook(s) failed:", file=sys.stderr)
        for name, message in failed:
            print(f"\n--- {name}\n{message}", file=sys.stderr)
        return 1
    print(f"executed {len(notebooks)} notebook(s); outputs refreshed in place")
    return 0


if __name__ == "__main__":
    sys.exit(main())
