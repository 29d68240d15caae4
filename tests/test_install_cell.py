"""Tests of scripts/install_cell.py, and that every chapter starts with the cell it writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from load_file import load_file

ROOT = Path(__file__).resolve().parent.parent
install_cell = load_file("scripts/install_cell.py")
URL = "https://github.com/example/book"
VERSION = "2.1.0"


def test_every_chapter_starts_with_the_install_cell(capsys):
    """Fails until `python scripts/install_cell.py` has been run after a change."""
    assert install_cell.main(["--check"]) == 0, capsys.readouterr().out


def test_the_url_comes_from_config_and_the_version_from_pyproject():
    url, version = install_cell.release()
    assert f"url: {url}" in (ROOT / "_config.yml").read_text(encoding="utf-8")
    assert f'version = "{version}"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_the_cell_installs_both_distributions_at_the_release_tag():
    source = install_cell.install_cell(URL, VERSION).source
    namespace = {}
    # Run the cell's requirement lines alone: the strings pip receives.
    lines = [
        line.strip() for line in source.splitlines() if line.strip().startswith(("rel", "req"))
    ]
    exec("\n".join(lines), namespace)
    assert namespace["requirements"] == [
        f"bumplib @ git+{URL}@v{VERSION}",
        f"bumplib-book @ git+{URL}@v{VERSION}#subdirectory=book",
    ]
    assert 'find_spec("bumpbook") is None' in source


def test_the_cell_does_nothing_and_prints_nothing_when_bumpbook_is_there():
    cell = install_cell.install_cell(URL, VERSION)
    result = subprocess.run(
        [sys.executable, "-c", cell.source], capture_output=True, text=True, check=True, timeout=60
    )
    assert (result.stdout, result.stderr) == ("", "")


def test_the_cell_is_formatted_as_ruff_formats_it():
    source = install_cell.install_cell(URL, VERSION).source + "\n"
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--diff", "--line-length", "100", "-"],
        input=source,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def book(tmp_path, monkeypatch):
    """A book in tmp_path: _config.yml, pyproject.toml, one chapter with an old install cell."""
    (tmp_path / "chapters").mkdir()
    (tmp_path / "_config.yml").write_text(f"repository:\n  url: {URL}/\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(f'[project]\nversion = "{VERSION}"\n', "utf-8")
    old = install_cell.install_cell("https://github.com/old/place", "1.0.0")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), old, nbformat.v4.new_code_cell("1")]
    nbformat.write(nb, tmp_path / "chapters" / "one.ipynb")
    for name, path in [("CONFIG", "_config.yml"), ("PYPROJECT", "pyproject.toml")]:
        monkeypatch.setattr(install_cell, name, tmp_path / path)
    monkeypatch.setattr(install_cell, "CHAPTERS", tmp_path / "chapters")
    return tmp_path


def test_check_then_write_replaces_an_old_cell_wherever_it_is(book, capsys):
    assert install_cell.main(["--check"]) == 1
    assert "1 chapter(s) do not start with the install cell: one.ipynb" in capsys.readouterr().out
    assert install_cell.main([]) == 0
    nb = nbformat.read(book / "chapters" / "one.ipynb", as_version=4)
    assert [cell.source for cell in nb.cells[1:]] == ["# Title", "1"]
    assert f'release = "git+{URL}@v{VERSION}"' in nb.cells[0].source  # no trailing slash
    assert nb.cells[0].metadata["tags"] == ["remove-cell"]
    before = (book / "chapters" / "one.ipynb").read_text(encoding="utf-8")
    assert install_cell.main(["--check"]) == install_cell.main([]) == 0
    assert (book / "chapters" / "one.ipynb").read_text(encoding="utf-8") == before
    # A new version makes the chapter stale again.
    (book / "pyproject.toml").write_text('[project]\nversion = "2.2.0"\n', encoding="utf-8")
    assert install_cell.main(["--check"]) == 1


@pytest.mark.parametrize(
    ("config", "pyproject", "message"),
    [
        ("title: x\n", 'version = "1.0.0"', "repository.url must be a plain https:// URL"),
        ("repository:\n  url: git@github.com:x/y.git\n", 'version = "1.0.0"', "plain https"),
        (f"repository:\n  url: {URL}\n", 'name = "x"', "project.version must read like 1.1.0"),
        (f"repository:\n  url: {URL}\n", 'version = "1.0 beta"', "must read like 1.1.0"),
    ],
)
def test_bad_config_or_version_is_a_clear_error(book, capsys, config, pyproject, message):
    (book / "_config.yml").write_text(config, encoding="utf-8")
    (book / "pyproject.toml").write_text(f"[project]\n{pyproject}\n", encoding="utf-8")
    assert install_cell.main([]) == 2
    assert message in capsys.readouterr().err
    assert install_cell.main(["--all"]) == 2
