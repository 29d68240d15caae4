"""The API page (``api.md``) documents exactly what ``bumplib`` exports."""

from __future__ import annotations

import re
from pathlib import Path

import bumplib

API_PAGE = Path(__file__).resolve().parent.parent / "api.md"


def documented() -> tuple[set[str], set[str]]:
    """The names documented as ``bumplib.NAME``, and the modules documented with members."""
    names, modules, current = set(), set(), None
    lines = API_PAGE.read_text(encoding="utf-8").splitlines()
    for line, after in zip(lines, [*lines[1:], ""], strict=True):
        if match := re.match(r"\.\. currentmodule:: (\S+)", line):
            current = match[1]
        elif match := re.match(r"\.\. auto(?:function|class|data):: (\w+)$", line):
            names |= {match[1]} if current == "bumplib" else set()
        elif (match := re.match(r"\.\. automodule:: (\S+)", line)) and ":members:" in after:
            modules.add(match[1])
    return names, modules


def test_the_api_page_documents_every_export_and_nothing_else_as_bumplib_names():
    names, modules = documented()
    assert names <= set(bumplib.__all__), names - set(bumplib.__all__)
    undocumented = [
        name
        for name in sorted(set(bumplib.__all__) - names)
        if getattr(bumplib, name).__module__ not in modules
    ]
    assert not undocumented, f"exported by bumplib, not on the API page: {undocumented}"
