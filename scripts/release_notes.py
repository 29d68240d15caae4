"""Check a release tag against the project's versions and print its CHANGELOG.md section.

Usage::

    python scripts/release_notes.py v1.1.0 > notes.md

The publish workflow (``.github/workflows/publish.yml``) runs this before it builds
anything: the tag must be ``v`` followed by the version of every distribution in
the repository (:data:`PYPROJECTS` that exist), and ``CHANGELOG.md`` must have a
``## [VERSION]`` section with something in it. The section's body, without its
heading, is printed: it becomes the notes of the GitHub release. Needs only
Python 3.11's standard library.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHANGELOG = ROOT / "CHANGELOG.md"
# The distributions' project files: the core (bumplib) and the book's helpers.
PYPROJECTS = (ROOT / "pyproject.toml", ROOT / "book" / "pyproject.toml")
SECTION = re.compile(r"^## \[(?P<version>[^\]]+)\].*$", re.MULTILINE)


class ReleaseError(ValueError):
    """The tag, the versions or the change log do not agree; the message says how."""


def project_versions(pyprojects: Sequence[Path] = PYPROJECTS) -> dict[Path, str]:
    """Return the ``project.version`` of each existing file in ``pyprojects``.

    Raises:
        ReleaseError: if none exists, or one has no static ``project.version``.

    """
    versions = {}
    for path in pyprojects:
        if not path.is_file():
            continue
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
        version = project.get("version")
        if not isinstance(version, str) or not version:
            raise ReleaseError(f"{path}: no project.version; write the version there.")
        versions[path] = version
    if not versions:
        raise ReleaseError(f"none of {', '.join(map(str, pyprojects))} exists.")
    return versions


def release_version(tag: str, pyprojects: Sequence[Path] | None = None) -> str:
    """Return the version that ``tag`` releases, after checking it against every pyproject.

    ``pyprojects`` defaults to :data:`PYPROJECTS`.

    Raises:
        ReleaseError: if the tag is not ``v`` plus a version, or names another version
            than a pyproject file does.

    """
    if not re.fullmatch(r"v\d+(\.\d+)*\S*", tag):
        raise ReleaseError(f"tag {tag!r} is not a version tag such as v1.1.0.")
    version = tag[1:]
    for path, found in project_versions(pyprojects or PYPROJECTS).items():
        if found != version:
            raise ReleaseError(
                f"tag {tag} releases {version}, but {path} says version {found}: "
                "set the version there (and in every other pyproject.toml) and tag again."
            )
    return version


def release_notes(version: str, changelog: Path = CHANGELOG) -> str:
    """Return the body of the ``## [version]`` section of ``changelog``.

    Raises:
        ReleaseError: if the file is missing, or has no such section or an empty one.

    """
    if not changelog.is_file():
        raise ReleaseError(f"{changelog} is missing.")
    text = changelog.read_text(encoding="utf-8")
    headings = list(SECTION.finditer(text))
    for index, heading in enumerate(headings):
        if heading["version"] != version:
            continue
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        # Link definitions ("[1.1.0]: https://...") close the file, not a section.
        body = re.split(r"^\[[^\]]+\]: ", text[heading.end() : end], flags=re.MULTILINE)[0]
        body = body.strip()
        if not body:
            raise ReleaseError(f"{changelog}: the section of {version} is empty.")
        return body + "\n"
    raise ReleaseError(
        f"{changelog} has no '## [{version}]' section: move the entries of "
        f"'## [Unreleased]' under '## [{version}] - YYYY-MM-DD' before tagging."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tag", help="the release tag, v plus the version (v1.1.0)")
    parser.add_argument("--changelog", type=Path, default=CHANGELOG, help="default: CHANGELOG.md")
    args = parser.parse_args(argv)
    try:
        notes = release_notes(release_version(args.tag), args.changelog)
    except (OSError, ReleaseError, tomllib.TOMLDecodeError) as error:
        print(f"release_notes: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
