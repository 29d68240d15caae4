"""Tests of scripts/execute_notebooks.py's clean-up of executed notebooks (no kernel started)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from load_file import load_file

execute_notebooks = load_file("scripts/execute_notebooks.py")
GREEN, RESET = "\x1b[32m", "\x1b[39m"


def _notebook_with_error(traceback, evalue="/home/me/.venv/lib/python3.11/site-packages/x"):
    cell = nbformat.v4.new_code_cell("layer(x)")
    cell.outputs = [
        nbformat.v4.new_output(
            "error", ename="ValueError", evalue=evalue, traceback=list(traceback)
        ),
        nbformat.v4.new_output("stream", name="stderr", text="/home/me/site-packages/y.py"),
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell]
    return nb


def test_tracebacks_name_no_folder_of_the_machine():
    root = Path("/work/clone")
    nb = _notebook_with_error(
        [
            f"File {GREEN}/work/clone/.venv/lib/python3.11/site-packages/keras/src/a.py:122{RESET}",
            f"File {GREEN}/work/clone/book/bumpbook/answer_layers.py:101{RESET}, in call",
            'File "/usr/lib/python3/dist-packages/numpy/core.py", line 3',
            "  ~/.local/lib/python3.11/site-packages/tensorflow/python/ops/cond.py:384",
            "ValueError: The truth value of an array is ambiguous",
        ]
    )
    execute_notebooks.neutral_tracebacks(nb, root=root)
    error, stream = nb.cells[0].outputs
    assert error.traceback == [
        f"File {GREEN}.../site-packages/keras/src/a.py:122{RESET}",
        f"File {GREEN}book/bumpbook/answer_layers.py:101{RESET}, in call",
        'File ".../dist-packages/numpy/core.py", line 3',
        "  .../site-packages/tensorflow/python/ops/cond.py:384",
        "ValueError: The truth value of an array is ambiguous",
    ]
    # What nbval compares (the error's name and value, the streams) is left alone.
    assert error.evalue == "/home/me/.venv/lib/python3.11/site-packages/x"
    assert stream.text == "/home/me/site-packages/y.py"


def test_tracebacks_without_paths_are_unchanged():
    lines = ["\x1b[31mValueError\x1b[39m                    Traceback (most recent call last)"]
    nb = _notebook_with_error(lines)
    execute_notebooks.neutral_tracebacks(nb, root=Path("/somewhere"))
    assert nb.cells[0].outputs[0].traceback == lines


def test_only_chapter_notebooks_are_run(tmp_path, capsys):
    elsewhere = tmp_path / "mine.ipynb"
    elsewhere.write_text("{}", encoding="utf-8")
    assert execute_notebooks.main([str(elsewhere)]) == 2
    assert execute_notebooks.main([str(execute_notebooks.CHAPTERS / "none.ipynb")]) == 2
    assert f"error: not notebooks of {execute_notebooks.CHAPTERS}" in capsys.readouterr().err
