"""Tests of scripts/build_pdf.py's checks (the printing itself is a stage of scripts/test.sh)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def _load():
    sys.path.insert(0, str(SCRIPTS))  # build_pdf imports local_site from beside it
    try:
        spec = importlib.util.spec_from_file_location("build_pdf", SCRIPTS / "build_pdf.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(SCRIPTS))


build_pdf = _load()


def test_a_missing_single_page_book_is_an_error_that_says_what_to_run(tmp_path, capsys):
    status = build_pdf.main([str(tmp_path), str(tmp_path / "book.pdf"), "--chromium", "x"])
    assert status == 1
    error = capsys.readouterr().err
    assert "intro.html is missing" in error
    assert "scripts/build_pdf.sh" in error
    assert not (tmp_path / "book.pdf").exists()
