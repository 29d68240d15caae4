"""The GitHub workflows: every action pinned to a commit, least-privilege permissions.

``actionlint`` (a stage of scripts/test.sh) checks the workflows' syntax,
expressions and shell; these tests check the rules it does not.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")
# The only permissions a job may ask for beyond contents: read, and why.
JOB_PERMISSIONS = {
    ("publish.yml", "build"): {"contents": "read", "pages": "read"},
    ("publish.yml", "deploy"): {"pages": "write", "id-token": "write"},
    ("publish.yml", "release"): {"contents": "write"},
}


def _uses_lines(path: Path) -> list[str]:
    return [
        line.split("uses:", 1)[1].strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"^\s*(- )?uses:", line)
    ]


def test_there_are_the_two_workflows():
    assert [path.name for path in WORKFLOWS] == ["publish.yml", "tests.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_full_commit_with_its_version(path):
    uses = _uses_lines(path)
    assert uses
    for use in uses:
        if use.startswith("./"):  # a workflow of this repository
            continue
        assert PINNED.match(use), f"{path.name}: {use!r} is not owner/repo@<40-hex sha> # vX.Y.Z"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_permissions_are_least_privilege(path):
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        expected = JOB_PERMISSIONS.get((path.name, name))
        assert job.get("permissions") == expected, f"{path.name}: job {name}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_no_secret_beyond_the_workflows_own_token(path):
    text = path.read_text(encoding="utf-8")
    assert "secrets." not in text
    assert "persist-credentials: false" in text


def test_the_test_job_runs_the_readme_command_and_caches_the_venv():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "tests.yml").read_text())
    steps = workflow["jobs"]["test"]["steps"]
    assert {"run": "bash scripts/test.sh", "name": "bash scripts/test.sh"} in steps
    assert "bash scripts/test.sh" in (ROOT / "README.md").read_text(encoding="utf-8")
    (cache,) = [step for step in steps if "actions/cache@" in step.get("uses", "")]
    assert ".venv" in cache["with"]["path"]
    assert "hashFiles('requirements*.txt', 'pyproject.toml'" in cache["with"]["key"]
