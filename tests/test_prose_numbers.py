"""Numbers in the chapters' prose come from the outputs: glued, or settings the code shows.

Issue 19: every measured number a Markdown cell quotes is inserted with myst-nb's
``glue`` from the cell that computes it, so that the prose cannot drift from a
re-run. This test flags any other number in a chapter's Markdown cells. A
number may stand in the prose as it is only if it is

* inside maths, code, a role (``{glue:text}`...```, ``{cite}`...```, ...) or a link;
* a setting the chapter's code shows: the same number appears in one of the
  notebook's code cells (``100,000`` matches ``100_000`` or ``100000``), as an
  input the reader can change, not an output;
* a year, a version (after the name of a framework or licence), an ordered list's number,
  the reading time a chapter estimates, or on the short list :data:`ALLOWED` of constants
  and definitions.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CHAPTERS = sorted((Path(__file__).parent.parent / "chapters").glob("*.ipynb"))

#: Constants and definitions that prose may state without a cell computing them.
ALLOWED = {
    "0",
    "1",
    "2",
    "-1",
    "0.5",  # x = 0.5 in the definitions of the examples
    "65,504",  # the largest float16
    "3.11",  # the Python version the book needs
}

MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
ROLE = re.compile(r"\{[\w:-]+\}`[^`]*`")
CODE = re.compile(r"``[^`]*``|`[^`\n]*`")
LINK = re.compile(r"\]\([^)]*\)|<https?://[^>]*>|https?://\S+")
TARGET = re.compile(r"^\(.*\)=\s*$|^:[\w-]+:.*$", re.M)
LIST_ITEM = re.compile(r"^\s*\d+\.\s", re.M)
READING_TIME = re.compile(r"Reading time:?\*?\*?:?\s*(about\s+)?\d+\s+minutes", re.I)
VERSION = re.compile(
    r"\b(TensorFlow|Keras|JAX|PyTorch|Python|NumPy|jupyter-book|CC BY-SA)\s+\d+(\.\d+)*"
)
YEAR = re.compile(r"^(19|20)\d\d$")
NUMBER = re.compile(
    r"(?<![\w.\-/])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w%]|\.\d)"
)


def prose_numbers(markdown: str) -> list[str]:
    """The numbers of a Markdown cell outside maths, code, roles, links and targets."""
    for pattern in (MATH, ROLE, CODE, LINK, TARGET, LIST_ITEM, READING_TIME, VERSION):
        markdown = pattern.sub(" ", markdown)
    return NUMBER.findall(markdown)


def code_numbers(notebook: dict) -> set[str]:
    """Every number literal of the notebook's code cells, without digit separators."""
    numbers = set()
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"]).replace("_", "")
            numbers.update(NUMBER.findall(source))
    return numbers


def unexplained_numbers(notebook: dict) -> list[str]:
    """The prose numbers of ``notebook`` that are neither glued, shown in code, nor allowed."""
    in_code = code_numbers(notebook)
    found = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for number in prose_numbers("".join(cell["source"])):
            plain = number.replace(",", "")
            if number in ALLOWED or plain in in_code or YEAR.match(plain):
                continue
            found.append(number)
    return found


def test_the_rule_flags_a_measured_number_and_spares_the_rest():
    notebook = {
        "cells": [
            {"cell_type": "code", "source": ["n = 100_000\nfit(n, epochs=3)\n"]},
            {
                "cell_type": "markdown",
                "source": [
                    "1. With 100,000 samples and 3 epochs (TensorFlow 2.1) sigma ends at 0.4998 ",
                    "({glue:text}`sigma:.4f`, `0.25`, $x = 0.75$, 2020, [1](https://a/2.5)).",
                ],
            },
        ]
    }
    assert unexplained_numbers(notebook) == ["0.4998"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_every_number_in_the_prose_is_glued_or_a_setting(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert unexplained_numbers(notebook) == [], (
        f"{path.name}: numbers in the prose that no cell computes and no code shows; glue them "
        "from the cell that computes them (myst_nb.glue), or add a constant to ALLOWED"
    )
