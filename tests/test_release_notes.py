"""Tests of scripts/release_notes.py: the tag against the versions, the CHANGELOG section."""

from __future__ import annotations

from pathlib import Path

import pytest
from load_file import load_file

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "release_notes.py"


release_notes = load_file("scripts/release_notes.py")

CHANGELOG = """\
# Changelog

## [Unreleased]

### Added

- Something new.

## [1.1.0] - 2026-12-24

### Changed

- The layer is faster.

## [1.0.0] - 2026-11-26

- First release.

[Unreleased]: https://github.com/x/y/compare/v1.1.0...HEAD
[1.1.0]: https://github.com/x/y/releases/tag/v1.1.0
"""


def _pyproject(directory: Path, version: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "pyproject.toml"
    path.write_text(f'[project]\nname = "x"\nversion = "{version}"\n', encoding="utf-8")
    return path


def test_the_repository_changelog_follows_keep_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text
    assert "keepachangelog.com" in text
    notes = release_notes.release_notes("Unreleased")
    assert notes.startswith("### ")


def test_the_section_of_a_version_without_heading_or_links(tmp_path):
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(CHANGELOG, encoding="utf-8")
    assert (
        release_notes.release_notes("1.1.0", changelog) == "### Changed\n\n- The layer is faster.\n"
    )
    assert release_notes.release_notes("1.0.0", changelog) == "- First release.\n"


def test_a_missing_or_empty_section_is_a_clear_error(tmp_path):
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(CHANGELOG, encoding="utf-8")
    with pytest.raises(release_notes.ReleaseError, match=r"no '## \[1.2.0\]' section"):
        release_notes.release_notes("1.2.0", changelog)
    changelog.write_text("## [2.0.0] - 2027-01-01\n\n## [1.0.0]\n\n- x\n", encoding="utf-8")
    with pytest.raises(release_notes.ReleaseError, match=r"section of 2\.0\.0 is empty"):
        release_notes.release_notes("2.0.0", changelog)
    with pytest.raises(release_notes.ReleaseError, match="is missing"):
        release_notes.release_notes("1.0.0", tmp_path / "nope.md")


def test_the_tag_must_name_every_pyprojects_version(tmp_path):
    core = _pyproject(tmp_path, "1.1.0")
    book = _pyproject(tmp_path / "book", "1.1.0")
    assert release_notes.release_version("v1.1.0", (core, book)) == "1.1.0"
    _pyproject(tmp_path / "book", "1.0.0")
    with pytest.raises(release_notes.ReleaseError, match=r"book/pyproject.toml says version 1.0.0"):
        release_notes.release_version("v1.1.0", (core, book))
    with pytest.raises(release_notes.ReleaseError, match="not a version tag"):
        release_notes.release_version("1.1.0", (core,))
    with pytest.raises(release_notes.ReleaseError, match="not a version tag"):
        release_notes.release_version("vnext", (core,))


def test_a_pyproject_without_a_version_is_a_clear_error(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\ndynamic = ["version"]\n', encoding="utf-8")
    with pytest.raises(release_notes.ReleaseError, match=r"no project\.version"):
        release_notes.project_versions((path,))
    with pytest.raises(release_notes.ReleaseError, match="exists"):
        release_notes.project_versions((tmp_path / "missing.toml",))


def test_cli(tmp_path, capsys, monkeypatch):
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(CHANGELOG, encoding="utf-8")
    monkeypatch.setattr(release_notes, "PYPROJECTS", (_pyproject(tmp_path, "1.1.0"),))
    assert release_notes.main(["v1.1.0", "--changelog", str(changelog)]) == 0
    assert capsys.readouterr().out == "### Changed\n\n- The layer is faster.\n"
    assert release_notes.main(["v1.0.0", "--changelog", str(changelog)]) == 1
    assert "says version 1.1.0" in capsys.readouterr().err
