"""Tests of scripts/install_cell.py, and that every chapter starts with the cell it writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from load_file import load_file

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "install_cell.py"


install_cell = load_file("scripts/install_cell.py")
URL = "https://github.com/example/book"
VERSION = "2.1.0"


@pytest.mark.parametrize(
    "notebook", sorted((ROOT / "chapters").glob("*.ipynb")), ids=lambda path: path.name
)
def test_every_chapter_starts_with_the_install_cell(notebook):
    """Fails until `python scripts/install_cell.py` has been run after a change."""
    nb = nbformat.read(notebook, as_version=4)
    url, version = install_cell.repository_url(), install_cell.release_version()
    current = install_cell.first_cell_is_current(nb, url, version)
    assert current, (
        f"{notebook.name}: the first cell is not the install cell; "
        "run `python scripts/install_cell.py`"
    )


def test_the_url_comes_from_config_and_the_version_from_pyproject():
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    url, version = install_cell.repository_url(), install_cell.release_version()
    assert f"url: {url}" in config
    assert f'version = "{version}"' in pyproject
    source = install_cell.install_cell(url, version).source
    assert f'release = "git+{url}@v{version}"' in source


def test_the_cell_installs_both_distributions_at_the_release_tag():
    source = install_cell.install_cell(URL, VERSION).source
    namespace = {}
    # Run the cell's requirement lines alone: the strings pip receives.
    lines = [
        line.strip()
        for line in source.splitlines()
        if line.strip().startswith(("release", "requirements"))
    ]
    exec("\n".join(lines), namespace)
    assert namespace["requirements"] == [
        f"bumplib @ git+{URL}@v{VERSION}",
        f"bumplib-book @ git+{URL}@v{VERSION}#subdirectory=book",
    ]
    assert 'find_spec("bumpbook") is None' in source


def _notebook(tmp_path, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    return path


def test_write_puts_the_cell_first_once_and_keeps_the_rest(tmp_path):
    title = nbformat.v4.new_markdown_cell("# Title")
    code = nbformat.v4.new_code_cell("import bumplib")
    path = _notebook(tmp_path, [title, code])

    assert install_cell.write(path, URL, VERSION)
    nb = nbformat.read(path, as_version=4)
    assert [cell.get("id") for cell in nb.cells] == [install_cell.CELL_ID, title.id, code.id]
    assert install_cell.first_cell_is_current(nb, URL, VERSION)
    assert nb.cells[0].metadata["tags"] == ["remove-cell"]
    assert nb.cells[1].source == "# Title"

    before = path.read_text(encoding="utf-8")
    assert not install_cell.write(path, URL, VERSION)  # idempotent: nothing to change
    assert path.read_text(encoding="utf-8") == before


def test_write_replaces_an_old_install_cell_wherever_it_is(tmp_path):
    old = install_cell.install_cell("https://github.com/old/place", "1.0.0")
    old.source = "# an older version of the cell"
    title = nbformat.v4.new_markdown_cell("# Title")
    path = _notebook(tmp_path, [title, old])
    assert not install_cell.first_cell_is_current(nbformat.read(path, as_version=4), URL, VERSION)

    install_cell.write(path, URL, VERSION)
    nb = nbformat.read(path, as_version=4)
    assert len(nb.cells) == 2
    assert install_cell.first_cell_is_current(nb, URL, VERSION)


def test_a_cell_with_output_or_other_source_is_not_current(tmp_path):
    nb = install_cell.with_install_cell(nbformat.v4.new_notebook(), URL, VERSION)
    assert install_cell.first_cell_is_current(nb, URL, VERSION)
    assert not install_cell.first_cell_is_current(nb, "https://github.com/other/repo", VERSION)
    assert not install_cell.first_cell_is_current(nb, URL, "2.0.0")
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="Installing")]
    assert not install_cell.first_cell_is_current(nb, URL, VERSION)
    assert not install_cell.first_cell_is_current(nbformat.v4.new_notebook(), URL, VERSION)


def test_the_cell_does_nothing_and_prints_nothing_when_bumpbook_is_there():
    cell = install_cell.install_cell(URL, VERSION)
    result = subprocess.run(
        [sys.executable, "-c", cell.source],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert (result.stdout, result.stderr) == ("", "")


def test_the_cell_is_formatted_as_ruff_formats_it(tmp_path):
    source = install_cell.install_cell(URL, VERSION).source + "\n"
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--diff", "--line-length", "100", "-"],
        input=source,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("title: x\n", "no repository.url"),
        ("repository:\n  url: ''\n", "no repository.url"),
        ("repository:\n  url: git@github.com:x/y.git\n", "plain https"),
        ("repository:\n  url: 'https://x.org/a\"b'\n", "plain https"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path, config, message):
    path = tmp_path / "_config.yml"
    path.write_text(config, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        install_cell.repository_url(path)


@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        ('[project]\nname = "x"\n', "no project.version"),
        ('[project]\nversion = "1.0 beta"\n', "not a release version"),
        ('[project]\nversion = "1.0.0+local"\n', "not a release version"),
    ],
)
def test_bad_version_is_a_clear_error(tmp_path, pyproject, message):
    path = tmp_path / "pyproject.toml"
    path.write_text(pyproject, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        install_cell.release_version(path)


def _pyproject(tmp_path, version=VERSION):
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[project]\nname = "bumplib"\nversion = "{version}"\n', encoding="utf-8")
    return path


def test_cli_check_and_write(tmp_path, capsys):
    config = tmp_path / "_config.yml"
    config.write_text(f"repository:\n  url: {URL}/\n", encoding="utf-8")
    path = _notebook(tmp_path, [nbformat.v4.new_markdown_cell("# Title")])
    args = ["--config", str(config), "--pyproject", str(_pyproject(tmp_path)), str(path)]

    assert install_cell.main(["--check", *args]) == 1
    assert "first cell is not the install cell" in capsys.readouterr().out
    assert install_cell.main(args) == 0
    assert f"1 of 1 notebook(s) updated (release v{VERSION} of {URL})" in capsys.readouterr().out
    assert install_cell.main(["--check", *args]) == 0
    source = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
    assert f'git+{URL}@v{VERSION}"' in source  # the trailing slash is dropped
    # A new version makes every first cell stale until the script runs again.
    args[3] = str(_pyproject(tmp_path, "2.2.0"))
    assert install_cell.main(["--check", *args]) == 1
    assert "first cell is not the install cell" in capsys.readouterr().out


def test_cli_bad_config_or_version(tmp_path, capsys):
    config = tmp_path / "_config.yml"
    config.write_text("title: x\n", encoding="utf-8")
    assert install_cell.main(["--config", str(config)]) == 2
    assert "no repository.url" in capsys.readouterr().err
    config.write_text(f"repository:\n  url: {URL}\n", encoding="utf-8")
    bad = _pyproject(tmp_path, "next")
    assert install_cell.main(["--config", str(config), "--pyproject", str(bad)]) == 2
    assert "'next' is not a release version" in capsys.readouterr().err
