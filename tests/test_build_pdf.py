"""Tests of scripts/build_pdf.py's checks (the printing itself is a stage of scripts/test.sh)."""

from __future__ import annotations

from pathlib import Path

from load_file import load_file

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


build_pdf = load_file("scripts/build_pdf.py")


def test_a_missing_single_page_book_is_an_error_that_says_what_to_run(tmp_path, capsys):
    status = build_pdf.main([str(tmp_path), str(tmp_path / "book.pdf"), "--chromium", "x"])
    assert status == 1
    error = capsys.readouterr().err
    assert "intro.html is missing" in error
    assert "scripts/build_pdf.sh" in error
    assert not (tmp_path / "book.pdf").exists()
